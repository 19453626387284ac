// ann_bench: approximate k-NN (HNSW and its quantized walks) of Mosaic against its peers, same
// data, same M and ef_construction, in one run:
//   mosaic, mosaic-sq8     Mosaic's HnswIndex over f32 rows / over SQ8 codes re-scored with f32
//                          (mosaic-sq8-dims: codes per dimension, never principal components)
//   hnswlib                Debian libhnswlib-dev, compiled here with -march=native
//   faiss, faiss-sq8       IndexHNSWFlat / IndexHNSWSQ (8 bit), the build bench/CMakeLists chose
//   usearch, -f16, -i8     USearch's dense index, f32 / f16 / i8 scalars (when scripts/bench-peers
//                          has installed it)
// For each metric it prints build time and memory, then an ef sweep of recall@10 against
// queries/s at 1 and 2 threads, the queries/s each engine reaches at recall@10 = 0.90, 0.95 and
// 0.99 (interpolated on its Pareto front), Mosaic's ratio to the best peer, and optionally
// filtered search at 50/10/1/0.1% selectivity. Every cell runs `--rounds` times with the engines
// in a rotated order each round and reports the median. Asserts nothing about timings.
//
//   ann_bench [--dataset fashion|fashion-visual|synthetic] [--data DIR] [--metric l2|cosine|both]
//             [--queries N] [--rounds R] [--engines a,b,...] [--threads 1,2] [--efs 10,16,...]
//             [--query-offset N] [--rows N] [--filtered] [--filtered-queries N]
//             [--single-thread-builds]
//             [--lancedb none|hnsw|all] [--lance-queries N] [--build-rounds R]
//
// --build-rounds R builds every engine R times (2 threads), rotating the order each round, and
// prints each engine's median build time (wall clock and process CPU time) and its ratio to the
// fastest non-Mosaic build; the searches then run on the last build.
// Datasets: fashion = Fashion-MNIST-784 (60k base, test images as queries; default dir
// .cache/data/fashion-mnist); fashion-visual = the visual descriptor's 808-d vectors of the same
// images (.cache/data/fashion-visual, made by bench/make_vectors; cosine); synthetic = a
// clustered 128-d mixture with a fixed seed (--rows, default 1,000,000), for scale, not for
// recall claims. Cosine normalizes base and queries for every engine.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ann/engine.h"
#include "ann/hnswlib_engine.h"
#include "ann/lance_runner.h"
#include "ann/mosaic_engine.h"
#include "bench_util.h"
#include "common/bitset.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "io/vector_file.h"
#include "simd/distance.h"
#if defined(MOSAIC_BENCH_FAISS_ENGINE)
#include "ann/faiss_engine.h"
#endif
#if defined(MOSAIC_BENCH_USEARCH)
#include "ann/usearch_engine.h"
#endif

namespace {

using mosaic::Metric;
using mosaic::bench::AnnEngine;
using mosaic::bench::Clock;
using mosaic::bench::Die;
using mosaic::bench::Median;
using mosaic::index::Neighbor;
using mosaic::io::Matrix;

constexpr size_t kK = 10;
constexpr const char* kBench = "ann_bench";
const std::vector<double> kTargets = {0.90, 0.95, 0.99};

double Since(Clock::time_point t) { return mosaic::bench::Seconds(t, Clock::now()); }

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::unique_ptr<AnnEngine> MakeEngine(const std::string& name) {
  using namespace mosaic::bench;
  if (name == "mosaic") return std::make_unique<MosaicEngine>(false);
  if (name == "mosaic-sq8") return std::make_unique<MosaicEngine>(true);
  if (name == "mosaic-sq8-f32build") {
    return std::make_unique<MosaicEngine>(true, MosaicEngine::Sq8Build::kF32);
  }
  if (name == "mosaic-sq8-codes") {
    return std::make_unique<MosaicEngine>(true, MosaicEngine::Sq8Build::kCodes);
  }
  if (name == "mosaic-sq8-rescore") {
    return std::make_unique<MosaicEngine>(true, MosaicEngine::Sq8Build::kCodesRescored);
  }
  if (name == "mosaic-sq8-dims") {
    return std::make_unique<MosaicEngine>(true, MosaicEngine::Sq8Build::kPerDimension);
  }
  if (name == "hnswlib") return std::make_unique<HnswlibEngine>();
#if defined(MOSAIC_BENCH_FAISS_ENGINE)
  if (name == "faiss") return std::make_unique<FaissHnswEngine>(false);
  if (name == "faiss-sq8") return std::make_unique<FaissHnswEngine>(true);
#endif
#if defined(MOSAIC_BENCH_USEARCH)
  if (name == "usearch") return std::make_unique<UsearchEngine>(UsearchScalar::kF32);
  if (name == "usearch-f32-nk") return std::make_unique<UsearchEngine>(UsearchScalar::kF32NumKong);
  if (name == "usearch-f16") return std::make_unique<UsearchEngine>(UsearchScalar::kF16);
  if (name == "usearch-i8") return std::make_unique<UsearchEngine>(UsearchScalar::kI8);
#endif
  return nullptr;
}

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
  double recall = 0;
  double qps = 0;
};

