// SQ8 kernels for AVX-512F: 16 codes per step, widened u8 -> i32 -> f32, masked tails.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace mosaic::simd::internal {

namespace {
inline __m512 LoadCodes(const uint8_t* code) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code))));
}
inline __m512 LoadCodesMasked(const uint8_t* code, __mmask16 m) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, code)));
}
}  // namespace

float Sq8L2SqrAvx512(const float* q, const float* step, const uint8_t* code, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t d = 0;
  for (; d + 32 <= dim; d += 32) {
    __m512 t0 = _mm512_fnmadd_ps(LoadCodes(code + d), _mm512_loadu_ps(step + d), _mm512_loadu_ps(q + d));
    __m512 t1 = _mm512_fnmadd_ps(LoadCodes(code + d + 16), _mm512_loadu_ps(step + d + 16),
                                 _mm512_loadu_ps(q + d + 16));
    acc0 = _mm512_fmadd_ps(t0, t0, acc0);
    acc1 = _mm512_fmadd_ps(t1, t1, acc1);
  }
  for (; d < dim; d += 16) {
    __mmask16 m = dim - d >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - d)) - 1);
    __m512 t = _mm512_fnmadd_ps(LoadCodesMasked(code + d, m), _mm512_maskz_loadu_ps(m, step + d),
                                _mm512_maskz_loadu_ps(m, q + d));
    acc0 = _mm512_fmadd_ps(t, t, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float Sq8WeightedSumAvx512(const float* w, const uint8_t* code, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t d = 0;
  for (; d + 32 <= dim; d += 32) {
    acc0 = _mm512_fmadd_ps(LoadCodes(code + d), _mm512_loadu_ps(w + d), acc0);
    acc1 = _mm512_fmadd_ps(LoadCodes(code + d + 16), _mm512_loadu_ps(w + d + 16), acc1);
  }
  for (; d < dim; d += 16) {
    __mmask16 m = dim - d >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - d)) - 1);
    acc0 = _mm512_fmadd_ps(LoadCodesMasked(code + d, m), _mm512_maskz_loadu_ps(m, w + d), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float Sq8PairL2SqrAvx512(const uint8_t* a, const uint8_t* b, const float* step, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t d = 0;
  for (; d + 32 <= dim; d += 32) {
    __m512 t0 =
        _mm512_mul_ps(_mm512_sub_ps(LoadCodes(a + d), LoadCodes(b + d)), _mm512_loadu_ps(step + d));
    __m512 t1 = _mm512_mul_ps(_mm512_sub_ps(LoadCodes(a + d + 16), LoadCodes(b + d + 16)),
                              _mm512_loadu_ps(step + d + 16));
    acc0 = _mm512_fmadd_ps(t0, t0, acc0);
    acc1 = _mm512_fmadd_ps(t1, t1, acc1);
  }
  for (; d < dim; d += 16) {
    __mmask16 m = dim - d >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - d)) - 1);
    __m512 t = _mm512_mul_ps(_mm512_sub_ps(LoadCodesMasked(a + d, m), LoadCodesMasked(b + d, m)),
                             _mm512_maskz_loadu_ps(m, step + d));
    acc0 = _mm512_fmadd_ps(t, t, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float Sq8PairDotAvx512(const uint8_t* a, const uint8_t* b, const float* lo, const float* step,
                       size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t d = 0;
  for (; d + 32 <= dim; d += 32) {
    __m512 s0 = _mm512_loadu_ps(step + d), l0 = _mm512_loadu_ps(lo + d);
    __m512 s1 = _mm512_loadu_ps(step + d + 16), l1 = _mm512_loadu_ps(lo + d + 16);
    acc0 = _mm512_fmadd_ps(_mm512_fmadd_ps(LoadCodes(a + d), s0, l0),
                           _mm512_fmadd_ps(LoadCodes(b + d), s0, l0), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_fmadd_ps(LoadCodes(a + d + 16), s1, l1),
                           _mm512_fmadd_ps(LoadCodes(b + d + 16), s1, l1), acc1);
  }
  for (; d < dim; d += 16) {
    __mmask16 m = dim - d >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - d)) - 1);
    __m512 s = _mm512_maskz_loadu_ps(m, step + d), l = _mm512_maskz_loadu_ps(m, lo + d);
    acc0 = _mm512_fmadd_ps(_mm512_fmadd_ps(LoadCodesMasked(a + d, m), s, l),
                           _mm512_fmadd_ps(LoadCodesMasked(b + d, m), s, l), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

}  // namespace mosaic::simd::internal
