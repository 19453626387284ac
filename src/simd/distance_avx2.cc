// AVX2+FMA kernels (8 floats a vector); tails use masked loads (vmaskmovps does not fault on
// masked-off lanes), so any dimension, including dim < 8, works without a scalar epilogue.
// Compiled with -mavx2 -mfma; only reached through distance.cc after a CPU check.
//
// Everything here has internal linkage and uses no inline library templates: a function
// instantiated in this file with AVX2 enabled must never be picked by the linker for code that
// runs on other CPUs.
#include <immintrin.h>

#include <cstdint>

#include "simd/distance.h"
#include "simd/distance_kernels.h"

namespace mosaic::simd::internal {

namespace {

enum class Op { kL2, kDot };

constexpr size_t kLanes = 8;

// Loading 8 lanes at kMaskWindow + 8 - r gives r leading all-ones lanes.
alignas(64) constexpr int32_t kMaskWindow[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};

inline __m256i TailMask(size_t remaining) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskWindow + kLanes - remaining));
}

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// Left alone, GCC folds the query load into every FMA that uses it, issuing R loads where one
// would do; the loads, not the FMAs, then limit the tile. An empty asm that "modifies" the value
// forces it into a register once.
inline void PinToRegister(__m256& v) {
  __asm__("" : "+v"(v));
}

template <Op op>
inline __m256 Accumulate(__m256 acc, __m256 q, __m256 x) {
  if constexpr (op == Op::kL2) {
    __m256 d = _mm256_sub_ps(q, x);
    return _mm256_fmadd_ps(d, d, acc);
  } else {
    return _mm256_fmadd_ps(q, x, acc);
  }
}

// Single pair, latency-bound: four independent accumulators keep both FMA ports busy.
template <Op op>
float Pair(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 4 * kLanes <= dim; i += 4 * kLanes) {
    acc0 = Accumulate<op>(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1 = Accumulate<op>(acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc2 = Accumulate<op>(acc2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    acc3 = Accumulate<op>(acc3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
  }
  for (; i + kLanes <= dim; i += kLanes) {
    acc0 = Accumulate<op>(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
  }
  if (i < dim) {
    __m256i m = TailMask(dim - i);
    acc1 = Accumulate<op>(acc1, _mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
  }
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

// Q queries x R rows, one accumulator per pair; see distance_avx512.cc. With 16 ymm registers,
// 4 x 2 leaves room for the two row vectors, a query vector and a difference.
template <Op op, int Q, int R>
inline void Tile(const float* q, const float* x, size_t dim, float* out, size_t out_stride) {
  __m256 acc[Q][R];
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[a][r] = _mm256_setzero_ps();
  }
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    __m256 xv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      xv[r] = _mm256_loadu_ps(x + r * dim + i);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
      __m256 qv = _mm256_loadu_ps(q + a * dim + i);
      PinToRegister(qv);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        acc[a][r] = Accumulate<op>(acc[a][r], qv, xv[r]);
    }
  }
  if (i < dim) {
    __m256i m = TailMask(dim - i);
    __m256 xv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      xv[r] = _mm256_maskload_ps(x + r * dim + i, m);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
      __m256 qv = _mm256_maskload_ps(q + a * dim + i, m);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        acc[a][r] = Accumulate<op>(acc[a][r], qv, xv[r]);
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      out[a * out_stride + r] = HorizontalSum(acc[a][r]);
  }
}

template <Op op>
void Batch(const float* q, const float* base, size_t n, size_t dim, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4)
    Tile<op, 1, 4>(q, base + j * dim, dim, out + j, 0);
  for (; j < n; ++j)
    Tile<op, 1, 1>(q, base + j * dim, dim, out + j, 0);
}

template <Op op>
void Block(const float* queries, size_t nq, const float* base, size_t n, size_t dim, float* out,
           size_t out_stride) {
  size_t i = 0;
  for (; i + 4 <= nq; i += 4) {
    const float* q = queries + i * dim;
    float* o = out + i * out_stride;
    size_t j = 0;
    for (; j + 2 <= n; j += 2)
      Tile<op, 4, 2>(q, base + j * dim, dim, o + j, out_stride);
    if (j < n) Tile<op, 4, 1>(q, base + j * dim, dim, o + j, out_stride);
  }
  for (; i < nq; ++i)
    Batch<op>(queries + i * dim, base, n, dim, out + i * out_stride);
}

// Q queries x one packed panel (two vectors of eight rows), one accumulator per query and half
// panel; see distance_avx512.cc. 6 x 2 accumulators leave the two row vectors and a broadcast
// query component within the 16 ymm registers.
template <int Q>
void PackedTile(const float* q, size_t dim, const float* panel, size_t rows, const float* bias,
                float scale, const float* limits, float* values, size_t values_stride,
                uint16_t* hits, size_t hits_stride) {
  __m256 acc[Q][2];
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) {
    acc[a][0] = _mm256_setzero_ps();
    acc[a][1] = _mm256_setzero_ps();
  }
#pragma GCC unroll 2
  for (size_t d = 0; d < dim; ++d) {
    __m256 x0 = _mm256_loadu_ps(panel + d * kPanelRows);
    __m256 x1 = _mm256_loadu_ps(panel + d * kPanelRows + kLanes);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) {
      __m256 qv = _mm256_broadcast_ss(q + a * dim + d);
      PinToRegister(qv);
      acc[a][0] = _mm256_fmadd_ps(qv, x0, acc[a][0]);
      acc[a][1] = _mm256_fmadd_ps(qv, x1, acc[a][1]);
    }
  }
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 b0 = bias != nullptr ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 b1 = bias != nullptr ? _mm256_loadu_ps(bias + kLanes) : _mm256_setzero_ps();
  const unsigned lanes = rows >= kPanelRows ? 0xffffu : (1u << rows) - 1;
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) {
    __m256 v0 = _mm256_fnmadd_ps(s, acc[a][0], b0);
    __m256 v1 = _mm256_fnmadd_ps(s, acc[a][1], b1);
    _mm256_storeu_ps(values + a * values_stride, v0);
    _mm256_storeu_ps(values + a * values_stride + kLanes, v1);
    const __m256 limit = _mm256_set1_ps(limits[a]);
    unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v0, limit, _CMP_NGT_UQ))) |
                 static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v1, limit, _CMP_NGT_UQ)))
                     << kLanes;
    hits[a * hits_stride] = static_cast<uint16_t>(m & lanes);
  }
}

