// flat_bench: exact k-NN throughput of Mosaic's FlatSearch against Faiss IndexFlatL2 (and, in
// batch, IndexFlatIP) on Fashion-MNIST (60k x 784 base, 10k queries), next to the machine's
// measured memory bandwidth, with a recall cross-check. Each mode runs both engines in every
// round, in alternating order (Mosaic first in even rounds, Faiss first in odd ones); the table
// shows per-engine medians over the rounds and the range of the per-round ratios. Which Faiss
// build is linked (MOSAIC_FAISS_BUILD, from bench/CMakeLists.txt) is printed first. Asserts
// nothing about timings.
//
//   flat_bench [--data DIR] [--budget SECONDS] [--rounds N]
//
// DIR holds train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz (default $MOSAIC_DATA_DIR,
// else the repository's .cache/data/fashion-mnist). Each mode runs on as many queries as fit in
// the per-mode time budget split over the rounds (all 10k when fast enough), so the whole run
// stays within minutes.
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "io/vector_file.h"
#include "simd/distance.h"

// OpenBLAS (when it is the libblas.so.3 alternative Faiss resolves to) runs sgemm on its own
// threads, ignoring OpenMP's setting; weak so the bench also links against reference BLAS.
extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));

namespace {

using Clock = std::chrono::steady_clock;
using mosaic::index::Neighbor;

constexpr size_t kK = 10;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// ---- Memory bandwidth -------------------------------------------------------------------------

// 4 x 16-byte vectors per step: plain SSE2 after lowering, so the loop itself can issue far more
// loads than memory can serve and the measurement reflects the memory system, not the loop.
using Vec4 = float __attribute__((vector_size(16)));

float ReadRange(const float* p, size_t n) {
  Vec4 a = {0, 0, 0, 0}, b = a, c = a, d = a;
  const Vec4* v = reinterpret_cast<const Vec4*>(p);
  for (size_t i = 0; i + 4 <= n / 4; i += 4) {
    a += v[i];
    b += v[i + 1];
    c += v[i + 2];
    d += v[i + 3];
  }
  Vec4 s = (a + b) + (c + d);
  return s[0] + s[1] + s[2] + s[3];
}

// Runs fn(begin, end) over [0, n) split across `threads` threads; returns the wall time.
template <typename Fn>
double TimeSplit(size_t n, int threads, Fn fn) {
  std::vector<std::thread> workers;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start;
  size_t per = (n / threads) & ~size_t{63};
  for (int t = 0; t < threads; ++t) {
    size_t b = t * per, e = t + 1 == threads ? n : b + per;
    workers.emplace_back([&, b, e] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      fn(b, e);
    });
  }
  while (ready.load() != threads) {
  }
  start = Clock::now();
  go.store(true);
  for (auto& w : workers)
    w.join();
  return Seconds(start);
}

struct Bandwidth {
  double read_gbs[3] = {0, 0, 0};  // indexed by thread count
  double copy_gbs[3] = {0, 0, 0};
};

// Best of a few repetitions over a buffer of `bytes` (2 GiB >> L3 for DRAM; the base's own size
// for what a scan of this dataset can expect, which may partly stay in a large L3).
Bandwidth MeasureBandwidth(size_t bytes, bool with_copy) {
  size_t n = bytes / sizeof(float);
  float* src = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  float* dst = with_copy ? static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))) : nullptr;
  std::memset(src, 1, n * sizeof(float));
  if (dst != nullptr) std::memset(dst, 0, n * sizeof(float));
  Bandwidth bw;
  volatile float sink = 0;
  for (int threads = 1; threads <= 2; ++threads) {
    for (int rep = 0; rep < 3; ++rep) {
      double t = TimeSplit(n, threads,
                           [&](size_t b, size_t e) { sink = sink + ReadRange(src + b, e - b); });
      bw.read_gbs[threads] = std::max(bw.read_gbs[threads], bytes / t / 1e9);
      if (dst != nullptr) {
        // STREAM convention: a copy moves its bytes twice (read + write).
        t = TimeSplit(n, threads, [&](size_t b, size_t e) {
          std::memcpy(dst + b, src + b, (e - b) * sizeof(float));
        });
        bw.copy_gbs[threads] = std::max(bw.copy_gbs[threads], 2.0 * bytes / t / 1e9);
      }
    }
  }
  std::free(src);
  std::free(dst);
  return bw;
}