// Queries/s at `target` recall: the points' Pareto front (best q/s at or above each recall),
// with log(q/s) interpolated linearly in recall between the two points that bracket it; 0 when
// no point reaches it.
double QpsAt(std::vector<Point> points, double target) {
  std::sort(points.begin(), points.end(),
            [](const Point& a, const Point& b) { return a.recall < b.recall; });
  // front[i]: the best q/s among points with recall >= points[i].recall.
  for (size_t i = points.size(); i-- > 1;) {
    points[i - 1].qps = std::max(points[i - 1].qps, points[i].qps);
  }
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].recall < target) continue;
    if (i == 0 || points[i].recall == points[i - 1].recall) return points[i].qps;
    const Point& a = points[i - 1];
    const Point& b = points[i];
    double t = (target - a.recall) / (b.recall - a.recall);
    return std::exp(std::log(a.qps) + t * (std::log(b.qps) - std::log(a.qps)));
  }
  return 0;
}

// One timed pass of all queries with `threads` threads; returns queries/s, fills ids.
double TimeSearch(AnnEngine* e, const Matrix& queries, size_t nq, int threads,
                  std::vector<int64_t>* ids) {
  ids->assign(nq * kK, -1);
  e->PrepareSearch(threads);
  auto start = Clock::now();
  mosaic::bench::ParallelFor(nq, threads, [&](size_t i, int t) {
    e->Search(queries.row(i), kK, t, ids->data() + i * kK);
  });
  return static_cast<double>(nq) / Since(start);
}

void Normalize(Matrix* m) {
  for (size_t i = 0; i < m->rows; ++i) {
    float* r = m->data.data() + i * m->dim;
    float n = std::sqrt(mosaic::simd::NormSqr(r, m->dim));
    if (n > 0) {
      for (size_t d = 0; d < m->dim; ++d) r[d] /= n;
    }
  }
}

// A mixture of `clusters` Gaussians in `dim` dimensions (centres uniform in [-1, 1], spread 0.15
// per dimension): base rows and queries drawn from the same mixture, fixed seed.
void Synthetic(size_t rows, size_t queries, size_t dim, Matrix* base, Matrix* q) {
  const size_t clusters = 1024;
  std::mt19937_64 rng(20261204);
  std::uniform_real_distribution<float> centre(-1, 1);
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) c = centre(rng);
  std::normal_distribution<float> noise(0, 0.15f);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  auto fill = [&](Matrix* m, size_t n) {
    m->rows = n;
    m->dim = dim;
    m->data.resize(n * dim);
    for (size_t i = 0; i < n; ++i) {
      const float* c = centres.data() + pick(rng) * dim;
      for (size_t d = 0; d < dim; ++d) m->data[i * dim + d] = c[d] + noise(rng);
    }
  };
  fill(base, rows);
  fill(q, queries);
}

struct Options {
  std::string dataset = "fashion";
  std::string data_dir;
  std::string metric = "both";
  size_t nq = 2000;
  size_t query_offset = 0;  // queries start here: a slice for tuning, apart from the reported one
  int rounds = 3;
  std::vector<std::string> engines;
  std::vector<int> threads = {1, 2};
  std::vector<size_t> efs = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  size_t rows = 1000000;
  bool filtered = false;
  bool single_thread_builds = false;
  int build_rounds = 1;
  // LanceDB indexes to run through Node: none, hnsw (IVF_HNSW_SQ) or all (and IVF_PQ).
  std::string lancedb = "hnsw";
  size_t filtered_queries = 200;  // a 0.1% filter walks most of the graph: ~30 q/s
  size_t lance_queries = 1000;
};

