// The exact-scan paths chosen at run time: a blocked AVX2/FMA kernel on x86-64 CPUs that have those
// instructions (compiled with a function-level target attribute, so the addon itself needs no
// -march flag), and the portable kernel everywhere else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace quiver {

// True when this CPU runs the AVX2/FMA kernel (x86-64 with both; checked once). Setting the
// environment variable QUIVERDB_PORTABLE_KERNELS=1 before the addon loads forces the portable path.
bool HasAvx2();

// ExactTopK on the blocked AVX2/FMA kernel; call only when HasAvx2().
void ExactTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                   std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                   std::int32_t* labels, float* distances);

// ExactTopK on the portable kernel (plain loops the compiler vectorises for the baseline ISA).
void ExactTopKPortable(Metric metric, const float* queries, std::size_t query_count, const float* base,
                       std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                       std::int32_t* labels, float* distances);

}  // namespace quiver
