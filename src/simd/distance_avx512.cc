// AVX-512F kernels (16 floats a vector); tails use masked loads, which read nothing past the
// mask, so any dimension works without a scalar epilogue. Compiled with -mavx512f and friends;
// only reached through distance.cc after a CPU check.
//
// Everything here has internal linkage and uses no inline library templates: a function
// instantiated in this file with AVX-512 enabled must never be picked by the linker for code
// that runs on other CPUs.
#include <immintrin.h>

#include "simd/distance_kernels.h"

namespace mosaic::simd::internal {

namespace {

enum class Op { kL2, kDot };

constexpr size_t kLanes = 16;

inline __mmask16 TailMask(size_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1);
}

// Horizontal sum by swapping halves, quarters, pairs and neighbours. Written with the zeroing
// (maskz) forms under an all-ones mask because GCC 12's expansions of the plain forms, and of
// _mm512_reduce_add_ps, trip -Wuninitialized on an internal placeholder vector.
inline float ReduceAdd(__m512 v) {
  const __mmask16 all = 0xffff;
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_cvtss_f32(v);
}

// Sums each of 16 vectors into sums[0..15] with 45 shuffles and adds instead of 16 x 8. The
// additions are associated exactly as in ReduceAdd, so both give bit-identical results; maskz
// forms for the same reason as there.
inline void Reduce16(const __m512* v, float* sums) {
  const __mmask16 all = 0xffff;
  __m512 halves[8], quarters[4], pairs[2];
  for (int i = 0; i < 8; ++i) {
    halves[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(all, v[2 * i], v[2 * i + 1], 0x44),
                              _mm512_maskz_shuffle_f32x4(all, v[2 * i], v[2 * i + 1], 0xee));
  }
  // 128-bit lane l of quarters[i] now holds four partial sums of v[4 * i + l].
  for (int i = 0; i < 4; ++i) {
    quarters[i] =
        _mm512_add_ps(_mm512_maskz_shuffle_f32x4(all, halves[2 * i], halves[2 * i + 1], 0x88),
                      _mm512_maskz_shuffle_f32x4(all, halves[2 * i], halves[2 * i + 1], 0xdd));
  }
  for (int i = 0; i < 2; ++i) {
    pairs[i] = _mm512_add_ps(
        _mm512_maskz_shuffle_ps(all, quarters[2 * i], quarters[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
        _mm512_maskz_shuffle_ps(all, quarters[2 * i], quarters[2 * i + 1],
                                _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // Element e of 128-bit lane l is the sum of v[4 * e + l].
  __m512 total =
      _mm512_add_ps(_mm512_maskz_shuffle_ps(all, pairs[0], pairs[1], _MM_SHUFFLE(2, 0, 2, 0)),
                    _mm512_maskz_shuffle_ps(all, pairs[0], pairs[1], _MM_SHUFFLE(3, 1, 3, 1)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  for (int l = 0; l < 4; ++l) {
    for (int e = 0; e < 4; ++e)
      sums[4 * e + l] = lanes[4 * l + e];
  }
}

// Left alone, GCC folds the query load into every FMA that uses it, issuing R loads where one
// would do; the loads, not the FMAs, then limit the tile. An empty asm that "modifies" the value
// forces it into a register once.
inline void PinToRegister(__m512& v) {
  __asm__("" : "+v"(v));
}

template <Op op>
inline __m512 Accumulate(__m512 acc, __m512 q, __m512 x) {
  if constexpr (op == Op::kL2) {
    __m512 d = _mm512_sub_ps(q, x);
    return _mm512_fmadd_ps(d, d, acc);
  } else {
    return _mm512_fmadd_ps(q, x, acc);
  }
}

// Single pair, latency-bound: four independent accumulators keep both FMA ports busy.
template <Op op>
float Pair(const float* a, const float* b, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 4 * kLanes <= dim; i += 4 * kLanes) {
    acc0 = Accumulate<op>(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc1 = Accumulate<op>(acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc2 = Accumulate<op>(acc2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    acc3 = Accumulate<op>(acc3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
  }
  for (; i + kLanes <= dim; i += kLanes) {
    acc0 = Accumulate<op>(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
  }
  if (i < dim) {
    __mmask16 m = TailMask(dim - i);
    acc1 = Accumulate<op>(acc1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
  }
  return ReduceAdd(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Q queries x R rows, one accumulator per pair: each loaded row vector is used Q times and each
// query vector R times. Every pair is summed in the same order whatever Q and R are, which keeps
// Batch and Block results bit-identical.
template <Op op, int Q, int R>
inline void Tile(const float* q, const float* x, size_t dim, float* out, size_t out_stride) {
  __m512 acc[Q][R];
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[a][r] = _mm512_setzero_ps();
  }
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    __m512 xv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      xv[r] = _mm512_loadu_ps(x + r * dim + i);
    if constexpr (Q == 1 && R == 4) {
      // Batch: a lone query streams rows from memory. Requesting the same line of the next four
      // rows measured a little faster than leaving it all to the hardware prefetcher.
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(x + (R + r) * dim + i), _MM_HINT_T0);
      }
    }
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
      __m512 qv = _mm512_loadu_ps(q + a * dim + i);
      PinToRegister(qv);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        acc[a][r] = Accumulate<op>(acc[a][r], qv, xv[r]);
    }
  }
  if (i < dim) {
    __mmask16 m = TailMask(dim - i);
    __m512 xv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      xv[r] = _mm512_maskz_loadu_ps(m, x + r * dim + i);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
      __m512 qv = _mm512_maskz_loadu_ps(m, q + a * dim + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        acc[a][r] = Accumulate<op>(acc[a][r], qv, xv[r]);
    }
  }
  if constexpr (Q * R == 16) {
    float sums[16];
    Reduce16(&acc[0][0], sums);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        out[a * out_stride + r] = sums[a * R + r];
    }
  } else {
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        out[a * out_stride + r] = ReduceAdd(acc[a][r]);
    }
  }
}

// One query streaming over rows: four rows at a time gives four independent FMA chains and four
// loads in flight per step, enough to keep up with memory bandwidth.
template <Op op>
void Batch(const float* q, const float* base, size_t n, size_t dim, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4)
    Tile<op, 1, 4>(q, base + j * dim, dim, out + j, 0);
  for (; j < n; ++j)
    Tile<op, 1, 1>(q, base + j * dim, dim, out + j, 0);
}

// Eight queries share each pair of row loads, so a tile of rows is read from L2 once per eight
// queries; the sixteen accumulators hide FMA latency and the eight query rows stay in L1.
template <Op op>
void Block(const float* queries, size_t nq, const float* base, size_t n, size_t dim, float* out,
           size_t out_stride) {
  size_t i = 0;
  for (; i + 8 <= nq; i += 8) {
    const float* q = queries + i * dim;
    float* o = out + i * out_stride;
    size_t j = 0;
    for (; j + 2 <= n; j += 2)
      Tile<op, 8, 2>(q, base + j * dim, dim, o + j, out_stride);
    if (j < n) Tile<op, 8, 1>(q, base + j * dim, dim, o + j, out_stride);
  }
  for (; i + 4 <= nq; i += 4) {
    const float* q = queries + i * dim;
    float* o = out + i * out_stride;
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
      Tile<op, 4, 4>(q, base + j * dim, dim, o + j, out_stride);
    for (; j < n; ++j)
      Tile<op, 4, 1>(q, base + j * dim, dim, o + j, out_stride);
  }
  for (; i < nq; ++i)
    Batch<op>(queries + i * dim, base, n, dim, out + i * out_stride);
}

float L2SqrAvx512(const float* a, const float* b, size_t dim) {
  return Pair<Op::kL2>(a, b, dim);
}
float DotAvx512(const float* a, const float* b, size_t dim) {
  return Pair<Op::kDot>(a, b, dim);
}
float NormSqrAvx512(const float* a, size_t dim) {
  return Pair<Op::kDot>(a, a, dim);
}

}  // namespace

extern const KernelTable kAvx512Kernels = {
    L2SqrAvx512,     DotAvx512,      NormSqrAvx512,   Batch<Op::kL2>,
    Batch<Op::kDot>, Block<Op::kL2>, Block<Op::kDot>,
};

}  // namespace mosaic::simd::internal