// ---- Search runners ---------------------------------------------------------------------------

struct Run {
  size_t queries = 0;
  double seconds = 0;
  double qps() const { return queries / seconds; }
  std::vector<std::vector<int64_t>> ids;  // per query, for the recall check
};

// The rounds of one engine in one mode: medians are reported, and the run with the most queries
// feeds the recall check.
struct Runs {
  std::vector<double> qps, queries;
  Run longest;
  void Add(Run run) {
    qps.push_back(run.qps());
    queries.push_back(static_cast<double>(run.queries));
    if (run.queries > longest.queries) longest = std::move(run);
  }
  double median_qps() const { return mosaic::bench::Median(qps); }
  size_t median_queries() const { return static_cast<size_t>(mosaic::bench::Median(queries)); }
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual void SetThreads(int threads) = 0;
  // Top-k for queries [0, nq), ids into out (nq x kK, -1 padded).
  virtual void Search(const float* queries, size_t nq, int64_t* out) = 0;
};

class MosaicEngine : public Engine {
 public:
  MosaicEngine(const mosaic::io::Matrix& base, mosaic::Metric metric)
      : dim_(base.dim), metric_(metric) {
    block_ = {base.data.data(), 0, static_cast<uint32_t>(base.rows)};
  }
  void SetThreads(int threads) override {
    pool_ = threads > 1 ? std::make_unique<mosaic::ThreadPool>(threads) : nullptr;
  }
  void Search(const float* queries, size_t nq, int64_t* out) override {
    mosaic::index::FlatSearch({&block_, 1}, dim_, metric_, queries, nq, kK, nullptr, pool_.get(),
                              &results_);
    for (size_t i = 0; i < nq; ++i) {
      for (size_t j = 0; j < kK; ++j) {
        out[i * kK + j] = j < results_[i].size() ? results_[i][j].slot : -1;
      }
    }
  }

 private:
  size_t dim_;
  mosaic::Metric metric_;
  mosaic::index::VectorBlock block_;
  std::unique_ptr<mosaic::ThreadPool> pool_;
  std::vector<std::vector<Neighbor>> results_;
};

class FaissEngine : public Engine {
 public:
  FaissEngine(const mosaic::io::Matrix& base, faiss::MetricType metric)
      : index_(static_cast<faiss::Index::idx_t>(base.dim), metric) {
    index_.add(static_cast<faiss::Index::idx_t>(base.rows), base.data.data());
  }
  void SetThreads(int threads) override { SetThreads(threads, threads); }
  // With OpenBLAS, OpenMP workers spinning between parallel regions compete with OpenBLAS's own
  // threads for the same cores; the bench tries OpenMP at 1 and at `blas_threads` and keeps the
  // faster, so Faiss is not reported slower than it can be.
  void SetThreads(int omp_threads, int blas_threads) {
    omp_set_num_threads(omp_threads);
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(blas_threads);
  }
  void Search(const float* queries, size_t nq, int64_t* out) override {
    distances_.resize(nq * kK);
    labels_.resize(nq * kK);
    index_.search(static_cast<faiss::Index::idx_t>(nq), queries, kK, distances_.data(),
                  labels_.data());
    for (size_t i = 0; i < nq * kK; ++i)
      out[i] = labels_[i];
  }

 private:
  faiss::IndexFlat index_;
  std::vector<float> distances_;
  std::vector<faiss::Index::idx_t> labels_;
};

// One query per call, until all queries are done or the budget is spent.
Run RunSingle(Engine* engine, const mosaic::io::Matrix& queries, double budget) {
  Run run;
  std::vector<int64_t> ids(kK);
  engine->Search(queries.row(0), 1, ids.data());  // warm-up
  Clock::time_point start = Clock::now();
  for (size_t i = 0; i < queries.rows; ++i) {
    engine->Search(queries.row(i), 1, ids.data());
    run.ids.emplace_back(ids);
    if (i >= 10 && Seconds(start) > budget) break;
  }
  run.seconds = Seconds(start);
  run.queries = run.ids.size();
  return run;
}

