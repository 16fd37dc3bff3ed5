// The exact-scan paths chosen at run time: a blocked AVX2/FMA kernel on x86-64 CPUs that have those
// instructions (compiled with a function-level target attribute, so the addon itself needs no
// -march flag), and the portable kernel everywhere else. Each fills one sorted top-k per query
// (ties to the lower row, padding -1 / +Infinity) over the rows it is given; ExactTopK (kernels.h)
// picks one, splits the work over threads and merges.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace quiver {

// Base rows per tile of an exact scan: a tile of rows fits in 128 KiB, within the L2 cache.
inline std::size_t ScanTileRows(std::size_t dim) {
  constexpr std::size_t kTileBytes = 128 * 1024;
  return std::max<std::size_t>(16, kTileBytes / (dim * sizeof(float)));
}

// True when this CPU runs the AVX2/FMA kernel (x86-64 with both; checked once). Setting the
// environment variable QUIVERDB_PORTABLE_KERNELS=1 before the addon loads forces the portable path.
bool HasAvx2();

// Top-k on the blocked AVX2/FMA kernel; call only when HasAvx2(). A (query, row) pair gets the same
// distance whatever other queries or rows share the call, so any split of either gives the same
// answer, and one query alone the same as in a batch.
void ExactTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                   std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                   std::int32_t* labels, float* distances);

// Top-k on the blocked expanded-form kernel (l2 as ‖q‖² + ‖b‖² − 2q·b selects, the kept k are
// rescored directly): faster for many queries against few rows, but near-ties within its rounding
// may be ranked differently than by ExactTopKAvx2, and a query's answer can depend on its batch.
// k-means assignment uses it. Call only when HasAvx2().
void ExpandedTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                      std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                      std::int32_t* labels, float* distances);

// Top-k on the portable kernel (plain loops the compiler vectorises for the baseline ISA); the same
// independence holds.
void ExactTopKPortable(Metric metric, const float* queries, std::size_t query_count, const float* base,
                       std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                       std::int32_t* labels, float* distances);

}  // namespace quiver
