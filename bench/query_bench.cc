// query_bench: latency of the query engine per query kind on a large synthetic collection, and
// the planner's overhead against calling the Collection API directly, in the same run.
//
//   query_bench [--points N] [--queries N] [--rounds N] [--dim D] [--kinds vector,bm25,...]
//
// The collection (default 1,000,000 points, 128-d clustered vectors, cosine, HNSW m 16 / ef 64)
// has generated payloads: kind (keyword, 6 values), file_id (keyword, one per 20 points), date
// (datetime over 10 years), n (integer), title and text (text-indexed; words drawn from a
// Zipf-distributed vocabulary of 20,000 made-up words). Query kinds, each through QueryEngine and,
// where one exists, the direct equivalent:
//   vector    nearest, limit 10            direct: Collection::Search, limit 10, with payloads
//   bm25      2-3 words over title^0.5,text direct: Collection::SearchText, limit 10
//   bm25+snip the same with snippets (each hit's matching sentence found, the engine's default)
//   fused     RRF of the two (top 100 each) direct: Search 100 + SearchText 100 + RRF + Get 10
//   group_by  nearest, best per file_id, 10 groups
//   facet     kind and year over a date range, limit 1   direct: Collection::Facet x 2
//   sort      a kind's points by date desc, limit 10     direct: Collection::Scroll order_by
// The engine runs without snippets (`snippet: false`) except in bm25+snip, since the direct calls
// make none. For 1 and 2 client threads, each round runs every query of a kind through both paths,
// the order of the two alternating between rounds; per-query latencies give p50 and p99, the median
// round is reported, and overhead = engine p50 / direct p50.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mosaic/db.h"
#include "query/engine.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using mosaic::Json;
namespace q = mosaic::query;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "query_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const mosaic::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

double Median(std::vector<double> v) {
  return Percentile(std::move(v), 0.5);
}

// Made-up words: syllables combined, so the vocabulary is large and stems stay distinct.
std::vector<std::string> Vocabulary(size_t n, std::mt19937_64& rng) {
  static const char* kSyllables[] = {"ka",  "lo",  "mi",  "ren", "tos", "vu",  "bel", "dra",
                                     "fin", "gor", "hal", "jen", "kor", "lim", "mar", "nol",
                                     "pex", "quo", "ras", "sil", "tur", "vax", "wel", "zim"};
  std::vector<std::string> words;
  std::map<std::string, bool> seen;
  while (words.size() < n) {
    std::string w;
    const int parts = 2 + static_cast<int>(rng() % 3);
    for (int i = 0; i < parts; ++i)
      w += kSyllables[rng() % 24];
    if (!seen[w]) {
      seen[w] = true;
      words.push_back(w);
    }
  }
  return words;
}

// Draws word ranks with P(r) ~ 1 / (r + 1).
class Zipf {
 public:
  explicit Zipf(size_t n) {
    double total = 0;
    for (size_t r = 0; r < n; ++r)
      cdf_.push_back(total += 1.0 / static_cast<double>(r + 1));
    for (double& c : cdf_)
      c /= total;
  }
  size_t operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin(),
                            cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

struct Data {
  std::vector<float> centroids;
  size_t dim = 128;
};

std::vector<float> Vector(const Data& d, std::mt19937_64& rng) {
  std::normal_distribution<float> noise(0, 0.35f);
  const size_t c = rng() % (d.centroids.size() / d.dim);
  std::vector<float> v(d.dim);
  for (size_t i = 0; i < d.dim; ++i)
    v[i] = d.centroids[c * d.dim + i] + noise(rng);
  return v;
}

std::string Words(const std::vector<std::string>& vocab, const Zipf& zipf, size_t n,
                  std::mt19937_64& rng) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += (s.empty() ? "" : " ") + vocab[zipf(rng)];
  return s;
}

