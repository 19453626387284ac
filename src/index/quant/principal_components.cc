#include "index/quant/principal_components.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "simd/distance.h"

namespace mosaic::index {
namespace {

// Rounds of subspace iteration. Each multiplies the block by the covariance; the components
// whose variance stands apart from the next converge first, and the span of the leading ones,
// which is what a projection keeps, settles within a few rounds on the data measured.
constexpr int kRounds = 16;

// Makes the rows of `q` (count x dim) orthonormal, in order (modified Gram-Schmidt, run twice
// so that float rounding does not leave them leaning on each other). Returns how many leading
// rows are independent: a row that vanishes ends the basis there.
size_t Orthonormalize(std::vector<float>* q, size_t count, size_t dim) {
  for (size_t k = 0; k < count; ++k) {
    float* v = q->data() + k * dim;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t p = 0; p < k; ++p) {
        const float* u = q->data() + p * dim;
        const float c = simd::Dot(v, u, dim);
        for (size_t j = 0; j < dim; ++j) v[j] -= c * u[j];
      }
    }
    const float norm = std::sqrt(simd::Dot(v, v, dim));
    if (!(norm > 1e-6f)) return k;
    for (size_t j = 0; j < dim; ++j) v[j] /= norm;
  }
  return count;
}

}  // namespace

PrincipalComponents LeadingComponents(size_t dim, size_t n,
                                      const std::function<const float*(size_t)>& rows,
                                      size_t max_components, size_t max_sample) {
  PrincipalComponents pc;
  pc.mean.assign(dim, 0.0f);
  const size_t s = std::min(n, max_sample);
  if (s < 2 || dim == 0) return pc;
  // The sample, centered and transposed (dim x s), so that each covariance entry is one dot
  // product of two contiguous arrays.
  std::vector<double> mean(dim, 0.0);
  auto sample_row = [&](size_t i) { return rows(i * n / s); };
  for (size_t i = 0; i < s; ++i) {
    const float* x = sample_row(i);
    for (size_t j = 0; j < dim; ++j) mean[j] += x[j];
  }
  for (size_t j = 0; j < dim; ++j) pc.mean[j] = static_cast<float>(mean[j] / s);
  std::vector<float> xt(dim * s);
  for (size_t i = 0; i < s; ++i) {
    const float* x = sample_row(i);
    for (size_t j = 0; j < dim; ++j) xt[j * s + i] = x[j] - pc.mean[j];
  }
  // Covariance, upper triangle by tiles of 16 dimensions (their 16 rows of the sample stay in
  // cache while every later row streams past once), mirrored.
  std::vector<float> cov(dim * dim);
  constexpr size_t kTile = 16;
  for (size_t a0 = 0; a0 < dim; a0 += kTile) {
    const size_t a1 = std::min(dim, a0 + kTile);
    for (size_t b = a0; b < dim; ++b) {
      for (size_t a = a0; a < a1 && a <= b; ++a) {
        const float c = simd::Dot(xt.data() + a * s, xt.data() + b * s, s) / static_cast<float>(s);
        cov[a * dim + b] = c;
        cov[b * dim + a] = c;
      }
    }
  }
  xt = {};
  for (size_t j = 0; j < dim; ++j) pc.total_variance += cov[j * dim + j];

  size_t r = std::min(max_components, dim);
  std::vector<float> q(r * dim), z(r * dim);
  std::mt19937 rng(0x5eed);
  std::normal_distribution<float> normal;
  for (float& v : q) v = normal(rng);
  r = Orthonormalize(&q, r, dim);
  auto multiply = [&] {  // z = q * cov (cov is symmetric)
    for (size_t k = 0; k < r; ++k)
      for (size_t a = 0; a < dim; ++a)
        z[k * dim + a] = simd::Dot(cov.data() + a * dim, q.data() + k * dim, dim);
  };
  for (int round = 0; round < kRounds && r > 0; ++round) {
    multiply();
    q.swap(z);
    r = Orthonormalize(&q, r, dim);
  }
  multiply();
  std::vector<double> variance(r);
  for (size_t k = 0; k < r; ++k) variance[k] = simd::Dot(q.data() + k * dim, z.data() + k * dim, dim);
  std::vector<size_t> order(r);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return variance[x] > variance[y]; });
  pc.basis.resize(r * dim);
  pc.variance.resize(r);
  for (size_t k = 0; k < r; ++k) {
    std::copy_n(q.data() + order[k] * dim, dim, pc.basis.data() + k * dim);
    pc.variance[k] = std::max(0.0, variance[order[k]]);
  }
  return pc;
}

}  // namespace mosaic::index
