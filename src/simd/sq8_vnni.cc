// The SQ8 integer dot products on AVX-512 VNNI: 64 code bytes times 64 int8 weights per
// vpdpbusd, accumulated exactly in int32 lanes; masked tails.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace mosaic::simd::internal {

int32_t DotU8I8Vnni(const uint8_t* code, const int8_t* w, size_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t d = 0;
  for (; d + 128 <= dim; d += 128) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(code + d), _mm512_loadu_si512(w + d));
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(code + d + 64),
                               _mm512_loadu_si512(w + d + 64));
  }
  for (; d < dim; d += 64) {
    const size_t left = dim - d;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_maskz_loadu_epi8(m, code + d),
                               _mm512_maskz_loadu_epi8(m, w + d));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

int64_t DotU8I15Vnni(const uint8_t* code, const int8_t* hi, const int8_t* lo, size_t dim) {
  // Four chains, so that vpdpbusd's latency overlaps.
  __m512i hi0 = _mm512_setzero_si512(), lo0 = _mm512_setzero_si512();
  __m512i hi1 = _mm512_setzero_si512(), lo1 = _mm512_setzero_si512();
  size_t d = 0;
  for (; d + 128 <= dim; d += 128) {
    const __m512i c0 = _mm512_loadu_si512(code + d), c1 = _mm512_loadu_si512(code + d + 64);
    hi0 = _mm512_dpbusd_epi32(hi0, c0, _mm512_loadu_si512(hi + d));
    lo0 = _mm512_dpbusd_epi32(lo0, c0, _mm512_loadu_si512(lo + d));
    hi1 = _mm512_dpbusd_epi32(hi1, c1, _mm512_loadu_si512(hi + d + 64));
    lo1 = _mm512_dpbusd_epi32(lo1, c1, _mm512_loadu_si512(lo + d + 64));
  }
  for (; d < dim; d += 64) {
    const size_t left = dim - d;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    const __m512i c = _mm512_maskz_loadu_epi8(m, code + d);
    hi0 = _mm512_dpbusd_epi32(hi0, c, _mm512_maskz_loadu_epi8(m, hi + d));
    lo0 = _mm512_dpbusd_epi32(lo0, c, _mm512_maskz_loadu_epi8(m, lo + d));
  }
  return 128 * int64_t{_mm512_reduce_add_epi32(_mm512_add_epi32(hi0, hi1))} +
         _mm512_reduce_add_epi32(_mm512_add_epi32(lo0, lo1));
}

}  // namespace mosaic::simd::internal
