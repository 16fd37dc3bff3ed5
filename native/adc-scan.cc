// ADC scan: the approximate distance of a PQ code is a sum of m table look-ups, one per sub-space.
// Rows are visited in tiles so a batch of queries reads the codes from memory once.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels.h"
#include "top-k.h"

namespace quiver {
namespace {

constexpr std::size_t kTileRows = 4096;

// Four independent partial sums: the look-ups are gathers, so the win is overlapping their latency.
inline float AdcDistance(const float* __restrict table, const std::uint8_t* __restrict code, std::size_t m) {
  float sums[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    sums[0] += table[(j + 0) * kAdcTableWidth + code[j + 0]];
    sums[1] += table[(j + 1) * kAdcTableWidth + code[j + 1]];
    sums[2] += table[(j + 2) * kAdcTableWidth + code[j + 2]];
    sums[3] += table[(j + 3) * kAdcTableWidth + code[j + 3]];
  }
  for (; j < m; ++j) sums[0] += table[j * kAdcTableWidth + code[j]];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

}  // namespace

void AdcTopK(const float* tables, std::size_t query_count, const std::uint8_t* codes, std::size_t code_count,
             std::size_t m, std::size_t k, const RowSelection& candidates, std::int32_t* labels,
             float* distances) {
  const std::size_t scan_count = candidates.Count(code_count);
  const std::size_t table_size = m * kAdcTableWidth;
  for (std::size_t tile_start = 0; tile_start < scan_count; tile_start += kTileRows) {
    const std::size_t tile_end = std::min(scan_count, tile_start + kTileRows);
    for (std::size_t q = 0; q < query_count; ++q) {
      TopK heap = TopK::Resume(labels + q * k, distances + q * k, k, tile_start);
      const float* table = tables + q * table_size;
      if (candidates.restricted) {
        for (std::size_t position = tile_start; position < tile_end; ++position) {
          const std::int32_t row = candidates.rows[position];
          heap.Push(AdcDistance(table, codes + static_cast<std::size_t>(row) * m, m), row);
        }
      } else {
        for (std::size_t row = tile_start; row < tile_end; ++row) {
          heap.Push(AdcDistance(table, codes + row * m, m), static_cast<std::int32_t>(row));
        }
      }
    }
  }
  for (std::size_t q = 0; q < query_count; ++q) {
    TopK::Resume(labels + q * k, distances + q * k, k, scan_count).Finish();
  }
}

}  // namespace quiver
