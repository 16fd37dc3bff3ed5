// The int8 quantiser and kernels (layout and formulas: scalar-quantiser.h). The portable kernels add
// in dimension order, one float at a time, so that the TypeScript twin reproduces them bit for bit;
// the AVX2 ones widen 16 codes at a time to 32-bit lanes, keep two 8-float accumulators, and finish
// with a scalar tail: any dim works.
#include "scalar-quantiser.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "exact-scan-avx2.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUIVER_X86_DISPATCH 1
#include <immintrin.h>
#define QUIVER_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace quiver {
namespace {

constexpr float kHalfLevels = 127.0f;

const Int8SpaceParams& ParamsOf(const void* pointer) { return *static_cast<const Int8SpaceParams*>(pointer); }

float BiasOf(const void* codes, std::size_t dim) {
  float bias;
  std::memcpy(&bias, static_cast<const char*>(codes) + dim, sizeof(bias));
  return bias;
}

float PortableInt8L2(const void* a_pointer, const void* b_pointer, const void* params_pointer) {
  const Int8SpaceParams& params = ParamsOf(params_pointer);
  const auto* a = static_cast<const std::int8_t*>(a_pointer);
  const auto* b = static_cast<const std::int8_t*>(b_pointer);
  float sum = 0.0f;
  for (std::size_t i = 0; i < params.dim; i++) {
    const auto d = static_cast<float>(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    const float square = d * d;
    sum += params.weights[i] * square;
  }
  return sum;
}

float PortableInt8InnerProduct(const void* a_pointer, const void* b_pointer, const void* params_pointer) {
  const Int8SpaceParams& params = ParamsOf(params_pointer);
  const auto* a = static_cast<const std::int8_t*>(a_pointer);
  const auto* b = static_cast<const std::int8_t*>(b_pointer);
  float dot = 0.0f;
  for (std::size_t i = 0; i < params.dim; i++) {
    const auto product = static_cast<float>(static_cast<int>(a[i]) * static_cast<int>(b[i]));
    dot += params.weights[i] * product;
  }
  const float constant = (params.centre_norm + BiasOf(a_pointer, params.dim)) + BiasOf(b_pointer, params.dim);
  return 1.0f - (constant + dot);
}

#ifdef QUIVER_X86_DISPATCH
QUIVER_AVX2 inline float HorizontalSum(__m256 value) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(value), _mm256_extractf128_ps(value, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// 16 codes of a and b widened to 16-bit lanes.
QUIVER_AVX2 inline __m256i Widen(const std::int8_t* codes) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
}

QUIVER_AVX2 inline __m256 LowFloats(__m256i lanes16) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(lanes16)));
}

QUIVER_AVX2 inline __m256 HighFloats(__m256i lanes16) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(lanes16, 1)));
}

QUIVER_AVX2 float Avx2Int8L2(const void* a_pointer, const void* b_pointer, const void* params_pointer) {
  const Int8SpaceParams& params = ParamsOf(params_pointer);
  const auto* a = static_cast<const std::int8_t*>(a_pointer);
  const auto* b = static_cast<const std::int8_t*>(b_pointer);
  const float* w = params.weights;
  const std::size_t dim = params.dim;
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256i d = _mm256_sub_epi16(Widen(a + i), Widen(b + i));  // within ±254
    const __m256 low = LowFloats(d);
    const __m256 high = HighFloats(d);
    sum0 = _mm256_fmadd_ps(_mm256_mul_ps(low, low), _mm256_loadu_ps(w + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_mul_ps(high, high), _mm256_loadu_ps(w + i + 8), sum1);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) {
    const auto d = static_cast<float>(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    tail += w[i] * (d * d);
  }
  return HorizontalSum(_mm256_add_ps(sum0, sum1)) + tail;
}

QUIVER_AVX2 float Avx2Int8InnerProduct(const void* a_pointer, const void* b_pointer, const void* params_pointer) {
  const Int8SpaceParams& params = ParamsOf(params_pointer);
  const auto* a = static_cast<const std::int8_t*>(a_pointer);
  const auto* b = static_cast<const std::int8_t*>(b_pointer);
  const float* w = params.weights;
  const std::size_t dim = params.dim;
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256i product = _mm256_mullo_epi16(Widen(a + i), Widen(b + i));  // within ±16129
    sum0 = _mm256_fmadd_ps(LowFloats(product), _mm256_loadu_ps(w + i), sum0);
    sum1 = _mm256_fmadd_ps(HighFloats(product), _mm256_loadu_ps(w + i + 8), sum1);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) tail += w[i] * static_cast<float>(static_cast<int>(a[i]) * static_cast<int>(b[i]));
  const float dot = HorizontalSum(_mm256_add_ps(sum0, sum1)) + tail;
  const float constant = (params.centre_norm + BiasOf(a_pointer, dim)) + BiasOf(b_pointer, dim);
  return 1.0f - (constant + dot);
}
#endif

}  // namespace

ScalarQuantiser::ScalarQuantiser(std::size_t dim, const float* lows, const float* highs)
    : centres_(dim), steps_(dim), inverse_steps_(dim), weights_(dim), bias_factors_(dim) {
  params_.dim = dim;
  float centre_norm = 0.0f;
  for (std::size_t d = 0; d < dim; d++) {
    const float low = lows[d];
    const float high = highs[d];
    if (!std::isfinite(low) || !std::isfinite(high) || high < low) {
      throw std::runtime_error("the int8 range of dimension " + std::to_string(d) + " is not a finite [low, high]");
    }
    const float centre = low + (high - low) * 0.5f;
    const float step = (high - low) / (2.0f * kHalfLevels);
    centres_[d] = centre;
    steps_[d] = step;
    inverse_steps_[d] = step > 0.0f ? 1.0f / step : 0.0f;
    weights_[d] = step * step;
    bias_factors_[d] = centre * step;
    centre_norm += centre * centre;
  }
  params_.weights = weights_.data();
  params_.centre_norm = centre_norm;
}

void ScalarQuantiser::Encode(const float* vector, char* out) const {
  float bias = 0.0f;
  for (std::size_t d = 0; d < params_.dim; d++) {
    const float scaled = (vector[d] - centres_[d]) * inverse_steps_[d];
    // NaN never reaches here (the collection refuses it); clamp before the conversion.
    const float rounded = std::floor(scaled + 0.5f);
    const float code = rounded < -kHalfLevels ? -kHalfLevels : (rounded > kHalfLevels ? kHalfLevels : rounded);
    out[d] = static_cast<char>(static_cast<std::int8_t>(code));
    const float term = bias_factors_[d] * code;
    bias += term;
  }
  std::memcpy(out + params_.dim, &bias, sizeof(bias));
}

void ScalarQuantiser::Decode(const char* codes, float* out) const {
  for (std::size_t d = 0; d < params_.dim; d++) {
    const float code = static_cast<float>(static_cast<std::int8_t>(codes[d]));
    out[d] = centres_[d] + steps_[d] * code;
  }
}

HnswDistance ChooseInt8L2Distance(bool portable) {
#ifdef QUIVER_X86_DISPATCH
  if (!portable && HasAvx2()) return Avx2Int8L2;
#else
  (void)portable;
#endif
  return PortableInt8L2;
}

HnswDistance ChooseInt8InnerProductDistance(bool portable) {
#ifdef QUIVER_X86_DISPATCH
  if (!portable && HasAvx2()) return Avx2Int8InnerProduct;
#else
  (void)portable;
#endif
  return PortableInt8InnerProduct;
}

}  // namespace quiver
