// Batched distances and exact top-k over float32 rows. Base rows are visited in tiles that fit in
// the L2 cache, and every query scans a tile before the next tile is loaded, so a batch of queries
// reads the base from memory once instead of once per query. On x86-64 CPUs with AVX2 and FMA
// (checked at run time) exact top-k over 4 or more queries takes a blocked path: see exact-scan-avx2.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "distance.h"
#include "exact-scan-avx2.h"
#include "kernels.h"
#include "top-k.h"

namespace quiver {
namespace {

constexpr std::size_t kTileBytes = 128 * 1024;
// Queries per call from which the blocked AVX2 kernel is used.
constexpr std::size_t kBlockedMinimumQueries = 4;

std::size_t TileRows(std::size_t dim) { return std::max<std::size_t>(16, kTileBytes / (dim * sizeof(float))); }

template <Metric metric>
void BatchDistancesFor(const float* queries, std::size_t query_count, const float* base, std::size_t base_count,
                       std::size_t dim, float* out) {
  const std::size_t tile_rows = TileRows(dim);
  for (std::size_t tile_start = 0; tile_start < base_count; tile_start += tile_rows) {
    const std::size_t tile_end = std::min(base_count, tile_start + tile_rows);
    for (std::size_t q = 0; q < query_count; ++q) {
      const float* query = queries + q * dim;
      float* row_out = out + q * base_count;
      for (std::size_t row = tile_start; row < tile_end; ++row) {
        row_out[row] = Distance<metric>(query, base + row * dim, dim);
      }
    }
  }
}

template <Metric metric>
void ExactTopKFor(const float* queries, std::size_t query_count, const float* base, std::size_t base_count,
                  std::size_t dim, std::size_t k, const RowSelection& candidates,
                  std::int32_t* labels, float* distances) {
  const std::size_t tile_rows = TileRows(dim);
  const std::size_t scan_count = candidates.restricted ? candidates.count : base_count;
  // One heap per query lives in that query's slice of the output buffers.
  for (std::size_t tile_start = 0; tile_start < scan_count; tile_start += tile_rows) {
    const std::size_t tile_end = std::min(scan_count, tile_start + tile_rows);
    for (std::size_t q = 0; q < query_count; ++q) {
      TopK heap = TopK::Resume(labels + q * k, distances + q * k, k, tile_start);
      const float* query = queries + q * dim;
      if (candidates.restricted) {
        for (std::size_t position = tile_start; position < tile_end; ++position) {
          const std::int32_t row = candidates.rows[position];
          heap.Push(Distance<metric>(query, base + static_cast<std::size_t>(row) * dim, dim), row);
        }
      } else {
        for (std::size_t row = tile_start; row < tile_end; ++row) {
          heap.Push(Distance<metric>(query, base + row * dim, dim), static_cast<std::int32_t>(row));
        }
      }
    }
  }
  for (std::size_t q = 0; q < query_count; ++q) {
    TopK heap = TopK::Resume(labels + q * k, distances + q * k, k, scan_count);
    heap.Finish();
  }
}

}  // namespace

void BatchDistances(Metric metric, const float* queries, std::size_t query_count, const float* base,
                    std::size_t base_count, std::size_t dim, float* out) {
  if (metric == Metric::kL2) {
    BatchDistancesFor<Metric::kL2>(queries, query_count, base, base_count, dim, out);
  } else {
    BatchDistancesFor<Metric::kInnerProduct>(queries, query_count, base, base_count, dim, out);
  }
}

void ExactTopK(Metric metric, const float* queries, std::size_t query_count, const float* base,
               std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
               std::int32_t* labels, float* distances) {
  // A single query (or three) gains nothing from sharing base rows and is bound by memory
  // bandwidth, where the portable loop is as fast (measured: bench/micro/exact-scan.bench.ts).
  if (query_count >= kBlockedMinimumQueries && HasAvx2()) {
    ExactTopKAvx2(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
    return;
  }
  ExactTopKPortable(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
}

void ExactTopKPortable(Metric metric, const float* queries, std::size_t query_count, const float* base,
                       std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                       std::int32_t* labels, float* distances) {
  if (metric == Metric::kL2) {
    ExactTopKFor<Metric::kL2>(queries, query_count, base, base_count, dim, k, candidates, labels, distances);
  } else {
    ExactTopKFor<Metric::kInnerProduct>(queries, query_count, base, base_count, dim, k, candidates, labels, distances);
  }
}

}  // namespace quiver