using PackedTileFn = void (*)(const float* q, size_t dim, const float* panel, size_t rows,
                              const float* bias, float scale, const float* limits, float* values,
                              size_t values_stride, uint16_t* hits, size_t hits_stride);

constexpr int kPackedQueries = 6;

constexpr PackedTileFn kPackedTiles[kPackedQueries] = {PackedTile<1>, PackedTile<2>, PackedTile<3>,
                                                       PackedTile<4>, PackedTile<5>, PackedTile<6>};

void ScreenPackedAvx2(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                      const float* bias, float scale, const float* limits, float* values,
                      size_t values_stride, uint16_t* hits, size_t hits_stride) {
  for (size_t i = 0; i < nq; i += kPackedQueries) {
    const size_t group = nq - i < kPackedQueries ? nq - i : kPackedQueries;
    const float* q = queries + i * dim;
    for (size_t first = 0; first < n; first += kPanelRows) {
      const size_t rows = n - first < kPanelRows ? n - first : kPanelRows;
      kPackedTiles[group - 1](q, dim, packed + first * dim, rows,
                              bias != nullptr ? bias + first : nullptr, scale, limits + i,
                              values + i * values_stride + first, values_stride,
                              hits + i * hits_stride + first / kPanelRows, hits_stride);
    }
  }
}

float L2SqrAvx2(const float* a, const float* b, size_t dim) {
  return Pair<Op::kL2>(a, b, dim);
}
float DotAvx2(const float* a, const float* b, size_t dim) {
  return Pair<Op::kDot>(a, b, dim);
}
float NormSqrAvx2(const float* a, size_t dim) {
  return Pair<Op::kDot>(a, a, dim);
}

}  // namespace

extern const KernelTable kAvx2Kernels = {
    L2SqrAvx2,       DotAvx2,        NormSqrAvx2,     Batch<Op::kL2>,
    Batch<Op::kDot>, Block<Op::kL2>, Block<Op::kDot>, ScreenPackedAvx2,
};

}  // namespace mosaic::simd::internal
