// Distance kernels with run-time instruction-set dispatch: AVX-512, AVX2+FMA, or scalar.
// Each instruction set lives in its own translation unit compiled with its own flags; the library
// is never built with -march=native. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mosaic::simd {

enum class Level : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// The best level this CPU supports, capped by the environment variable MOSAIC_SIMD
// (scalar|avx2|avx512) when set.
Level ActiveLevel();
const char* LevelName(Level level);
// Forces a level, lowered to what the CPU supports (tests compare every level against scalar).
// Not thread-safe with searches.
void SetLevelForTesting(Level level);

float L2Sqr(const float* a, const float* b, size_t dim);
float Dot(const float* a, const float* b, size_t dim);
float NormSqr(const float* a, size_t dim);

// One query against n consecutive rows of `dim` floats: out[i] = f(q, base + i * dim).
void L2SqrBatch(const float* q, const float* base, size_t n, size_t dim, float* out);
void DotBatch(const float* q, const float* base, size_t n, size_t dim, float* out);

// A tile of nq queries (row-major, `dim` floats each) against n consecutive rows:
// out[i * out_stride + j] = f(queries + i * dim, base + j * dim). Register-blocked over several
// queries and rows at once, so each row is loaded once per group of queries; this is the kernel
// of multi-query exact search. Every (query, row) value is bit-identical to the Batch functions
// at the same level, whatever nq and n are, so results do not depend on how a scan is tiled.
void L2SqrBlock(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                float* out, size_t out_stride);
void DotBlock(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
              float* out, size_t out_stride);

// ---- Packed rows: the GEMM-style kernel of large multi-query scans ----
//
// PackRows lays n rows (row-major, `dim` floats each) out dimension-major in panels of
// kPanelRows rows: packed[(p * dim + d) * kPanelRows + r] is component d of row p * kPanelRows + r,
// and the rows past n in the last panel are zero. One vector load then fetches one component of
// a whole panel, so a kernel can keep a block of queries x rows in registers and spend one FMA per
// component per pair, with no horizontal sums. The layout is the same at every level.
constexpr size_t kPanelRows = 16;
size_t PackedFloats(size_t n, size_t dim);
void PackRows(const float* rows, size_t n, size_t dim, float* packed);

// Screens nq queries (row-major, `dim` floats each) against n packed rows. For each pair,
//   value = bias[j] - scale * dot(query i, row j)         (bias = nullptr counts as zeros)
// is written to values[i * values_stride + j] for j < n rounded up to kPanelRows, and bit j % 16
// of hits[i * hits_stride + j / 16] is set when j < n and value is not greater than limits[i]
// (a NaN value counts as a hit, so callers re-check it exactly). `bias` must hold n rounded up
// to kPanelRows floats. The dot products are summed in a different order from Dot and differ
// from it by rounding only: within dim * 2^-24 * sum |q_d x_d| of the exact value, at every
// level.
void ScreenPacked(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                  const float* bias, float scale, const float* limits, float* values,
                  size_t values_stride, uint16_t* hits, size_t hits_stride);

}  // namespace mosaic::simd
