#include "query/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "common/thread_pool.h"
#include "simd/distance.h"

namespace mosaic::query {
namespace {

// Centroids per pass of the assignment kernel: a slice this big (packed) stays in L2 while a
// block of points is screened against it.
constexpr size_t kSliceBytes = 256 * 1024;
// Points per block: a multiple of the kernel's twelve-query groups.
constexpr size_t kPointBlock = 96;

size_t RoundUp(size_t n, size_t m) {
  return (n + m - 1) / m * m;
}

// A uniform double in [0, 1) from 53 random bits: the same on every standard library, unlike
// std::uniform_real_distribution.
double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The first `count` entries of a seeded Fisher-Yates shuffle of [0, n): a uniform sample.
std::vector<size_t> SampleRows(size_t n, size_t count, uint64_t seed) {
  std::vector<size_t> rows(n);
  std::iota(rows.begin(), rows.end(), size_t{0});
  if (count >= n) return rows;
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < count; ++i)
    std::swap(rows[i], rows[i + rng() % (n - i)]);
  rows.resize(count);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Nearest-centroid search for many rows: the centroids packed once, each block of rows screened
// against slices of them, keeping the best per row.
class Assigner {
 public:
  Assigner(const float* centroids, size_t k, size_t dim) : k_(k), dim_(dim) {
    packed_.resize(simd::PackedFloats(k, dim));
    simd::PackRows(centroids, k, dim, packed_.data());
    bias_.assign(RoundUp(k, simd::kPanelRows), 0.0f);
    for (size_t j = 0; j < k; ++j)
      bias_[j] = simd::NormSqr(centroids + j * dim, dim);
    slice_ =
        std::max<size_t>(2 * simd::kPanelRows, kSliceBytes / (dim * sizeof(float)) /
                                                   (2 * simd::kPanelRows) * (2 * simd::kPanelRows));
    slice_ = std::min(slice_, RoundUp(k, simd::kPanelRows));
  }

  // Rows [begin, end): labels and the partial distance ||c||^2 - 2 x.c (add ||x||^2 for the
  // squared distance).
  void Run(const float* data, size_t begin, size_t end, uint32_t* labels, float* partial) const {
    std::vector<float> values(kPointBlock * slice_);
    std::vector<uint16_t> hits(kPointBlock * (slice_ / simd::kPanelRows + 1));
    const std::vector<float> limits(kPointBlock, std::numeric_limits<float>::infinity());
    std::vector<float> best(kPointBlock);
    std::vector<uint32_t> arg(kPointBlock);
    for (size_t b = begin; b < end; b += kPointBlock) {
      const size_t nb = std::min(kPointBlock, end - b);
      std::fill(best.begin(), best.end(), std::numeric_limits<float>::infinity());
      std::fill(arg.begin(), arg.end(), 0);
      for (size_t first = 0; first < k_; first += slice_) {
        const size_t rows = std::min(slice_, k_ - first);
        simd::ScreenPacked(data + b * dim_, nb, dim_, packed_.data() + first * dim_, rows,
                           bias_.data() + first, 2.0f, limits.data(), values.data(), slice_,
                           hits.data(), slice_ / simd::kPanelRows + 1);
        for (size_t i = 0; i < nb; ++i) {
          const float* v = values.data() + i * slice_;
          float bi = best[i];
          uint32_t ai = arg[i];
          for (size_t j = 0; j < rows; ++j) {
            if (v[j] < bi) {
              bi = v[j];
              ai = static_cast<uint32_t>(first + j);
            }
          }
          best[i] = bi;
          arg[i] = ai;
        }
      }
      std::copy(arg.begin(), arg.begin() + nb, labels + b);
      std::copy(best.begin(), best.begin() + nb, partial + b);
    }
  }

