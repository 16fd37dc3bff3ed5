// The 8-bit scalar quantiser of an int8 HNSW graph, and the distance kernels over its codes. The
// native twin of src/index/scalar-quantiser.ts (the reference the tests compare with). Knows
// nothing of Node-API or of the graph.
//
// Per dimension d a range [low_d, high_d] (learned from the data in TypeScript) gives a centre
// m_d = (low_d + high_d) / 2 and a step s_d = (high_d - low_d) / 254; a value x becomes the code
// c = round((x - m_d) / s_d) clamped to [-127, 127], read back as m_d + s_d·c. A stored vector is
//   | dim bytes: the codes (int8) | 4 bytes: its bias, float32 Σ_d m_d·s_d·c_d (native-endian) |
// so that with the weights w_d = s_d² folded into one table the kernels are single SIMD loops:
//   l2:  Σ_d w_d·(a_d − b_d)²
//   ip:  1 − (Σ_d m_d² + bias_a + bias_b + Σ_d w_d·a_d·b_d)   (the dequantised vectors' 1 − dot)
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

  // Encodes `dim` floats into code_bytes() bytes at `out`.
  void Encode(const float* vector, char* out) const;
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

// The int8 kernels: AVX2/FMA when the CPU has it (function-level target attributes), else (or with
// `portable`) plain loops in dimension order.
HnswDistance ChooseInt8L2Distance(bool portable);
HnswDistance ChooseInt8InnerProductDistance(bool portable);

}  // namespace quiver
