// mosaic eval recall: measures a collection's search against exact ground truth that this
// command computes itself, in double precision, from the collection's own stored vectors.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include "cli.h"
#include "io/vector_file.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic eval recall --collection NAME --queries FILE [options]\n"
    "\n"
    "Computes exact top-k for each query by brute force in double precision over all points of\n"
    "the collection, runs the same queries through the collection's search, and prints recall@k\n"
    "and queries/s. A returned point counts as correct when its exact distance is within the\n"
    "true k-th distance (so ties at the boundary are not penalized).\n"
    "\n"
    "  --queries FILE       query vectors (fvecs, bvecs, IDX, ...)\n"
    "  --using NAME         named vector (default: the first)\n"
    "  --limit K            k (default 10)\n"
    "  --num-queries N      use the first N queries (default 1000)\n"
    "  --min-recall R       exit with status 1 if recall@k < R\n";

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Smaller is closer, for every metric (as the flat index ranks). Eight independent double
// accumulators keep the loop from waiting on one add chain; the sum stays exact to ~1e-12.
double ExactDistance(Metric m, const float* a, const float* b, size_t dim) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  if (m == Metric::kL2) {
    for (; i + 8 <= dim; i += 8)
      for (size_t j = 0; j < 8; ++j) {
        double d = double(a[i + j]) - double(b[i + j]);
        acc[j] += d * d;
      }
    for (; i < dim; ++i) {
      double d = double(a[i]) - double(b[i]);
      acc[0] += d * d;
    }
  } else {
    for (; i + 8 <= dim; i += 8)
      for (size_t j = 0; j < 8; ++j) acc[j] += double(a[i + j]) * double(b[i + j]);
    for (; i < dim; ++i) acc[0] += double(a[i]) * double(b[i]);
  }
  double sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return m == Metric::kL2 ? sum : -sum;
}

}  // namespace