 private:
  size_t k_;
  size_t dim_;
  size_t slice_;
  std::vector<float> packed_;
  std::vector<float> bias_;
};

// Row chunks for the pool: big enough to amortize a task, and a multiple of the point block.
constexpr size_t kRowChunk = 4 * kPointBlock;

// Assigns all rows; `norms` holds ||x||^2 per row. Returns the inertia (from the expanded form,
// clamped at 0 per row, summed in row order).
double AssignAll(ThreadPool& pool, const float* data, size_t n, size_t dim, const float* norms,
                 const float* centroids, size_t k, uint32_t* labels, float* distances) {
  Assigner assigner(centroids, k, dim);
  const size_t chunks = (n + kRowChunk - 1) / kRowChunk;
  pool.ParallelFor(chunks, [&](size_t c0, size_t c1) {
    const size_t begin = c0 * kRowChunk, end = std::min(n, c1 * kRowChunk);
    assigner.Run(data, begin, end, labels, distances);
    for (size_t i = begin; i < end; ++i)
      distances[i] = std::max(0.0f, distances[i] + norms[i]);
  });
  double inertia = 0;
  for (size_t i = 0; i < n; ++i)
    inertia += distances[i];
  return inertia;
}

std::vector<float> RowNorms(ThreadPool& pool, const float* data, size_t n, size_t dim) {
  std::vector<float> norms(n);
  pool.ParallelFor(
      n,
      [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i)
          norms[i] = simd::NormSqr(data + i * dim, dim);
      },
      1024);
  return norms;
}

// Moves each centroid to the mean of its rows. Rows are bucketed by cluster first so that each
// centroid is summed (in double, in row order) by one thread: the result does not depend on the
// thread count. Clusters without rows keep their old centroid here.
void UpdateCentroids(ThreadPool& pool, const float* data, size_t n, size_t dim,
                     const uint32_t* labels, size_t k, std::vector<uint64_t>& sizes,
                     float* centroids) {
  sizes.assign(k, 0);
  for (size_t i = 0; i < n; ++i)
    ++sizes[labels[i]];
  std::vector<size_t> start(k + 1, 0);
  for (size_t j = 0; j < k; ++j)
    start[j + 1] = start[j] + sizes[j];
  std::vector<uint32_t> order(n);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i)
      order[fill[labels[i]]++] = static_cast<uint32_t>(i);
  }
  // Split the clusters into contiguous ranges of about equal row counts, one per thread.
  const size_t parts = static_cast<size_t>(pool.size());
  std::vector<size_t> bounds{0};
  for (size_t j = 0, p = 1; j < k && p < parts; ++j) {
    if (start[j + 1] >= n * p / parts) {
      bounds.push_back(j + 1);
      ++p;
    }
  }
  if (bounds.back() != k) bounds.push_back(k);
  pool.ParallelFor(bounds.size() - 1, [&](size_t p0, size_t p1) {
    std::vector<double> sum(dim);
    for (size_t j = bounds[p0]; j < bounds[p1]; ++j) {
      if (sizes[j] == 0) continue;
      std::fill(sum.begin(), sum.end(), 0.0);
      for (size_t o = start[j]; o < start[j + 1]; ++o) {
        const float* x = data + static_cast<size_t>(order[o]) * dim;
        for (size_t d = 0; d < dim; ++d)
          sum[d] += x[d];
      }
      const double inv = 1.0 / static_cast<double>(sizes[j]);
      float* c = centroids + j * dim;
      for (size_t d = 0; d < dim; ++d)
        c[d] = static_cast<float>(sum[d] * inv);
    }
  });
}

// Gives each empty cluster half of the largest one: its centroid is copied and both copies are
// nudged apart symmetrically (as Faiss does), so the next assignment splits that cluster.
size_t RepairEmpty(size_t dim, size_t k, std::vector<uint64_t>& sizes, float* centroids) {
  constexpr float kNudge = 1.0f / 1024;
  size_t splits = 0;
  for (size_t e = 0; e < k; ++e) {
    if (sizes[e] != 0) continue;
    const size_t big =
        static_cast<size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    if (sizes[big] < 2) break;  // nothing left to split
    float* ce = centroids + e * dim;
    float* cb = centroids + big * dim;
    for (size_t d = 0; d < dim; ++d) {
      const float sign = d % 2 == 0 ? 1.0f : -1.0f;
      ce[d] = cb[d] * (1 + sign * kNudge);
      cb[d] = cb[d] * (1 - sign * kNudge);
    }
    sizes[e] = sizes[big] / 2;
    sizes[big] -= sizes[e];
    ++splits;
  }
  return splits;
}