struct Cell {
  std::vector<double> qps;  // one per round
  double recall = 0;
};

// One engine's (recall, queries/s) points at one thread count.
struct Sweep {
  std::string name;
  std::vector<Point> points;
};

// queries/s at each target recall for every engine, and each Mosaic variant against the best
// peer at each target.
void Summarize(const std::vector<Sweep>& sweeps, int threads) {
  std::printf("\nqueries/s at recall@10 (interpolated on each engine's Pareto front), %d thread%s\n"
              "  %-20s", threads, threads == 1 ? "" : "s", "engine");
  for (double t : kTargets) std::printf(" %9.2f", t);
  std::printf("\n");
  std::vector<std::vector<double>> at(sweeps.size());
  for (size_t i = 0; i < sweeps.size(); ++i) {
    std::printf("  %-20s", sweeps[i].name.c_str());
    for (double t : kTargets) {
      at[i].push_back(QpsAt(sweeps[i].points, t));
      std::printf(" %9.0f", at[i].back());
    }
    std::printf("\n");
  }
  auto mosaic = [](const std::string& name) { return name.rfind("mosaic", 0) == 0; };
  for (size_t m = 0; m < sweeps.size(); ++m) {
    if (!mosaic(sweeps[m].name)) continue;
    std::printf("  %-12s / best peer:", sweeps[m].name.c_str());
    for (size_t t = 0; t < kTargets.size(); ++t) {
      double best = 0;
      std::string who = "-";
      for (size_t p = 0; p < sweeps.size(); ++p) {
        if (!mosaic(sweeps[p].name) && at[p][t] > best) best = at[p][t], who = sweeps[p].name;
      }
      if (best > 0 && at[m][t] > 0) {
        std::printf("  %.2f: %.2fx %s", kTargets[t], at[m][t] / best, who.c_str());
      } else {
        std::printf("  %.2f: -", kTargets[t]);
      }
    }
    std::printf("\n");
  }
}

// LanceDB through Node (bench/lancedb/ann.mjs): each index built once with 2 threads, then its
// parameter grid swept `rounds` times (after the in-process engines; a child process per cell,
// its start and table open not timed), 1 thread pinned to CPU 0 and 2 threads unpinned, on the
// first lance_queries queries.
void RunLance(const Matrix& base, const Matrix& queries, Metric metric,
              const std::vector<std::vector<Neighbor>>& truth, const Options& o,
              std::map<int, std::vector<Sweep>>* sweeps) {
  using mosaic::bench::LanceIndex;
  using mosaic::bench::LanceRunner;
  const std::string script = std::string(MOSAIC_SOURCE_DIR) + "/bench/lancedb/ann.mjs";
  const std::string work = std::string(MOSAIC_SOURCE_DIR) + "/.cache/ann-bench-lancedb";
  Matrix q;
  q.dim = queries.dim;
  q.rows = std::min({o.lance_queries, o.nq, queries.rows});
  q.data.assign(queries.data.begin(), queries.data.begin() + static_cast<ptrdiff_t>(q.rows * q.dim));
  const std::vector<std::vector<Neighbor>> q_truth(truth.begin(), truth.begin() + static_cast<ptrdiff_t>(q.rows));
  struct Grid {
    LanceIndex index;
    const char* name;
    std::vector<std::string> params;
  };
  std::vector<Grid> grids = {{LanceIndex::kIvfHnswSq, "lancedb-hnsw-sq", {}}};
  for (int ef : {10, 16, 20, 24, 32, 48, 64, 128}) {
    grids[0].params.push_back("{\"ef\":" + std::to_string(ef) + "}");
  }
  if (o.lancedb == "all") {
    grids.push_back({LanceIndex::kIvfPq, "lancedb-ivf-pq", {}});
    for (int nprobes : {2, 3, 4, 6, 10, 20}) {
      grids[1].params.push_back("{\"nprobes\":" + std::to_string(nprobes) + ",\"refine\":5}");
    }
    grids[1].params.push_back("{\"nprobes\":20,\"refine\":10}");
  }
  std::printf("\nLanceDB (%s), %zu queries, median of %d rounds; build with 2 threads\n",
              LanceRunner::BuildInfo().c_str(), q.rows, o.rounds);
  for (const Grid& g : grids) {
    LanceRunner runner(script, work + "/" + g.name);
    auto built = runner.Build(base, metric, g.index, 2);
    if (!built.ok()) Die(kBench, "LanceDB: " + built.status().ToString());
    std::printf("  %-16s ingest %.1f s (%.0f rows/s), index %.1f s, disk %.1f MB (index %.1f MB)\n",
                g.name, built->ingest_seconds, built->rows / built->ingest_seconds,
                built->index_seconds, built->disk_bytes / 1e6, built->index_bytes / 1e6);
    for (int threads : o.threads) {
      std::printf("    %d thread%s: params recall q/s\n", threads, threads == 1 ? "" : "s");
      Sweep sweep{g.name, {}};
      for (const std::string& params : g.params) {
        Cell cell;
        for (int r = 0; r < o.rounds; ++r) {
          auto res = runner.Search(q, kK, params, threads, threads == 1 ? "0" : "");
          if (!res.ok()) Die(kBench, "LanceDB: " + res.status().ToString());
          cell.qps.push_back(q.rows / res->seconds);
          if (r == 0) cell.recall = Recall(res->ids, q_truth);
        }
        sweep.points.push_back({cell.recall, Median(cell.qps)});
        std::printf("      %-28s %.4f %7.0f\n", params.c_str(), cell.recall, Median(cell.qps));
        std::fflush(stdout);
      }
      (*sweeps)[threads].push_back(std::move(sweep));
    }
  }
}

