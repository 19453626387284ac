// Sq8Codec: 8-bit scalar quantization with a per-dimension range (SQ8). Each dimension d maps
// [lo[d], hi[d]] linearly onto the codes 0..255, so a vector takes dim bytes instead of 4 * dim.
// Distances are asymmetric (float query against codes); callers re-score the best candidates
// with the f32 vectors to recover exact ranking. Immutable after Train/Load; thread-safe to use.
//
// Projected codes. When trained with `project` on l2 or cosine vectors whose few leading
// principal components hold most of their variance (learned embeddings often do), the codec
// codes those components instead of the dimensions, plus one coordinate for the norm of what
// they leave out, and measures squared L2 between them (for cosine's unit vectors that ranks as
// the dot product does). A code is then code_size() bytes, far fewer than dim: a graph walk
// reads a fraction of the bytes per hop, and its re-scoring with f32 repairs the order.
// Serialized form: docs/quantization_format.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"
#include "mosaic/types.h"
#include "simd/sq8.h"

namespace mosaic::index {

class Sq8Codec {
 public:
  // A query prepared once for many code distances.
  struct Query {
    std::vector<float> a;  // l2: q - lo; dot: q * step
    float bias = 0;        // sum_d q[d] * lo[d]
    // The integer form: the weights q * step rounded to 15-bit integers w (|w| <= 16256), so
    // that q . decode(code) ~= bias + scale * sum_d w[d] * code[d]; for l2 add |q|^2 and the
    // code's own norm (CodeNorm). 8-bit weights cost recall on learned embeddings, whose few
    // large dimensions set the scale. Held as two int8 halves w = 128 * hi + lo for VNNI
    // (simd::FastDotU8I8), else as int16 in `w` for AVX2 (simd::FastDotU8I16); the sums are
    // the same integers either way.
    std::vector<int8_t> hi, lo;
    std::vector<int16_t> w;
    float scale = 0;
    float q_norm = 0;
  };

  Sq8Codec() = default;
  // Learns the per-dimension ranges from `n` vectors (rows(i) returns vector i). With
  // `project`, l2 and cosine vectors of at least kMinProjectDim dimensions, n >= kMinProjectRows,
  // are coded in the fewest principal components that keep kProjectVariance of their variance,
  // when those make a code of at most half the dimensions (else the codes are per dimension).
  static Sq8Codec Train(size_t dim, Metric metric, size_t n,
                        const std::function<const float*(size_t)>& rows, bool project = false);

  // The dimension of the vectors coded, and the bytes of one code (dim unless projected).
  size_t dim() const { return in_dim_; }
  size_t code_size() const { return lo_.size(); }
  bool projected() const { return !basis_.empty(); }
  // The metric code distances are measured in: squared L2 when projected, else the vectors'.
  Metric code_metric() const { return metric_; }
  void Encode(const float* x, uint8_t* code) const;
  // Projected codes decode to their code_size() coordinates, not to a vector of dim.
  void Decode(const uint8_t* code, float* x) const;

  // `stored` when q is a vector the index holds (an insert measuring itself against the codes):
  // projected, it then keeps the norm of what the components leave out, as its code does; a
  // query's is left at 0, so each code's own residual counts in full.
  Query Prepare(const float* q, bool stored = false) const;
  // The Neighbor convention: squared L2 for kL2, minus the dot product otherwise.
  float Distance(const Query& q, const uint8_t* code) const;
  // Between two codes (symmetric: both sides carry rounding), in the Neighbor convention.
  float PairDistance(const uint8_t* a, const uint8_t* b) const;
  // |decode(code)|^2: what FastDistance needs for l2, kept per code by the caller.
  float CodeNorm(const uint8_t* code) const;
  // Distance through the integer form when the query has one (two VNNI instructions per 64
  // dimensions, or one AVX2 vpmaddwd per 16; the query's rounding adds a small error that
  // re-scoring removes), else Distance.
  float FastDistance(const Query& q, const uint8_t* code, float code_norm) const {
    int64_t sum;
    if (!q.hi.empty()) {
      sum = simd::DotU8I15(code, q.hi.data(), q.lo.data(), q.hi.size());
    } else if (!q.w.empty()) {
      sum = simd::DotU8I16(code, q.w.data(), q.w.size());
    } else {
      return Distance(q, code);
    }
    const float dot = q.bias + q.scale * static_cast<float>(sum);
    return metric_ == Metric::kL2 ? q.q_norm + code_norm - 2 * dot : -dot;
  }

  std::string Serialize() const;
  static Result<Sq8Codec> Deserialize(std::string_view data);
  // Bytes of the parameters held (ranges, and the projection's mean and components).
  size_t MemoryBytes() const {
    return (lo_.size() + step_.size() + mean_.size() + basis_.size()) * sizeof(float);
  }

  // The integer form's int32 sum cannot overflow up to here (255 * 127 * dim < 2^31).
  static constexpr size_t kMaxIntegerDim = 66000;
  // Projection: tuned on development queries (docs/benchmarks.md, "Walk codes in principal
  // components").
  static constexpr size_t kMinProjectDim = 256;
  static constexpr size_t kMinProjectRows = 1000;
  static constexpr double kProjectVariance = 0.95;

 private:
  // y (code_size() floats) = the components of x - mean, then the residual's norm (stored) or 0.
  void Project(const float* x, float* y, bool stored) const;
  Query PrepareCoded(const float* y) const;

  Metric metric_ = Metric::kL2;
  uint32_t in_dim_ = 0;
  std::vector<float> lo_, step_;
  std::vector<float> mean_;   // projected: in_dim_
  std::vector<float> basis_;  // projected: (code_size() - 1) x in_dim_, orthonormal rows
};

}  // namespace mosaic::index