// Greedy k-means++ (as scikit-learn does it): each step draws 2 + ln k candidates by D^2
// sampling and keeps the one that lowers the total D^2 most, which gives markedly better and
// steadier seeds than one draw. The candidates are scored together with the blocked kernel, so
// the sample is read once per step whatever their number.
std::vector<size_t> SeedOnPool(ThreadPool& pool, const float* data, size_t n, size_t dim, size_t k,
                               uint64_t seed, size_t sample_size) {
  const std::vector<size_t> sample = SampleRows(n, sample_size, seed ^ 0x9e3779b97f4a7c15ULL);
  const size_t s = sample.size();
  // A contiguous copy of a proper sample, so that the k passes stream one compact block.
  std::vector<float> copy;
  const float* rows = data;
  if (s < n) {
    copy.resize(s * dim);
    for (size_t i = 0; i < s; ++i)
      std::copy_n(data + sample[i] * dim, dim, copy.data() + i * dim);
    rows = copy.data();
  }
  const size_t trials = 2 + static_cast<size_t>(std::log(static_cast<double>(k)));
  std::mt19937_64 rng(seed);
  std::vector<size_t> chosen;
  std::vector<char> taken(s, 0);
  std::vector<float> d2(s);
  // The sample packed once for the GEMM-style kernel: a step scores its candidates against it
  // at the speed of the assignment, with ||x||^2 - 2 x.c + ||c||^2.
  const size_t padded = RoundUp(s, simd::kPanelRows);
  std::vector<float> packed(simd::PackedFloats(s, dim));
  std::vector<float> norms(padded, 0.0f);
  pool.ParallelFor(padded / simd::kPanelRows, [&](size_t p0, size_t p1) {
    const size_t begin = p0 * simd::kPanelRows, end = std::min(s, p1 * simd::kPanelRows);
    simd::PackRows(rows + begin * dim, end - begin, dim, packed.data() + begin * dim);
    for (size_t i = begin; i < end; ++i)
      norms[i] = simd::NormSqr(rows + i * dim, dim);
  });
  std::vector<float> cand_rows(trials * dim);
  std::vector<float> cand_d2(trials * padded);
  std::vector<uint16_t> hits(trials * padded / simd::kPanelRows);
  const std::vector<float> limits(trials, std::numeric_limits<float>::infinity());
  // Squared distances of the first `count` candidates to every sample row.
  auto score = [&](size_t count) {
    pool.ParallelFor(
        padded / simd::kPanelRows,
        [&](size_t p0, size_t p1) {
          const size_t begin = p0 * simd::kPanelRows, end = std::min(s, p1 * simd::kPanelRows);
          simd::ScreenPacked(cand_rows.data(), count, dim, packed.data() + begin * dim, end - begin,
                             norms.data() + begin, 2.0f, limits.data(), cand_d2.data() + begin,
                             padded, hits.data() + p0, padded / simd::kPanelRows);
          for (size_t t = 0; t < count; ++t) {
            const float c = simd::NormSqr(cand_rows.data() + t * dim, dim);
            float* v = cand_d2.data() + t * padded;
            for (size_t i = begin; i < end; ++i)
              v[i] = std::max(0.0f, v[i] + c);
          }
        },
        16);
  };
  size_t first = rng() % s;
  chosen.push_back(first);
  taken[first] = 1;
  std::copy_n(rows + first * dim, dim, cand_rows.data());
  score(1);
  std::copy_n(cand_d2.data(), s, d2.data());
  std::vector<size_t> cands;
  while (chosen.size() < k) {
    double total = 0;
    for (size_t i = 0; i < s; ++i)
      if (!taken[i]) total += d2[i];
    cands.clear();
    if (total > 0) {
      for (size_t t = 0; t < trials; ++t) {
        double u = Uniform(rng) * total;
        size_t pick = s;
        for (size_t i = 0; i < s; ++i) {
          if (taken[i] || d2[i] <= 0) continue;
          pick = i;  // the last candidate, should rounding leave u above the sum
          u -= d2[i];
          if (u < 0) break;
        }
        cands.push_back(pick);
      }
    } else {
      // Every remaining row duplicates a seed: take the first untaken one after a random start.
      const size_t from = rng() % s;
      for (size_t i = 0; i < s && cands.empty(); ++i)
        if (!taken[(from + i) % s]) cands.push_back((from + i) % s);
    }
    for (size_t t = 0; t < cands.size(); ++t)
      std::copy_n(rows + cands[t] * dim, dim, cand_rows.data() + t * dim);
    score(cands.size());
    size_t best = 0;
    double best_total = std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < cands.size(); ++t) {
      double pot = 0;
      const float* c = cand_d2.data() + t * padded;
      for (size_t i = 0; i < s; ++i)
        pot += std::min(d2[i], c[i]);
      if (pot < best_total) {
        best_total = pot;
        best = t;
      }
    }
    const float* c = cand_d2.data() + best * padded;
    for (size_t i = 0; i < s; ++i)
      d2[i] = std::min(d2[i], c[i]);
    chosen.push_back(cands[best]);
    taken[cands[best]] = 1;
  }
  for (size_t& c : chosen)
    c = sample[c];
  return chosen;
}

size_t SeedSample(size_t n, size_t k, size_t asked) {
  if (asked != 0) return std::min(n, std::max(asked, k));
  return std::min(n, std::max<size_t>(8192, 32 * k));
}

