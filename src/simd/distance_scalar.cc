// Portable kernels: the fallback on CPUs without AVX2+FMA and the reference the SIMD levels are
// tested against.
#include "simd/distance.h"
#include "simd/distance_kernels.h"

namespace mosaic::simd::internal {

namespace {

// Four partial sums break the loop-carried dependency; without -ffast-math the compiler may not
// reassociate a single sum itself.
float L2SqrScalar(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
    float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; ++i) {
    float d = a[i] - b[i];
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

float DotScalar(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float NormSqrScalar(const float* a, size_t dim) {
  return DotScalar(a, a, dim);
}

void L2SqrBatchScalar(const float* q, const float* base, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = L2SqrScalar(q, base + i * dim, dim);
}

void DotBatchScalar(const float* q, const float* base, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = DotScalar(q, base + i * dim, dim);
}

void L2SqrBlockScalar(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                      float* out, size_t out_stride) {
  for (size_t i = 0; i < nq; ++i)
    L2SqrBatchScalar(queries + i * dim, base, n, dim, out + i * out_stride);
}

void DotBlockScalar(const float* queries, size_t nq, const float* base, size_t n, size_t dim,
                    float* out, size_t out_stride) {
  for (size_t i = 0; i < nq; ++i)
    DotBatchScalar(queries + i * dim, base, n, dim, out + i * out_stride);
}

// One panel's sixteen sums at a time, each accumulated in component order.
void ScreenPackedScalar(const float* queries, size_t nq, size_t dim, const float* packed, size_t n,
                        const float* bias, float scale, const float* limits, float* values,
                        size_t values_stride, uint16_t* hits, size_t hits_stride) {
  for (size_t i = 0; i < nq; ++i) {
    const float* q = queries + i * dim;
    for (size_t first = 0; first < n; first += kPanelRows) {
      const float* panel = packed + first * dim;
      float sums[kPanelRows] = {};
      for (size_t d = 0; d < dim; ++d) {
        for (size_t r = 0; r < kPanelRows; ++r)
          sums[r] += q[d] * panel[d * kPanelRows + r];
      }
      uint16_t mask = 0;
      for (size_t r = 0; r < kPanelRows; ++r) {
        float value = (bias != nullptr ? bias[first + r] : 0.0f) - scale * sums[r];
        values[i * values_stride + first + r] = value;
        if (first + r < n && !(value > limits[i])) mask |= static_cast<uint16_t>(1u << r);
      }
      hits[i * hits_stride + first / kPanelRows] = mask;
    }
  }
}

}  // namespace

extern const KernelTable kScalarKernels = {
    L2SqrScalar,    DotScalar,        NormSqrScalar,  L2SqrBatchScalar,
    DotBatchScalar, L2SqrBlockScalar, DotBlockScalar, ScreenPackedScalar,
};

}  // namespace mosaic::simd::internal
