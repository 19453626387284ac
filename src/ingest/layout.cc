#include "ingest/layout.h"

#include <cmath>

namespace mosaic::ingest {

const std::vector<std::pair<std::string, std::string>>& VectorRoles() {
  static const std::vector<std::pair<std::string, std::string>> v = {
      {"clip", "clip"}, {"visual", "visual"}, {"faces", "face"}};
  return v;
}

std::vector<float> PoolVectors(const std::vector<const std::vector<float>*>& vectors,
                               const std::vector<double>& weights) {
  std::vector<double> acc;
  for (size_t i = 0; i < vectors.size(); ++i) {
    const std::vector<float>* v = vectors[i];
    if (v == nullptr) continue;
    double norm = 0;
    bool finite = true;
    for (float x : *v) {
      finite = finite && std::isfinite(x);
      norm += static_cast<double>(x) * x;
    }
    if (!finite || !(norm > 0)) continue;
    if (acc.empty()) acc.assign(v->size(), 0.0);
    if (v->size() != acc.size()) continue;
    for (size_t d = 0; d < acc.size(); ++d)
      acc[d] += weights[i] * (*v)[d];
  }
  double n = 0;
  for (double x : acc)
    n += x * x;
  if (!(n > 0)) return {};
  n = std::sqrt(n);
  std::vector<float> out(acc.size());
  for (size_t d = 0; d < acc.size(); ++d)
    out[d] = static_cast<float>(acc[d] / n);
  return out;
}

}  // namespace mosaic::ingest
