// K-means: hand-computed small cases (assignment, empty-cluster repair, the k sweep), seeding
// determinism, and on a slice of Fashion-MNIST the inertia curve and purity against the labels.
#include "query/kmeans.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "io/vector_file.h"
#include "util/paths.h"
#include "util/test_scale.h"

namespace mosaic::query {
namespace {

// Three tight blobs of four 2-d points around (0,0), (10,0) and (0,10).
std::vector<float> Blobs() {
  std::vector<float> x;
  for (auto [cx, cy] : {std::pair{0.f, 0.f}, {10.f, 0.f}, {0.f, 10.f}})
    for (auto [dx, dy] : {std::pair{-0.5f, 0.f}, {0.5f, 0.f}, {0.f, -0.5f}, {0.f, 0.5f}}) {
      x.push_back(cx + dx);
      x.push_back(cy + dy);
    }
  return x;
}

struct FashionSlice {
  io::Matrix x;
  std::vector<int32_t> labels;
};

const FashionSlice& Fashion() {
  static const FashionSlice* slice = [] {
    auto* s = new FashionSlice;
    const std::string dir = testing::DataDir() + "/fashion-mnist/";
    const size_t n = testing::Scaled(10000, 2000);
    auto x = io::ReadVectorFile(dir + "train-images-idx3-ubyte.gz", n);
    auto l = io::ReadIdxLabels(dir + "train-labels-idx1-ubyte.gz");
    EXPECT_TRUE(x.ok()) << x.status().ToString();
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (x.ok() && l.ok()) {
      s->x = std::move(x).value();
      s->labels.assign(l->begin(), l->begin() + static_cast<long>(s->x.rows));
    }
    return s;
  }();
  return *slice;
}

double Purity(const std::vector<uint32_t>& clusters, size_t k, const std::vector<int32_t>& truth) {
  std::vector<std::vector<size_t>> counts(k, std::vector<size_t>(10, 0));
  for (size_t i = 0; i < clusters.size(); ++i)
    ++counts[clusters[i]][truth[i]];
  size_t hit = 0;
  for (const auto& c : counts)
    hit += *std::max_element(c.begin(), c.end());
  return static_cast<double>(hit) / static_cast<double>(clusters.size());
}

TEST(KMeans, AssignsToTheNearestCentroidWithHandComputedInertia) {
  const std::vector<float> x = Blobs();
  // Centroids at two blob centres and one far away: each point to its own blob's centre (the
  // (0,10) blob is nearer (0,0) than (100,100)); every point is 0.5 from its centre except the
  // (0,10) blob: distances^2 to (0,0) are 100.25, 100.25, 90.25, 110.25.
  const std::vector<float> c = {0, 0, 10, 0, 100, 100};
  std::vector<uint32_t> labels(12);
  std::vector<float> d(12);
  const double inertia = AssignNearest(x.data(), 12, 2, c.data(), 3, labels.data(), d.data(), 2);
  EXPECT_EQ(labels, (std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_NEAR(inertia, 8 * 0.25 + 100.25 * 2 + 90.25 + 110.25, 1e-3);
  EXPECT_NEAR(d[10], 90.25, 1e-3);
}

TEST(KMeans, SeedingIsDeterministicAndSpreadsOverTheBlobs) {
  const std::vector<float> x = Blobs();
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    const auto a = SeedKMeansPlusPlus(x.data(), 12, 2, 3, seed, 1);
    EXPECT_EQ(a, SeedKMeansPlusPlus(x.data(), 12, 2, 3, seed, 2)) << "seed " << seed;
    std::set<size_t> blobs;
    for (size_t i : a)
      blobs.insert(i / 4);
    EXPECT_EQ(blobs.size(), 3u) << "seed " << seed;  // D^2 sampling lands in every blob
  }
  // The whole run, labels included, does not depend on the thread count.
  const FashionSlice& f = Fashion();
  ASSERT_GT(f.x.rows, 0u);
  KMeansOptions o;
  o.k = 16;
  o.max_iterations = 5;
  o.seed = 7;
  o.threads = 1;
  auto one = KMeans(f.x.data.data(), f.x.rows, f.x.dim, o);
  o.threads = 2;
  auto two = KMeans(f.x.data.data(), f.x.rows, f.x.dim, o);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->labels, two->labels);
  EXPECT_EQ(one->centroids, two->centroids);
  o.seed = 8;
  auto other = KMeans(f.x.data.data(), f.x.rows, f.x.dim, o);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(one->centroids, other->centroids);
}

TEST(KMeans, RepairsAnEmptyClusterBySplittingTheLargest) {
  // Two blobs, moved by (3,3): 8 points around (3,3) (four blob points and four at distance 2)
  // and 4 around (13,3); the centroid at (100,100) gets no point at the first assignment. (The
  // split nudges coordinates by a fraction of themselves, so a centroid at the origin could not
  // be split: the shift keeps the case honest.)
  std::vector<float> x = Blobs();
  x.resize(16);
  for (auto [px, py] : {std::pair{-2.f, 0.f}, {2.f, 0.f}, {0.f, -2.f}, {0.f, 2.f}}) {
    x.push_back(px);
    x.push_back(py);
  }
  for (float& v : x)
    v += 3;
  KMeansOptions o;
  o.k = 3;
  o.threads = 2;
  o.initial_centroids = {3, 3, 100, 100, 13, 3};
  auto r = KMeans(x.data(), 12, 2, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->splits, 1u);
  for (uint64_t s : r->sizes)
    EXPECT_GT(s, 0u);
  // Without the repair the best is one centroid per blob; a split of the 8-point blob can only
  // lower that.
  const double two_blobs = 4 * 0.25 + 4 * 4 + 4 * 0.25;  // (3,3)-blob, its ring, (13,3)-blob
  EXPECT_LT(r->inertia, two_blobs - 1);
  EXPECT_EQ(r->labels[4], r->labels[7]);  // the (13,3) blob stays together
  // Bad shapes name the values.
  o.initial_centroids = {0, 0};
  EXPECT_NE(KMeans(x.data(), 12, 2, o).status().message().find("2 floats"), std::string::npos);
  o.initial_centroids.clear();
  o.k = 13;
  auto big = KMeans(x.data(), 12, 2, o);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("k = 13"), std::string::npos);
  EXPECT_NE(big.status().message().find("12 points"), std::string::npos);
  o.k = 0;
  EXPECT_EQ(KMeans(x.data(), 12, 2, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(KMeans, SweepFindsThreeBlobsBySilhouetteAndElbow) {
  const std::vector<float> x = Blobs();
  KMeansOptions o;
  o.threads = 2;
  for (SweepCriterion by : {SweepCriterion::kSilhouette, SweepCriterion::kElbow}) {
    auto s = SweepK(x.data(), 12, 2, 2, 6, by, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ(s->curve.size(), 5u);
    EXPECT_EQ(s->best_k, 3u) << SweepCriterionName(by);
    EXPECT_EQ(s->best.k, 3u);
    // Three blobs: all points in their own blob, silhouette close to 1 and inertia 12 x 0.25.
    EXPECT_GT(s->curve[1].silhouette, 0.9);
    EXPECT_NEAR(s->curve[1].inertia, 3.0, 1e-3);
  }
  EXPECT_FALSE(SweepK(x.data(), 12, 2, 1, 6, SweepCriterion::kElbow, o).ok());
  EXPECT_FALSE(SweepK(x.data(), 12, 2, 2, 13, SweepCriterion::kElbow, o).ok());
}

TEST(KMeans, FashionMnistInertiaFallsAndClustersFollowTheLabels) {
  const FashionSlice& f = Fashion();
  ASSERT_GT(f.x.rows, 0u);
  KMeansOptions o;
  o.k = 10;
  o.max_iterations = 20;
  o.tolerance = 0;
  o.threads = 2;
  auto r = KMeans(f.x.data.data(), f.x.rows, f.x.dim, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->iterations, 20u);
  ASSERT_EQ(r->history.size(), 21u);  // each step's assignment, then the exact final sum
  // Lloyd steps never raise the inertia (up to the rounding of the expanded form).
  for (size_t i = 1; i < r->history.size(); ++i)
    EXPECT_LE(r->history[i], r->history[i - 1] * (1 + 1e-6)) << "step " << i;
  EXPECT_LT(r->history.back(), 0.8 * r->history.front());  // seeds are far from converged
  uint64_t total = 0;
  for (uint64_t s : r->sizes)
    total += s;
  EXPECT_EQ(total, f.x.rows);
  // Measured 0.513 on 10k rows and 0.534 on 2k at seed 1 (0.50-0.59 over seeds on all 60k,
  // see docs/benchmarks.md); one cluster per label would give 1, a constant labelling 0.1.
  const double purity = Purity(r->labels, 10, f.labels);
  EXPECT_GT(purity, 0.42) << purity;
  RecordProperty("purity", std::to_string(purity));
  // The sampled silhouette of the same labelling: positive (clusters are real), well below 1.
  const double sil = Silhouette(f.x.data.data(), f.x.rows, f.x.dim, r->labels.data(), 1000, 1);
  RecordProperty("silhouette", std::to_string(sil));
  EXPECT_GT(sil, 0.05);
  EXPECT_LT(sil, 0.6);
}

}  // namespace
}  // namespace mosaic::query
