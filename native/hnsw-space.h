// The distance functions the HNSW graph runs on, chosen once at run time: AVX2/FMA kernels with
// four independent accumulators on x86-64 CPUs that have them (function-level target attributes,
// so the addon needs no -march flag), the portable kernels of distance.h everywhere else. Knows
// nothing of Node-API or of the graph, which takes them through hnswlib's SpaceInterface.
#pragma once

#include <cstddef>

namespace quiver {

// hnswlib's distance-function signature: two vectors and a pointer to the dimension (size_t).
using HnswDistance = float (*)(const void*, const void*, const void*);

// hnswlib's conventions: the squared Euclidean distance, and 1 - dot(a, b) for inner product.
// The AVX2/FMA kernel when HasAvx2() (exact-scan-avx2.h), else the portable one.
HnswDistance ChooseL2Distance();
HnswDistance ChooseInnerProductDistance();

}  // namespace quiver
