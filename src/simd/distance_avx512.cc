// AVX-512F kernels (16 floats a vector); tails use masked loads, which read nothing past the
// mask, so any dimension works without a scalar epilogue. Compiled with -mavx512f and friends;
// only reached through distance.cc after a CPU check.
//
// Everything here has internal linkage and uses no inline library templates: a function
// instantiated in this file with AVX-512 enabled must never be picked by the linker for code
// that runs on other CPUs.
#include <immintrin.h>

#include "simd/distance.h"
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

// Q queries x P panels of packed rows (P * 16 rows, `rows` of them real), one accumulator per
// query and panel: each step loads P panel vectors and broadcasts Q query components, then
// issues Q * P FMAs. At 12 x 2 that is 24 accumulators, 2 vector loads and 12 broadcasts per 24
// FMAs, which leaves both FMA ports, not the loads, as the limit. The screening epilogue runs on
// the accumulators in registers: one store and one compare per 16 pairs.
template <int P, int Q>
void PackedTile(const float* q, size_t dim, const float* panels, size_t rows, const float* bias,
                float scale, const float* limits, float* values, size_t values_stride,
                uint16_t* hits, size_t hits_stride) {
  const size_t panel_floats = dim * kPanelRows;
  __m512 acc[Q][P];
#pragma GCC unroll 16
  for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 4
    for (int p = 0; p < P; ++p)
      acc[a][p] = _mm512_setzero_ps();
  }
#pragma GCC unroll 2
  for (size_t d = 0; d < dim; ++d) {
    __m512 x[P];
#pragma GCC unroll 4
    for (int p = 0; p < P; ++p)
      x[p] = _mm512_loadu_ps(panels + p * panel_floats + d * kPanelRows);
#pragma GCC unroll 16
    for (int a = 0; a < Q; ++a) {
      __m512 qv = _mm512_set1_ps(q[a * dim + d]);
      PinToRegister(qv);
#pragma GCC unroll 4
      for (int p = 0; p < P; ++p)
        acc[a][p] = _mm512_fmadd_ps(qv, x[p], acc[a][p]);
    }
  }
  const __m512 s = _mm512_set1_ps(scale);
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p) {
    const size_t real = rows - p * kPanelRows;
    const __mmask16 lanes = real >= kPanelRows ? __mmask16{0xffff} : TailMask(real);
    const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + p * kPanelRows) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int a = 0; a < Q; ++a) {
      __m512 v = _mm512_fnmadd_ps(s, acc[a][p], b);
      _mm512_storeu_ps(values + a * values_stride + p * kPanelRows, v);
      hits[a * hits_stride + p] = static_cast<uint16_t>(
          _mm512_mask_cmp_ps_mask(lanes, v, _mm512_set1_ps(limits[a]), _CMP_NGT_UQ));
    }
  }
}

using PackedTileFn = void (*)(const float* q, size_t dim, const float* panels, size_t rows,
                              const float* bias, float scale, const float* limits, float* values,
                              size_t values_stride, uint16_t* hits, size_t hits_stride);

constexpr int kPackedQueries = 12;

template <int P>
constexpr PackedTileFn kPackedTiles[kPackedQueries] = {
    PackedTile<P, 1>, PackedTile<P, 2>,  PackedTile<P, 3>,  PackedTile<P, 4>,
    PackedTile<P, 5>, PackedTile<P, 6>,  PackedTile<P, 7>,  PackedTile<P, 8>,
    PackedTile<P, 9>, PackedTile<P, 10>, PackedTile<P, 11>, PackedTile<P, 12>};

// Queries outer, panels inner: a group of twelve queries stays in L1 while the packed tile
// streams through from L2 once per group.
void ScreenPackedAvx512(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                        const float* bias, float scale, const float* limits, float* values,
                        size_t values_stride, uint16_t* hits, size_t hits_stride) {
  constexpr size_t kPair = 2 * kPanelRows;
  for (size_t i = 0; i < nq; i += kPackedQueries) {
    const size_t group = nq - i < kPackedQueries ? nq - i : kPackedQueries;
    const float* q = queries + i * dim;
    for (size_t first = 0; first < n; first += kPair) {
      const size_t rows = n - first < kPair ? n - first : kPair;
      PackedTileFn tile =
          rows > kPanelRows ? kPackedTiles<2>[group - 1] : kPackedTiles<1>[group - 1];
      tile(q, dim, packed + first * dim, rows, bias != nullptr ? bias + first : nullptr, scale,
           limits + i, values + i * values_stride + first, values_stride,
           hits + i * hits_stride + first / kPanelRows, hits_stride);
    }
  }
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
    Batch<Op::kDot>, Block<Op::kL2>, Block<Op::kDot>, ScreenPackedAvx512,
};

}  // namespace mosaic::simd::internal