int RunEval(Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "queries", "using", "limit", "num-queries",
                                  "min-recall"},
                           kHelp))
    return *rc;
  auto what = args.Next();
  if (!what || *what != "recall") return Usage("eval: expected 'recall'", kHelp);
  auto name = args.Get("collection");
  auto qfile = args.Get("queries");
  if (!name || !qfile) return Usage("eval recall: needs --collection and --queries", kHelp);
  auto k_arg = args.GetInt("limit", 10);
  auto nq_arg = args.GetInt("num-queries", 1000);
  if (!k_arg.ok() || !nq_arg.ok() || *k_arg < 1 || *nq_arg < 1)
    return Usage("--limit and --num-queries must be positive integers", kHelp);
  const size_t k = static_cast<size_t>(*k_arg);

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  const CollectionSchema& schema = (*c)->schema();
  const VectorSpec* spec = schema.Find(args.GetOr("using", schema.vectors[0].name));
  if (!spec) return Fail(Status::InvalidArgument("no such vector: " + args.GetOr("using", "")));

  auto queries = io::ReadVectorFile(*qfile, static_cast<size_t>(*nq_arg));
  if (!queries.ok()) return Fail(queries.status());
  if (queries->dim != spec->dim)
    return Fail(Status::InvalidArgument(*qfile + " has " + std::to_string(queries->dim) +
                                        "-dim vectors, '" + spec->name + "' expects " +
                                        std::to_string(spec->dim)));
  const size_t nq = queries->rows;
  // Cosine collections store normalized vectors; normalize the queries the same way.
  if (spec->metric == Metric::kCosine)
    for (size_t q = 0; q < nq; ++q) {
      float* row = queries->data.data() + q * spec->dim;
      double n = 0;
      for (size_t i = 0; i < spec->dim; ++i) n += double(row[i]) * row[i];
      n = std::sqrt(n);
      for (size_t i = 0; n > 0 && i < spec->dim; ++i) row[i] = float(row[i] / n);
    }

  // All stored vectors, read back through the public API.
  std::vector<PointId> ids;
  std::vector<float> base;
  ScrollRequest sr;
  sr.limit = 10000;
  sr.with_payload = false;
  sr.with_vectors = true;
  for (;;) {
    auto page = (*c)->Scroll(sr);
    if (!page.ok()) return Fail(page.status());
    for (auto& p : page->points) {
      auto it = p.vectors.find(spec->name);
      if (it == p.vectors.end()) continue;
      ids.push_back(p.id);
      base.insert(base.end(), it->second.begin(), it->second.end());
    }
    if (!page->next_offset) break;
    sr.offset = page->next_offset;
  }
  const size_t n = ids.size();
  std::fprintf(stderr, "ground truth: %zu queries x %zu points x %u dims (double precision)...\n",
               nq, n, spec->dim);

  // Exact k-th distance per query, and each query's exact distance to every point (by id).
  std::vector<double> kth(nq);
  std::vector<std::unordered_map<size_t, double>> near(nq);  // index -> distance, for the top 4k
  double t0 = Seconds();
  auto truth = [&](size_t qb, size_t qe) {
    std::vector<std::pair<double, size_t>> d(n);
    for (size_t q = qb; q < qe; ++q) {
      for (size_t i = 0; i < n; ++i)
        d[i] = {ExactDistance(spec->metric, queries->row(q), &base[i * spec->dim], spec->dim), i};
      size_t keep = std::min(n, 4 * k);
      std::partial_sort(d.begin(), d.begin() + keep, d.end());
      kth[q] = keep >= k ? d[k - 1].first : INFINITY;
      for (size_t j = 0; j < keep; ++j) near[q][d[j].second] = d[j].first;
    }
  };
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back(truth, nq * t / threads, nq * (t + 1) / threads);
  for (auto& t : pool) t.join();
  std::fprintf(stderr, "ground truth took %.1fs\n", Seconds() - t0);

  std::vector<SearchRequest> reqs(nq);
  for (size_t q = 0; q < nq; ++q) {
    reqs[q].vector_name = spec->name;
    reqs[q].vector.assign(queries->row(q), queries->row(q) + spec->dim);
    reqs[q].limit = k;
    reqs[q].with_payload = false;
  }
  t0 = Seconds();
  auto batch = (*c)->SearchBatch(reqs);
  double batch_secs = Seconds() - t0;
  if (!batch.ok()) return Fail(batch.status());
  size_t single_n = std::min<size_t>(nq, 200);
  t0 = Seconds();
  for (size_t q = 0; q < single_n; ++q) {
    auto r = (*c)->Search(reqs[q]);
    if (!r.ok()) return Fail(r.status());
  }
  double single_secs = Seconds() - t0;

  std::unordered_map<PointId, size_t, PointIdHash> index_of;
  for (size_t i = 0; i < n; ++i) index_of[ids[i]] = i;
  size_t correct = 0;
  const double eps = 1e-6;
  for (size_t q = 0; q < nq; ++q) {
    for (const auto& hit : (*batch)[q]) {
      size_t i = index_of.at(hit.id);
      auto it = near[q].find(i);
      double dist = it != near[q].end()
                        ? it->second
                        : ExactDistance(spec->metric, queries->row(q), &base[i * spec->dim],
                                        spec->dim);
      if (dist <= kth[q] + eps * std::max(1.0, std::abs(kth[q]))) ++correct;
    }
  }
  double expected = double(nq) * double(std::min(k, n));
  double recall = expected > 0 ? correct / expected : 1.0;
  std::printf("recall@%zu = %.4f over %zu queries (%zu points, metric %s)\n", k, recall, nq, n,
              MetricName(spec->metric));
  std::printf("batch search: %.1f queries/s; one query at a time: %.1f queries/s\n",
              nq / batch_secs, single_n / single_secs);
  if (auto min = args.Get("min-recall")) {
    double want = std::strtod(min->c_str(), nullptr);
    if (recall + 1e-12 < want) {
      std::fprintf(stderr, "mosaic: recall %.4f is below --min-recall %s\n", recall, min->c_str());
      return kExitError;
    }
  }
  return kExitOk;
}

}  // namespace mosaic::cli
