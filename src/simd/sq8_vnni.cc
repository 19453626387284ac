// The SQ8 integer dot product on AVX-512 VNNI: 64 code bytes times 64 int8 weights per
// vpdpbusd, accumulated exactly in int32 lanes; masked tail.
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

}  // namespace mosaic::simd::internal