// Pairwise distances of a fixed row sample, computed once and reused for every labelling of a
// sweep.
class SilhouetteSample {
 public:
  SilhouetteSample(const float* data, size_t n, size_t dim, size_t sample, uint64_t seed)
      : rows_(SampleRows(n, std::max<size_t>(sample, 2), seed)) {
    const size_t s = rows_.size();
    std::vector<float> copy(s * dim);
    for (size_t i = 0; i < s; ++i)
      std::copy_n(data + rows_[i] * dim, dim, copy.data() + i * dim);
    dist_.resize(s * s);
    ThreadPool pool(0);
    pool.ParallelFor(
        s,
        [&](size_t begin, size_t end) {
          simd::L2SqrBlock(copy.data() + begin * dim, end - begin, copy.data(), s, dim,
                           dist_.data() + begin * s, s);
          for (size_t i = begin * s; i < end * s; ++i)
            dist_[i] = std::sqrt(std::max(0.0f, dist_[i]));
        },
        16);
  }

  double Score(const uint32_t* labels) const {
    const size_t s = rows_.size();
    std::vector<uint32_t> lab(s);
    uint32_t k = 0;
    for (size_t i = 0; i < s; ++i) {
      lab[i] = labels[rows_[i]];
      k = std::max(k, lab[i] + 1);
    }
    std::vector<size_t> count(k, 0);
    for (uint32_t l : lab)
      ++count[l];
    if (std::count_if(count.begin(), count.end(), [](size_t c) { return c > 0; }) < 2) return 0;
    std::vector<double> sum(k);
    double total = 0;
    for (size_t i = 0; i < s; ++i) {
      std::fill(sum.begin(), sum.end(), 0.0);
      const float* d = dist_.data() + i * s;
      for (size_t j = 0; j < s; ++j)
        sum[lab[j]] += d[j];
      const uint32_t own = lab[i];
      if (count[own] < 2) continue;  // a singleton scores 0
      const double a = sum[own] / static_cast<double>(count[own] - 1);
      double b = std::numeric_limits<double>::infinity();
      for (uint32_t c = 0; c < k; ++c)
        if (c != own && count[c] > 0) b = std::min(b, sum[c] / static_cast<double>(count[c]));
      const double m = std::max(a, b);
      if (m > 0) total += (b - a) / m;
    }
    return total / static_cast<double>(s);
  }

 private:
  std::vector<size_t> rows_;
  std::vector<float> dist_;
};

Status CheckShape(size_t n, size_t dim, size_t k) {
  if (dim == 0) return Status::InvalidArgument("k-means needs vectors of at least 1 dimension");
  if (k < 1) return Status::InvalidArgument("k must be at least 1, got 0");
  if (k > n)
    return Status::InvalidArgument("k = " + std::to_string(k) + " is larger than the " +
                                   std::to_string(n) + " points to cluster");
  return Status::OK();
}

}  // namespace

std::vector<size_t> SeedKMeansPlusPlus(const float* data, size_t n, size_t dim, size_t k,
                                       uint64_t seed, int threads) {
  if (n == 0 || k == 0) return {};
  ThreadPool pool(threads);
  return SeedOnPool(pool, data, n, dim, std::min(k, n), seed, SeedSample(n, k, 0));
}

double AssignNearest(const float* data, size_t n, size_t dim, const float* centroids, size_t k,
                     uint32_t* labels, float* distances, int threads) {
  if (n == 0 || k == 0) return 0;
  ThreadPool pool(threads);
  const std::vector<float> norms = RowNorms(pool, data, n, dim);
  std::vector<uint32_t> own_labels(labels == nullptr ? n : 0);
  std::vector<float> own_distances(distances == nullptr ? n : 0);
  return AssignAll(pool, data, n, dim, norms.data(), centroids, k,
                   labels != nullptr ? labels : own_labels.data(),
                   distances != nullptr ? distances : own_distances.data());
}

