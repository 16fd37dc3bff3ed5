// The kernels of the quiver_native addon: plain C++ over raw pointers, no Node-API, no allocation
// in the hot loops. Shapes are checked by the callers (src/native.ts, then native/bindings.cc).
// Distances follow hnswlib: l2 is the squared Euclidean distance, ip is 1 - dot(a, b).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace quiver {

enum class Metric : int { kL2 = 0, kInnerProduct = 1 };

// Calls body(tag), tag a std::integral_constant of `metric`: where a run-time metric becomes the
// template argument of a kernel (decltype(tag)::value).
template <typename Body>
void WithMetric(Metric metric, Body&& body) {
  if (metric == Metric::kL2) {
    body(std::integral_constant<Metric, Metric::kL2>());
  } else {
    body(std::integral_constant<Metric, Metric::kInnerProduct>());
  }
}

// An optional list of row indexes to scan; when `restricted` is false every row is scanned. A
// separate flag, not a null pointer, because an empty typed array may have a null data pointer.
struct RowSelection {
  bool restricted = false;
  const std::int32_t* rows = nullptr;
  std::size_t count = 0;

  // How many rows a scan over `all` base rows visits.
  std::size_t Count(std::size_t all) const { return restricted ? count : all; }
  // The base row visited at `position` (0 ≤ position < Count(all)).
  std::int32_t Row(std::size_t position) const {
    return restricted ? rows[position] : static_cast<std::int32_t>(position);
  }
};

// Width of one ADC look-up table row: codes are 8 bits, so every sub-space has 256 entries.
constexpr std::size_t kAdcTableWidth = 256;

// out[q * n + i] = distance(query q, base row i). queries: nq x dim, base: n x dim.
void BatchDistances(Metric metric, const float* queries, std::size_t query_count, const float* base,
                    std::size_t base_count, std::size_t dim, float* out);

// For each query, the k nearest base rows, best first, ties to the lower row index. When candidates
// is restricted only those rows are scanned. Missing results are label -1, distance +Infinity.
// labels and distances hold query_count x k entries. Runs on up to `threads` threads (the caller
// and pool helpers); the result is the same for every thread count.
void ExactTopK(Metric metric, const float* queries, std::size_t query_count, const float* base,
               std::size_t base_count, std::size_t dim, std::size_t k, const RowSelection& candidates,
               std::size_t threads, std::int32_t* labels, float* distances);

// For each point the nearest centroid (ties to the lower centroid index) and its distance.
void KMeansAssign(Metric metric, const float* points, std::size_t point_count, const float* centroids,
                  std::size_t centroid_count, std::size_t dim, std::int32_t* assignments, float* distances);

// ADC scan: tables holds query_count tables of m x 256 floats; codes holds code_count rows of m bytes.
// The distance of a row is the sum over sub-spaces j of table[j * 256 + code[j]]. Output as ExactTopK.
void AdcTopK(const float* tables, std::size_t query_count, const std::uint8_t* codes, std::size_t code_count,
             std::size_t m, std::size_t k, const RowSelection& candidates, std::int32_t* labels,
             float* distances);

}  // namespace quiver
