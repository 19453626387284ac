#include "index/quant/sq8_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/coding.h"
#include "simd/sq8.h"

namespace mosaic::index {

Sq8Codec Sq8Codec::Train(size_t dim, Metric metric, size_t n,
                         const std::function<const float*(size_t)>& rows) {
  Sq8Codec c;
  c.metric_ = metric;
  std::vector<float> lo(dim, std::numeric_limits<float>::infinity());
  std::vector<float> hi(dim, -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < n; ++i) {
    const float* x = rows(i);
    for (size_t d = 0; d < dim; ++d) {
      lo[d] = std::min(lo[d], x[d]);
      hi[d] = std::max(hi[d], x[d]);
    }
  }
  c.lo_.resize(dim);
  c.step_.resize(dim);
  for (size_t d = 0; d < dim; ++d) {
    if (n == 0) lo[d] = hi[d] = 0;
    c.lo_[d] = lo[d];
    // A constant dimension still gets a non-zero step so that Encode never divides by zero.
    c.step_[d] = hi[d] > lo[d] ? (hi[d] - lo[d]) / 255.0f : 1.0f;
  }
  return c;
}

void Sq8Codec::Encode(const float* x, uint8_t* code) const {
  for (size_t d = 0; d < lo_.size(); ++d) {
    float v = std::nearbyint((x[d] - lo_[d]) / step_[d]);
    code[d] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));  // out-of-range values saturate
  }
}

void Sq8Codec::Decode(const uint8_t* code, float* x) const {
  for (size_t d = 0; d < lo_.size(); ++d) x[d] = lo_[d] + float(code[d]) * step_[d];
}

Sq8Codec::Query Sq8Codec::Prepare(const float* q) const {
  Query p;
  const size_t dim = lo_.size();
  p.a.resize(dim);
  double bias = 0, norm = 0;
  for (size_t d = 0; d < dim; ++d) {
    p.a[d] = metric_ == Metric::kL2 ? q[d] - lo_[d] : q[d] * step_[d];
    bias += double(q[d]) * lo_[d];
    norm += double(q[d]) * q[d];
  }
  p.bias = static_cast<float>(bias);
  p.q_norm = static_cast<float>(norm);
  const bool halves = simd::FastDotU8I8() && dim <= kMaxIntegerDim;
  if (halves || simd::FastDotU8I16()) {
    constexpr float kTop = 127 * 128;
    float top = 0;
    // A codec read from a damaged file may have steps that make a weight infinite or NaN: such a
    // weight counts as 0 (never converted to int, which would be undefined).
    for (size_t d = 0; d < dim; ++d) {
      const float x = std::abs(q[d] * step_[d]);
      if (std::isfinite(x)) top = std::max(top, x);
    }
    p.scale = top > 0 ? top / kTop : 1.0f;
    if (halves) {
      p.hi.resize(dim);
      p.lo.resize(dim);
    } else {
      p.w.resize(dim);
    }
    for (size_t d = 0; d < dim; ++d) {
      float x = std::nearbyint(q[d] * step_[d] / p.scale);
      if (std::isnan(x)) x = 0;
      const int w = static_cast<int>(std::clamp(x, -kTop, kTop));
      if (!halves) {
        p.w[d] = static_cast<int16_t>(w);
        continue;
      }
      const int hi = (w + (w >= 0 ? 64 : -64)) / 128;  // nearest, so lo stays in [-64, 64]
      p.hi[d] = static_cast<int8_t>(hi);
      p.lo[d] = static_cast<int8_t>(w - 128 * hi);
    }
  }
  return p;
}

float Sq8Codec::CodeNorm(const uint8_t* code) const {
  double norm = 0;
  for (size_t d = 0; d < lo_.size(); ++d) {
    const double x = lo_[d] + double(code[d]) * step_[d];
    norm += x * x;
  }
  return static_cast<float>(norm);
}

float Sq8Codec::Distance(const Query& q, const uint8_t* code) const {
  if (metric_ == Metric::kL2) return simd::Sq8L2Sqr(q.a.data(), step_.data(), code, lo_.size());
  return -(q.bias + simd::Sq8WeightedSum(q.a.data(), code, lo_.size()));
}

float Sq8Codec::PairDistance(const uint8_t* a, const uint8_t* b) const {
  if (metric_ == Metric::kL2) return simd::Sq8PairL2Sqr(a, b, step_.data(), lo_.size());
  return -simd::Sq8PairDot(a, b, lo_.data(), step_.data(), lo_.size());
}

std::string Sq8Codec::Serialize() const {
  std::string out;
  PutFixed32(&out, 1);  // version
  out.push_back(static_cast<char>(metric_));
  PutFixed32(&out, static_cast<uint32_t>(lo_.size()));
  out.append(reinterpret_cast<const char*>(lo_.data()), lo_.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(step_.data()), step_.size() * sizeof(float));
  return out;
}

Result<Sq8Codec> Sq8Codec::Deserialize(std::string_view data) {
  Decoder dec(data);
  uint32_t version, dim;
  uint8_t metric;
  std::string_view lo, step;
  if (!dec.GetFixed32(&version) || version != 1 || !dec.GetByte(&metric) || metric > 2 ||
      !dec.GetFixed32(&dim) || !dec.GetBytes(size_t{dim} * 4, &lo) ||
      !dec.GetBytes(size_t{dim} * 4, &step) || !dec.empty())
    return Status::Corruption("SQ8 codec parameters are damaged or of an unknown version");
  Sq8Codec c;
  c.metric_ = static_cast<Metric>(metric);
  c.lo_.resize(dim);
  c.step_.resize(dim);
  std::memcpy(c.lo_.data(), lo.data(), lo.size());
  std::memcpy(c.step_.data(), step.data(), step.size());
  for (float s : c.step_)
    if (!(s > 0) || !std::isfinite(s)) return Status::Corruption("SQ8 codec has a bad step");
  return c;
}

}  // namespace mosaic::index
