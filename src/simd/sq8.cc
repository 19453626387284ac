#include "simd/sq8.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "simd/distance.h"

namespace mosaic::simd {
namespace internal {
float Sq8L2SqrAvx2(const float* q, const float* step, const uint8_t* code, size_t dim);
float Sq8WeightedSumAvx2(const float* w, const uint8_t* code, size_t dim);
float Sq8L2SqrAvx512(const float* q, const float* step, const uint8_t* code, size_t dim);
float Sq8WeightedSumAvx512(const float* w, const uint8_t* code, size_t dim);
float Sq8PairL2SqrAvx2(const uint8_t* a, const uint8_t* b, const float* step, size_t dim);
float Sq8PairDotAvx2(const uint8_t* a, const uint8_t* b, const float* lo, const float* step,
                     size_t dim);
float Sq8PairL2SqrAvx512(const uint8_t* a, const uint8_t* b, const float* step, size_t dim);
float Sq8PairDotAvx512(const uint8_t* a, const uint8_t* b, const float* lo, const float* step,
                       size_t dim);
int32_t DotU8I8Vnni(const uint8_t* code, const int8_t* w, size_t dim);
int64_t DotU8I15Vnni(const uint8_t* code, const int8_t* hi, const int8_t* lo, size_t dim);
int64_t DotU8I16Avx2(const uint8_t* code, const int16_t* w, size_t dim);
float QueryWeightsI16Avx2(const float* q, const float* step, size_t dim, int16_t* w);

int32_t DotU8I8Scalar(const uint8_t* code, const int8_t* w, size_t dim) {
  int32_t acc = 0;
  for (size_t d = 0; d < dim; ++d) acc += int32_t{code[d]} * int32_t{w[d]};
  return acc;
}

float Sq8L2SqrScalar(const float* q, const float* step, const uint8_t* code, size_t dim) {
  float acc = 0;
  for (size_t d = 0; d < dim; ++d) {
    float t = q[d] - float(code[d]) * step[d];
    acc += t * t;
  }
  return acc;
}

float Sq8WeightedSumScalar(const float* w, const uint8_t* code, size_t dim) {
  float acc = 0;
  for (size_t d = 0; d < dim; ++d) acc += w[d] * float(code[d]);
  return acc;
}

float Sq8PairL2SqrScalar(const uint8_t* a, const uint8_t* b, const float* step, size_t dim) {
  float acc = 0;
  for (size_t d = 0; d < dim; ++d) {
    float t = (float(a[d]) - float(b[d])) * step[d];
    acc += t * t;
  }
  return acc;
}

float Sq8PairDotScalar(const uint8_t* a, const uint8_t* b, const float* lo, const float* step,
                       size_t dim) {
  float acc = 0;
  for (size_t d = 0; d < dim; ++d) {
    acc += (lo[d] + float(a[d]) * step[d]) * (lo[d] + float(b[d]) * step[d]);
  }
  return acc;
}

int64_t DotU8I15Scalar(const uint8_t* code, const int8_t* hi, const int8_t* lo, size_t dim) {
  int64_t acc = 0;
  for (size_t d = 0; d < dim; ++d) acc += int64_t{code[d]} * (128 * int64_t{hi[d]} + lo[d]);
  return acc;
}

int64_t DotU8I16Scalar(const uint8_t* code, const int16_t* w, size_t dim) {
  int64_t acc = 0;
  for (size_t d = 0; d < dim; ++d) acc += int64_t{code[d]} * w[d];
  return acc;
}

// The two passes of QueryWeightsI16 over n values, shared by the scalar form and the SIMD tails.
float MaxFiniteAbsProduct(const float* q, const float* step, size_t n) {
  float top = 0;
  for (size_t d = 0; d < n; ++d) {
    const float t = std::abs(q[d] * step[d]);
    if (t < std::numeric_limits<float>::infinity()) top = std::max(top, t);
  }
  return top;
}

void WeightsI16(const float* q, const float* step, size_t n, float scale, int16_t* w) {
  constexpr float kTop = kMaxWeightI16;
  for (size_t d = 0; d < n; ++d) {
    float x = q[d] * step[d] / scale;
    if (std::isnan(x)) x = 0;
    // Clamped before rounding: the bounds are integers, so the order does not matter.
    w[d] = static_cast<int16_t>(RoundNearest(std::clamp(x, -kTop, kTop)));
  }
}

float QueryWeightsI16Scalar(const float* q, const float* step, size_t dim, int16_t* w) {
  const float top = MaxFiniteAbsProduct(q, step, dim);
  const float scale = top > 0 ? top / kMaxWeightI16 : 1.0f;
  WeightsI16(q, step, dim, scale, w);
  return scale;
}
}  // namespace internal

float Sq8L2Sqr(const float* q, const float* step, const uint8_t* code, size_t dim) {
  switch (ActiveLevel()) {
    case Level::kAvx512: return internal::Sq8L2SqrAvx512(q, step, code, dim);
    case Level::kAvx2: return internal::Sq8L2SqrAvx2(q, step, code, dim);
    default: return internal::Sq8L2SqrScalar(q, step, code, dim);
  }
}

float Sq8WeightedSum(const float* w, const uint8_t* code, size_t dim) {
  switch (ActiveLevel()) {
    case Level::kAvx512: return internal::Sq8WeightedSumAvx512(w, code, dim);
    case Level::kAvx2: return internal::Sq8WeightedSumAvx2(w, code, dim);
    default: return internal::Sq8WeightedSumScalar(w, code, dim);
  }
}

float Sq8PairL2Sqr(const uint8_t* a, const uint8_t* b, const float* step, size_t dim) {
  switch (ActiveLevel()) {
    case Level::kAvx512: return internal::Sq8PairL2SqrAvx512(a, b, step, dim);
    case Level::kAvx2: return internal::Sq8PairL2SqrAvx2(a, b, step, dim);
    default: return internal::Sq8PairL2SqrScalar(a, b, step, dim);
  }
}

float Sq8PairDot(const uint8_t* a, const uint8_t* b, const float* offset, const float* step,
                 size_t dim) {
  switch (ActiveLevel()) {
    case Level::kAvx512: return internal::Sq8PairDotAvx512(a, b, offset, step, dim);
    case Level::kAvx2: return internal::Sq8PairDotAvx2(a, b, offset, step, dim);
    default: return internal::Sq8PairDotScalar(a, b, offset, step, dim);
  }
}

bool FastDotU8I8() {
  static const bool vnni = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return vnni && ActiveLevel() == Level::kAvx512;
}

int32_t DotU8I8(const uint8_t* code, const int8_t* w, size_t dim) {
  return FastDotU8I8() ? internal::DotU8I8Vnni(code, w, dim)
                       : internal::DotU8I8Scalar(code, w, dim);
}

int64_t DotU8I15(const uint8_t* code, const int8_t* hi, const int8_t* lo, size_t dim) {
  return FastDotU8I8() ? internal::DotU8I15Vnni(code, hi, lo, dim)
                       : internal::DotU8I15Scalar(code, hi, lo, dim);
}

bool FastDotU8I16() { return ActiveLevel() >= Level::kAvx2; }

float QueryWeightsI16(const float* q, const float* step, size_t dim, int16_t* w) {
  return ActiveLevel() >= Level::kAvx2 ? internal::QueryWeightsI16Avx2(q, step, dim, w)
                                       : internal::QueryWeightsI16Scalar(q, step, dim, w);
}

int64_t DotU8I16(const uint8_t* code, const int16_t* w, size_t dim) {
  return ActiveLevel() >= Level::kAvx2 ? internal::DotU8I16Avx2(code, w, dim)
                                       : internal::DotU8I16Scalar(code, w, dim);
}

}  // namespace mosaic::simd
