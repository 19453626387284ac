#include "query/vector_math.h"

#include <cmath>

namespace mosaic::query {

std::vector<float> Normalized(std::vector<float> v) {
  double n = 0;
  for (float x : v)
    n += static_cast<double>(x) * x;
  if (!(n > 0)) return std::vector<float>(v.size(), 0.0f);
  n = std::sqrt(n);
  for (float& x : v)
    x = static_cast<float>(x / n);
  return v;
}

std::string VectorNames(const CollectionSchema& schema) {
  std::string names;
  for (const auto& v : schema.vectors)
    names += (names.empty() ? "" : ", ") + v.name;
  return names;
}

}  // namespace mosaic::query