std::string Date(int64_t day) {
  const time_t t = static_cast<time_t>(day * 86400 + 43200);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char* kKinds[] = {"image", "shot", "chunk", "speech", "face", "document"};

struct Query {
  std::vector<float> vector;
  std::string text;
  std::string kind;
  std::string from, to;  // a date range
};

struct Kind {
  std::string name;
  std::function<void(const Query&)> engine;
  std::function<void(const Query&)> direct;  // empty: no direct equivalent
};

// Per-query latencies (ms) of `fn` over `queries`, run by `threads` threads.
std::vector<double> Time(const std::vector<Query>& queries, int threads,
                         const std::function<void(const Query&)>& fn) {
  std::vector<double> ms(queries.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < queries.size();) {
        const auto a = Clock::now();
        fn(queries[i]);
        ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
      }
    });
  for (auto& th : pool)
    th.join();
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  size_t points = 1'000'000, nq = 200, rounds = 3, dim = 128;
  std::string only;  // comma-separated kinds to run (empty: all)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> size_t {
      if (i + 1 >= argc) Die(a + " needs a value");
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--points")
      points = next();
    else if (a == "--queries")
      nq = next();
    else if (a == "--rounds")
      rounds = next();
    else if (a == "--dim")
      dim = next();
    else if (a == "--kinds" && i + 1 < argc)
      only = "," + std::string(argv[++i]) + ",";
    else
      Die("usage: query_bench [--points N] [--queries N] [--rounds N] [--dim D] [--kinds K1,K2]");
  }
  std::mt19937_64 rng(42);
  Data data;
  data.dim = dim;
  std::normal_distribution<float> unit(0, 1);
  for (size_t i = 0; i < 1000 * dim; ++i)
    data.centroids.push_back(unit(rng));
  const std::vector<std::string> vocab = Vocabulary(20000, rng);
  const Zipf zipf(vocab.size());

  const std::string dir = fs::temp_directory_path() / "mosaic-query-bench";
  fs::remove_all(dir);
  mosaic::DbOptions dbo;
  dbo.sync = mosaic::SyncPolicy::kNever;
  dbo.wal_flush_bytes = 64ull << 30;  // one flush at the end, not one per 64 MB
  auto db = mosaic::Db::Open(dir, dbo).value();
  mosaic::CollectionSchema schema;
  mosaic::VectorSpec v{"v", static_cast<uint32_t>(dim), mosaic::Metric::kCosine};
  v.index.kind = mosaic::IndexKind::kHnsw;
  v.index.ef_construction = 100;
  schema.vectors = {v};
  auto c = db->CreateCollection("bench", schema).value();
  for (auto [f, t] : std::vector<std::pair<std::string, mosaic::PayloadIndexType>>{
           {"kind", mosaic::PayloadIndexType::kKeyword},
           {"file_id", mosaic::PayloadIndexType::kKeyword},
           {"date", mosaic::PayloadIndexType::kDatetime},
           {"n", mosaic::PayloadIndexType::kInteger},
           {"title", mosaic::PayloadIndexType::kText},
           {"text", mosaic::PayloadIndexType::kText}})
    Check(c->CreatePayloadIndex(f, t), "index");

  const auto load_start = Clock::now();
  const int64_t day0 = 17532;  // 2018-01-01
  for (size_t b = 0; b < points; b += 1000) {
    std::vector<mosaic::Point> batch;
    for (size_t i = b; i < std::min(points, b + 1000); ++i) {
      mosaic::Point p;
      p.id = static_cast<uint64_t>(i);
      p.vectors["v"] = Vector(data, rng);
      p.payload = {{"kind", kKinds[rng() % 6]},
                   {"file_id", "f" + std::to_string(i / 20)},
                   {"date", Date(day0 + static_cast<int64_t>(rng() % 3650))},
                   {"n", static_cast<int64_t>(rng() % 1000)},
                   {"title", Words(vocab, zipf, 2 + rng() % 3, rng)},
                   {"text", Words(vocab, zipf, 10 + rng() % 20, rng)}};
      batch.push_back(std::move(p));
    }
    Check(c->Upsert(batch), "upsert");
    if (b % 100000 == 0) std::fprintf(stderr, "\rloaded %zu points", b);
  }
  Check(c->Flush(), "flush");
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  std::fprintf(stderr, "\r");
  std::printf(
      "collection: %zu points, %zu-d cosine HNSW (m 16, ef_construction 100, ef 64), loaded and "
      "indexed in %.0f s\n",
      points, dim, load_s);

  std::vector<Query> queries;
  Zipf mid(vocab.size());
  for (size_t i = 0; i < nq; ++i) {
    Query qq;
    qq.vector = Vector(data, rng);
    // Query words from the middle of the vocabulary: common enough to match, rare enough to rank.
    qq.text = vocab[20 + rng() % 2000] + " " + vocab[20 + rng() % 2000] +
              (rng() % 2 ? " " + vocab[rng() % 200] : "");
    qq.kind = kKinds[rng() % 6];
    const int64_t a = day0 + static_cast<int64_t>(rng() % 3000);
    qq.from = Date(a);
    qq.to = Date(a + 180);
    queries.push_back(std::move(qq));
  }

  q::QueryEngine engine(*c);
  auto must_ok = [](auto&& r, const char* what) {
    if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
    return std::move(r).value();
  };
  auto date_filter = [](const Query& qq) {
    return mosaic::Filter::FromJson(
               {{"must",
                 Json::array({{{"key", "date"}, {"range", {{"gte", qq.from}, {"lt", qq.to}}}}})}})
        .value();
  };
  std::vector<Kind> kinds;
  kinds.push_back({"vector",
                   [&](const Query& qq) {
                     q::QueryRequest r;
                     r.snippet = false;
                     r.query = q::NearestQuery{{q::Input::Vector(qq.vector)}};
                     must_ok(engine.Query(r), "vector");
                   },
                   [&](const Query& qq) {
                     mosaic::SearchRequest s;
                     s.vector = qq.vector;
                     must_ok(c->Search(s), "search");
                   }});
  // BM25 over title and text, through the engine with or without snippets, and directly.
  auto bm25 = [&](bool snippet) {
    return [&, snippet](const Query& qq) {
      q::QueryRequest r;
      r.snippet = snippet;
      r.query = q::TextQuery{qq.text, {"title^0.5", "text"}};
      must_ok(engine.Query(r), "bm25");
    };
  };
  auto bm25_direct = [&](const Query& qq) {
    mosaic::TextSearchRequest t;
    t.fields = {"title^0.5", "text"};
    t.query = qq.text;
    must_ok(c->SearchText(t), "search text");
  };
  kinds.push_back({"bm25", bm25(false), bm25_direct});
  kinds.push_back({"bm25+snip", bm25(true), bm25_direct});
  kinds.push_back({"fused",
                   [&](const Query& qq) {
                     q::QueryRequest r;
                     r.snippet = false;
                     q::Prefetch a, b;
                     a.query = q::NearestQuery{{q::Input::Vector(qq.vector)}};
                     b.query = q::TextQuery{qq.text, {"title^0.5", "text"}};
                     r.prefetch = {a, b};
                     r.query = q::FusionQuery{q::FusionMethod::kRrf, 60};
                     must_ok(engine.Query(r), "fused");
                   },
                   [&](const Query& qq) {
                     mosaic::SearchRequest s;
                     s.vector = qq.vector;
                     s.limit = 100;
                     s.with_payload = false;
                     mosaic::TextSearchRequest t;
                     t.fields = {"title^0.5", "text"};
                     t.query = qq.text;
                     t.limit = 100;
                     t.with_payload = false;
                     auto vh = must_ok(c->Search(s), "search");
                     auto th = must_ok(c->SearchText(t), "search text");
                     std::unordered_map<mosaic::PointId, double, mosaic::PointIdHash> fused;
                     for (size_t i = 0; i < vh.size(); ++i)
                       fused[vh[i].id] += 1.0 / (61 + i);
                     for (size_t i = 0; i < th.size(); ++i)
                       fused[th[i].id] += 1.0 / (61 + i);
                     std::vector<std::pair<double, mosaic::PointId>> order;
                     for (auto& [id, s2] : fused)
                       order.emplace_back(-s2, id);
                     std::partial_sort(order.begin(),
                                       order.begin() + std::min<size_t>(10, order.size()),
                                       order.end());
                     std::vector<mosaic::PointId> ids;
                     for (size_t i = 0; i < std::min<size_t>(10, order.size()); ++i)
                       ids.push_back(order[i].second);
                     must_ok(c->Get(ids, true, false), "get");
                   }});
  kinds.push_back({"group_by",
                   [&](const Query& qq) {
                     q::QueryRequest r;
                     r.snippet = false;
                     r.query = q::NearestQuery{{q::Input::Vector(qq.vector)}};
                     r.group_by = q::GroupBy{"file_id", 1};
                     must_ok(engine.Query(r), "group_by");
                   },
                   {}});
  kinds.push_back({"facet",
                   [&](const Query& qq) {
                     q::QueryRequest r;
                     r.snippet = false;
                     r.filter = date_filter(qq);
                     r.limit = 1;
                     r.facets = {q::FacetSpec{"kind", 10, mosaic::FacetBucket::kValue},
                                 q::FacetSpec{"date", 10, mosaic::FacetBucket::kYear}};
                     must_ok(engine.Query(r), "facet");
                   },
                   [&](const Query& qq) {
                     mosaic::FacetRequest f;
                     f.key = "kind";
                     f.filter = date_filter(qq);
                     must_ok(c->Facet(f), "facet");
                     f.key = "date";
                     f.bucket = mosaic::FacetBucket::kYear;
                     must_ok(c->Facet(f), "facet");
                   }});
  kinds.push_back(
      {"sort",
       [&](const Query& qq) {
         q::QueryRequest r;
         r.filter =
             mosaic::Filter::FromJson(
                 {{"must", Json::array({{{"key", "kind"}, {"match", {{"value", qq.kind}}}}})}})
                 .value();
         r.query = q::OrderByQuery{mosaic::OrderBy{"date", true}};
         must_ok(engine.Query(r), "sort");
       },
       [&](const Query& qq) {
         mosaic::ScrollRequest s;
         s.filter =
             mosaic::Filter::FromJson(
                 {{"must", Json::array({{{"key", "kind"}, {"match", {{"value", qq.kind}}}}})}})
                 .value();
         s.order_by = mosaic::OrderBy{"date", true};
         s.limit = 10;
         must_ok(c->Scroll(s), "scroll");
       }});

  std::printf("%zu queries per kind, %zu rounds (median round), latency in ms\n", queries.size(),
              rounds);
  std::printf("%-9s %7s | %9s %9s | %9s %9s | %8s\n", "kind", "threads", "engine p50", "p99",
              "direct p50", "p99", "overhead");
  for (const Kind& k : kinds) {
    if (!only.empty() && only.find("," + k.name + ",") == std::string::npos) continue;
    if (!only.empty() && only.find("," + k.name + ",") == std::string::npos) continue;
    for (int threads : {1, 2}) {
      std::vector<double> e50, e99, d50, d99;
      for (size_t round = 0; round < rounds; ++round) {
        auto run_engine = [&] {
          auto ms = Time(queries, threads, k.engine);
          e50.push_back(Percentile(ms, 0.5));
          e99.push_back(Percentile(ms, 0.99));
        };
        auto run_direct = [&] {
          if (!k.direct) return;
          auto ms = Time(queries, threads, k.direct);
          d50.push_back(Percentile(ms, 0.5));
          d99.push_back(Percentile(ms, 0.99));
        };
        if (round % 2 == 0) {
          run_engine();
          run_direct();
        } else {
          run_direct();
          run_engine();
        }
      }
      if (k.direct)
        std::printf("%-9s %7d | %9.3f %9.3f | %9.3f %9.3f | %7.2fx\n", k.name.c_str(), threads,
                    Median(e50), Median(e99), Median(d50), Median(d99), Median(e50) / Median(d50));
      else
        std::printf("%-9s %7d | %9.3f %9.3f | %9s %9s | %8s\n", k.name.c_str(), threads,
                    Median(e50), Median(e99), "-", "-", "-");
    }
  }
  c.reset();
  db.reset();
  fs::remove_all(dir);
  return 0;
}
