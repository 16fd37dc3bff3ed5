// Distance functions shared by the scan kernels. Written as independent accumulators over fixed
// lanes so that GCC/Clang at -O3 vectorise them with the baseline instruction set (no -march flags).
// Accumulation is float32, like hnswlib; the order of additions is fixed, so results are deterministic.
#pragma once

#include <cstddef>

#include "kernels.h"

namespace quiver {

// 16 lanes = four 128-bit vectors of independent partial sums, enough to hide the add latency.
constexpr std::size_t kLanes = 16;

inline float SumLanes(const float* lanes) {
  float half[kLanes / 2];
  for (std::size_t j = 0; j < kLanes / 2; ++j) half[j] = lanes[j] + lanes[j + kLanes / 2];
  float quarter[kLanes / 4];
  for (std::size_t j = 0; j < kLanes / 4; ++j) quarter[j] = half[j] + half[j + kLanes / 4];
  return (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
}

inline float SquaredL2(const float* __restrict a, const float* __restrict b, std::size_t dim) {
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const float difference = a[i + j] - b[i + j];
      lanes[j] += difference * difference;
    }
  }
  float tail = 0.0f;
  for (; i < dim; ++i) {
    const float difference = a[i] - b[i];
    tail += difference * difference;
  }
  return SumLanes(lanes) + tail;
}

inline float Dot(const float* __restrict a, const float* __restrict b, std::size_t dim) {
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < dim; ++i) tail += a[i] * b[i];
  return SumLanes(lanes) + tail;
}

// The metric is a template parameter so that the scan loops are specialised with no per-row branch.
template <Metric metric>
inline float Distance(const float* a, const float* b, std::size_t dim) {
  if constexpr (metric == Metric::kL2) {
    return SquaredL2(a, b, dim);
  } else {
    return 1.0f - Dot(a, b, dim);
  }
}

}  // namespace quiver
