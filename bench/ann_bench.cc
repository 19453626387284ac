// ann_bench: approximate k-NN (HNSW) on Fashion-MNIST-784: Mosaic's HnswIndex against hnswlib
// (header-only, Debian libhnswlib-dev) and Faiss IndexHNSWFlat, all with the same M and
// ef_construction, measured in the same run. Prints build time and memory (1 and 2 threads),
// an ef sweep of recall@10 against queries/s (single thread), the queries/s each library reaches
// at recall@10 = 0.95 (interpolated between sweep points) with Mosaic's ratios, and Mosaic's
// filtered search at several allow-set selectivities next to an exact scan of the allowed rows.
// "mosaic-sq8" is the same graph walked over SQ8 codes and re-scored with f32 (HnswParams::sq8);
// its memory line compares the f32 rows with the codes.
// Asserts nothing about timings.
//
//   ann_bench [--data DIR] [--queries N] [--metric l2|cosine|both]
//
// DIR holds train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz (default $MOSAIC_DATA_DIR,
// else the repository's .cache/data/fashion-mnist). The cosine variant normalizes base and
// queries and searches by inner product.
#include <faiss/IndexHNSW.h>
#include <hnswlib/hnswlib.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/bitset.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "index/hnsw/hnsw_index.h"
#include "io/vector_file.h"
#include "simd/distance.h"

extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));

namespace {

using Clock = std::chrono::steady_clock;
using mosaic::Metric;
using mosaic::index::HnswIndex;
using mosaic::index::HnswParams;
using mosaic::index::Neighbor;

constexpr size_t kK = 10;
constexpr uint32_t kM = 16;
constexpr uint32_t kEfConstruction = 200;
const std::vector<size_t> kEfSweep = {10, 16, 24, 32, 48, 64, 96, 128, 256};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

class MatrixRows final : public mosaic::index::VectorRows {
 public:
  explicit MatrixRows(const mosaic::io::Matrix& m) : m_(m) {}
  const float* Row(uint32_t slot) const override { return m_.row(slot); }

 private:
  const mosaic::io::Matrix& m_;
};

// Runs fn(i) for i in [0, n) on `threads` threads pulling indexes from a shared counter.
template <typename Fn>
void ParallelIndexes(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> extra;
  for (int t = 1; t < threads; ++t) extra.emplace_back(work);
  work();
  for (auto& t : extra) t.join();
}

// ---- engines -----------------------------------------------------------------------------------

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;
  virtual void Build(const mosaic::io::Matrix& base, int threads) = 0;
  virtual size_t GraphBytes() const = 0;  // without the vectors
  virtual void SetEf(size_t ef) = 0;
  // Top-k ids of one query, -1 padded.
  virtual void Search(const float* q, int64_t* out) = 0;
};

