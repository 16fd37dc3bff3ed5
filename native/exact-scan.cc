// Batched distances and exact top-k over float32 rows. Base rows are visited in tiles that fit in
// the L2 cache, and every query scans a tile before the next tile is loaded, so a batch of queries
// reads the base from memory once instead of once per query. On x86-64 CPUs with AVX2 and FMA
// (checked at run time) exact top-k takes the blocked kernel of exact-scan-avx2.cc. ExactTopK
// spreads the rows (or, when rows are few, the queries) over native threads and merges per-part
// top-k lists: the answer never depends on the thread count, because each (query, row) pair is
// scored the same way in every part.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distance.h"
#include "exact-scan-avx2.h"
#include "kernels.h"
#include "thread-pool.h"
#include "top-k.h"

namespace quiver {
namespace {

// Multiply-adds (rows × dim × queries) per thread below which a thread is not worth its hand-off,
// the fewest rows a part of a row split scans, and the parts per thread of a row split.
constexpr std::size_t kMinimumPartWork = std::size_t{1} << 20;
constexpr std::size_t kMinimumPartRows = 256;
constexpr std::size_t kPartsPerThread = 4;

template <Metric metric>
void BatchDistancesFor(const float* queries, std::size_t query_count, const float* base, std::size_t base_count,
                       std::size_t dim, float* out) {
  const std::size_t tile_rows = ScanTileRows(dim);
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
  const std::size_t tile_rows = ScanTileRows(dim);
  const std::size_t scan_count = candidates.Count(base_count);
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

enum class ScanPath { kPortable, kAvx2 };

// One sorted top-k per query over the given rows, on the chosen path.
void Select(ScanPath path, Metric metric, const float* queries, std::size_t query_count, const float* base,
            std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
            std::int32_t* labels, float* distances) {
  if (path == ScanPath::kAvx2) {
    ExactTopKAvx2(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
  } else {
    ExactTopKPortable(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
  }
}

// Splits the scanned rows into `parts` contiguous ranges, selects a top-k per query in each (on
// `threads` threads of the pool, which take the parts in turn), then merges them in part order. The merge keeps the k best by (distance, row), the same
// total order as one scan, so the result is the one a single part would give.
void ScanRowParts(ScanPath path, Metric metric, const float* queries, std::size_t query_count, const float* base,
                  std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                  std::size_t parts, std::size_t threads, std::int32_t* labels, float* distances) {
  const std::size_t scan_count = candidates.Count(base_count);
  const std::size_t slots = query_count * k;
  std::vector<std::int32_t> part_labels(parts * slots);
  std::vector<float> part_distances(parts * slots);
  ParallelFor(parts, threads, [&](std::size_t part) {
    const std::size_t first = scan_count * part / parts;
    const std::size_t end = scan_count * (part + 1) / parts;
    std::int32_t* out_labels = part_labels.data() + part * slots;
    float* out_distances = part_distances.data() + part * slots;
    if (candidates.restricted) {
      const RowSelection range{true, candidates.rows + first, end - first};
      Select(path, metric, queries, query_count, base, base_count, dim, k, range, out_labels, out_distances);
    } else {
      // The part sees rows [first, end) as rows from 0: shift its labels back.
      Select(path, metric, queries, query_count, base + first * dim, end - first, dim, k, RowSelection{}, out_labels,
             out_distances);
      for (std::size_t slot = 0; slot < slots; ++slot) {
        if (out_labels[slot] >= 0) out_labels[slot] += static_cast<std::int32_t>(first);
      }
    }
    return true;
  });
  for (std::size_t q = 0; q < query_count; ++q) {
    TopK heap(labels + q * k, distances + q * k, k);
    for (std::size_t part = 0; part < parts; ++part) {
      const std::size_t offset = part * slots + q * k;
      for (std::size_t slot = 0; slot < k && part_labels[offset + slot] >= 0; ++slot) {
        heap.Push(part_distances[offset + slot], part_labels[offset + slot]);
      }
    }
    heap.Finish();
  }
}

}  // namespace

void BatchDistances(Metric metric, const float* queries, std::size_t query_count, const float* base,
                    std::size_t base_count, std::size_t dim, float* out) {
  WithMetric(metric, [&](auto tag) {
    BatchDistancesFor<decltype(tag)::value>(queries, query_count, base, base_count, dim, out);
  });
}

void ExactTopK(Metric metric, const float* queries, std::size_t query_count, const float* base,
               std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
               std::size_t threads, std::int32_t* labels, float* distances) {
  // The path depends on the CPU only, never on the query or thread count, so a query gets the same
  // answer alone, in any batch, and on any number of threads.
  const ScanPath path = HasAvx2() ? ScanPath::kAvx2 : ScanPath::kPortable;
  const std::size_t scan_count = candidates.Count(base_count);
  const std::size_t work = scan_count * dim * query_count;
  const std::size_t most_parts = std::max<std::size_t>(1, work / kMinimumPartWork);
  const std::size_t row_threads = std::min({threads, most_parts, std::max<std::size_t>(1, scan_count / kMinimumPartRows)});
  if (row_threads >= 2) {
    // Several parts per thread: a thread that the system pauses mid-part holds the others up for
    // one small part only (the machine's other work shares the cores).
    const std::size_t row_parts = std::min(row_threads * kPartsPerThread, scan_count / kMinimumPartRows);
    ScanRowParts(path, metric, queries, query_count, base, base_count, dim, k, candidates, row_parts, row_threads,
                 labels, distances);
  } else {
    // Few rows: one part per group of queries (each group reads every row).
    const std::size_t query_parts = std::min({threads, most_parts, query_count});
    ParallelFor(query_parts, query_parts, [&](std::size_t part) {
      const std::size_t first = query_count * part / query_parts;
      const std::size_t end = query_count * (part + 1) / query_parts;
      if (end == first) return true;
      Select(path, metric, queries + first * dim, end - first, base, base_count, dim, k, candidates,
             labels + first * k, distances + first * k);
      return true;
    });
  }
}

void ExactTopKPortable(Metric metric, const float* queries, std::size_t query_count, const float* base,
                       std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                       std::int32_t* labels, float* distances) {
  WithMetric(metric, [&](auto tag) {
    ExactTopKFor<decltype(tag)::value>(queries, query_count, base, base_count, dim, k, candidates, labels, distances);
  });
}

}  // namespace quiver
