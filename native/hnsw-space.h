// The distance functions the HNSW graph runs on. QuiverDB's, chosen once at run time: AVX2/FMA
// kernels with four independent accumulators on x86-64 CPUs that have them (function-level target
// attributes, so the addon needs no -march flag), the portable kernels of distance.h everywhere
// else. And the 'hnswlib' kernels, which add in the order hnswlib's own do in a build for the
// baseline instruction set (as hnswlib-node's), so that their results, and the graphs built on
// them, are bit for bit hnswlib-node's. Knows nothing of Node-API or of the graph.
#pragma once

#include <cstddef>

namespace quiver {

// A distance function: two vectors and a pointer to the dimension (a size_t; hnswlib's signature).
using HnswDistance = float (*)(const void*, const void*, const void*);

// hnswlib's conventions: the squared Euclidean distance, and 1 - dot(a, b) for inner product.
// The AVX2/FMA kernel when HasAvx2() (exact-scan-avx2.h), else the portable one.
HnswDistance ChooseL2Distance();
HnswDistance ChooseInnerProductDistance();

// The 'hnswlib' kernels for vectors of `dim` floats. On x86 (where hnswlib uses SSE): four lane
// sums over the first dim rounded down to a multiple of 16 (dim > 16) or of 4 (otherwise, or when
// dim is a multiple of 4 already: all of it), added lane 0 + 1 + 2 + 3, plus a sequential sum over
// the rest; below dim 5 (not a multiple of 4), one sequential sum. Elsewhere one sequential sum.
HnswDistance HnswlibOrderL2Distance(std::size_t dim);
HnswDistance HnswlibOrderInnerProductDistance(std::size_t dim);

}  // namespace quiver
