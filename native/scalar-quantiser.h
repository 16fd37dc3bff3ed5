// The 8-bit scalar quantiser of an int8 HNSW graph, and the distance kernels over its codes. The
// native twin of src/index/scalar-quantiser.ts (the reference the tests compare with). Knows
// nothing of Node-API or of the graph.
//
// Per dimension d a range [low_d, high_d] (learned from the data in TypeScript) gives a centre
// m_d = (low_d + high_d) / 2 and a step s_d = (high_d - low_d) / 254; a value x becomes the code
// c = round((x - m_d) / s_d) clamped to [-127, 127], read back as x̂_d = m_d + s_d·c. A stored vector is
//   | dim bytes: the codes (int8) | 4 bytes: its slot, float32 (native-endian)                     |
// where the slot of an ip/cosine graph is the bias Σ_d m_d·s_d·c_d and that of an l2 graph the norm
// Σ_d w_d·c_d² (w_d = s_d²; ranges block version 2, hnsw-int8.ts: version 1 kept the bias there too,
// and a graph loaded from it has its norms recomputed). Two kinds of kernel:
// - stored ↔ stored (the neighbour heuristic, pruning), symmetric, single SIMD loops with the
//   weights folded into one table:
//     l2:  Σ_d w_d·(a_d − b_d)²
//     ip:  1 − (Σ_d m_d² + bias_a + bias_b + Σ_d w_d·a_d·b_d)   (the dequantised vectors' 1 − dot)
// - query → stored (searches, and an inserted vector against the graph), asymmetric: the float
//   query q (normalised for cosine) becomes, once per query, int16 values Q_d = round(K·v_d) with
//   v_d = (q_d − m_d)·s_d for l2 and q_d·s_d for ip, K = 32767 / max_d |v_d| (so Σ_d Q_d·c_d / K ≈
//   Σ_d v_d·c_d), and a constant; then per stored vector one exact integer sum S = Σ_d Q_d·c_d and
//     l2:  (Σ_d (q_d − m_d)² + norm) − 2·S/K       (= Σ_d (q_d − x̂_d)² up to the rounding of Q)
//     ip:  1 − (Σ_d q_d·m_d + S/K)                  (= 1 − q·x̂, the float graph's convention)
//   with the constant and the final steps in double, rounded to float at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hnsw-space.h"

namespace quiver {

// What the int8 kernels read through the distance function's parameter pointer. `dim` comes first
// so that the pointer also reads as hnswlib's size_t dim.
struct Int8SpaceParams {
  std::size_t dim = 0;
  const float* weights = nullptr;  // s_d², dim floats
  float centre_norm = 0.0f;        // Σ_d m_d²
};

// What a vector's 4-byte slot holds (see above): the bias for ip/cosine, the norm for l2.
enum class Int8Slot { kBias = 0, kNorm = 1 };

// A query prepared for the query → stored kernels; `values` (dim int16) are owned by the caller.
struct Int8Query {
  const std::int16_t* values = nullptr;
  double constant = 0.0;  // l2: Σ_d (q_d − m_d)²; ip: Σ_d q_d·m_d
  double divisor = 1.0;   // K, or 1 when every v_d is 0 (then every Q_d and S are 0)
};

class ScalarQuantiser {
 public:
  // Ranges of `dim` dimensions; throws when a range is not finite or high < low.
  ScalarQuantiser(std::size_t dim, const float* lows, const float* highs);
  ScalarQuantiser(const ScalarQuantiser&) = delete;
  ScalarQuantiser& operator=(const ScalarQuantiser&) = delete;

  std::size_t dim() const { return params_.dim; }
  // Bytes of one stored vector: the codes and the bias.
  std::size_t code_bytes() const { return params_.dim + sizeof(float); }
  const Int8SpaceParams* params() const { return &params_; }

  // Encodes `dim` floats into code_bytes() bytes at `out`, the slot holding `slot`.
  void Encode(const float* vector, Int8Slot slot, char* out) const;
  // Rewrites the slot of code_bytes() bytes at `codes` as the norm Σ_d w_d·c_d² of their codes.
  void StoreNorm(char* codes) const;
  // The query form of `dim` floats for the l2 (`slot` kNorm) or ip (kBias) kernels: Q_d into
  // `values` (dim int16), the constant and K into `out` (out->values set to `values`).
  void PrepareQuery(const float* vector, Int8Slot slot, std::int16_t* values, Int8Query* out) const;
  // Decodes code_bytes() bytes into `dim` floats.
  void Decode(const char* codes, float* out) const;

 private:
  Int8SpaceParams params_;
  std::vector<float> centres_;
  std::vector<float> steps_;
  std::vector<float> inverse_steps_;  // 1 / s_d, or 0 where the range is a point
  std::vector<float> weights_;
  std::vector<float> bias_factors_;  // m_d·s_d
};

// The stored ↔ stored kernels: AVX2/FMA when the CPU has it (function-level target attributes),
// else (or with `portable`) plain loops in dimension order.
HnswDistance ChooseInt8L2Distance(bool portable);
HnswDistance ChooseInt8InnerProductDistance(bool portable);
// The query → stored kernels: the first argument an Int8Query, the second a stored vector, the
// third Int8SpaceParams. AVX2 or portable as above; both give the same bits (the sum is exact).
HnswDistance ChooseInt8L2QueryDistance(bool portable);
HnswDistance ChooseInt8InnerProductQueryDistance(bool portable);

}  // namespace quiver