Result<KMeansResult> KMeans(const float* data, size_t n, size_t dim, const KMeansOptions& options) {
  const size_t k = options.k;
  if (Status s = CheckShape(n, dim, k); !s.ok()) return s;
  ThreadPool pool(options.threads);
  KMeansResult r;
  r.k = k;
  r.dim = dim;
  r.centroids.resize(k * dim);
  if (!options.initial_centroids.empty()) {
    if (options.initial_centroids.size() != k * dim)
      return Status::InvalidArgument("initial centroids hold " +
                                     std::to_string(options.initial_centroids.size()) +
                                     " floats, k x dim is " + std::to_string(k * dim));
    r.centroids = options.initial_centroids;
  } else {
    const std::vector<size_t> seeds =
        SeedOnPool(pool, data, n, dim, k, options.seed, SeedSample(n, k, options.seed_sample));
    for (size_t j = 0; j < k; ++j)
      std::copy_n(data + seeds[j] * dim, dim, r.centroids.data() + j * dim);
  }

  const std::vector<float> norms = RowNorms(pool, data, n, dim);
  r.labels.resize(n);
  std::vector<float> distances(n);
  double previous = std::numeric_limits<double>::infinity();
  for (size_t it = 0; it < options.max_iterations; ++it) {
    const double inertia = AssignAll(pool, data, n, dim, norms.data(), r.centroids.data(), k,
                                     r.labels.data(), distances.data());
    r.history.push_back(inertia);
    if (it > 0 && previous - inertia < options.tolerance * previous) break;
    previous = inertia;
    UpdateCentroids(pool, data, n, dim, r.labels.data(), k, r.sizes, r.centroids.data());
    r.splits += RepairEmpty(dim, k, r.sizes, r.centroids.data());
    ++r.iterations;
  }
  AssignAll(pool, data, n, dim, norms.data(), r.centroids.data(), k, r.labels.data(),
            distances.data());
  r.sizes.assign(k, 0);
  for (uint32_t l : r.labels)
    ++r.sizes[l];
  // The expanded form loses digits when ||x|| is large next to the distance: report exact ones.
  pool.ParallelFor(
      n,
      [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i)
          distances[i] = simd::L2Sqr(data + i * dim, r.centroids.data() + r.labels[i] * dim, dim);
      },
      1024);
  r.inertia = 0;
  for (float d : distances)
    r.inertia += d;
  r.history.push_back(r.inertia);
  r.distances = std::move(distances);
  return r;
}

double Silhouette(const float* data, size_t n, size_t dim, const uint32_t* labels, size_t sample,
                  uint64_t seed) {
  if (n < 2) return 0;
  return SilhouetteSample(data, n, dim, sample, seed).Score(labels);
}

const char* SweepCriterionName(SweepCriterion c) {
  return c == SweepCriterion::kElbow ? "elbow" : "silhouette";
}

Result<KMeansSweep> SweepK(const float* data, size_t n, size_t dim, size_t k_min, size_t k_max,
                           SweepCriterion by, const KMeansOptions& options,
                           size_t silhouette_sample) {
  if (k_min < 2 || k_min > k_max)
    return Status::InvalidArgument("a k sweep needs 2 <= from <= to, got " + std::to_string(k_min) +
                                   ".." + std::to_string(k_max));
  if (Status s = CheckShape(n, dim, k_max); !s.ok()) return s;
  const SilhouetteSample sample(data, n, dim, silhouette_sample, options.seed);
  KMeansSweep sweep;
  sweep.by = by;
  std::vector<KMeansResult> runs;
  for (size_t k = k_min; k <= k_max; ++k) {
    KMeansOptions o = options;
    o.k = k;
    o.initial_centroids.clear();
    auto r = KMeans(data, n, dim, o);
    if (!r.ok()) return r.status();
    sweep.curve.push_back({k, r->inertia, sample.Score(r->labels.data())});
    runs.push_back(std::move(r).value());
  }
  size_t best = 0;
  if (by == SweepCriterion::kSilhouette) {
    for (size_t i = 1; i < sweep.curve.size(); ++i)
      if (sweep.curve[i].silhouette > sweep.curve[best].silhouette) best = i;
  } else if (sweep.curve.size() > 2) {
    // Both axes scaled to [0, 1]; the elbow is farthest below the chord (first, last).
    const double i0 = sweep.curve.front().inertia, i1 = sweep.curve.back().inertia;
    const double span_k = static_cast<double>(k_max - k_min);
    const double span_i = std::max(std::abs(i0 - i1), 1e-300);
    double deepest = -1;
    for (size_t i = 0; i < sweep.curve.size(); ++i) {
      const double x = static_cast<double>(sweep.curve[i].k - k_min) / span_k;
      const double y = (sweep.curve[i].inertia - std::min(i0, i1)) / span_i;
      const double chord = i0 >= i1 ? 1 - x : x;
      const double depth = chord - y;
      if (depth > deepest) {
        deepest = depth;
        best = i;
      }
    }
  }
  sweep.best_k = sweep.curve[best].k;
  sweep.best = std::move(runs[best]);
  return sweep;
}

}  // namespace mosaic::query
