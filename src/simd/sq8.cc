#include "simd/sq8.h"

#include "simd/distance.h"

namespace mosaic::simd {
namespace internal {
float Sq8L2SqrAvx2(const float* q, const float* step, const uint8_t* code, size_t dim);
float Sq8WeightedSumAvx2(const float* w, const uint8_t* code, size_t dim);
float Sq8L2SqrAvx512(const float* q, const float* step, const uint8_t* code, size_t dim);
float Sq8WeightedSumAvx512(const float* w, const uint8_t* code, size_t dim);

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

}  // namespace mosaic::simd
