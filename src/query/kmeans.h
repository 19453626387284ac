// K-means (Lloyd's algorithm) on a row-major float matrix under squared L2, with k-means++
// seeding, empty-cluster repair and a sweep that picks k by the silhouette or the elbow of the
// inertia curve (docs/clustering.md).
//
// Vectors of a cosine collection are stored normalized; they are clustered here with plain L2
// on those unit rows (centroids are means, not re-normalized), which ranks points like cosine
// does and keeps one code path.
//
// Assignment uses the expanded form ||x||^2 - 2 x.c + ||c||^2 with the packed GEMM-style kernel
// of src/simd (simd::ScreenPacked), as Faiss does with BLAS; the final inertia is summed from
// exact distances. Results depend only on the data, the options and the SIMD level, never on the
// number of threads: each point's distances are computed the same way whatever the tiling, and
// sums run in a fixed order.
//
// Thread-safety: stateless functions; each call runs on its own pool of `threads` threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::query {

struct KMeansOptions {
  size_t k = 8;
  // Lloyd steps (assign, then move the centroids), after which the points are assigned once
  // more so that labels and inertia belong to the returned centroids.
  size_t max_iterations = 25;
  // Stop early when a step improves the inertia by less than this fraction of it (0: never).
  double tolerance = 1e-4;
  uint64_t seed = 1;
  int threads = 0;  // 0: one per hardware thread
  // k-means++ draws its seeds from a uniform sample of this many rows (0: min(n, max(8192,
  // 32 k))): seeding is k passes over the rows it sees, which on all of a large set would cost
  // as much as the Lloyd steps themselves.
  size_t seed_sample = 0;
  // k x dim centroids to start from instead of k-means++ seeds (empty: seed).
  std::vector<float> initial_centroids;
};

struct KMeansResult {
  size_t k = 0;
  size_t dim = 0;
  std::vector<float> centroids;  // k x dim, row-major
  std::vector<uint32_t> labels;  // per row, its nearest centroid (ties: the lower index)
  std::vector<float> distances;  // per row, its squared distance to that centroid
  std::vector<uint64_t> sizes;   // rows per cluster
  double inertia = 0;            // sum of squared L2 distances of the rows to their centroids
  size_t iterations = 0;         // Lloyd steps run
  size_t splits = 0;             // empty clusters repaired by splitting the largest one
  std::vector<double> history;   // the inertia at each step's assignment, then the final one
};

// InvalidArgument when k is 0 or larger than n (naming both), dim is 0, or initial_centroids is
// neither empty nor k x dim.
Result<KMeansResult> KMeans(const float* data, size_t n, size_t dim, const KMeansOptions& options);

// k-means++ seeding: the indices of k distinct-as-possible rows (D^2 sampling), deterministic for a
// seed. Exposed for tests.
std::vector<size_t> SeedKMeansPlusPlus(const float* data, size_t n, size_t dim, size_t k,
                                       uint64_t seed, int threads = 0);

// Assigns each row to its nearest centroid; returns the inertia. `labels` and `distances` (either
// may be null) receive n values.
double AssignNearest(const float* data, size_t n, size_t dim, const float* centroids, size_t k,
                     uint32_t* labels, float* distances, int threads = 0);

// Mean silhouette (Euclidean) of a labelling over a uniform sample of at most `sample` rows (all
// rows when n <= sample): in [-1, 1], higher is better separated; 0 when fewer than two clusters
// are in the sample.
double Silhouette(const float* data, size_t n, size_t dim, const uint32_t* labels, size_t sample,
                  uint64_t seed);

enum class SweepCriterion : uint8_t { kSilhouette, kElbow };
const char* SweepCriterionName(SweepCriterion c);  // "silhouette", "elbow"

struct SweepPoint {
  size_t k = 0;
  double inertia = 0;
  double silhouette = 0;
};

struct KMeansSweep {
  std::vector<SweepPoint> curve;  // one per k, ascending
  size_t best_k = 0;
  SweepCriterion by = SweepCriterion::kSilhouette;
  KMeansResult best;  // the run at best_k
};

// Runs KMeans for every k in [k_min, k_max] (options.k is ignored) and picks k: the highest
// silhouette (sampled, see Silhouette), or the elbow: the point of the inertia curve farthest
// below the chord from its first to its last point, both axes scaled to [0, 1].
// InvalidArgument unless 2 <= k_min <= k_max <= n.
Result<KMeansSweep> SweepK(const float* data, size_t n, size_t dim, size_t k_min, size_t k_max,
                           SweepCriterion by, const KMeansOptions& options,
                           size_t silhouette_sample = 2000);

}  // namespace mosaic::query