void RunMetric(const Matrix& base, const Matrix& queries, Metric metric, const Options& o) {
  const size_t nq = std::min(o.nq, queries.rows);
  std::printf("\n==== %s: %zu base x %zu dims, %zu queries, k = %zu, M = 16, ef_construction = 200,"
              " %d rounds per cell (median), engines rotated each round\n",
              metric == Metric::kL2 ? "L2" : "cosine (normalized, inner product)", base.rows,
              base.dim, nq, kK, o.rounds);
  std::vector<std::vector<Neighbor>> truth;
  {
    mosaic::ThreadPool pool(2);
    mosaic::index::VectorBlock block{base.data.data(), 0, static_cast<uint32_t>(base.rows)};
    mosaic::index::FlatSearch({&block, 1}, base.dim, metric, queries.data.data(), nq, kK, nullptr,
                              &pool, &truth);
  }

  std::vector<std::unique_ptr<AnnEngine>> engines;
  for (const std::string& name : o.engines) {
    auto e = MakeEngine(name);
    if (e == nullptr) Die(kBench, "engine '" + name + "' is unknown or not built in");
    engines.push_back(std::move(e));
  }
  const mosaic::bench::GraphParams graph;

  if (o.build_rounds > 1) {
    // Builds alone, in rotated order; each engine keeps its last build for the searches. The
    // process's CPU time is printed beside the wall clock: on a shared machine the wall clock
    // stretches whenever another process takes a core, the CPU time much less.
    std::vector<std::vector<double>> wall(engines.size()), cpu(engines.size());
    for (int r = 0; r < o.build_rounds; ++r) {
      for (size_t j = 0; j < engines.size(); ++j) {
        const size_t i = (j + static_cast<size_t>(r)) % engines.size();
        const double cpu0 = mosaic::bench::ProcessCpuSeconds();
        auto start = Clock::now();
        engines[i]->Build(base, metric, graph, 2);
        wall[i].push_back(Since(start));
        cpu[i].push_back(mosaic::bench::ProcessCpuSeconds() - cpu0);
      }
    }
    double peer_wall = 0, peer_cpu = 0;  // the fastest non-Mosaic build's medians
    for (size_t i = 0; i < engines.size(); ++i) {
      if (engines[i]->name().rfind("mosaic", 0) == 0) continue;
      if (peer_wall == 0 || Median(wall[i]) < peer_wall) peer_wall = Median(wall[i]);
      if (peer_cpu == 0 || Median(cpu[i]) < peer_cpu) peer_cpu = Median(cpu[i]);
    }
    std::printf("\nBuild, 2 threads, median of %d (engines rotated each round); ratio to the "
                "fastest peer\n  %-28s %8s %6s %8s %6s   wall s per round / CPU s per round\n",
                o.build_rounds, "engine", "wall s", "ratio", "CPU s", "ratio");
    for (size_t i = 0; i < engines.size(); ++i) {
      const double w = Median(wall[i]), c = Median(cpu[i]);
      std::printf("  %-28s %8.2f %5.2fx %8.2f %5.2fx  ", engines[i]->name().c_str(), w,
                  peer_wall > 0 ? w / peer_wall : 0.0, c, peer_cpu > 0 ? c / peer_cpu : 0.0);
      for (double t : wall[i]) std::printf(" %.1f", t);
      std::printf(" /");
      for (double t : cpu[i]) std::printf(" %.1f", t);
      std::printf("\n");
    }
    std::fflush(stdout);
  }
  std::printf("\nBuild (one build each, in the order listed)   1 thread s  2 threads s  graph MB"
              "  memory MB (graph + codes + vectors read)\n");
  for (auto& e : engines) {
    if (o.build_rounds > 1) {
      std::printf("  %-44s %11s %12s %9.1f %10.1f\n", e->name().c_str(), "-", "(above)",
                  e->GraphBytes() / 1e6, e->MemoryBytes() / 1e6);
      continue;
    }
    double t1 = 0;
    if (o.single_thread_builds) {
      auto start = Clock::now();
      e->Build(base, metric, graph, 1);
      t1 = Since(start);
    }
    auto start = Clock::now();
    e->Build(base, metric, graph, 2);
    double t2 = Since(start);
    char one[32] = "-";
    if (o.single_thread_builds) std::snprintf(one, sizeof(one), "%.1f", t1);
    std::printf("  %-44s %11s %12.1f %9.1f %10.1f\n", e->name().c_str(), one, t2,
                e->GraphBytes() / 1e6, e->MemoryBytes() / 1e6);
    std::fflush(stdout);
  }

  std::vector<int64_t> ids;
  std::map<int, std::vector<Sweep>> sweeps;  // by threads
  for (int threads : o.threads) {
    std::printf("\nef sweep, %d thread%s: recall@10 / queries/s (median of %d)\n  %5s", threads,
                threads == 1 ? "" : "s", o.rounds, "ef");
    for (auto& e : engines) std::printf(" | %11s recall     q/s", e->name().c_str());
    std::printf("\n");
    std::vector<std::vector<Point>> points(engines.size());
    for (size_t ei = 0; ei < o.efs.size(); ++ei) {
      const size_t ef = o.efs[ei];
      std::vector<Cell> cells(engines.size());
      for (int r = 0; r < o.rounds; ++r) {
        for (size_t j = 0; j < engines.size(); ++j) {
          // Rotate the order each round (and each ef) so no engine always runs first.
          const size_t i = (j + static_cast<size_t>(r) + ei) % engines.size();
          engines[i]->SetEf(ef);
          cells[i].qps.push_back(TimeSearch(engines[i].get(), queries, nq, threads, &ids));
          if (r == 0) cells[i].recall = Recall(ids, truth);
        }
      }
      std::printf("  %5zu", ef);
      for (size_t i = 0; i < engines.size(); ++i) {
        double qps = Median(cells[i].qps);
        points[i].push_back({cells[i].recall, qps});
        std::printf(" | %18.4f %7.0f", cells[i].recall, qps);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    for (size_t i = 0; i < engines.size(); ++i) {
      sweeps[threads].push_back({engines[i]->name(), std::move(points[i])});
    }
  }
  if (o.lancedb != "none") RunLance(base, queries, metric, truth, o, &sweeps);
  for (int threads : o.threads) Summarize(sweeps[threads], threads);

  if (!o.filtered) return;
  const size_t fq = std::min(nq, o.filtered_queries);
  // Filtered: a random allow-set per selectivity; the exact top-10 over the allowed rows is the
  // reference. ef = 64 for every engine; 1 thread.
  std::printf("\nFiltered, 1 thread, ef = 64, %zu queries: recall@10 / queries/s (median of %d; "
              "exact = batch FlatSearch with the bitset)\n  %11s", fq, o.rounds, "selectivity");
  std::vector<AnnEngine*> filtering;
  std::vector<int64_t> probe(kK);
  mosaic::Bitset all(base.rows, true);
  for (auto& e : engines) {
    e->PrepareSearch(1);
    if (e->SearchFiltered(queries.row(0), kK, all, 0, probe.data())) filtering.push_back(e.get());
  }
  for (AnnEngine* e : filtering) std::printf(" | %11s recall     q/s", e->name().c_str());
  std::printf(" | exact q/s\n");
  std::mt19937_64 rng(7);
  for (double sel : {0.5, 0.1, 0.01, 0.001}) {
    mosaic::Bitset allow(base.rows);
    std::bernoulli_distribution keep(sel);
    for (size_t i = 0; i < base.rows; ++i) {
      if (keep(rng)) allow.Set(i);
    }
    std::vector<std::vector<Neighbor>> ftruth;
    mosaic::index::VectorBlock block{base.data.data(), 0, static_cast<uint32_t>(base.rows)};
    auto start = Clock::now();
    mosaic::index::FlatSearch({&block, 1}, base.dim, metric, queries.data.data(), fq, kK, &allow,
                              nullptr, &ftruth);
    const double exact_qps = fq / Since(start);
    std::vector<Cell> cells(filtering.size());
    for (int r = 0; r < o.rounds; ++r) {
      for (size_t j = 0; j < filtering.size(); ++j) {
        const size_t i = (j + static_cast<size_t>(r)) % filtering.size();
        AnnEngine* e = filtering[i];
        e->SetEf(64);
        ids.assign(fq * kK, -1);
        auto t0 = Clock::now();
        for (size_t q = 0; q < fq; ++q) e->SearchFiltered(queries.row(q), kK, allow, 0, &ids[q * kK]);
        cells[i].qps.push_back(fq / Since(t0));
        if (r == 0) cells[i].recall = Recall(ids, ftruth);
      }
    }
    std::printf("  %10.1f%%", sel * 100);
    for (const Cell& c : cells) std::printf(" | %18.4f %7.0f", c.recall, Median(c.qps));
    std::printf(" | %9.0f\n", exact_qps);
    std::fflush(stdout);
  }
}

std::vector<int> ParseInts(const std::string& s) {
  std::vector<int> out;
  for (const std::string& p : Split(s)) out.push_back(std::stoi(p));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.engines = {"mosaic", "mosaic-sq8", "hnswlib"};
#if defined(MOSAIC_BENCH_FAISS_ENGINE)
  o.engines.insert(o.engines.end(), {"faiss", "faiss-sq8"});
#endif
#if defined(MOSAIC_BENCH_USEARCH)
  o.engines.insert(o.engines.end(), {"usearch", "usearch-f16", "usearch-i8"});
#endif
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(kBench, arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dataset") {
      o.dataset = value();
    } else if (arg == "--data") {
      o.data_dir = value();
    } else if (arg == "--metric") {
      o.metric = value();
    } else if (arg == "--queries") {
      o.nq = std::stoul(value());
    } else if (arg == "--query-offset") {
      o.query_offset = std::stoul(value());
    } else if (arg == "--rounds") {
      o.rounds = std::max(1, std::stoi(value()));
    } else if (arg == "--engines") {
      o.engines = Split(value());
    } else if (arg == "--threads") {
      o.threads = ParseInts(value());
    } else if (arg == "--efs") {
      o.efs.clear();
      for (int ef : ParseInts(value())) o.efs.push_back(static_cast<size_t>(ef));
    } else if (arg == "--rows") {
      o.rows = std::stoul(value());
    } else if (arg == "--filtered") {
      o.filtered = true;
    } else if (arg == "--lancedb") {
      o.lancedb = value();
      if (o.lancedb != "none" && o.lancedb != "hnsw" && o.lancedb != "all") {
        Die(kBench, "--lancedb takes none, hnsw or all, not '" + o.lancedb + "'");
      }
    } else if (arg == "--filtered-queries") {
      o.filtered_queries = std::stoul(value());
    } else if (arg == "--lance-queries") {
      o.lance_queries = std::stoul(value());
    } else if (arg == "--build-rounds") {
      o.build_rounds = std::max(1, std::stoi(value()));
    } else if (arg == "--single-thread-builds") {
      o.single_thread_builds = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--dataset fashion|fashion-visual|synthetic] [--data DIR]\n"
                   "  [--metric l2|cosine|both] [--queries N] [--rounds R] [--engines a,b,...]\n"
                   "  [--threads 1,2] [--efs 10,16,...] [--rows N] [--filtered]"
                   " [--single-thread-builds]\n  [--lancedb none|hnsw|all] [--lance-queries N] [--filtered-queries N]\n"
                   "  [--build-rounds R]\n",
                   argv[0]);
      return 2;
    }
  }
  if (o.lancedb != "none" &&
      !std::filesystem::exists(std::string(MOSAIC_SOURCE_DIR) + "/bench/lancedb/node_modules")) {
    std::printf("LanceDB is not installed (scripts/bench-peers): running without it\n");
    o.lancedb = "none";
  }
  // Faiss parallelizes inside a call with OpenMP; every engine here gets its threads from us.
  omp_set_num_threads(1);

  Matrix base, queries;
  const std::string cache = std::string(MOSAIC_SOURCE_DIR) + "/.cache/data/";
  if (o.dataset == "fashion") {
    std::string dir = o.data_dir.empty() ? cache + "fashion-mnist" : o.data_dir;
    auto b = mosaic::io::ReadVectorFile(dir + "/train-images-idx3-ubyte.gz");
    auto q = mosaic::io::ReadVectorFile(dir + "/t10k-images-idx3-ubyte.gz");
    if (!b.ok()) Die(kBench, "cannot read Fashion-MNIST: " + b.status().ToString());
    if (!q.ok()) Die(kBench, "cannot read Fashion-MNIST: " + q.status().ToString());
    base = std::move(*b);
    queries = std::move(*q);
  } else if (o.dataset == "fashion-visual") {
    std::string dir = o.data_dir.empty() ? cache + "fashion-visual" : o.data_dir;
    auto b = mosaic::io::ReadVectorFile(dir + "/train.fvecs");
    auto q = mosaic::io::ReadVectorFile(dir + "/test.fvecs");
    if (!b.ok() || !q.ok()) {
      Die(kBench, "cannot read the visual-descriptor vectors in " + dir +
                      " (make them with bench/make_vectors): " +
                      (b.ok() ? q.status() : b.status()).ToString());
    }
    base = std::move(*b);
    queries = std::move(*q);
    if (o.metric == "both") o.metric = "cosine";
  } else if (o.dataset == "synthetic") {
    Synthetic(o.rows, std::max<size_t>(o.nq, 1000), 128, &base, &queries);
  } else {
    Die(kBench, "unknown dataset '" + o.dataset + "' (fashion, fashion-visual, synthetic)");
  }

  if (o.query_offset > 0) {
    if (o.query_offset >= queries.rows) {
      Die(kBench, "--query-offset " + std::to_string(o.query_offset) + " is past the " +
                      std::to_string(queries.rows) + " queries");
    }
    queries.data.erase(queries.data.begin(),
                       queries.data.begin() + static_cast<ptrdiff_t>(o.query_offset * queries.dim));
    queries.rows -= o.query_offset;
  }
  std::printf("ann_bench: dataset %s, load average at start: ", o.dataset.c_str());
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    char line[128] = {};
    if (std::fgets(line, sizeof(line), f) != nullptr) std::printf("%s", line);
    std::fclose(f);
  }
  for (const std::string& name : o.engines) {
    auto e = MakeEngine(name);
    if (e == nullptr) Die(kBench, "engine '" + name + "' is unknown or not built in");
    std::printf("  %-12s %s\n", name.c_str(), e->build_info().c_str());
  }
  if (o.metric == "l2" || o.metric == "both") RunMetric(base, queries, Metric::kL2, o);
  if (o.metric == "cosine" || o.metric == "both") {
    Normalize(&base);
    Normalize(&queries);
    RunMetric(base, queries, Metric::kCosine, o);
  }
  return 0;
}
