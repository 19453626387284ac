// The per-instruction-set kernel tables behind distance.h's dispatch. Internal to src/simd.
//
// Each table is defined in its own translation unit (distance_scalar.cc, distance_avx2.cc,
// distance_avx512.cc) compiled with that instruction set's flags; distance.cc picks one at run
// time. Tables are constant-initialized, so they are usable before and during static
// initialization. All kernels are pure functions and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mosaic::simd::internal {

struct KernelTable {
  float (*l2_sqr)(const float* a, const float* b, size_t dim);
  float (*dot)(const float* a, const float* b, size_t dim);
  float (*norm_sqr)(const float* a, size_t dim);
  void (*l2_sqr_batch)(const float* q, const float* base, size_t n, size_t dim, float* out);
  void (*dot_batch)(const float* q, const float* base, size_t n, size_t dim, float* out);
  void (*l2_sqr_block)(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                       float* out, size_t out_stride);
  void (*dot_block)(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                    float* out, size_t out_stride);
  // See ScreenPacked in distance.h; `packed` is in PackRows's layout.
  void (*screen_packed)(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                        const float* bias, float scale, const float* limits, float* values,
                        size_t values_stride, uint16_t* hits, size_t hits_stride);
};

extern const KernelTable kScalarKernels;
extern const KernelTable kAvx2Kernels;
extern const KernelTable kAvx512Kernels;

}  // namespace mosaic::simd::internal
