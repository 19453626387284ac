// Sq8Codec: 8-bit scalar quantization with a per-dimension range (SQ8). Each dimension d maps
// [lo[d], hi[d]] linearly onto the codes 0..255, so a vector takes dim bytes instead of 4 * dim.
// Distances are asymmetric (float query against codes); callers re-score the best candidates
// with the f32 vectors to recover exact ranking. Immutable after Train/Load; thread-safe to use.
// Serialized form: docs/quantization_format.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::index {

class Sq8Codec {
 public:
  // A query prepared once for many code distances.
  struct Query {
    std::vector<float> a;  // l2: q - lo; dot: q * step
    float bias = 0;        // dot: sum_d q[d] * lo[d]
  };

  Sq8Codec() = default;
  // Learns the per-dimension ranges from `n` vectors (rows(i) returns vector i).
  static Sq8Codec Train(size_t dim, Metric metric, size_t n,
                        const std::function<const float*(size_t)>& rows);

  size_t dim() const { return lo_.size(); }
  size_t code_size() const { return lo_.size(); }
  void Encode(const float* x, uint8_t* code) const;
  void Decode(const uint8_t* code, float* x) const;

  Query Prepare(const float* q) const;
  // The Neighbor convention: squared L2 for kL2, minus the dot product otherwise.
  float Distance(const Query& q, const uint8_t* code) const;

  std::string Serialize() const;
  static Result<Sq8Codec> Deserialize(std::string_view data);

 private:
  Metric metric_ = Metric::kL2;
  std::vector<float> lo_, step_;
};

}  // namespace mosaic::index
