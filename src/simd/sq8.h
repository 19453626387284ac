// Kernels for 8-bit scalar-quantized vectors (SQ8): one uint8 code per dimension, decoded as
// offset[d] + code[d] * step[d]. Queries stay in float ("asymmetric" distance), so the only loss
// is the codes' rounding. Run-time dispatch as in distance.h; pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mosaic::simd {

// sum_d (q[d] - code[d] * step[d])^2, where the caller has already subtracted offset from q.
float Sq8L2Sqr(const float* q_minus_offset, const float* step, const uint8_t* code, size_t dim);
// sum_d w[d] * code[d]; with w = q * step this is the dot product minus sum_d q[d] * offset[d].
float Sq8WeightedSum(const float* w, const uint8_t* code, size_t dim);
// Between two codes (both decoded): sum_d ((a[d] - b[d]) * step[d])^2, and
// sum_d (offset[d] + a[d] * step[d]) * (offset[d] + b[d] * step[d]).
float Sq8PairL2Sqr(const uint8_t* a, const uint8_t* b, const float* step, size_t dim);
float Sq8PairDot(const uint8_t* a, const uint8_t* b, const float* offset, const float* step,
                 size_t dim);

// sum_d code[d] * w[d], exact in int32 for dim <= 66,000 (255 * 127 * dim < 2^31).
int32_t DotU8I8(const uint8_t* code, const int8_t* w, size_t dim);
// sum_d code[d] * (128 * hi[d] + lo[d]): weights of 15 bits split into two int8 halves (hi in
// [-127, 127], lo in [-64, 64]), exact for dim <= 66,000.
int64_t DotU8I15(const uint8_t* code, const int8_t* hi, const int8_t* lo, size_t dim);
// True when DotU8I8 and DotU8I15 run on a dedicated instruction (AVX-512 VNNI, at the active level): only
// then is quantizing the query to int8 worth its rounding (Sq8Codec::Prepare).
bool FastDotU8I8();
// sum_d code[d] * w[d] for weights with |w[d]| <= 2^14, exact for any dim: int16 products on
// AVX2 (vpmaddwd, 16 dimensions per instruction), the integer form where VNNI is missing.
int64_t DotU8I16(const uint8_t* code, const int16_t* w, size_t dim);
// True when DotU8I16 runs on SIMD (AVX2 or better).
bool FastDotU8I16();

// The weights of DotU8I16 for a query: with t[d] = q[d] * step[d] and scale = max |t[d]| over
// the finite t[d] / kMaxWeightI16 (1 when that is 0), w[d] = t[d] / scale rounded to nearest
// (ties to even) and clamped to +-kMaxWeightI16, a NaN as 0. Returns scale. Every level gives
// the same bits.
inline constexpr int kMaxWeightI16 = 127 * 128;
float QueryWeightsI16(const float* q, const float* step, size_t dim, int16_t* w);

// std::nearbyint under the default rounding mode (to nearest, ties to even), inline: without
// SSE4.1 in the baseline flags it compiles to a library call per value. Adding and subtracting
// 1.5 * 2^23 rounds any |x| < 2^22 so; larger values are integers already, and infinities and
// NaN pass through.
inline float RoundNearest(float x) {
  constexpr float kMagic = 12582912.0f;
  return (x < 0 ? -x : x) < 4194304.0f ? (x + kMagic) - kMagic : x;
}

}  // namespace mosaic::simd
