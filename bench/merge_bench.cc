// merge_bench: merging segments' HNSW graphs (collection/graph_merge.h), the way a merge of
// segments does: the largest part's graph renumbered and the others' nodes inserted, either all
// by full inserts ("full", the method before) or mostly by short searches from their old
// neighbours ("near", Lucene's merge), beside building the merged graph afresh ("rebuild").
// Each round runs the three in a rotating order; per method the median wall and CPU time of the
// merge, the merged graph's average layer-0 degree, and its recall@10 at several ef against the
// exact top 10 with queries/s on one thread (CPU time, the fastest of three passes).
//
//   merge_bench [--data clustered|fashion] [--points N] [--dim D] [--parts P] [--deleted F]
//               [--queries Q] [--rounds R] [--threads T] [--no-sq8] [--efs 16,32,64]
//               [--beam B]  (of the searches from old neighbours; default 4M)
//
// clustered (default): --points 128-d points around 1000 Gaussian centres (storage_bench's
// centres and noise, other draws), queries fresh points from the same centres; fashion: Fashion-MNIST-784 (60k
// training images, test images as queries; .cache/data/fashion-mnist). The points are split
// into --parts equal parts (default 4: a merge of four equal tiers, merge_factor 4), each
// with its own graph (M 16, ef_construction 200, SQ8 with one shared codec, as a collection's
// segments), and a fraction --deleted of each part tombstoned and dropped by the merge.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "collection/graph_merge.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "index/hnsw/hnsw_index.h"
#include "io/vector_file.h"

namespace mosaic::bench {
namespace {

constexpr const char* kName = "merge_bench";
constexpr size_t kK = 10;

struct Options {
  std::string data = "clustered";
  size_t points = 400'000;
  uint32_t dim = 128;
  size_t parts = 4;
  double deleted = 0.05;
  size_t queries = 1000;
  int rounds = 3;
  int threads = 2;
  bool sq8 = true;
  std::vector<size_t> efs = {16, 32, 64};
  size_t beam = 0;  // GraphMergeOptions::beam
};

class Rows final : public index::VectorRows {
 public:
  Rows(const float* data, uint32_t dim) : data_(data), dim_(dim) {}
  const float* Row(uint32_t slot) const override { return data_ + size_t{slot} * dim_; }

