#include "index/quant/sq8_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/coding.h"
#include "index/quant/principal_components.h"
#include "simd/distance.h"
#include "simd/sq8.h"

namespace mosaic::index {

Sq8Codec Sq8Codec::Train(size_t dim, Metric metric, size_t n,
                         const std::function<const float*(size_t)>& rows, bool project) {
  Sq8Codec c;
  c.metric_ = metric;
  c.in_dim_ = static_cast<uint32_t>(dim);
  size_t code_dim = dim;
  if (project && metric != Metric::kInnerProduct && dim >= kMinProjectDim &&
      n >= kMinProjectRows) {
    // At most half the dimensions and 256 bytes, a multiple of 16 (the kernels' step).
    const size_t max_code = std::min<size_t>(dim / 2, 256) / 16 * 16;
    const PrincipalComponents pc = LeadingComponents(dim, n, rows, max_code - 1);
    size_t r = 0;
    double kept = 0;
    while (r < pc.count() && kept < kProjectVariance * pc.total_variance) kept += pc.variance[r++];
    const size_t code = (r + 1 + 15) / 16 * 16;  // the components and the residual's norm
    if (pc.total_variance > 0 && kept >= kProjectVariance * pc.total_variance &&
        code <= max_code && code - 1 <= pc.count()) {
      c.metric_ = Metric::kL2;
      c.mean_ = pc.mean;
      c.basis_.assign(pc.basis.begin(), pc.basis.begin() + (code - 1) * dim);
      code_dim = code;
    }
  }
  std::vector<float> lo(code_dim, std::numeric_limits<float>::infinity());
  std::vector<float> hi(code_dim, -std::numeric_limits<float>::infinity());
  // Projected, the ranges come from a sample (each projection costs code_dim x dim).
  const size_t m = c.projected() ? std::min<size_t>(n, 16384) : n;
  std::vector<float> y(code_dim);
  c.lo_.resize(code_dim);  // Project reads code_size()
  for (size_t i = 0; i < m; ++i) {
    const float* x = rows(m == n ? i : i * n / m);
    if (c.projected()) {
      c.Project(x, y.data(), /*stored=*/true);
      x = y.data();
    }
    for (size_t d = 0; d < code_dim; ++d) {
      lo[d] = std::min(lo[d], x[d]);
      hi[d] = std::max(hi[d], x[d]);
    }
  }
  c.step_.resize(code_dim);
  for (size_t d = 0; d < code_dim; ++d) {
    if (m == 0) lo[d] = hi[d] = 0;
    c.lo_[d] = lo[d];
    // A constant dimension still gets a non-zero step so that Encode never divides by zero.
    c.step_[d] = hi[d] > lo[d] ? (hi[d] - lo[d]) / 255.0f : 1.0f;
  }
  return c;
}

void Sq8Codec::Project(const float* x, float* y, bool stored) const {
  thread_local std::vector<float> centered;
  centered.resize(in_dim_);
  float all = 0;
  for (size_t j = 0; j < in_dim_; ++j) {
    centered[j] = x[j] - mean_[j];
    all += centered[j] * centered[j];
  }
  const size_t r = code_size() - 1;
  float kept = 0;
  for (size_t k = 0; k < r; ++k) {
    y[k] = simd::Dot(basis_.data() + k * in_dim_, centered.data(), in_dim_);
    kept += y[k] * y[k];
  }
  y[r] = stored ? std::sqrt(std::max(0.0f, all - kept)) : 0.0f;
}

void Sq8Codec::Encode(const float* x, uint8_t* code) const {
  thread_local std::vector<float> y;
  if (projected()) {
    y.resize(code_size());
    Project(x, y.data(), /*stored=*/true);
    x = y.data();
  }
  for (size_t d = 0; d < lo_.size(); ++d) {
    float v = simd::RoundNearest((x[d] - lo_[d]) / step_[d]);
    code[d] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));  // out-of-range values saturate
  }
}

void Sq8Codec::Decode(const uint8_t* code, float* x) const {
  for (size_t d = 0; d < lo_.size(); ++d) x[d] = lo_[d] + float(code[d]) * step_[d];
}

Sq8Codec::Query Sq8Codec::Prepare(const float* q, bool stored) const {
  if (!projected()) return PrepareCoded(q);
  std::vector<float> y(code_size());
  Project(q, y.data(), stored);
  return PrepareCoded(y.data());
}

Sq8Codec::Query Sq8Codec::PrepareCoded(const float* q) const {
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
  PutFixed32(&out, projected() ? 2 : 1);  // version: 2 adds the projection
  out.push_back(static_cast<char>(metric_));
  PutFixed32(&out, static_cast<uint32_t>(lo_.size()));
  out.append(reinterpret_cast<const char*>(lo_.data()), lo_.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(step_.data()), step_.size() * sizeof(float));
  if (projected()) {
    PutFixed32(&out, in_dim_);
    out.append(reinterpret_cast<const char*>(mean_.data()), mean_.size() * sizeof(float));
    out.append(reinterpret_cast<const char*>(basis_.data()), basis_.size() * sizeof(float));
  }
  return out;
}

Result<Sq8Codec> Sq8Codec::Deserialize(std::string_view data) {
  Decoder dec(data);
  uint32_t version, dim;
  uint8_t metric;
  std::string_view lo, step, mean, basis;
  auto damaged = [] {
    return Status::Corruption("SQ8 codec parameters are damaged or of an unknown version");
  };
  if (!dec.GetFixed32(&version) || (version != 1 && version != 2) || !dec.GetByte(&metric) ||
      metric > 2 || !dec.GetFixed32(&dim) || !dec.GetBytes(size_t{dim} * 4, &lo) ||
      !dec.GetBytes(size_t{dim} * 4, &step))
    return damaged();
  Sq8Codec c;
  c.metric_ = static_cast<Metric>(metric);
  c.in_dim_ = dim;
  if (version == 2) {
    uint32_t in_dim;
    if (dim < 2 || c.metric_ != Metric::kL2 || !dec.GetFixed32(&in_dim) || in_dim == 0 ||
        !dec.GetBytes(size_t{in_dim} * 4, &mean) ||
        !dec.GetBytes(size_t{dim - 1} * in_dim * 4, &basis))
      return damaged();
    c.in_dim_ = in_dim;
    c.mean_.resize(in_dim);
    c.basis_.resize(size_t{dim - 1} * in_dim);
    std::memcpy(c.mean_.data(), mean.data(), mean.size());
    std::memcpy(c.basis_.data(), basis.data(), basis.size());
    for (float v : c.mean_)
      if (!std::isfinite(v)) return Status::Corruption("SQ8 codec has a non-finite mean");
    for (float v : c.basis_)
      if (!std::isfinite(v)) return Status::Corruption("SQ8 codec has a non-finite component");
  }
  if (!dec.empty()) return damaged();
  c.lo_.resize(dim);
  c.step_.resize(dim);
  std::memcpy(c.lo_.data(), lo.data(), lo.size());
  std::memcpy(c.step_.data(), step.data(), step.size());
  for (float s : c.step_)
    if (!(s > 0) || !std::isfinite(s)) return Status::Corruption("SQ8 codec has a bad step");
  return c;
}

}  // namespace mosaic::index
