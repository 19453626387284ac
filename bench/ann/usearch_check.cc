// usearch_check: does this build give USearch its fast kernels, and where does it stand against
// hnswlib (header-only, -march=native, Debian libhnswlib-dev) on Fashion-MNIST-784? Prints
//   1. the kernel each USearch engine runs (bench/ann/usearch_engine.h) for L2 and inner product;
//   2. the cost of one 784-d distance in each, next to hnswlib's and Mosaic's kernels;
//   3. HNSW with M = 16, ef_construction = 200, single thread, measured in the same run: build
//      time, then recall@10 and queries/s at several ef (median of rounds, engine order
//      alternating per round), with ratios to hnswlib at matched ef;
//   4. the adapter's 2-thread and filtered paths (recall only).
// Times are the thread's CPU time, not the wall clock: on the shared 2-core machine the wall
// clock doubles whenever another process takes the core, CPU time does not.
// Built twice from this file: usearch_check (bench_usearch: NumKong run-time dispatch) and
// usearch_check_plain (USearch header-only with its defaults: no NumKong, no OpenMP), the build
// whose kernels GCC leaves scalar (bench/README.md, "USearch build"). Asserts nothing.
//
//   usearch_check [--data DIR] [--queries N] [--rounds R] [--metric l2|cosine] [--kernels-only]
//                 [--engines hnswlib,usearch,usearch-f32-nk,usearch-f16,usearch-i8]
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ann/hnswlib_engine.h"
#include "ann/usearch_engine.h"
#include "bench_util.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "io/vector_file.h"
#include "simd/distance.h"

