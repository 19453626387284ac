// SQ8 kernels for AVX2+FMA: 8 codes per step, widened u8 -> i32 -> f32; scalar tail. The integer
// dot product widens 16 codes per step to int16 and multiplies them with int16 weights
// (vpmaddwd), summed exactly in int32 lanes and then in int64.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "simd/sq8.h"

namespace mosaic::simd::internal {

namespace {
inline __m256 LoadCodes(const uint8_t* code) {
  int64_t bits;
  std::memcpy(&bits, code, 8);
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bits)));
}
// The eight int32 lanes summed in int64 (their sum may pass 2^31).
inline int64_t SumI32(__m256i v) {
  const __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
  return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}
inline __m256i MulCodes16(const uint8_t* code, const int16_t* w) {
  const __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code)));
  return _mm256_madd_epi16(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));
}
inline float Sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
}  // namespace

float Sq8L2SqrAvx2(const float* q, const float* step, const uint8_t* code, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 16 <= dim; d += 16) {
    __m256 t0 = _mm256_fnmadd_ps(LoadCodes(code + d), _mm256_loadu_ps(step + d), _mm256_loadu_ps(q + d));
    __m256 t1 = _mm256_fnmadd_ps(LoadCodes(code + d + 8), _mm256_loadu_ps(step + d + 8),
                                 _mm256_loadu_ps(q + d + 8));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
    acc1 = _mm256_fmadd_ps(t1, t1, acc1);
  }
  float acc = Sum(_mm256_add_ps(acc0, acc1));
  for (; d < dim; ++d) {
    float t = q[d] - float(code[d]) * step[d];
    acc += t * t;
  }
  return acc;
}

float Sq8WeightedSumAvx2(const float* w, const uint8_t* code, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 16 <= dim; d += 16) {
    acc0 = _mm256_fmadd_ps(LoadCodes(code + d), _mm256_loadu_ps(w + d), acc0);
    acc1 = _mm256_fmadd_ps(LoadCodes(code + d + 8), _mm256_loadu_ps(w + d + 8), acc1);
  }
  float acc = Sum(_mm256_add_ps(acc0, acc1));
  for (; d < dim; ++d) acc += w[d] * float(code[d]);
  return acc;
}

float Sq8PairL2SqrAvx2(const uint8_t* a, const uint8_t* b, const float* step, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 16 <= dim; d += 16) {
    __m256 t0 =
        _mm256_mul_ps(_mm256_sub_ps(LoadCodes(a + d), LoadCodes(b + d)), _mm256_loadu_ps(step + d));
    __m256 t1 = _mm256_mul_ps(_mm256_sub_ps(LoadCodes(a + d + 8), LoadCodes(b + d + 8)),
                              _mm256_loadu_ps(step + d + 8));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
    acc1 = _mm256_fmadd_ps(t1, t1, acc1);
  }
  float acc = Sum(_mm256_add_ps(acc0, acc1));
  for (; d < dim; ++d) {
    float t = (float(a[d]) - float(b[d])) * step[d];
    acc += t * t;
  }
  return acc;
}

float Sq8PairDotAvx2(const uint8_t* a, const uint8_t* b, const float* lo, const float* step,
                     size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 16 <= dim; d += 16) {
    __m256 s0 = _mm256_loadu_ps(step + d), l0 = _mm256_loadu_ps(lo + d);
    __m256 s1 = _mm256_loadu_ps(step + d + 8), l1 = _mm256_loadu_ps(lo + d + 8);
    acc0 = _mm256_fmadd_ps(_mm256_fmadd_ps(LoadCodes(a + d), s0, l0),
                           _mm256_fmadd_ps(LoadCodes(b + d), s0, l0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_fmadd_ps(LoadCodes(a + d + 8), s1, l1),
                           _mm256_fmadd_ps(LoadCodes(b + d + 8), s1, l1), acc1);
  }
  float acc = Sum(_mm256_add_ps(acc0, acc1));
  for (; d < dim; ++d) acc += (lo[d] + float(a[d]) * step[d]) * (lo[d] + float(b[d]) * step[d]);
  return acc;
}

int64_t DotU8I16Avx2(const uint8_t* code, const int16_t* w, size_t dim) {
  // A lane gains at most 2 * 255 * 2^14 per step; 128 steps per accumulator (4,096 dimensions
  // over two) stay below 2^31, so each block of 4,096 is summed in int64 before the next.
  constexpr size_t kBlock = 4096;
  int64_t total = 0;
  size_t d = 0;
  while (dim - d >= 16) {
    const size_t end = d + std::min(kBlock, (dim - d) / 16 * 16);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (; d + 32 <= end; d += 32) {
      acc0 = _mm256_add_epi32(acc0, MulCodes16(code + d, w + d));
      acc1 = _mm256_add_epi32(acc1, MulCodes16(code + d + 16, w + d + 16));
    }
    if (d < end) {  // 16 left in the block
      acc0 = _mm256_add_epi32(acc0, MulCodes16(code + d, w + d));
      d += 16;
    }
    total += SumI32(acc0) + SumI32(acc1);
  }
  for (; d < dim; ++d) total += int64_t{code[d]} * w[d];
  return total;
}

float MaxFiniteAbsProduct(const float* q, const float* step, size_t n);  // sq8.cc
void WeightsI16(const float* q, const float* step, size_t n, float scale, int16_t* w);

float QueryWeightsI16Avx2(const float* q, const float* step, size_t dim, int16_t* w) {
  constexpr float kTop = kMaxWeightI16;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  __m256 top8 = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    const __m256 t = _mm256_andnot_ps(
        sign, _mm256_mul_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(step + d)));
    // Infinities and NaN fail the ordered comparison and count as 0.
    top8 = _mm256_max_ps(top8, _mm256_and_ps(t, _mm256_cmp_ps(t, inf, _CMP_LT_OQ)));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, top8);
  const float top = std::max(*std::max_element(lanes, lanes + 8),
                             MaxFiniteAbsProduct(q + d, step + d, dim - d));
  const float scale = top > 0 ? top / kTop : 1.0f;

  const __m256 scale8 = _mm256_set1_ps(scale);
  const __m256 lo = _mm256_set1_ps(-kTop), hi = _mm256_set1_ps(kTop);
  for (d = 0; d + 8 <= dim; d += 8) {
    __m256 x = _mm256_div_ps(_mm256_mul_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(step + d)),
                             scale8);
    x = _mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q));  // NaN -> 0
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256i v = _mm256_cvtps_epi32(x);  // to nearest, ties to even (MXCSR's default)
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w + d), _mm256_castsi256_si128(packed));
  }
  WeightsI16(q + d, step + d, dim - d, scale, w + d);
  return scale;
}

}  // namespace mosaic::simd::internal