class MosaicEngine final : public Engine {
 public:
  MosaicEngine(Metric metric, bool sq8) : metric_(metric), sq8_(sq8) {}
  const char* name() const override { return sq8_ ? "mosaic-sq8" : "mosaic"; }
  void Build(const mosaic::io::Matrix& base, int threads) override {
    rows_ = std::make_unique<MatrixRows>(base);
    HnswParams p;
    p.M = kM;
    p.ef_construction = kEfConstruction;
    p.sq8 = sq8_;
    index_ = std::make_unique<HnswIndex>(static_cast<uint32_t>(base.dim), metric_, p, rows_.get());
    std::vector<uint32_t> slots(base.rows);
    for (size_t i = 0; i < slots.size(); ++i) slots[i] = static_cast<uint32_t>(i);
    mosaic::ThreadPool pool(threads);
    mosaic::Status st = index_->AddBatch(slots, threads > 1 ? &pool : nullptr);
    if (!st.ok()) {
      std::fprintf(stderr, "mosaic build failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  // Codes included for SQ8: they replace the f32 rows during the walk.
  size_t GraphBytes() const override { return index_->MemoryBytes(); }
  void SetEf(size_t ef) override { params_.ef = ef; }
  void Search(const float* q, int64_t* out) override {
    std::vector<Neighbor> r = index_->Search(q, kK, params_, nullptr);
    for (size_t j = 0; j < kK; ++j) out[j] = j < r.size() ? r[j].slot : -1;
  }
  HnswIndex* index() { return index_.get(); }

 private:
  Metric metric_;
  bool sq8_;
  std::unique_ptr<MatrixRows> rows_;
  std::unique_ptr<HnswIndex> index_;
  mosaic::index::IndexSearchParams params_;
};

class HnswlibEngine final : public Engine {
 public:
  explicit HnswlibEngine(Metric metric) : metric_(metric) {}
  const char* name() const override { return "hnswlib"; }
  void Build(const mosaic::io::Matrix& base, int threads) override {
    if (metric_ == Metric::kL2) {
      space_ = std::make_unique<hnswlib::L2Space>(base.dim);
    } else {
      space_ = std::make_unique<hnswlib::InnerProductSpace>(base.dim);
    }
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), base.rows, kM,
                                                               kEfConstruction);
    // hnswlib's own examples insert the first point alone before going parallel.
    index_->addPoint(base.row(0), 0);
    ParallelIndexes(base.rows - 1, threads,
                    [&](size_t i) { index_->addPoint(base.row(i + 1), i + 1); });
    vector_bytes_ = base.rows * base.dim * sizeof(float);
  }
  size_t GraphBytes() const override {
    size_t bytes = index_->max_elements_ * index_->size_data_per_element_ - vector_bytes_;
    for (size_t i = 0; i < index_->cur_element_count; ++i) {
      bytes += index_->element_levels_[i] * index_->size_links_per_element_;
    }
    return bytes + index_->max_elements_ * (sizeof(int) + sizeof(std::mutex)) +
           index_->label_lookup_.size() * (sizeof(size_t) + sizeof(uint32_t) + 16);
  }
  void SetEf(size_t ef) override { index_->setEf(ef); }
  void Search(const float* q, int64_t* out) override {
    auto pq = index_->searchKnn(q, kK);
    size_t n = pq.size();
    for (size_t j = n; j < kK; ++j) out[j] = -1;
    while (!pq.empty()) {
      out[--n] = static_cast<int64_t>(pq.top().second);
      pq.pop();
    }
  }

 private:
  Metric metric_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
  size_t vector_bytes_ = 0;
};

class FaissEngine final : public Engine {
 public:
  explicit FaissEngine(Metric metric) : metric_(metric) {}
  const char* name() const override { return "faiss"; }
  void Build(const mosaic::io::Matrix& base, int threads) override {
    SetThreads(threads);
    index_ = std::make_unique<faiss::IndexHNSWFlat>(
        static_cast<int>(base.dim), static_cast<int>(kM),
        metric_ == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT);
    index_->hnsw.efConstruction = kEfConstruction;
    index_->add(static_cast<faiss::Index::idx_t>(base.rows), base.data.data());
    SetThreads(1);
  }
  size_t GraphBytes() const override {
    const faiss::HNSW& h = index_->hnsw;
    return h.neighbors.size() * sizeof(h.neighbors[0]) + h.levels.size() * sizeof(h.levels[0]) +
           h.offsets.size() * sizeof(h.offsets[0]) +
           h.assign_probas.size() * sizeof(double) + h.cum_nneighbor_per_level.size() * 4;
  }
  void SetEf(size_t ef) override { index_->hnsw.efSearch = static_cast<int>(ef); }
  void Search(const float* q, int64_t* out) override {
    float d[kK];
    faiss::Index::idx_t ids[kK];
    index_->search(1, q, kK, d, ids);
    for (size_t j = 0; j < kK; ++j) out[j] = ids[j];
  }
  static void SetThreads(int threads) {
    omp_set_num_threads(threads);
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  }

 private:
  Metric metric_;
  std::unique_ptr<faiss::IndexHNSWFlat> index_;
};

// ---- measurement -------------------------------------------------------------------------------

double Recall(const std::vector<int64_t>& got, const std::vector<std::vector<Neighbor>>& truth) {
  double hits = 0, total = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    for (const Neighbor& t : truth[i]) {
      total += 1;
      for (size_t j = 0; j < kK; ++j) {
        if (got[i * kK + j] == t.slot) {
          hits += 1;
          break;
        }
      }
    }
  }
  return total == 0 ? 1.0 : hits / total;
}

struct Point {
  size_t ef;
  double recall;
  double qps;
};

// Queries/s with `threads` threads over all queries, best of `rounds`; fills ids.
double TimeSearch(Engine* e, const mosaic::io::Matrix& queries, size_t nq, int threads,
                  std::vector<int64_t>* ids, int rounds) {
  ids->assign(nq * kK, -1);
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    auto start = Clock::now();
    if (threads == 1) {
      for (size_t i = 0; i < nq; ++i) e->Search(queries.row(i), ids->data() + i * kK);
    } else {
      ParallelIndexes(nq, threads, [&](size_t i) { e->Search(queries.row(i), ids->data() + i * kK); });
    }
    best = std::max(best, nq / Seconds(start));
  }
  return best;
}