namespace {

using mosaic::Metric;
using mosaic::bench::AnnEngine;
using mosaic::bench::GraphParams;
using mosaic::bench::HnswlibEngine;
using mosaic::bench::UsearchEngine;
using mosaic::bench::UsearchScalar;
namespace us = unum::usearch;

constexpr size_t kK = 10;

// hnswlib's own counter adds up neighbour lists, visited or not; this counts the calls.
hnswlib::DISTFUNC<float> counted_dist = nullptr;
size_t dist_calls = 0;
float CountingDist(const void* a, const void* b, const void* param) {
  ++dist_calls;
  return counted_dist(a, b, param);
}

// Distance computations per query, every layer (USearch returns them with each result; hnswlib's
// are counted through its distance function pointer), at the engine's current ef. 0 when not
// known (usearch-i8, whose queries the adapter quantizes first).
double DistancesPerQuery(AnnEngine* engine, const mosaic::io::Matrix& queries, size_t nq) {
  double total = 0;
  if (auto* h = dynamic_cast<HnswlibEngine*>(engine)) {
    hnswlib::HierarchicalNSW<float>& index = h->index();
    counted_dist = index.fstdistfunc_;
    index.fstdistfunc_ = &CountingDist;
    dist_calls = 0;
    for (size_t q = 0; q < nq; ++q)
      index.searchKnn(queries.row(q), kK);
    index.fstdistfunc_ = counted_dist;
    total = static_cast<double>(dist_calls);
  } else if (auto* u = dynamic_cast<UsearchEngine*>(engine);
             u != nullptr && u->name() != "usearch-i8") {
    for (size_t q = 0; q < nq; ++q)
      total += u->index().search(queries.row(q), kK, 0).computed_distances;
  }
  return total / static_cast<double>(nq);
}

template <typename T>
T* AlignUp(T* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<T*>((a + 63) & ~uintptr_t{63});
}

// CPU nanoseconds per call of each kernel over every pair of `rows` rows (they stay in cache):
// the kernels take turns, `rounds` times, and each reports its median.
std::vector<double> NsPerDistance(const std::vector<std::function<float(size_t, size_t)>>& kernels,
                                  size_t rows, int rounds) {
  std::vector<std::vector<double>> ns(kernels.size());
  volatile float sink = 0;
  for (int r = 0; r < rounds; ++r) {
    for (size_t k = 0; k < kernels.size(); ++k) {
      double start = mosaic::bench::ThreadCpuSeconds();
      float acc = 0;
      for (size_t i = 0; i < rows; ++i) {
        for (size_t j = 0; j < rows; ++j)
          acc += kernels[k](i, j);
      }
      sink = sink + acc;
      ns[k].push_back((mosaic::bench::ThreadCpuSeconds() - start) * 1e9 / (rows * rows));
    }
  }
  std::vector<double> medians;
  for (auto& v : ns)
    medians.push_back(mosaic::bench::Median(v));
  return medians;
}

void KernelCosts(const mosaic::io::Matrix& base, Metric metric, int rounds) {
  const size_t rows = 256, dim = base.dim;
  std::vector<std::string> labels;
  std::vector<std::function<float(size_t, size_t)>> kernels;
  // Every kernel reads rows starting on a 64-byte boundary, so that none pays for split loads.
  std::vector<float> aligned_rows(rows * dim + 16);
  float* rows_f32 = AlignUp(aligned_rows.data());
  std::copy_n(base.data.data(), rows * dim, rows_f32);
  auto f32 = [&](size_t i) { return rows_f32 + i * dim; };
  labels.push_back("mosaic::simd (run-time dispatch)");
  kernels.push_back([&](size_t i, size_t j) {
    return metric == Metric::kL2 ? mosaic::simd::L2Sqr(f32(i), f32(j), dim)
                                 : mosaic::simd::Dot(f32(i), f32(j), dim);
  });
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (metric == Metric::kL2) {
    space = std::make_unique<hnswlib::L2Space>(dim);
  } else {
    space = std::make_unique<hnswlib::InnerProductSpace>(dim);
  }
  auto fn = space->get_dist_func();
  void* param = space->get_dist_func_param();
  labels.push_back("hnswlib fstdistfunc");
  kernels.push_back([&](size_t i, size_t j) { return fn(f32(i), f32(j), param); });

  // Each engine's metric on rows cast as index_dense_t casts them.
  std::vector<us::metric_punned_t> metrics;
  std::vector<std::vector<us::byte_t>> stored;
  for (UsearchScalar sc :
       {UsearchScalar::kF32, UsearchScalar::kF32NumKong, UsearchScalar::kF16, UsearchScalar::kI8}) {
    UsearchEngine engine(sc);
    metrics.push_back(engine.MakeMetric(dim, engine.KindFor(metric)));
    const size_t bytes = metrics.back().bytes_per_vector();
    stored.emplace_back(rows * bytes + 64);
    auto cast = us::casts_punned_t::make(metrics.back().scalar_kind()).from.f32;
    for (size_t i = 0; i < rows; ++i) {
      auto* in = reinterpret_cast<const us::byte_t*>(f32(i));
      us::byte_t* out = AlignUp(stored.back().data()) + i * bytes;
      if (!cast(in, dim, out)) std::copy_n(in, bytes, out);
    }
    labels.push_back(engine.name() + " (" + engine.KernelName(engine.KindFor(metric)) + ")");
  }
  for (size_t e = 0; e < metrics.size(); ++e) {
    kernels.push_back([&, e](size_t i, size_t j) {
      const size_t bytes = metrics[e].bytes_per_vector();
      const us::byte_t* rows_e = AlignUp(stored[e].data());
      return metrics[e](rows_e + i * bytes, rows_e + j * bytes);
    });
  }

  std::printf(
      "\nOne %zu-d %s distance, CPU ns (%zu x %zu pairs in cache, median of %d, in turns):\n", dim,
      metric == Metric::kL2 ? "L2" : "cosine", rows, rows, rounds);
  std::vector<double> ns = NsPerDistance(kernels, rows, rounds);
  for (size_t k = 0; k < kernels.size(); ++k) {
    std::printf("  %-44s %6.1f  x%.2f of hnswlib's\n", labels[k].c_str(), ns[k], ns[k] / ns[1]);
  }
}

double Recall(const std::vector<int64_t>& got,
              const std::vector<std::vector<mosaic::index::Neighbor>>& truth) {
  double hits = 0, total = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    for (const auto& t : truth[i]) {
      total += 1;
      hits += std::count(got.begin() + i * kK, got.begin() + (i + 1) * kK, t.slot) > 0;
    }
  }
  return total == 0 ? 1.0 : hits / total;
}

void Normalize(mosaic::io::Matrix* m) {
  for (size_t i = 0; i < m->rows; ++i) {
    float* r = m->data.data() + i * m->dim;
    float n = std::sqrt(mosaic::simd::NormSqr(r, m->dim));
    if (n > 0) {
      for (size_t d = 0; d < m->dim; ++d)
        r[d] /= n;
    }
  }
}