// All queries in one call; a calibration call on a few queries sizes the batch to the budget.
Run RunBatch(Engine* engine, const mosaic::io::Matrix& queries, double budget) {
  const size_t calibration = std::min<size_t>(64, queries.rows);
  std::vector<int64_t> ids(queries.rows * kK);
  Clock::time_point start = Clock::now();
  engine->Search(queries.data.data(), calibration, ids.data());
  double per_query = Seconds(start) / calibration;
  size_t nq =
      std::clamp<size_t>(static_cast<size_t>(budget / per_query), calibration, queries.rows);

  Run run;
  start = Clock::now();
  engine->Search(queries.data.data(), nq, ids.data());
  run.seconds = Seconds(start);
  run.queries = nq;
  for (size_t i = 0; i < nq; ++i)
    run.ids.emplace_back(ids.begin() + i * kK, ids.begin() + (i + 1) * kK);
  return run;
}

// ---- Recall -----------------------------------------------------------------------------------

double ExactL2(const float* a, const float* b, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; ++i) {
    double d = double(a[i]) - b[i];
    s += d * d;
  }
  return s;
}

struct Recall {
  size_t queries = 0;
  double id_recall = -1;  // |found ∩ reference ids| / k, when reference ids are given
  double tie_recall = 0;  // found ids whose exact distance <= the reference's exact k-th
};

// `reference_kth[q]` is the exact k-th distance the reference achieves for query q.
Recall Compare(const std::vector<std::vector<int64_t>>& found,
               const std::vector<std::vector<int64_t>>* reference_ids,
               const std::vector<double>& reference_kth, const mosaic::io::Matrix& base,
               const mosaic::io::Matrix& queries, size_t nq) {
  Recall r;
  r.queries = nq;
  size_t same = 0, within = 0;
  for (size_t q = 0; q < nq; ++q) {
    for (int64_t id : found[q]) {
      if (id < 0) continue;
      if (reference_ids != nullptr) {
        const std::vector<int64_t>& ref = (*reference_ids)[q];
        if (std::find(ref.begin(), ref.end(), id) != ref.end()) ++same;
      }
      if (ExactL2(queries.row(q), base.row(id), base.dim) <= reference_kth[q]) ++within;
    }
  }
  if (reference_ids != nullptr) r.id_recall = double(same) / (nq * kK);
  r.tie_recall = double(within) / (nq * kK);
  return r;
}

std::vector<double> KthExact(const std::vector<std::vector<int64_t>>& ids,
                             const mosaic::io::Matrix& base, const mosaic::io::Matrix& queries,
                             size_t nq) {
  std::vector<double> kth(nq);
  for (size_t q = 0; q < nq; ++q) {
    double worst = 0;
    for (int64_t id : ids[q]) {
      if (id >= 0) worst = std::max(worst, ExactL2(queries.row(q), base.row(id), base.dim));
    }
    kth[q] = worst;
  }
  return kth;
}

// Double-precision brute force: the exact k-th distance of each of the first nq queries.
std::vector<double> GroundTruthKth(const mosaic::io::Matrix& base,
                                   const mosaic::io::Matrix& queries, size_t nq,
                                   mosaic::ThreadPool* pool) {
  std::vector<double> kth(nq);
  pool->ParallelFor(nq, [&](size_t begin, size_t end) {
    std::vector<double> d(base.rows);
    for (size_t q = begin; q < end; ++q) {
      for (size_t i = 0; i < base.rows; ++i)
        d[i] = ExactL2(queries.row(q), base.row(i), base.dim);
      std::nth_element(d.begin(), d.begin() + (kK - 1), d.end());
      kth[q] = d[kK - 1];
    }
  });
  return kth;
}

