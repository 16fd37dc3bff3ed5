// k-means assignment: the nearest centroid of every point. The centroid set is small (it fits in
// cache), so points are streamed once and each is compared with every centroid.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "distance.h"
#include "exact-scan-avx2.h"
#include "kernels.h"

namespace quiver {
namespace {

// From this many dimensions the blocked AVX2 kernel beats the per-pair loop (below it, the
// horizontal sums of short rows cost more than they save).
constexpr std::size_t kBlockedMinimumDim = 32;

template <Metric metric>
void KMeansAssignFor(const float* points, std::size_t point_count, const float* centroids,
                     std::size_t centroid_count, std::size_t dim, std::int32_t* assignments, float* distances) {
  for (std::size_t point = 0; point < point_count; ++point) {
    const float* vector = points + point * dim;
    float best_distance = std::numeric_limits<float>::infinity();
    std::int32_t best_centroid = 0;
    for (std::size_t centroid = 0; centroid < centroid_count; ++centroid) {
      const float distance = Distance<metric>(vector, centroids + centroid * dim, dim);
      // Strict comparison keeps the lower index on ties; NaN never wins, so a point whose distances
      // are all NaN is assigned to centroid 0 with distance +Infinity.
      if (distance < best_distance) {
        best_distance = distance;
        best_centroid = static_cast<std::int32_t>(centroid);
      }
    }
    assignments[point] = best_centroid;
    distances[point] = best_distance;
  }
}

}  // namespace

void KMeansAssign(Metric metric, const float* points, std::size_t point_count, const float* centroids,
                  std::size_t centroid_count, std::size_t dim, std::int32_t* assignments, float* distances) {
  // Wide points (IVF lists, not PQ sub-spaces) go to the blocked expanded-form kernel as a top-1
  // search; it ranks by the same (distance, lower index) order and reports the direct distance.
  if (dim >= kBlockedMinimumDim && HasAvx2()) {
    ExpandedTopKAvx2(metric, points, point_count, centroids, centroid_count, dim, 1, RowSelection{}, assignments,
                     distances);
    // A point whose distances are all NaN is assigned to centroid 0 at +Infinity, as below.
    for (std::size_t point = 0; point < point_count; ++point) {
      if (assignments[point] < 0) assignments[point] = 0;
    }
    return;
  }
  WithMetric(metric, [&](auto tag) {
    KMeansAssignFor<decltype(tag)::value>(points, point_count, centroids, centroid_count, dim, assignments, distances);
  });
}

}  // namespace quiver