#if USEARCH_USE_NUMKONG
// The adapter's other paths, for "usearch" (f32): a 2-thread build and 2 threads searching with
// their own thread ids (recall close to one thread's), and filtered search against the exact
// top-10 of the allowed rows.
void AdapterChecks(const mosaic::io::Matrix& base, const mosaic::io::Matrix& queries, size_t nq,
                   Metric metric, const std::vector<std::vector<mosaic::index::Neighbor>>& truth) {
  UsearchEngine engine(UsearchScalar::kF32);
  const size_t ef = 64;
  auto start = mosaic::bench::Clock::now();
  engine.Build(base, metric, GraphParams{}, 2);
  double build_s = mosaic::bench::Seconds(start, mosaic::bench::Clock::now());
  engine.SetEf(ef);
  engine.PrepareSearch(2);
  std::vector<int64_t> ids(nq * kK);
  std::thread other([&] {
    for (size_t q = 1; q < nq; q += 2)
      engine.Search(queries.row(q), kK, 1, &ids[q * kK]);
  });
  for (size_t q = 0; q < nq; q += 2)
    engine.Search(queries.row(q), kK, 0, &ids[q * kK]);
  other.join();
  std::printf("\nusearch, 2 threads: build %.1f s wall; search at ef = %zu, recall@10 %.4f\n",
              build_s, ef, Recall(ids, truth));

  std::printf("Filtered (usearch, ef = %zu, random allow-sets): selectivity, recall@10 vs exact\n",
              ef);
  mosaic::index::VectorBlock block{base.data.data(), 0, static_cast<uint32_t>(base.rows)};
  std::mt19937_64 rng(7);
  for (double sel : {0.5, 0.1, 0.01}) {
    mosaic::Bitset allow(base.rows);
    std::bernoulli_distribution keep(sel);
    for (size_t i = 0; i < base.rows; ++i) {
      if (keep(rng)) allow.Set(i);
    }
    std::vector<std::vector<mosaic::index::Neighbor>> ftruth;
    mosaic::index::FlatSearch({&block, 1}, base.dim, metric, queries.data.data(), nq, kK, &allow,
                              nullptr, &ftruth);
    for (size_t q = 0; q < nq; ++q)
      engine.SearchFiltered(queries.row(q), kK, allow, 0, &ids[q * kK]);
    std::printf("  %5.1f%%  %.4f\n", sel * 100, Recall(ids, ftruth));
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = std::getenv("MOSAIC_DATA_DIR") != nullptr ? std::getenv("MOSAIC_DATA_DIR")
                                                                   : MOSAIC_DEFAULT_DATA_DIR;
  size_t nq = 1000;
  int rounds = 5;
  Metric metric = Metric::kL2;
  bool kernels_only = false;
  std::string only;  // comma-separated engine names; empty: all
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--queries" && i + 1 < argc) {
      nq = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--metric" && i + 1 < argc) {
      metric = std::string(argv[++i]) == "cosine" ? Metric::kCosine : Metric::kL2;
    } else if (arg == "--engines" && i + 1 < argc) {
      only = "," + std::string(argv[++i]) + ",";
    } else if (arg == "--kernels-only") {
      kernels_only = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--queries N] [--rounds R] [--metric l2|cosine] "
                   "[--kernels-only] [--engines a,b]\n",
                   argv[0]);
      return 2;
    }
  }
  auto base = mosaic::io::ReadVectorFile(data_dir + "/train-images-idx3-ubyte.gz");
  auto queries = mosaic::io::ReadVectorFile(data_dir + "/t10k-images-idx3-ubyte.gz");
  if (!base.ok()) mosaic::bench::Die("usearch_check", base.status().ToString());
  if (!queries.ok()) mosaic::bench::Die("usearch_check", queries.status().ToString());
  nq = std::min(nq, queries->rows);
  if (metric == Metric::kCosine) {
    Normalize(&*base);
    Normalize(&*queries);
  }

  std::vector<std::unique_ptr<AnnEngine>> engines;
  engines.push_back(std::make_unique<HnswlibEngine>());
  engines.push_back(std::make_unique<UsearchEngine>(UsearchScalar::kF32));
  engines.push_back(std::make_unique<UsearchEngine>(UsearchScalar::kF32NumKong));
  engines.push_back(std::make_unique<UsearchEngine>(UsearchScalar::kF16));
  engines.push_back(std::make_unique<UsearchEngine>(UsearchScalar::kI8));
  if (!only.empty()) {
    std::erase_if(engines,
                  [&](const auto& e) { return only.find("," + e->name() + ",") == only.npos; });
  }
  if (engines.empty() || engines[0]->name() != "hnswlib") {
    mosaic::bench::Die("usearch_check", "--engines must include hnswlib (the ratios' base)");
  }
  std::printf("usearch_check: %zu base x %zu dims, %zu queries, %s, k = %zu\n", base->rows,
              base->dim, nq, mosaic::MetricName(metric), kK);
  for (auto& e : engines)
    std::printf("  %-14s %s\n", e->name().c_str(), e->build_info().c_str());
  KernelCosts(*base, metric, rounds);
  if (kernels_only) return 0;

  mosaic::ThreadPool pool(2);
  mosaic::index::VectorBlock block{base->data.data(), 0, static_cast<uint32_t>(base->rows)};
  std::vector<std::vector<mosaic::index::Neighbor>> truth;
  mosaic::index::FlatSearch({&block, 1}, base->dim, metric, queries->data.data(), nq, kK, nullptr,
                            &pool, &truth);

  GraphParams params;
  std::printf("\nBuild, 1 thread (M = %u, ef_construction = %u): CPU seconds, memory MB\n",
              params.M, params.ef_construction);
  std::vector<double> build_s(engines.size());
  for (size_t i = 0; i < engines.size(); ++i) {
    double start = mosaic::bench::ThreadCpuSeconds();
    engines[i]->Build(*base, metric, params, 1);
    build_s[i] = mosaic::bench::ThreadCpuSeconds() - start;
    engines[i]->PrepareSearch(1);
    std::printf("  %-14s %7.1f s  %7.1f MB (graph %.1f MB)   x%.2f of hnswlib's time\n",
                engines[i]->name().c_str(), build_s[i], engines[i]->MemoryBytes() / 1e6,
                engines[i]->GraphBytes() / 1e6, build_s[i] / build_s[0]);
    std::fflush(stdout);
  }

  std::printf(
      "\nSearch, 1 thread: recall@10 and queries per CPU second (median of %d rounds; x = / "
      "hnswlib)\n",
      rounds);
  std::printf("  %5s", "ef");
  for (auto& e : engines)
    std::printf(" | %-14s recall     q/s      x", e->name().c_str());
  std::printf("\n");
  std::vector<int64_t> ids(nq * kK);
  for (size_t ef : {16, 32, 64, 128, 256}) {
    std::vector<std::vector<double>> qps(engines.size());
    std::vector<double> recall(engines.size());
    for (int r = 0; r < rounds; ++r) {
      for (size_t n = 0; n < engines.size(); ++n) {
        size_t e = r % 2 == 0 ? n : engines.size() - 1 - n;
        engines[e]->SetEf(ef);
        double start = mosaic::bench::ThreadCpuSeconds();
        for (size_t q = 0; q < nq; ++q)
          engines[e]->Search(queries->row(q), kK, 0, &ids[q * kK]);
        qps[e].push_back(nq / (mosaic::bench::ThreadCpuSeconds() - start));
        recall[e] = Recall(ids, truth);
      }
    }
    std::printf("  %5zu", ef);
    const double base_qps = mosaic::bench::Median(qps[0]);
    for (size_t e = 0; e < engines.size(); ++e) {
      double m = mosaic::bench::Median(qps[e]);
      std::printf(" | %-14s %6.4f %7.0f %6.2f", "", recall[e], m, m / base_qps);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  // Where a query's time goes: CPU time per distance computed in the walk, against the kernel's
  // own cost with its rows in cache (above); the difference is waiting for memory.
  const size_t ef = 64;
  std::printf("\nAt ef = %zu, 1 thread: distances per query, CPU ns per distance in the walk\n",
              ef);
  for (auto& e : engines) {
    e->SetEf(ef);
    double start = mosaic::bench::ThreadCpuSeconds();
    for (size_t q = 0; q < nq; ++q)
      e->Search(queries->row(q), kK, 0, &ids[q * kK]);
    double per_query_ns =
        (mosaic::bench::ThreadCpuSeconds() - start) * 1e9 / static_cast<double>(nq);
    double distances = DistancesPerQuery(e.get(), *queries, nq);
    if (distances > 0) {
      std::printf("  %-14s %7.0f %7.1f\n", e->name().c_str(), distances, per_query_ns / distances);
    }
  }

#if USEARCH_USE_NUMKONG
  AdapterChecks(*base, *queries, nq, metric, truth);
#endif
  return 0;
}
