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
    float v = simd::RoundNearest((x[d] - lo_[d]) / step_[d]);
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
  if (metric_ == Metric::kL2) {
    for (size_t d = 0; d < dim; ++d) p.a[d] = q[d] - lo_[d];
  } else {
    for (size_t d = 0; d < dim; ++d) p.a[d] = q[d] * step_[d];
  }
  // Four partial sums each: one chain of dependent double additions took as long as the rest of
  // Prepare together.
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, n0 = 0, n1 = 0, n2 = 0, n3 = 0;
  size_t d = 0;
  for (; d + 4 <= dim; d += 4) {
    b0 += double(q[d]) * lo_[d];
    b1 += double(q[d + 1]) * lo_[d + 1];
    b2 += double(q[d + 2]) * lo_[d + 2];
    b3 += double(q[d + 3]) * lo_[d + 3];
    n0 += double(q[d]) * q[d];
    n1 += double(q[d + 1]) * q[d + 1];
    n2 += double(q[d + 2]) * q[d + 2];
    n3 += double(q[d + 3]) * q[d + 3];
  }
  for (; d < dim; ++d) {
    b0 += double(q[d]) * lo_[d];
    n0 += double(q[d]) * q[d];
  }
  p.bias = static_cast<float>((b0 + b1) + (b2 + b3));
  p.q_norm = static_cast<float>((n0 + n1) + (n2 + n3));
  const bool halves = simd::FastDotU8I8() && dim <= kMaxIntegerDim;
  if (halves || simd::FastDotU8I16()) {
    // A codec read from a damaged file may have steps that make a weight infinite or NaN: such a
    // weight counts as 0 in the scale and is clamped or zeroed (simd::QueryWeightsI16).
    p.w.resize(dim);
    p.scale = simd::QueryWeightsI16(q, step_.data(), dim, p.w.data());
    if (halves) {
      p.hi.resize(dim);
      p.lo.resize(dim);
      for (size_t d = 0; d < dim; ++d) {
        const int w = p.w[d];
        const int hi = (w + (w >= 0 ? 64 : -64)) / 128;  // nearest, so lo stays in [-64, 64]
        p.hi[d] = static_cast<int8_t>(hi);
        p.lo[d] = static_cast<int8_t>(w - 128 * hi);
      }
      p.w.clear();
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