// Queries/s at `target` recall, interpolating log(q/s) linearly in recall between the sweep's
// points that bracket it; 0 when the sweep never reaches it.
double QpsAt(const std::vector<Point>& sweep, double target) {
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (sweep[i].recall < target) continue;
    if (i == 0) return sweep[0].qps;
    const Point& a = sweep[i - 1];
    const Point& b = sweep[i];
    double t = (target - a.recall) / (b.recall - a.recall);
    return std::exp(std::log(a.qps) + t * (std::log(b.qps) - std::log(a.qps)));
  }
  return 0;
}

void Normalize(mosaic::io::Matrix* m) {
  for (size_t i = 0; i < m->rows; ++i) {
    float* r = m->data.data() + i * m->dim;
    float n = std::sqrt(mosaic::simd::NormSqr(r, m->dim));
    if (n > 0) {
      for (size_t d = 0; d < m->dim; ++d) r[d] /= n;
    }
  }
}

void RunMetric(const mosaic::io::Matrix& base, const mosaic::io::Matrix& queries, size_t nq,
               Metric metric, bool single_thread_builds) {
  std::printf("\n==== %s: %zu base x %zu dims, %zu queries, k = %zu, M = %u, ef_construction = %u\n",
              metric == Metric::kL2 ? "L2" : "cosine (normalized, inner product)", base.rows,
              base.dim, nq, kK, kM, kEfConstruction);
  mosaic::ThreadPool pool(2);
  mosaic::index::VectorBlock block{base.data.data(), 0, static_cast<uint32_t>(base.rows)};
  std::vector<std::vector<Neighbor>> truth;
  mosaic::index::FlatSearch({&block, 1}, base.dim, metric, queries.data.data(), nq, kK, nullptr,
                            &pool, &truth);

  std::vector<std::unique_ptr<Engine>> engines;
  engines.push_back(std::make_unique<MosaicEngine>(metric, false));
  engines.push_back(std::make_unique<MosaicEngine>(metric, true));
  engines.push_back(std::make_unique<HnswlibEngine>(metric));
  engines.push_back(std::make_unique<FaissEngine>(metric));

  // mosaic-sq8's graph MB includes its codes (the f32 rows are excluded for every engine).
  std::printf("\nBuild                 1 thread s   2 threads s   graph MB (excl. vectors)\n");
  for (auto& e : engines) {
    double t1 = 0;
    // Faiss's build is several times slower than the others; its 1-thread build alone would
    // take most of the run's time budget, so only its 2-thread build is timed.
    const bool time_single = single_thread_builds && std::string(e->name()) != "faiss";
    if (time_single) {
      auto start = Clock::now();
      e->Build(base, 1);
      t1 = Seconds(start);
    }
    auto start = Clock::now();
    e->Build(base, 2);
    double t2 = Seconds(start);
    char one[32] = "-";
    if (time_single) std::snprintf(one, sizeof(one), "%.1f", t1);
    std::printf("  %-18s %12s %13.1f %14.1f\n", e->name(), one, t2, e->GraphBytes() / 1e6);
    std::fflush(stdout);
  }

  std::printf("\nef sweep, 1 thread: recall@10 / queries/s\n  %5s", "ef");
  for (auto& e : engines) std::printf(" | %8s recall      q/s", e->name());
  std::printf("\n");
  std::vector<std::vector<Point>> sweeps(engines.size());
  std::vector<int64_t> ids;
  for (size_t ef : kEfSweep) {
    std::printf("  %5zu", ef);
    for (size_t i = 0; i < engines.size(); ++i) {
      engines[i]->SetEf(ef);
      double qps = TimeSearch(engines[i].get(), queries, nq, 1, &ids, 2);
      double recall = Recall(ids, truth);
      sweeps[i].push_back({ef, recall, qps});
      std::printf(" | %15.4f %8.0f", recall, qps);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("\nAt recall@10 = 0.95 (interpolated), 1 thread:\n");
  std::vector<double> at(engines.size());
  for (size_t i = 0; i < engines.size(); ++i) {
    at[i] = QpsAt(sweeps[i], 0.95);
    std::printf("  %-8s %8.0f q/s\n", engines[i]->name(), at[i]);
  }
  // engines: mosaic, mosaic-sq8, hnswlib, faiss.
  for (size_t m = 0; m < 2; ++m) {
    for (size_t peer = 2; peer < 4; ++peer) {
      if (at[m] > 0 && at[peer] > 0) {
        std::printf("  %-10s / %-8s %.2fx\n", engines[m]->name(), engines[peer]->name(),
                    at[m] / at[peer]);
      }
    }
  }

  const size_t f32_bytes = base.rows * base.dim * sizeof(float);
  HnswIndex* sq8 = static_cast<MosaicEngine*>(engines[1].get())->index();
  std::printf("\nMemory, mosaic-sq8: f32 rows %.1f MB, SQ8 codes %.1f MB (%.2fx of f32), "
              "graph + codes %.1f MB\n",
              f32_bytes / 1e6, sq8->CodeBytes() / 1e6,
              static_cast<double>(sq8->CodeBytes()) / static_cast<double>(f32_bytes),
              sq8->MemoryBytes() / 1e6);

  std::printf("\n2 threads at ef = 64: queries/s (recall)\n");
  for (auto& e : engines) {
    e->SetEf(64);
    if (std::string(e->name()) == "faiss") FaissEngine::SetThreads(1);
    double qps = TimeSearch(e.get(), queries, nq, 2, &ids, 2);
    std::printf("  %-8s %8.0f (%.4f)\n", e->name(), qps, Recall(ids, truth));
  }

  if (metric != Metric::kL2) return;
  // Filtered: random attributes at each selectivity; exact top-10 over the allowed rows is the
  // reference, and its scan rate is the planner's alternative.
  HnswIndex* index = static_cast<MosaicEngine*>(engines[0].get())->index();
  std::printf("\nFiltered (mosaic, random allow-sets, ef = 64 (see HnswIndex::EffectiveEf), 1 thread; exact = batch FlatSearch with the bitset)\n");
  std::printf("  %11s %9s %9s %10s %10s %14s\n", "selectivity", "allowed", "eff. ef", "recall",
              "hnsw q/s", "exact scan q/s");
  std::mt19937_64 rng(7);
  for (double sel : {0.5, 0.1, 0.01, 0.001}) {
    mosaic::Bitset allow(base.rows);
    std::bernoulli_distribution keep(sel);
    for (size_t i = 0; i < base.rows; ++i) {
      if (keep(rng)) allow.Set(i);
    }
    std::vector<std::vector<Neighbor>> ftruth;
    auto start = Clock::now();
    mosaic::index::FlatSearch({&block, 1}, base.dim, metric, queries.data.data(), nq, kK, &allow,
                              nullptr, &ftruth);
    double exact_qps = nq / Seconds(start);
    mosaic::index::IndexSearchParams p;
    p.ef = 64;
    std::vector<int64_t> got(nq * kK, -1);
    start = Clock::now();
    for (size_t i = 0; i < nq; ++i) {
      auto r = index->Search(queries.row(i), kK, p, &allow);
      for (size_t j = 0; j < r.size(); ++j) got[i * kK + j] = r[j].slot;
    }
    double qps = nq / Seconds(start);
    std::printf("  %10.1f%% %9zu %9zu %10.4f %10.0f %14.0f\n", sel * 100, allow.Count(),
                index->EffectiveEf(kK, 64, allow.Count(), index->size()), Recall(got, ftruth),
                qps, exact_qps);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = std::getenv("MOSAIC_DATA_DIR") != nullptr ? std::getenv("MOSAIC_DATA_DIR")
                                                                   : MOSAIC_DEFAULT_DATA_DIR;
  size_t nq = 2000;
  std::string which = "both";
  bool single_thread_builds = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--queries" && i + 1 < argc) {
      nq = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--metric" && i + 1 < argc) {
      which = argv[++i];
    } else if (arg == "--no-single-thread-builds") {
      single_thread_builds = false;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--queries N] [--metric l2|cosine|both] "
                   "[--no-single-thread-builds]\n",
                   argv[0]);
      return 2;
    }
  }
  auto base = mosaic::io::ReadVectorFile(data_dir + "/train-images-idx3-ubyte.gz");
  auto queries = mosaic::io::ReadVectorFile(data_dir + "/t10k-images-idx3-ubyte.gz");
  if (!base.ok() || !queries.ok()) {
    std::fprintf(stderr, "cannot read Fashion-MNIST from %s: %s %s\n", data_dir.c_str(),
                 base.status().ToString().c_str(), queries.status().ToString().c_str());
    return 1;
  }
  nq = std::min(nq, queries->rows);
  std::printf("ann_bench: mosaic simd level %s; hnswlib compiled with %s; faiss %d.%d.%d (%s)\n",
              mosaic::simd::LevelName(mosaic::simd::ActiveLevel()),
#if defined(__AVX512F__)
              "-march=native (AVX-512 kernels)",
#elif defined(__AVX__)
              "AVX",
#else
              "SSE",
#endif
              FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, MOSAIC_FAISS_BUILD);
  if (which == "l2" || which == "both") RunMetric(*base, *queries, nq, Metric::kL2, single_thread_builds);
  if (which == "cosine" || which == "both") {
    Normalize(&*base);
    Normalize(&*queries);
    RunMetric(*base, *queries, nq, Metric::kCosine, false);
  }
  return 0;
}
