#include "simd/distance.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "simd/distance_kernels.h"

namespace mosaic::simd {

namespace {

using internal::KernelTable;

// The AVX-512 translation unit is compiled with F, BW, DQ and VL, so all four must be present.
Level DetectCpuLevel() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return Level::kScalar;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return Level::kAvx512;
  }
  return Level::kAvx2;
}

Level CpuLevel() {
  static const Level level = DetectCpuLevel();
  return level;
}

// MOSAIC_SIMD can only lower the level: asking for an instruction set the CPU lacks would crash.
// An unrecognized value is ignored rather than failing every distance call.
Level EnvCappedLevel() {
  Level level = CpuLevel();
  const char* env = std::getenv("MOSAIC_SIMD");
  if (env == nullptr) return level;
  Level cap = level;
  if (std::strcmp(env, "scalar") == 0) cap = Level::kScalar;
  if (std::strcmp(env, "avx2") == 0) cap = Level::kAvx2;
  if (std::strcmp(env, "avx512") == 0) cap = Level::kAvx512;
  return cap < level ? cap : level;
}

const KernelTable* TableFor(Level level) {
  switch (level) {
    case Level::kAvx512:
      return &internal::kAvx512Kernels;
    case Level::kAvx2:
      return &internal::kAvx2Kernels;
    case Level::kScalar:
      break;
  }
  return &internal::kScalarKernels;
}

std::atomic<const KernelTable*> g_table{nullptr};
std::atomic<Level> g_level{Level::kScalar};

void Install(Level level) {
  g_level.store(level, std::memory_order_relaxed);
  g_table.store(TableFor(level), std::memory_order_release);
}

// Resolved on first use rather than during static initialization, so kernels called from other
// translation units' static initializers still dispatch correctly. Racing first calls all
// install the same table.
const KernelTable* Table() {
  const KernelTable* table = g_table.load(std::memory_order_acquire);
  if (table == nullptr) [[unlikely]] {
    Install(EnvCappedLevel());
    table = g_table.load(std::memory_order_acquire);
  }
  return table;
}

}  // namespace

Level ActiveLevel() {
  Table();
  return g_level.load(std::memory_order_relaxed);
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kScalar:
      return "scalar";
    case Level::kAvx2:
      return "avx2";
    case Level::kAvx512:
      return "avx512";
  }
  return "unknown";
}

void SetLevelForTesting(Level level) {
  Install(level < CpuLevel() ? level : CpuLevel());
}

float L2Sqr(const float* a, const float* b, size_t dim) {
  return Table()->l2_sqr(a, b, dim);
}

float Dot(const float* a, const float* b, size_t dim) {
  return Table()->dot(a, b, dim);
}

float NormSqr(const float* a, size_t dim) {
  return Table()->norm_sqr(a, dim);
}

void L2SqrBatch(const float* q, const float* base, size_t n, size_t dim, float* out) {
  Table()->l2_sqr_batch(q, base, n, dim, out);
}

void DotBatch(const float* q, const float* base, size_t n, size_t dim, float* out) {
  Table()->dot_batch(q, base, n, dim, out);
}

void L2SqrBlock(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                float* out, size_t out_stride) {
  Table()->l2_sqr_block(queries, nq, base, n, dim, out, out_stride);
}

void DotBlock(const float* queries, size_t nq, const float* base, size_t n, size_t dim, float* out,
              size_t out_stride) {
  Table()->dot_block(queries, nq, base, n, dim, out, out_stride);
}

size_t PackedFloats(size_t n, size_t dim) {
  return (n + kPanelRows - 1) / kPanelRows * kPanelRows * dim;
}

// A plain transpose, not dispatched: it touches each component once per tile while the kernel
// touches it once per query, so its speed hardly matters next to ScreenPacked's.
void PackRows(const float* rows, size_t n, size_t dim, float* packed) {
  for (size_t first = 0; first < n; first += kPanelRows) {
    size_t count = n - first < kPanelRows ? n - first : kPanelRows;
    float* panel = packed + first * dim;
    for (size_t r = 0; r < count; ++r) {
      const float* row = rows + (first + r) * dim;
      for (size_t d = 0; d < dim; ++d)
        panel[d * kPanelRows + r] = row[d];
    }
    for (size_t r = count; r < kPanelRows; ++r) {
      for (size_t d = 0; d < dim; ++d)
        panel[d * kPanelRows + r] = 0.0f;
    }
  }
}

void ScreenPacked(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                  const float* bias, float scale, const float* limits, float* values,
                  size_t values_stride, uint16_t* hits, size_t hits_stride) {
  Table()->screen_packed(queries, nq, dim, packed, n, bias, scale, limits, values, values_stride,
                         hits, hits_stride);
}

}  // namespace mosaic::simd
