// The int8 quantiser and kernels (layout and formulas: scalar-quantiser.h). The portable stored ↔
// stored kernels add in dimension order, one float at a time, so that the TypeScript twin reproduces
// them bit for bit; the AVX2 ones widen 16 codes at a time to 32-bit lanes, keep two 8-float
// accumulators, and finish with a scalar tail: any dim works. The query → stored kernels sum
// integers exactly (AVX2: _mm256_madd_epi16; portable: int64), then finish in double in one shared
// function, so AVX2, portable and the TypeScript twin agree to the bit.
#include "scalar-quantiser.h"

#include <algorithm>
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
// Largest |Q_d| of a prepared query: the int16 range, symmetric.
constexpr double kQueryLevels = 32767.0;

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

const Int8Query& QueryOf(const void* pointer) { return *static_cast<const Int8Query*>(pointer); }

// The last steps of a query → stored distance, shared by both kernels. S/K is a division, not a
// product, and 2·(S/K) is exact, so no fused multiply-add the compiler may form changes the bits.
template <Int8Slot kSlot>
float FinishQueryDistance(const Int8Query& query, std::int64_t sum, const void* stored, std::size_t dim) {
  const double dot = static_cast<double>(sum) / query.divisor;
  if (kSlot == Int8Slot::kNorm) {
    const double norm = static_cast<double>(BiasOf(stored, dim));
    return static_cast<float>((query.constant + norm) - 2.0 * dot);
  }
  return static_cast<float>(1.0 - (query.constant + dot));
}

std::int64_t PortableQueryDot(const std::int16_t* values, const std::int8_t* codes, std::size_t dim) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < dim; i++) sum += static_cast<std::int64_t>(values[i]) * codes[i];
  return sum;
}

template <Int8Slot kSlot>
float PortableInt8Query(const void* query_pointer, const void* stored, const void* params_pointer) {
  const Int8Query& query = QueryOf(query_pointer);
  const std::size_t dim = ParamsOf(params_pointer).dim;
  const std::int64_t sum = PortableQueryDot(query.values, static_cast<const std::int8_t*>(stored), dim);
  return FinishQueryDistance<kSlot>(query, sum, stored, dim);
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

// Dimensions summed in 32-bit lanes before the lanes are flushed to 64 bits. A _mm256_madd_epi16
// lane adds two products |Q_d·c_d| ≤ 32767·127 = 4,161,409, so at most 8,322,818 per step, and an
// int32 lane holds 2,147,483,647 / 8,322,818 = 258 steps. Over a block of 4096 dimensions each of
// the two accumulators takes at most 4096 / 32 = 128 steps (≤ 1.07e9): no lane can overflow for any
// dim, and the flush (to int64, not float, so that the sum stays exact) costs a few instructions
// per 4096 dimensions.
constexpr std::size_t kQueryBlockDims = 4096;

// The eight int32 lanes of `lanes` added in 64 bits.
QUIVER_AVX2 inline std::int64_t WideSum(__m256i lanes) {
  const __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(lanes)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(lanes, 1)));
  const __m128i pair = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
  return _mm_cvtsi128_si64(pair) + _mm_extract_epi64(pair, 1);
}

QUIVER_AVX2 std::int64_t Avx2QueryDot(const std::int16_t* values, const std::int8_t* codes, std::size_t dim) {
  const std::size_t whole = dim - dim % 16;
  std::int64_t sum = 0;
  for (std::size_t block = 0; block < whole; block += kQueryBlockDims) {
    const std::size_t end = std::min(whole, block + kQueryBlockDims);
    __m256i sum0 = _mm256_setzero_si256();
    __m256i sum1 = _mm256_setzero_si256();
    std::size_t i = block;
    for (; i + 32 <= end; i += 32) {
      const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i));
      const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i + 16));
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(q0, Widen(codes + i)));
      sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(q1, Widen(codes + i + 16)));
    }
    if (i < end) {  // 16 dimensions left in the block
      const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i));
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(q0, Widen(codes + i)));
    }
    sum += WideSum(sum0) + WideSum(sum1);
  }
  for (std::size_t i = whole; i < dim; i++) sum += static_cast<std::int64_t>(values[i]) * codes[i];
  return sum;
}

template <Int8Slot kSlot>
QUIVER_AVX2 float Avx2Int8Query(const void* query_pointer, const void* stored, const void* params_pointer) {
  const Int8Query& query = QueryOf(query_pointer);
  const std::size_t dim = ParamsOf(params_pointer).dim;
  const std::int64_t sum = Avx2QueryDot(query.values, static_cast<const std::int8_t*>(stored), dim);
  return FinishQueryDistance<kSlot>(query, sum, stored, dim);
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

void ScalarQuantiser::Encode(const float* vector, Int8Slot slot, char* out) const {
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
  if (slot == Int8Slot::kNorm) StoreNorm(out);
}

void ScalarQuantiser::StoreNorm(char* codes) const {
  double norm = 0.0;
  for (std::size_t d = 0; d < params_.dim; d++) {
    const int code = static_cast<std::int8_t>(codes[d]);
    // w_d (24 bits) times c_d² (≤ 16129, 14 bits) is exact in double; the sum rounds in order.
    const double term = static_cast<double>(weights_[d]) * static_cast<double>(code * code);
    norm += term;
  }
  const auto stored = static_cast<float>(norm);
  std::memcpy(codes + params_.dim, &stored, sizeof(stored));
}

void ScalarQuantiser::PrepareQuery(const float* vector, Int8Slot slot, std::int16_t* values, Int8Query* out) const {
  const bool l2 = slot == Int8Slot::kNorm;
  const std::size_t dim = params_.dim;
  // Pass 1: the constant and the largest |v_d|. Products and sums are separate statements so that
  // no compiler contracts them into a fused multiply-add (the TypeScript twin rounds each step).
  double constant = 0.0;
  float largest = 0.0f;
  for (std::size_t d = 0; d < dim; d++) {
    const float centred = l2 ? vector[d] - centres_[d] : vector[d];
    const float scaled = centred * steps_[d];
    const double term = l2 ? static_cast<double>(centred) * static_cast<double>(centred)
                           : static_cast<double>(vector[d]) * static_cast<double>(centres_[d]);
    constant += term;
    largest = std::max(largest, std::fabs(scaled));
  }
  const double divisor = largest > 0.0f ? kQueryLevels / static_cast<double>(largest) : 1.0;
  // Pass 2: Q_d = round(K·v_d) (halves up), clamped in case K·largest rounds above 32767.
  for (std::size_t d = 0; d < dim; d++) {
    const float centred = l2 ? vector[d] - centres_[d] : vector[d];
    const float scaled = centred * steps_[d];
    const double product = static_cast<double>(scaled) * divisor;
    const double rounded = std::floor(product + 0.5);
    values[d] = static_cast<std::int16_t>(std::max(-kQueryLevels, std::min(kQueryLevels, rounded)));
  }
  out->values = values;
  out->constant = constant;
  out->divisor = divisor;
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

HnswDistance ChooseInt8L2QueryDistance(bool portable) {
#ifdef QUIVER_X86_DISPATCH
  if (!portable && HasAvx2()) return Avx2Int8Query<Int8Slot::kNorm>;
#else
  (void)portable;
#endif
  return PortableInt8Query<Int8Slot::kNorm>;
}

HnswDistance ChooseInt8InnerProductQueryDistance(bool portable) {
#ifdef QUIVER_X86_DISPATCH
  if (!portable && HasAvx2()) return Avx2Int8Query<Int8Slot::kBias>;
#else
  (void)portable;
#endif
  return PortableInt8Query<Int8Slot::kBias>;
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
