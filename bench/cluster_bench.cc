// cluster_bench: Mosaic's k-means (query::KMeans) against Faiss's (faiss::Clustering) on
// Fashion-MNIST's 60k x 784 training images, same data, k, iterations and threads, in the same
// run: wall time, final inertia and purity against the labels, per round and as medians. The
// order of the two alternates between rounds; round r seeds both with r. Asserts nothing.
//
//   cluster_bench [--data DIR] [--rounds N] [--iterations N] [--threads N] [--k 10,256]
//                 [--seed-sample N]
//
// Both return centroids and a label per point: Mosaic's KMeans ends with an assignment, so
// Faiss's time includes the IndexFlatL2 search that labels the points after Clustering::train
// (its train-only time is printed too). Both inertias are summed the same way, from exact
// distances of each point to the centroid it was labelled with. Faiss subsamples to
// max_points_per_centroid x k points by default; that is lifted so both see all 60k points.
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "io/vector_file.h"
#include "query/kmeans.h"
#include "simd/distance.h"

// OpenBLAS runs sgemm on its own threads, ignoring OpenMP's setting; weak so the bench also links
// against another BLAS.
extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));
extern "C" char* openblas_get_config() __attribute__((weak));
extern "C" char* openblas_get_corename() __attribute__((weak));

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double LoadAverage() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

struct Outcome {
  double seconds = 0;
  double train_seconds = 0;  // Faiss: Clustering::train alone
  double inertia = 0;
  double purity = 0;
};

double ExactInertia(const mosaic::io::Matrix& x, const float* centroids,
                    const std::vector<uint32_t>& labels) {
  double sum = 0;
  for (size_t i = 0; i < x.rows; ++i)
    sum += mosaic::simd::L2Sqr(x.row(i), centroids + labels[i] * x.dim, x.dim);
  return sum;
}

// The share of points whose label is their cluster's most common label.
double Purity(const std::vector<uint32_t>& clusters, size_t k, const std::vector<int32_t>& labels) {
  std::vector<std::vector<size_t>> counts(k, std::vector<size_t>(10, 0));
  for (size_t i = 0; i < clusters.size(); ++i)
    ++counts[clusters[i]][labels[i]];
  size_t hit = 0;
  for (const auto& c : counts)
    hit += *std::max_element(c.begin(), c.end());
  return static_cast<double>(hit) / static_cast<double>(clusters.size());
}

size_t seed_sample = 0;  // --seed-sample: KMeansOptions::seed_sample (0: its default)