void PrintRecall(const char* what, const Recall& r) {
  std::printf("  %-40s %6zu queries   ", what, r.queries);
  if (r.id_recall >= 0) std::printf("id overlap %.4f   ", r.id_recall);
  std::printf("tie-aware %.4f\n", r.tie_recall);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = std::getenv("MOSAIC_DATA_DIR") != nullptr ? std::getenv("MOSAIC_DATA_DIR")
                                                                   : MOSAIC_DEFAULT_DATA_DIR;
  double budget = 9.0;
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--budget" && i + 1 < argc) {
      budget = std::atof(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--data DIR] [--budget SECONDS_PER_MODE] [--rounds N]\n",
                   argv[0]);
      return 2;
    }
  }

  auto base = mosaic::io::ReadVectorFile(data_dir + "/train-images-idx3-ubyte.gz");
  auto queries = mosaic::io::ReadVectorFile(data_dir + "/t10k-images-idx3-ubyte.gz");
  if (!base.ok() || !queries.ok()) {
    std::fprintf(stderr, "flat_bench: %s\n",
                 (!base.ok() ? base.status() : queries.status()).ToString().c_str());
    return 1;
  }
  const double base_bytes = double(base->rows) * base->dim * sizeof(float);

  std::printf(
      "Flat (exact) search, Fashion-MNIST: base %zu x %zu (%.0f MB), %zu queries, k=%zu, L2 + IP\n",
      base->rows, base->dim, base_bytes / 1e6, queries->rows, kK);
  std::printf("CPU: %s, %u hardware threads; Mosaic SIMD level: %s\n", CpuModel().c_str(),
              std::thread::hardware_concurrency(),
              mosaic::simd::LevelName(mosaic::simd::ActiveLevel()));
  std::printf("Faiss %d.%d.%d, %s (OpenMP max %d)\n", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR,
              FAISS_VERSION_PATCH, MOSAIC_FAISS_BUILD, omp_get_max_threads());
  std::printf("%d rounds per mode, alternating order, medians\n\n", rounds);

  Bandwidth dram = MeasureBandwidth(size_t{2} << 30, true);
  Bandwidth working = MeasureBandwidth(static_cast<size_t>(base_bytes), false);
  std::printf("Memory bandwidth (best of 3)          1 thread    2 threads\n");
  std::printf("  read, 2 GiB buffer (DRAM)           %6.1f GB/s  %6.1f GB/s\n", dram.read_gbs[1],
              dram.read_gbs[2]);
  std::printf("  copy, 2 GiB buffer (read+write)     %6.1f GB/s  %6.1f GB/s\n", dram.copy_gbs[1],
              dram.copy_gbs[2]);
  std::printf("  read, %3.0f MB buffer (= base size)  %6.1f GB/s  %6.1f GB/s\n\n", base_bytes / 1e6,
              working.read_gbs[1], working.read_gbs[2]);

  MosaicEngine mosaic_l2(*base, mosaic::Metric::kL2);
  FaissEngine faiss_l2(*base, faiss::METRIC_L2);
  MosaicEngine mosaic_ip(*base, mosaic::Metric::kInnerProduct);
  FaissEngine faiss_ip(*base, faiss::METRIC_INNER_PRODUCT);

  // The recall check below reads the L2 batch modes at indices 2 and 3.
  struct Mode {
    const char* name;
    bool batch;
    int threads;
    bool inner_product;
  };
  const Mode modes[] = {
      {"single query per call", false, 1, false}, {"single query per call", false, 2, false},
      {"batch (one call)", true, 1, false},       {"batch (one call)", true, 2, false},
      {"batch, inner product", true, 1, true},    {"batch, inner product", true, 2, true}};
  // Every round runs each mode for both engines, Mosaic first in even rounds and Faiss first in
  // odd ones, so neither a burst of load from other processes nor cache warmth left by the other
  // engine favours one side systematically.
  std::vector<Runs> mosaic_runs(std::size(modes)), faiss_runs(std::size(modes));
  // Faiss's 2-thread modes with OpenBLAS also run at OpenMP 1 / OpenBLAS 2; the setting with the
  // higher median is reported (marked *).
  std::vector<Runs> faiss_omp1_runs(std::size(modes));
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < std::size(modes); ++i) {
      const Mode& m = modes[i];
      auto measure = [&](Engine* engine) {
        return m.batch ? RunBatch(engine, *queries, budget / rounds)
                       : RunSingle(engine, *queries, budget / rounds);
      };
      MosaicEngine& mosaic_engine = m.inner_product ? mosaic_ip : mosaic_l2;
      FaissEngine& faiss_engine = m.inner_product ? faiss_ip : faiss_l2;
      auto run_mosaic = [&] {
        mosaic_engine.SetThreads(m.threads);
        mosaic_runs[i].Add(measure(&mosaic_engine));
      };
      auto run_faiss = [&] {
        faiss_engine.SetThreads(m.threads);
        faiss_runs[i].Add(measure(&faiss_engine));
        if (m.threads > 1 && openblas_set_num_threads != nullptr) {
          faiss_engine.SetThreads(1, m.threads);
          faiss_omp1_runs[i].Add(measure(&faiss_engine));
        }
      };
      if (round % 2 == 0) {
        run_mosaic();
        run_faiss();
      } else {
        run_faiss();
        run_mosaic();
      }
    }
  }
  std::vector<bool> omp1(std::size(modes), false);
  for (size_t i = 0; i < std::size(modes); ++i) {
    if (!faiss_omp1_runs[i].qps.empty() &&
        faiss_omp1_runs[i].median_qps() > faiss_runs[i].median_qps()) {
      faiss_runs[i] = std::move(faiss_omp1_runs[i]);
      omp1[i] = true;
    }
  }

  std::printf("%-22s %3s | %7s %9s %8s %8s | %7s %10s | %7s %13s\n", "mode", "thr", "queries",
              "Mosaic q/s", "scan GB/s", "of DRAM", "queries", "Faiss q/s", "M/F", "M/F per round");
  std::printf("%-22s %3s | %7s %9s %8s %8s | %7s %10s | %7s %13s\n", "", "", "", "", "", "read BW",
              "", "", "", "min - max");
  for (size_t i = 0; i < std::size(modes); ++i) {
    const Runs& m = mosaic_runs[i];
    const Runs& f = faiss_runs[i];
    // Per-round ratios pair the runs of one round (the reported Faiss setting's runs).
    double lo = 0, hi = 0;
    for (size_t r = 0; r < m.qps.size() && r < f.qps.size(); ++r) {
      double ratio = m.qps[r] / f.qps[r];
      lo = r == 0 ? ratio : std::min(lo, ratio);
      hi = r == 0 ? ratio : std::max(hi, ratio);
    }
    double scan_gbs = m.median_qps() * base_bytes / 1e9;
    std::printf("%-22s %3d | %7zu %9.1f %8.1f %7.0f%% | %7zu %9.1f%c | %6.2fx %5.2f - %5.2f\n",
                modes[i].name, modes[i].threads, m.median_queries(), m.median_qps(), scan_gbs,
                100 * scan_gbs / dram.read_gbs[modes[i].threads], f.median_queries(),
                f.median_qps(), omp1[i] ? '*' : ' ', m.median_qps() / f.median_qps(), lo, hi);
  }
  std::printf(
      "\nscan GB/s = queries/s x %.0f MB of base vectors. In batch mode each tile of the base is\n"
      "read once and swept by every query of a thread, so the logical rate can exceed the memory\n"
      "bandwidth. Inner-product modes use IndexFlatIP on the same raw vectors. queries and q/s\n"
      "are medians over the rounds; * = Faiss at OpenMP 1 / OpenBLAS 2 threads (faster here).\n"
      "For reference, read bandwidth over a buffer the size of the base: %.1f / %.1f GB/s\n"
      "(1 / 2 threads); single-query mode reaches %.0f%% / %.0f%% of it.\n\n",
      base_bytes / 1e6, working.read_gbs[1], working.read_gbs[2],
      100 * mosaic_runs[0].median_qps() * base_bytes / 1e9 / working.read_gbs[1],
      100 * mosaic_runs[1].median_qps() * base_bytes / 1e9 / working.read_gbs[2]);

  // Recall: Mosaic against Faiss on the batch queries both ran, and both against a
  // double-precision brute force. Tie-aware counts a hit as correct when its exact distance is
  // no worse than the reference's k-th, so equal-distance neighbours are not counted as misses.
  mosaic::ThreadPool pool(2);
  auto longest = [](const Runs& a, const Runs& b) -> const Run& {
    return a.longest.queries >= b.longest.queries ? a.longest : b.longest;
  };
  const Run& mb = longest(mosaic_runs[3], mosaic_runs[2]);
  const Run& fb = longest(faiss_runs[3], faiss_runs[2]);
  size_t common = std::min(mb.queries, fb.queries);
  std::printf("Recall@%zu\n", kK);
  PrintRecall(
      "Mosaic vs Faiss top-10",
      Compare(mb.ids, &fb.ids, KthExact(fb.ids, *base, *queries, common), *base, *queries, common));
  size_t exact_n = std::min<size_t>(common, 300);
  std::vector<double> truth = GroundTruthKth(*base, *queries, exact_n, &pool);
  PrintRecall("Mosaic vs double-precision brute force",
              Compare(mb.ids, nullptr, truth, *base, *queries, exact_n));
  PrintRecall("Faiss vs double-precision brute force",
              Compare(fb.ids, nullptr, truth, *base, *queries, exact_n));
  return 0;
}