 private:
  const float* data_;
  uint32_t dim_;
};

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(kName, what + ": " + s.ToString());
}

// Base and query rows, row-major.
void Load(Options* o, std::vector<float>* base, std::vector<float>* queries) {
  if (o->data == "fashion") {
    const std::string dir = std::string(MOSAIC_SOURCE_DIR) + "/.cache/data/fashion-mnist";
    auto b = io::ReadVectorFile(dir + "/train-images-idx3-ubyte.gz");
    auto q = io::ReadVectorFile(dir + "/t10k-images-idx3-ubyte.gz", o->queries);
    if (!b.ok()) Die(kName, "cannot read Fashion-MNIST: " + b.status().ToString());
    if (!q.ok()) Die(kName, "cannot read Fashion-MNIST: " + q.status().ToString());
    o->dim = static_cast<uint32_t>(b->dim);
    o->points = b->rows;
    o->queries = q->rows;
    *base = std::move(b->data);
    *queries = std::move(q->data);
    return;
  }
  if (o->data != "clustered") Die(kName, "unknown --data '" + o->data + "' (clustered or fashion)");
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> u(-10, 10);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> centres(size_t{1000} * o->dim);
  for (float& x : centres) x = u(rng);
  auto fill = [&](std::vector<float>* out, size_t n) {
    out->resize(n * o->dim);
    for (size_t i = 0; i < n; ++i) {
      const float* c = centres.data() + (rng() % 1000) * size_t{o->dim};
      for (uint32_t d = 0; d < o->dim; ++d) (*out)[i * o->dim + d] = c[d] + noise(rng);
    }
  };
  fill(base, o->points);
  fill(queries, o->queries);
}

struct Result {
  std::vector<double> wall, cpu;
  std::vector<std::vector<double>> recall;  // per ef, per round
  std::vector<std::vector<double>> qps;     // per ef, per round (1 thread, CPU time)
  std::vector<double> degree;
  collection::GraphMergeStats stats;
};

int Run(Options o) {
  std::vector<float> base, queries;
  Load(&o, &base, &queries);
  const uint32_t dim = o.dim;
  std::printf("merge_bench: %s, %zu x %u, %zu parts, %.0f%% of each deleted, %s, %d threads, "
              "%zu queries, %d rounds\n",
              o.data.c_str(), o.points, dim, o.parts, o.deleted * 100,
              o.sq8 ? "SQ8 (graphs over codes)" : "f32", o.threads, o.queries, o.rounds);
  ThreadPool pool(o.threads);
  index::HnswParams params;
  params.sq8 = o.sq8;

  // The parts and their graphs.
  const Clock::time_point t0 = Clock::now();
  const Rows old_rows(base.data(), dim);
  std::vector<std::unique_ptr<Rows>> part_rows;
  std::vector<std::unique_ptr<index::HnswIndex>> graphs;
  std::vector<collection::GraphPart> parts;
  std::mt19937_64 rng(7);
  std::vector<int64_t> old_to_new(o.points, -1);
  std::vector<uint32_t> new_to_old;
  for (size_t p = 0; p < o.parts; ++p) {
    const uint32_t first = static_cast<uint32_t>(o.points * p / o.parts);
    const uint32_t size = static_cast<uint32_t>(o.points * (p + 1) / o.parts) - first;
    part_rows.push_back(std::make_unique<Rows>(base.data() + size_t{first} * dim, dim));
    auto g = std::make_unique<index::HnswIndex>(dim, Metric::kL2, params, part_rows.back().get());
    if (!graphs.empty() && o.sq8) g->AdoptCodec(*graphs.front());
    std::vector<uint32_t> slots(size);
    for (uint32_t i = 0; i < size; ++i) slots[i] = i;
    Check(g->AddBatch(slots, &pool), "building part " + std::to_string(p));
    for (uint32_t i = 0; i < size; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) < o.deleted) {
        g->Remove(i);
        continue;
      }
      old_to_new[first + i] = static_cast<int64_t>(new_to_old.size());
      new_to_old.push_back(first + i);
    }
    parts.push_back({g.get(), first, size});
    graphs.push_back(std::move(g));
  }
  std::vector<float> merged_rows(new_to_old.size() * dim);
  for (size_t j = 0; j < new_to_old.size(); ++j)
    std::memcpy(&merged_rows[j * dim], &base[size_t{new_to_old[j]} * dim], dim * sizeof(float));
  const Rows new_rows(merged_rows.data(), dim);
  std::printf("parts built in %.1f s; %zu points stay\n", Seconds(t0, Clock::now()),
              new_to_old.size());

  std::vector<std::vector<index::Neighbor>> truth;
  index::VectorBlock block{merged_rows.data(), 0, static_cast<uint32_t>(new_to_old.size())};
  index::FlatSearch({&block, 1}, dim, Metric::kL2, queries.data(), o.queries, kK, nullptr, &pool,
                    &truth);
  // Recall@10 at `ef`, and the queries' seconds on this thread into *secs.
  auto recall = [&](const index::HnswIndex& g, size_t ef, double* secs) {
    index::IndexSearchParams sp;
    sp.ef = ef;
    size_t hits = 0;
    // The fastest of three passes (the first also counts the hits).
    *secs = 1e300;
    for (int pass = 0; pass < 3; ++pass) {
      const double cpu0 = ThreadCpuSeconds();
      for (size_t q = 0; q < o.queries; ++q) {
        const std::vector<index::Neighbor> got = g.Search(&queries[q * dim], kK, sp, nullptr);
        if (pass == 0)
          for (const index::Neighbor& t : truth[q])
            for (const index::Neighbor& n : got) hits += n.slot == t.slot;
      }
      *secs = std::min(*secs, ThreadCpuSeconds() - cpu0);
    }
    return static_cast<double>(hits) / static_cast<double>(o.queries * kK);
  };

  const char* names[] = {"near", "full", "rebuild"};
  std::vector<Result> results(3);
  for (Result& r : results) {
    r.recall.resize(o.efs.size());
    r.qps.resize(o.efs.size());
  }
  auto run = [&](int method) {
    const double cpu0 = ProcessCpuSeconds();
    const Clock::time_point start = Clock::now();
    std::unique_ptr<index::HnswIndex> g;
    Status st;
    collection::GraphMergeStats stats;
    if (method == 2) {
      g = std::make_unique<index::HnswIndex>(dim, Metric::kL2, params, &new_rows);
      if (o.sq8) g->AdoptCodec(*graphs.front());
      std::vector<uint32_t> all(new_to_old.size());
      for (uint32_t j = 0; j < all.size(); ++j) all[j] = j;
      st = g->AddBatch(all, &pool);
    } else {
      collection::GraphMergeOptions options;
      options.from_old_neighbours = method == 0;
      options.beam = o.beam;
      g = collection::MergeGraphs(parts, old_to_new, new_to_old,
                                  [](uint32_t) { return true; }, &new_rows, &pool, &st,
                                  options, &stats);
    }
    const double wall = Seconds(start, Clock::now());
    const double cpu = ProcessCpuSeconds() - cpu0;
    Check(st, names[method]);
    Result& r = results[method];
    r.wall.push_back(wall);
    r.cpu.push_back(cpu);
    r.stats = stats;
    r.degree.push_back(g->AverageDegree());
    std::printf("  %-8s %7.1f s wall %7.1f s cpu  degree %.2f  recall@10, queries/s:", names[method],
                wall, cpu, r.degree.back());
    for (size_t e = 0; e < o.efs.size(); ++e) {
      double secs = 0;
      r.recall[e].push_back(recall(*g, o.efs[e], &secs));
      r.qps[e].push_back(static_cast<double>(o.queries) / secs);
      std::printf("  ef %zu %.4f %.0f", o.efs[e], r.recall[e].back(), r.qps[e].back());
    }
    std::printf("\n");
    std::fflush(stdout);
  };
  for (int round = 0; round < o.rounds; ++round) {
    std::printf("round %d\n", round + 1);
    for (int i = 0; i < 3; ++i) run((round + i) % 3);
  }

  std::printf("\nmedians over %d rounds (merge of %zu parts into %zu points):\n", o.rounds,
              o.parts, new_to_old.size());
  std::printf("| method | wall s | cpu s | wall vs full | layer-0 degree |");
  for (size_t ef : o.efs) std::printf(" ef %zu: recall@10, q/s |", ef);
  std::printf("\n|---|---|---|---|---|");
  for (size_t e = 0; e < o.efs.size(); ++e) std::printf("---|");
  std::printf("\n");
  const double full_wall = Median(results[1].wall);
  for (int m = 0; m < 3; ++m) {
    const Result& r = results[m];
    std::printf("| %s | %.1f | %.1f | %.2fx | %.2f |", names[m], Median(r.wall), Median(r.cpu),
                Median(r.wall) / full_wall, Median(r.degree));
    for (size_t e = 0; e < o.efs.size(); ++e)
      std::printf(" %.4f, %.0f |", Median(r.recall[e]), Median(r.qps[e]));
    std::printf("\n");
  }
  const collection::GraphMergeStats& s = results[0].stats;
  std::printf("near: %zu nodes renumbered, %zu inserted in full (join sets), %zu from their old "
              "neighbours (%.0f%% of the inserted)\n",
              s.renumbered, s.full, s.near,
              100.0 * static_cast<double>(s.near) / static_cast<double>(s.full + s.near));
  return 0;
}

}  // namespace
}  // namespace mosaic::bench

int main(int argc, char** argv) {
  using mosaic::bench::Die;
  mosaic::bench::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(mosaic::bench::kName, a + " needs a value");
      return argv[++i];
    };
    if (a == "--data") o.data = value();
    else if (a == "--points") o.points = std::stoul(value());
    else if (a == "--dim") o.dim = static_cast<uint32_t>(std::stoul(value()));
    else if (a == "--parts") o.parts = std::stoul(value());
    else if (a == "--deleted") o.deleted = std::stod(value());
    else if (a == "--queries") o.queries = std::stoul(value());
    else if (a == "--rounds") o.rounds = std::stoi(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--no-sq8") o.sq8 = false;
    else if (a == "--beam") o.beam = std::stoul(value());
    else if (a == "--efs") o.efs = mosaic::bench::ParseList<size_t>(value());
    else Die(mosaic::bench::kName, "unknown option " + a);
  }
  if (o.parts < 2) Die(mosaic::bench::kName, "--parts must be at least 2");
  return mosaic::bench::Run(o);
}