Outcome RunMosaic(const mosaic::io::Matrix& x, const std::vector<int32_t>& truth, size_t k,
                  int iterations, int threads, uint64_t seed) {
  mosaic::query::KMeansOptions o;
  o.k = k;
  o.max_iterations = static_cast<size_t>(iterations);
  o.tolerance = 0;  // run every iteration, as Faiss does
  o.seed = seed;
  o.threads = threads;
  o.seed_sample = seed_sample;
  const auto start = Clock::now();
  auto r = mosaic::query::KMeans(x.data.data(), x.rows, x.dim, o);
  Outcome out;
  out.seconds = Seconds(start);
  if (!r.ok()) {
    std::fprintf(stderr, "mosaic k-means failed: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  out.train_seconds = out.seconds;
  out.inertia = ExactInertia(x, r->centroids.data(), r->labels);
  out.purity = Purity(r->labels, k, truth);
  return out;
}

Outcome RunFaiss(const mosaic::io::Matrix& x, const std::vector<int32_t>& truth, size_t k,
                 int iterations, uint64_t seed) {
  faiss::ClusteringParameters p;
  p.niter = iterations;
  p.seed = static_cast<int>(seed);
  p.max_points_per_centroid = 1 << 30;
  const auto start = Clock::now();
  faiss::Clustering clus(static_cast<int>(x.dim), static_cast<int>(k), p);
  faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(x.dim));
  clus.train(static_cast<faiss::Index::idx_t>(x.rows), x.data.data(), index);
  Outcome out;
  out.train_seconds = Seconds(start);
  std::vector<float> dist(x.rows);
  std::vector<faiss::Index::idx_t> ids(x.rows);
  index.search(static_cast<faiss::Index::idx_t>(x.rows), x.data.data(), 1, dist.data(), ids.data());
  out.seconds = Seconds(start);
  std::vector<uint32_t> labels(ids.begin(), ids.end());
  out.inertia = ExactInertia(x, clus.centroids.data(), labels);
  out.purity = Purity(labels, k, truth);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("MOSAIC_DATA_DIR");
  std::string data = env != nullptr ? std::string(env) + "/fashion-mnist" : MOSAIC_DEFAULT_DATA_DIR;
  int rounds = 5, iterations = 20, threads = 2;
  std::vector<size_t> ks = {10, 256};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--iterations" && i + 1 < argc) {
      iterations = std::atoi(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--seed-sample" && i + 1 < argc) {
      seed_sample = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--k" && i + 1 < argc) {
      ks.clear();
      std::stringstream s(argv[++i]);
      for (std::string item; std::getline(s, item, ',');)
        ks.push_back(std::stoul(item));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--rounds N] [--iterations N] [--threads N] "
                   "[--k 10,256] [--seed-sample N]\n",
                   argv[0]);
      return 2;
    }
  }
  auto x = mosaic::io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz");
  auto truth = mosaic::io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz");
  if (!x.ok() || !truth.ok()) {
    std::fprintf(stderr, "cannot read Fashion-MNIST in %s: %s\n", data.c_str(),
                 (!x.ok() ? x.status() : truth.status()).ToString().c_str());
    return 1;
  }
  omp_set_num_threads(threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  std::printf(
      "cluster_bench: Fashion-MNIST train %zu x %zu, %d iterations, %d threads, %d rounds\n",
      x->rows, x->dim, iterations, threads, rounds);
  std::printf("mosaic simd: %s; faiss %d.%d.%d (%s), BLAS: %s (core %s)\n",
              mosaic::simd::LevelName(mosaic::simd::ActiveLevel()), FAISS_VERSION_MAJOR,
              FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, MOSAIC_FAISS_BUILD,
              openblas_get_config != nullptr ? openblas_get_config() : "not OpenBLAS",
              openblas_get_corename != nullptr ? openblas_get_corename() : "-");
  std::printf("load average at start: %.2f\n\n", LoadAverage());

  for (size_t k : ks) {
    std::vector<double> mt, ft, ftt, mi, fi, mp, fp, time_ratio, inertia_ratio;
    std::printf("k = %zu\n", k);
    std::printf(
        "  round  first   mosaic s  faiss s (train)   faiss/mosaic time  "
        "mosaic/faiss inertia  purity m / f   load\n");
    for (int r = 0; r < rounds; ++r) {
      const uint64_t seed = static_cast<uint64_t>(r + 1);
      Outcome m, f;
      const bool mosaic_first = r % 2 == 0;
      if (mosaic_first) {
        m = RunMosaic(*x, *truth, k, iterations, threads, seed);
        f = RunFaiss(*x, *truth, k, iterations, seed);
      } else {
        f = RunFaiss(*x, *truth, k, iterations, seed);
        m = RunMosaic(*x, *truth, k, iterations, threads, seed);
      }
      mt.push_back(m.seconds);
      ft.push_back(f.seconds);
      ftt.push_back(f.train_seconds);
      mi.push_back(m.inertia);
      fi.push_back(f.inertia);
      mp.push_back(m.purity);
      fp.push_back(f.purity);
      time_ratio.push_back(f.seconds / m.seconds);
      inertia_ratio.push_back(m.inertia / f.inertia);
      std::printf("  %5d  %-6s  %8.3f  %7.3f (%6.3f)  %17.2f  %20.4f  %.3f / %.3f  %5.2f\n", r + 1,
                  mosaic_first ? "mosaic" : "faiss", m.seconds, f.seconds, f.train_seconds,
                  time_ratio.back(), inertia_ratio.back(), m.purity, f.purity, LoadAverage());
      std::fflush(stdout);
    }
    std::printf(
        "  median: mosaic %.3f s, faiss %.3f s (train %.3f s); time faiss/mosaic %.2f; "
        "inertia mosaic/faiss %.4f (mosaic %.4e, faiss %.4e); purity mosaic %.3f, "
        "faiss %.3f\n\n",
        Median(mt), Median(ft), Median(ftt), Median(time_ratio), Median(inertia_ratio), Median(mi),
        Median(fi), Median(mp), Median(fp));
  }
  std::printf("load average at end: %.2f\n", LoadAverage());
  return 0;
}
