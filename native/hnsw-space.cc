// HNSW distance kernels. The AVX2/FMA versions keep four 8-float accumulators (32 floats per step)
// so the FMA latency is hidden, then finish with 8-float steps and a scalar tail: any dim works.
// The 'hnswlib' kernels chain every step on one 4-float accumulator, as hnswlib's SSE kernels do
// (which is what makes a search on them latency-bound on the distance): they exist to give the
// same bits as hnswlib-node, not speed.
#include "hnsw-space.h"

#include <cmath>
#include <cstddef>

#include "distance.h"
#include "exact-scan-avx2.h"

// Where hnswlib's kernels use SSE (its own test: an SSE-capable x86 target).
#if defined(__SSE__) || defined(_M_AMD64) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP > 0)
#define QUIVER_HNSWLIB_LANES 1
#include <emmintrin.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUIVER_X86_DISPATCH 1
#include <immintrin.h>
#define QUIVER_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace quiver {
namespace {

float PortableL2(const void* a, const void* b, const void* dim) {
  return SquaredL2(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

float PortableInnerProduct(const void* a, const void* b, const void* dim) {
  return 1.0f - Dot(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

#ifdef QUIVER_X86_DISPATCH
QUIVER_AVX2 inline float HorizontalSum(__m256 value) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(value), _mm256_extractf128_ps(value, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

QUIVER_AVX2 float Avx2L2(const void* a_pointer, const void* b_pointer, const void* dim_pointer) {
  const float* a = static_cast<const float*>(a_pointer);
  const float* b = static_cast<const float*>(b_pointer);
  const std::size_t dim = *static_cast<const std::size_t*>(dim_pointer);
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  __m256 sum2 = _mm256_setzero_ps();
  __m256 sum3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    sum0 = _mm256_fmadd_ps(d0, d0, sum0);
    sum1 = _mm256_fmadd_ps(d1, d1, sum1);
    sum2 = _mm256_fmadd_ps(d2, d2, sum2);
    sum3 = _mm256_fmadd_ps(d3, d3, sum3);
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    sum0 = _mm256_fmadd_ps(d, d, sum0);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    tail = std::fma(d, d, tail);
  }
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(sum0, sum1), _mm256_add_ps(sum2, sum3))) + tail;
}

QUIVER_AVX2 float Avx2InnerProduct(const void* a_pointer, const void* b_pointer, const void* dim_pointer) {
  const float* a = static_cast<const float*>(a_pointer);
  const float* b = static_cast<const float*>(b_pointer);
  const std::size_t dim = *static_cast<const std::size_t*>(dim_pointer);
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  __m256 sum2 = _mm256_setzero_ps();
  __m256 sum3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), sum1);
    sum2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), sum2);
    sum3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), sum3);
  }
  for (; i + 8 <= dim; i += 8) sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
  float tail = 0.0f;
  for (; i < dim; ++i) tail = std::fma(a[i], b[i], tail);
  return 1.0f - (HorizontalSum(_mm256_add_ps(_mm256_add_ps(sum0, sum1), _mm256_add_ps(sum2, sum3))) + tail);
}
#endif

// ---- the 'hnswlib' kernels ----

// Sequential sums from 0, one product added at a time.
float SequentialL2(const float* a, const float* b, std::size_t count) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < count; i++) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float SequentialDot(const float* a, const float* b, std::size_t count) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < count; i++) sum += a[i] * b[i];
  return sum;
}

#ifdef QUIVER_HNSWLIB_LANES
// Four lane sums over `count` floats (a multiple of 4), 4 floats per step, then lane 0 + 1 + 2 + 3.
float LanesSum(__m128 sum) {
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

float LanesL2(const float* a, const float* b, std::size_t count) {
  __m128 sum = _mm_setzero_ps();
  for (std::size_t i = 0; i < count; i += 4) {
    const __m128 d = _mm_sub_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i));
    sum = _mm_add_ps(sum, _mm_mul_ps(d, d));
  }
  return LanesSum(sum);
}

float LanesDot(const float* a, const float* b, std::size_t count) {
  __m128 sum = _mm_setzero_ps();
  for (std::size_t i = 0; i < count; i += 4) sum = _mm_add_ps(sum, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
  return LanesSum(sum);
}

// The part of the vector summed in lanes (the rest sequentially), by hnswlib's choice of kernel.
std::size_t LanePart(std::size_t dim) {
  if (dim % 4 == 0) return dim;
  if (dim > 16) return dim & ~std::size_t{15};
  if (dim > 4) return dim & ~std::size_t{3};
  return 0;
}

float LanesOnlyL2(const void* a, const void* b, const void* dim) {
  return LanesL2(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

float LanesThenSequentialL2(const void* a_pointer, const void* b_pointer, const void* dim_pointer) {
  const auto* a = static_cast<const float*>(a_pointer);
  const auto* b = static_cast<const float*>(b_pointer);
  const std::size_t dim = *static_cast<const std::size_t*>(dim_pointer);
  const std::size_t lanes = LanePart(dim);
  return LanesL2(a, b, lanes) + SequentialL2(a + lanes, b + lanes, dim - lanes);
}

float LanesOnlyInnerProduct(const void* a, const void* b, const void* dim) {
  return 1.0f - LanesDot(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

float LanesThenSequentialInnerProduct(const void* a_pointer, const void* b_pointer, const void* dim_pointer) {
  const auto* a = static_cast<const float*>(a_pointer);
  const auto* b = static_cast<const float*>(b_pointer);
  const std::size_t dim = *static_cast<const std::size_t*>(dim_pointer);
  const std::size_t lanes = LanePart(dim);
  return 1.0f - (LanesDot(a, b, lanes) + SequentialDot(a + lanes, b + lanes, dim - lanes));
}
#endif

float SequentialOnlyL2(const void* a, const void* b, const void* dim) {
  return SequentialL2(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

float SequentialOnlyInnerProduct(const void* a, const void* b, const void* dim) {
  return 1.0f - SequentialDot(static_cast<const float*>(a), static_cast<const float*>(b), *static_cast<const std::size_t*>(dim));
}

}  // namespace

HnswDistance HnswlibOrderL2Distance(std::size_t dim) {
#ifdef QUIVER_HNSWLIB_LANES
  if (dim % 4 == 0) return LanesOnlyL2;
  if (dim > 4) return LanesThenSequentialL2;
#else
  (void)dim;
#endif
  return SequentialOnlyL2;
}

HnswDistance HnswlibOrderInnerProductDistance(std::size_t dim) {
#ifdef QUIVER_HNSWLIB_LANES
  if (dim % 4 == 0) return LanesOnlyInnerProduct;
  if (dim > 4) return LanesThenSequentialInnerProduct;
#else
  (void)dim;
#endif
  return SequentialOnlyInnerProduct;
}

HnswDistance ChooseL2Distance() {
#ifdef QUIVER_X86_DISPATCH
  if (HasAvx2()) return Avx2L2;
#endif
  return PortableL2;
}

HnswDistance ChooseInnerProductDistance() {
#ifdef QUIVER_X86_DISPATCH
  if (HasAvx2()) return Avx2InnerProduct;
#endif
  return PortableInnerProduct;
}

}  // namespace quiver
