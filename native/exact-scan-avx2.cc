// Exact top-k on AVX2/FMA, chosen at run time (HasAvx2). Base rows are read in tiles that fit in
// the L2 cache, each row once and in order (interleaving several rows' streams measured twice as
// slow from memory); a block of queries is scored against a row three at a time, so the row is
// loaded into registers once per three queries.
//
// Every (query, row) pair is scored by the same chain whatever block it falls in: four 8-float
// accumulators over the dims in steps of 32 (accumulator j takes floats 32i + 8j … 32i + 8j + 7;
// l2: d = q − b, acc += d · d; ip: acc += q · b), the remaining 8-float steps into accumulator 0,
// a scalar FMA tail, then the horizontal sum of (acc0 + acc1) + (acc2 + acc3) plus the tail (ip:
// 1 − that). So a query's distances, and its top k, do not depend on how many queries share the
// call or how the rows are split over threads; and l2 is the direct (q − b)², with no cancellation.
#include "exact-scan-avx2.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#include "compiler.h"
#include "distance.h"
#include "top-k.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUIVER_X86_DISPATCH 1
#include <immintrin.h>
#define QUIVER_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace quiver {

bool HasAvx2() {
#ifdef QUIVER_X86_DISPATCH
  static const bool supported = [] {
    const char* portable = std::getenv("QUIVERDB_PORTABLE_KERNELS");
    if (portable != nullptr && portable[0] == '1') return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return supported;
#else
  return false;
#endif
}

#ifdef QUIVER_X86_DISPATCH
namespace {

// Queries scored against each row of a tile before the next row: their vectors stay in L1/L2.
constexpr std::size_t kQueryBlock = 24;
constexpr std::size_t kWidth = 8;  // floats per 256-bit register
constexpr std::size_t kAccumulators = 4;
// Candidate rows whose cache lines are requested ahead of their turn in a restricted scan.
constexpr std::size_t kPrefetchRows = 4;

QUIVER_AVX2 inline float HorizontalSum(__m256 value) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(value), _mm256_extractf128_ps(value, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// One 8-float step of Q pairs (one row) into accumulator `lane` of each pair.
template <Metric metric, std::size_t Q>
QUIVER_AVX2 inline void PairStep(const float* const* queries, const float* row, std::size_t axis,
                                 __m256 (&sums)[Q][4], std::size_t lane) {
  const __m256 row_values = _mm256_loadu_ps(row + axis);
#pragma GCC unroll 4
  for (std::size_t qi = 0; qi < Q; ++qi) {
    const __m256 query_values = _mm256_loadu_ps(queries[qi] + axis);
    if (metric == Metric::kL2) {
      const __m256 difference = _mm256_sub_ps(query_values, row_values);
      sums[qi][lane] = _mm256_fmadd_ps(difference, difference, sums[qi][lane]);
    } else {
      sums[qi][lane] = _mm256_fmadd_ps(query_values, row_values, sums[qi][lane]);
    }
  }
}

// out[qi * stride] = distance(queries[qi], row) for Q queries against one row, each pair on the
// chain described at the top of this file (4 accumulators: 4Q of the 16 registers). The unroll
// pragmas keep the sums in registers (without them GCC leaves the arrays on the stack).
template <Metric metric, std::size_t Q>
QUIVER_AVX2 inline void PairBlock(const float* const* queries, const float* row, std::size_t dim, float* out,
                                  std::size_t stride) {
  __m256 sums[Q][kAccumulators];
#pragma GCC unroll 4
  for (std::size_t qi = 0; qi < Q; ++qi)
#pragma GCC unroll 4
    for (std::size_t lane = 0; lane < kAccumulators; ++lane) sums[qi][lane] = _mm256_setzero_ps();
  std::size_t axis = 0;
  for (; axis + kAccumulators * kWidth <= dim; axis += kAccumulators * kWidth) {
#pragma GCC unroll 4
    for (std::size_t lane = 0; lane < kAccumulators; ++lane) {
      PairStep<metric, Q>(queries, row, axis + lane * kWidth, sums, lane);
    }
  }
  for (; axis + kWidth <= dim; axis += kWidth) PairStep<metric, Q>(queries, row, axis, sums, 0);
#pragma GCC unroll 4
  for (std::size_t qi = 0; qi < Q; ++qi) {
    float tail = 0.0f;
    for (std::size_t rest = axis; rest < dim; ++rest) {
      if (metric == Metric::kL2) {
        const float difference = queries[qi][rest] - row[rest];
        tail = std::fma(difference, difference, tail);
      } else {
        tail = std::fma(queries[qi][rest], row[rest], tail);
      }
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(sums[qi][0], sums[qi][1]), _mm256_add_ps(sums[qi][2], sums[qi][3]));
    const float total = HorizontalSum(sum) + tail;
    out[qi * stride] = metric == Metric::kL2 ? total : 1.0f - total;
  }
}

// out[qi * stride + ri] for a block of up to kQueryBlock queries against `row_count` rows, row by
// row (a row is read once, in order, then serves every query of the block from the L1 cache).
// With `prefetch`, each row's lines are requested kPrefetchRows rows ahead.
template <Metric metric>
QUIVER_AVX2 void PairTile(const float* const* queries, std::size_t query_count, const float* const* rows,
                          std::size_t row_count, std::size_t dim, float* out, std::size_t stride, bool prefetch) {
  for (std::size_t ri = 0; ri < row_count; ++ri) {
    if (prefetch && ri + kPrefetchRows < row_count) {
      const char* ahead = reinterpret_cast<const char*>(rows[ri + kPrefetchRows]);
      for (std::size_t offset = 0; offset < dim * sizeof(float); offset += 64) _mm_prefetch(ahead + offset, _MM_HINT_T0);
    }
    std::size_t qi = 0;
    for (; qi + 3 <= query_count; qi += 3) PairBlock<metric, 3>(queries + qi, rows[ri], dim, out + qi * stride + ri, stride);
    if (query_count - qi == 2) PairBlock<metric, 2>(queries + qi, rows[ri], dim, out + qi * stride + ri, stride);
    if (query_count - qi == 1) PairBlock<metric, 1>(queries + qi, rows[ri], dim, out + qi * stride + ri, stride);
  }
}

// The scratch of a tile scan, kept per thread between calls so the scans allocate nothing: a score
// per (query of a block, row of a tile), the tile's row pointers, the query pointers, and for the
// expanded form the rows' and the queries' squared norms.
struct TileScratch {
  std::vector<float> scores;
  std::vector<float> row_norms;
  std::vector<float> query_norms;
  std::vector<const float*> rows;
  std::vector<const float*> queries;
};

// This thread's scratch, sized for `query_count` queries of `dim` floats scored `block` at a time
// against tiles of `tile_rows`, its query pointers set. Out of line (compiler.h).
QUIVER_NOINLINE TileScratch& PreparedScratch(const float* queries, std::size_t query_count, std::size_t dim,
                                             std::size_t block, std::size_t tile_rows) {
  thread_local TileScratch scratch;
  scratch.scores.resize(block * tile_rows);
  scratch.row_norms.resize(tile_rows);
  scratch.query_norms.resize(query_count);
  scratch.rows.resize(tile_rows);
  scratch.queries.resize(query_count);
  for (std::size_t q = 0; q < query_count; ++q) scratch.queries[q] = queries + q * dim;
  return scratch;
}

template <Metric metric>
QUIVER_AVX2 void ExactTopKAvx2For(const float* queries, std::size_t query_count, const float* base,
                                  std::size_t base_count, std::size_t dim, std::size_t k,
                                  const RowSelection& candidates, std::int32_t* labels, float* distances) {
  const std::size_t tile_rows = ScanTileRows(dim);
  const std::size_t scan_count = candidates.Count(base_count);
  TileScratch& scratch = PreparedScratch(queries, query_count, dim, kQueryBlock, tile_rows);
  std::vector<float>& scores = scratch.scores;
  std::vector<const float*>& row_pointers = scratch.rows;
  const std::vector<const float*>& query_pointers = scratch.queries;
  for (std::size_t tile_start = 0; tile_start < scan_count; tile_start += tile_rows) {
    const std::size_t tile_count = std::min(scan_count, tile_start + tile_rows) - tile_start;
    for (std::size_t ri = 0; ri < tile_count; ++ri) {
      row_pointers[ri] = base + static_cast<std::size_t>(candidates.Row(tile_start + ri)) * dim;
    }
    for (std::size_t block = 0; block < query_count; block += kQueryBlock) {
      const std::size_t block_count = std::min(kQueryBlock, query_count - block);
      // Scattered candidate rows defeat the hardware prefetcher: the first block asks for them
      // ahead (mnist-784, 6,000 rows of one digit class: 2.5 → 1.6 ms per query).
      PairTile<metric>(query_pointers.data() + block, block_count, row_pointers.data(), tile_count, dim,
                       scores.data(), tile_rows, candidates.restricted && block == 0);
      for (std::size_t qi = 0; qi < block_count; ++qi) {
        const std::size_t q = block + qi;
        TopK heap = TopK::Resume(labels + q * k, distances + q * k, k, tile_start);
        const float* row_scores = scores.data() + qi * tile_rows;
        for (std::size_t ri = 0; ri < tile_count; ++ri) {
          const std::int32_t label = candidates.Row(tile_start + ri);
          heap.Push(row_scores[ri], label);
        }
      }
    }
  }
  for (std::size_t q = 0; q < query_count; ++q) TopK::Resume(labels + q * k, distances + q * k, k, scan_count).Finish();
}

// ---- The expanded-form kernel, for k-means assignment (many points against a few centroids) ----
// A tile of rows is scored against blocks of queries with a 4 queries × 2 rows register block (eight
// FMA chains; each row load serves four queries), l2 as ‖q‖² + ‖b‖² − 2q·b with each row's norm
// computed once per tile. That selects the top k; their distances are then recomputed directly, as
// (q − b)², and re-sorted, so every reported distance is the direct one. In float32 the expanded
// form has an absolute error of about dim · 2⁻²⁴ · (‖q‖² + ‖b‖²): rows whose true distances lie
// within that of the k-th may trade places, so exact search (which promises one answer for a query
// alone or in any batch) does not use it. A row bitwise equal to the query scores exactly 0.

constexpr std::size_t kExpandedQueryBlock = 8;

// Puts the k kept pairs of one query (already sorted best first by the fast distances) in order of
// their direct distances; ties to the lower label, NaN as +Infinity, padding (-1) stays last.
template <Metric metric>
void RescoreKept(const float* query, const float* base, std::size_t dim, std::size_t k, std::int32_t* labels,
                 float* distances) {
  std::size_t kept = 0;
  while (kept < k && labels[kept] >= 0) {
    const float value = Distance<metric>(query, base + static_cast<std::size_t>(labels[kept]) * dim, dim);
    distances[kept] = value != value ? std::numeric_limits<float>::infinity() : value;
    ++kept;
  }
  // Insertion sort: the order is already nearly right, so this is close to linear.
  for (std::size_t slot = 1; slot < kept; ++slot) {
    const float distance = distances[slot];
    const std::int32_t label = labels[slot];
    std::size_t hole = slot;
    while (hole > 0 && (distances[hole - 1] > distance || (distances[hole - 1] == distance && labels[hole - 1] > label))) {
      distances[hole] = distances[hole - 1];
      labels[hole] = labels[hole - 1];
      --hole;
    }
    distances[hole] = distance;
    labels[hole] = label;
  }
}

// out[qi * stride + ri] = dot(queries[qi], rows[ri]) for Q queries × R rows. Each pair is its own FMA chain in the same order for every Q and R,
// so dot(x, x) equals the norm computed as <1, 1>. The unroll pragmas keep the Q × R sums in
// registers (without them GCC leaves the arrays on the stack).
template <std::size_t Q, std::size_t R>
QUIVER_AVX2 inline void DotBlock(const float* const* queries, const float* const* rows, std::size_t dim, float* out,
                                 std::size_t stride) {
  __m256 sums[Q][R];
#pragma GCC unroll 8
  for (std::size_t qi = 0; qi < Q; ++qi)
#pragma GCC unroll 8
    for (std::size_t ri = 0; ri < R; ++ri) sums[qi][ri] = _mm256_setzero_ps();
  std::size_t axis = 0;
  for (; axis + kWidth <= dim; axis += kWidth) {
    __m256 row_values[R];
#pragma GCC unroll 8
    for (std::size_t ri = 0; ri < R; ++ri) row_values[ri] = _mm256_loadu_ps(rows[ri] + axis);
#pragma GCC unroll 8
    for (std::size_t qi = 0; qi < Q; ++qi) {
      const __m256 query_values = _mm256_loadu_ps(queries[qi] + axis);
#pragma GCC unroll 8
      for (std::size_t ri = 0; ri < R; ++ri) {
        sums[qi][ri] = _mm256_fmadd_ps(query_values, row_values[ri], sums[qi][ri]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t qi = 0; qi < Q; ++qi) {
#pragma GCC unroll 8
    for (std::size_t ri = 0; ri < R; ++ri) {
      float tail = 0.0f;
      for (std::size_t rest = axis; rest < dim; ++rest) tail = std::fma(queries[qi][rest], rows[ri][rest], tail);
      out[qi * stride + ri] = HorizontalSum(sums[qi][ri]) + tail;
    }
  }
}

// dots[qi * tile + ri] for a block of up to kExpandedQueryBlock queries against `row_count` rows.
QUIVER_AVX2 void DotTile(const float* const* queries, std::size_t query_count, const float* const* rows,
                         std::size_t row_count, std::size_t dim, float* dots, std::size_t stride) {
  std::size_t qi = 0;
  for (; qi + 4 <= query_count; qi += 4) {
    std::size_t ri = 0;
    for (; ri + 2 <= row_count; ri += 2) DotBlock<4, 2>(queries + qi, rows + ri, dim, dots + qi * stride + ri, stride);
    for (; ri < row_count; ++ri) DotBlock<4, 1>(queries + qi, rows + ri, dim, dots + qi * stride + ri, stride);
  }
  for (; qi < query_count; ++qi) {
    std::size_t ri = 0;
    for (; ri + 8 <= row_count; ri += 8) DotBlock<1, 8>(queries + qi, rows + ri, dim, dots + qi * stride + ri, stride);
    for (; ri < row_count; ++ri) DotBlock<1, 1>(queries + qi, rows + ri, dim, dots + qi * stride + ri, stride);
  }
}

template <Metric metric>
QUIVER_AVX2 void ExpandedTopKAvx2For(const float* queries, std::size_t query_count, const float* base,
                                  std::size_t base_count, std::size_t dim, std::size_t k,
                                  const RowSelection& candidates, std::int32_t* labels, float* distances) {
  const std::size_t tile_rows = ScanTileRows(dim);
  const std::size_t scan_count = candidates.Count(base_count);
  TileScratch& scratch = PreparedScratch(queries, query_count, dim, kExpandedQueryBlock, tile_rows);
  std::vector<float>& dots = scratch.scores;
  std::vector<float>& norms = scratch.row_norms;
  std::vector<float>& query_norms = scratch.query_norms;
  std::vector<const float*>& row_pointers = scratch.rows;
  std::vector<const float*>& query_pointers = scratch.queries;
  if (metric == Metric::kL2) {
    for (std::size_t q = 0; q < query_count; ++q) {
      DotBlock<1, 1>(&query_pointers[q], &query_pointers[q], dim, &query_norms[q], 1);
    }
  }
  for (std::size_t tile_start = 0; tile_start < scan_count; tile_start += tile_rows) {
    const std::size_t tile_count = std::min(scan_count, tile_start + tile_rows) - tile_start;
    for (std::size_t ri = 0; ri < tile_count; ++ri) {
      row_pointers[ri] = base + static_cast<std::size_t>(candidates.Row(tile_start + ri)) * dim;
      if (metric == Metric::kL2) DotBlock<1, 1>(&row_pointers[ri], &row_pointers[ri], dim, &norms[ri], 1);
    }
    for (std::size_t block = 0; block < query_count; block += kExpandedQueryBlock) {
      const std::size_t block_count = std::min(kExpandedQueryBlock, query_count - block);
      DotTile(query_pointers.data() + block, block_count, row_pointers.data(), tile_count, dim, dots.data(),
              tile_rows);
      for (std::size_t qi = 0; qi < block_count; ++qi) {
        const std::size_t q = block + qi;
        TopK heap = TopK::Resume(labels + q * k, distances + q * k, k, tile_start);
        const float* row_dots = dots.data() + qi * tile_rows;
        const float query_norm = query_norms[q];
        for (std::size_t ri = 0; ri < tile_count; ++ri) {
          const std::int32_t label = candidates.Row(tile_start + ri);
          float distance;
          if (metric == Metric::kL2) {
            distance = (query_norm + norms[ri]) - 2.0f * row_dots[ri];
            distance = distance < 0.0f ? 0.0f : distance;  // cancellation can dip below 0; NaN passes
          } else {
            distance = 1.0f - row_dots[ri];
          }
          heap.Push(distance, label);
        }
      }
    }
  }
  for (std::size_t q = 0; q < query_count; ++q) {
    TopK::Resume(labels + q * k, distances + q * k, k, scan_count).Finish();
    RescoreKept<metric>(queries + q * dim, base, dim, k, labels + q * k, distances + q * k);
  }
}

}  // namespace

void ExactTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                   std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                   std::int32_t* labels, float* distances) {
  WithMetric(metric, [&](auto tag) {
    ExactTopKAvx2For<decltype(tag)::value>(queries, query_count, base, base_count, dim, k, candidates, labels,
                                           distances);
  });
}

void ExpandedTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                      std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                      std::int32_t* labels, float* distances) {
  WithMetric(metric, [&](auto tag) {
    ExpandedTopKAvx2For<decltype(tag)::value>(queries, query_count, base, base_count, dim, k, candidates,
                                              labels, distances);
  });
}

#else

void ExpandedTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                      std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                      std::int32_t* labels, float* distances) {
  ExactTopKPortable(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
}

void ExactTopKAvx2(Metric metric, const float* queries, std::size_t query_count, const float* base,
                   std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
                   std::int32_t* labels, float* distances) {
  ExactTopKPortable(metric, queries, query_count, base, base_count, dim, k, candidates, labels, distances);
}

#endif

}  // namespace quiver
