// The leading principal components of a set of vectors, for codes that keep fewer dimensions
// (Sq8Codec's projection). Covariance of a sample, then subspace iteration (power iteration on
// a block of vectors, re-orthonormalized by Gram-Schmidt each round): no eigen-solver library,
// and only the components asked for are computed.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace mosaic::index {

struct PrincipalComponents {
  std::vector<float> mean;       // dim
  std::vector<float> basis;      // count x dim, orthonormal rows, by decreasing variance
  std::vector<double> variance;  // per row of basis: the sample's variance along it
  double total_variance = 0;     // the sample's variance summed over every dimension
  size_t count() const { return variance.size(); }
};

// Up to `max_components` components of the `n` vectors `rows(i)` (of `dim` floats), estimated
// on at most `max_sample` of them, taken evenly.
PrincipalComponents LeadingComponents(size_t dim, size_t n,
                                      const std::function<const float*(size_t)>& rows,
                                      size_t max_components, size_t max_sample = 8192);

}  // namespace mosaic::index
