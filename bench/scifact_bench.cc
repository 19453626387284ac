// scifact_bench: text retrieval quality on SciFact (BEIR format), every parameter tuned on the
// train queries (qrels/train.tsv) and reported on the held-out test queries (qrels/test.tsv), next
// to LanceDB's full-text search (Node, @lancedb/lancedb 0.31.0, spawned by this bench) in the
// same run. Systems:
//   bm25 defaults     Mosaic BM25 in ingest's field layout (title and text, two text-indexed
//                     fields, scores summed), k1 = 1.2, b = 0.75, title weight 1: nothing tuned;
//   bm25              the same with k1, b and the title weight tuned on train;
//   bm25+rm3          query::SearchTextWithFeedback (RM3) over the tuned BM25: feedback documents,
//                     terms and the original query's weight tuned on train;
//   fasttext          fastText word vectors trained on the corpus (embed::TrainFastText), pooled
//                     per document and per query (mean or SIF, chosen on train), exact cosine;
//   hybrid rrf/score  a text list (bm25 or bm25+rm3, chosen on train) fused with fasttext by
//                     query::FuseRrf (k and the dense weight tuned) or query::FuseDbsf (the dense
//                     weight tuned);
//   hybrid engine     the tuned bm25 and fasttext fused as the query engine fuses signals by
//                     default (RRF, k = 60, weights 1): what `mosaic search --text` does;
//   lancedb fts       LanceDB's FTS defaults (English stemmer and stopwords) over title and text
//                     joined in one column; nothing tuned.
// Queries/s: single thread, top 100, the test queries; rounds rotate the systems' order (LanceDB's
// time is its query loop inside Node); the median round is reported.
//
//   scifact_bench [--data DIR] [--rounds N] [--dim D] [--epochs N] [--maxn N] [--threads N]
//                 [--no-lancedb]
// (--maxn 0: fastText without character n-grams, several times faster to train.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "embed/text/fasttext_encoder.h"
#include "bench_util.h"
#include "mosaic/db.h"
#include "query/feedback.h"
#include "query/fusion.h"
#include "query/planner.h"

namespace {

namespace fs = std::filesystem;
using mosaic::bench::Clock;
using mosaic::bench::Median;
using mosaic::bench::Seconds;
constexpr size_t kTopK = 100;

[[noreturn]] void Die(const std::string& what) { mosaic::bench::Die("scifact_bench", what); }

void Check(const mosaic::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

struct Doc {
  std::string id, title, text;
};
struct Query {
  std::string id, text;
};
using Qrels = std::map<std::string, std::map<std::string, int>>;

template <typename Fn>
void ForEachJsonLine(const std::string& path, Fn&& fn) {
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) fn(mosaic::Json::parse(line));
}

// BEIR's "query-id corpus-id score" (header line) or TREC's "query-id 0 corpus-id score".
Qrels ReadQrels(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  Qrels qrels;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    std::vector<std::string> f;
    for (std::string w; ss >> w;)
      f.push_back(w);
    if (f.size() < 3 || f[0] == "query-id") continue;
    qrels[f[0]][f.size() >= 4 ? f[2] : f[1]] = std::stoi(f.back());
  }
  return qrels;
}

// nDCG@10 with linear gains (trec_eval, as BEIR reports); Recall@100 over the judged-relevant.
double Ndcg10(const std::vector<std::string>& ranked, const std::map<std::string, int>& rel) {
  double dcg = 0;
  for (size_t i = 0; i < ranked.size() && i < 10; ++i) {
    auto it = rel.find(ranked[i]);
    if (it != rel.end() && it->second > 0) dcg += it->second / std::log2(i + 2.0);
  }
  std::vector<int> gains;
  for (const auto& [d, g] : rel)
    if (g > 0) gains.push_back(g);
  std::sort(gains.rbegin(), gains.rend());
  double idcg = 0;
  for (size_t i = 0; i < gains.size() && i < 10; ++i)
    idcg += gains[i] / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0;
}

double Recall100(const std::vector<std::string>& ranked, const std::map<std::string, int>& rel) {
  size_t relevant = 0, found = 0;
  for (const auto& [d, g] : rel)
    relevant += g > 0;
  for (size_t i = 0; i < ranked.size() && i < 100; ++i) {
    auto it = rel.find(ranked[i]);
    found += it != rel.end() && it->second > 0;
  }
  return relevant ? double(found) / relevant : 0;
}

struct Quality {
  double ndcg = 0, recall = 0;
};

// A ranked list: corpus indexes with scores, best first.
using Hits = std::vector<std::pair<uint32_t, float>>;

struct QuerySet {
  std::vector<Query> queries;
  const Qrels* qrels = nullptr;
};

Quality Evaluate(const QuerySet& set, const std::vector<Hits>& results,
                 const std::vector<Doc>& docs) {
  Quality q;
  for (size_t i = 0; i < set.queries.size(); ++i) {
    std::vector<std::string> ids;
    for (const auto& [d, s] : results[i])
      ids.push_back(docs[d].id);
    const auto& rel = set.qrels->at(set.queries[i].id);
    q.ndcg += Ndcg10(ids, rel);
    q.recall += Recall100(ids, rel);
  }
  q.ndcg /= set.queries.size();
  q.recall /= set.queries.size();
  return q;
}

// Runs fn(query index) over the queries on `threads` threads.
std::vector<Hits> RunAll(size_t n, int threads, const std::function<Hits(size_t)>& fn) {
  std::vector<Hits> out(n);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = t; i < n; i += threads)
        out[i] = fn(i);
    });
  for (auto& th : pool)
    th.join();
  return out;
}

Hits ToHits(const std::vector<mosaic::ScoredPoint>& hits) {
  Hits out;
  for (const auto& h : hits)
    out.push_back({static_cast<uint32_t>(h.id.num()), h.score});
  return out;
}

mosaic::query::Ranked ToRanked(const Hits& hits) {
  mosaic::query::Ranked r;
  for (const auto& [d, s] : hits)
    r.items.push_back({mosaic::PointId(uint64_t{d}), s, {}});
  return r;
}

struct Bm25Params {
  float k1 = 1.2f, b = 0.75f, title = 1.0f;
  std::string Describe() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "k1=%.2g b=%.2g title^%.2g", k1, b, title);
    return buf;
  }
};

struct FusionParams {
  bool rrf = true;
  bool text_rm3 = false;
  float k = 60, dense_weight = 1;
  std::string Describe() const {
    char buf[96];
    if (rrf)
      std::snprintf(buf, sizeof buf, "%s + fasttext^%.2g, k=%.0f", text_rm3 ? "rm3" : "bm25",
                    dense_weight, k);
    else
      std::snprintf(buf, sizeof buf, "%s + fasttext^%.2g", text_rm3 ? "rm3" : "bm25", dense_weight);
    return buf;
  }
};

Hits Fuse(const Hits& text, const Hits& dense, const FusionParams& p) {
  const mosaic::query::Ranked a = ToRanked(text), b = ToRanked(dense);
  const mosaic::query::FusionInput in[2] = {{&a, 1.0f, 0}, {&b, p.dense_weight, 1}};
  const mosaic::query::Ranked fused =
      p.rrf ? mosaic::query::FuseRrf(in, p.k) : mosaic::query::FuseDbsf(in);
  Hits out;
  for (const auto& c : fused.items) {
    if (out.size() == kTopK) break;
    out.push_back({static_cast<uint32_t>(c.id.num()), c.score});
  }
  return out;
}

// LanceDB through Node: bench/lancedb/fts.mjs.
struct LanceDb {
  std::string script, dir;
  std::string Run(const std::string& args) const {
    const std::string cmd = "node " + script + " " + args + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) Die("cannot run " + cmd);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p))
      out.append(buf, n);
    if (pclose(p) != 0) Die("failed: " + cmd + " (run scripts/bench-peers first)");
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = MOSAIC_DEFAULT_DATA_DIR;
  int rounds = 3, threads = 2;
  bool lancedb = true;
  mosaic::embed::FastTextTrainOptions ft_opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) Die(a + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--data")
      data = next();
    else if (a == "--rounds")
      rounds = std::max(1, std::stoi(next()));
    else if (a == "--dim")
      ft_opt.dim = std::stoi(next());
    else if (a == "--epochs")
      ft_opt.epochs = std::stoi(next());
    else if (a == "--maxn")
      ft_opt.maxn = std::stoi(next());
    else if (a == "--threads")
      threads = std::max(1, std::stoi(next()));
    else if (a == "--no-lancedb")
      lancedb = false;
    else {
      std::fprintf(
          stderr,
          "usage: %s [--data DIR] [--rounds N] [--dim D] [--epochs N] [--maxn N] [--threads N] "
          "[--no-lancedb]\n",
          argv[0]);
      return 2;
    }
  }
  std::vector<Doc> docs;
  ForEachJsonLine(data + "/corpus.jsonl", [&](const mosaic::Json& j) {
    docs.push_back({j.at("_id").get<std::string>(), j.value("title", ""), j.value("text", "")});
  });
  std::vector<Query> all_queries;
  ForEachJsonLine(data + "/queries.jsonl", [&](const mosaic::Json& j) {
    all_queries.push_back({j.at("_id").get<std::string>(), j.at("text").get<std::string>()});
  });
  const Qrels train_qrels = ReadQrels(data + "/qrels/train.tsv");
  const Qrels test_qrels = ReadQrels(data + "/qrels/test.tsv");
  QuerySet train{{}, &train_qrels}, test{{}, &test_qrels};
  for (const auto& q : all_queries) {
    if (train_qrels.count(q.id)) train.queries.push_back(q);
    if (test_qrels.count(q.id)) test.queries.push_back(q);
  }
  for (const auto& q : train.queries)
    if (test_qrels.count(q.id)) Die("query " + q.id + " is judged in both train and test");
  if (docs.empty() || train.queries.empty() || test.queries.empty())
    Die("no documents or no judged queries in " + data);

  const fs::path tmp = fs::temp_directory_path() / "mosaic-scifact-bench";
  fs::remove_all(tmp);
  fs::create_directories(tmp);

  // fastText on the corpus's own text (unsupervised: no query or judgment is seen).
  std::vector<std::string> texts;
  for (const Doc& d : docs)
    texts.push_back(d.title + "\n" + d.text);
  ft_opt.threads = threads;
  auto t0 = Clock::now();
  auto manifest = mosaic::embed::TrainFastText(texts, (tmp / "ft").string(), ft_opt);
  Check(manifest.status(), "train fastText");
  const double ft_train_s = Seconds(t0, Clock::now());
  auto encoder = mosaic::embed::FastTextEncoder::Open(*manifest, (tmp / "ft").string());
  Check(encoder.status(), "open fastText");
  auto& ft = **encoder;
  const mosaic::embed::TextPooling poolings[2] = {mosaic::embed::TextPooling::kMean,
                                                  mosaic::embed::TextPooling::kSif};
  const std::string pool_vec[2] = {"ft_mean", "ft_sif"};

  mosaic::DbOptions opt;
  opt.search_threads = 1;
  auto db = mosaic::Db::Open((tmp / "mosaic").string(), opt);
  Check(db.status(), "open db");
  mosaic::CollectionSchema schema;
  for (const auto& v : pool_vec)
    schema.vectors.push_back(
        {v, static_cast<uint32_t>(ft_opt.dim), mosaic::Metric::kCosine, {}, {}});
  auto coll = (*db)->CreateCollection("scifact", schema);
  Check(coll.status(), "create collection");
  auto& c = **coll;
  for (const char* f : {"title", "text"})
    Check(c.CreatePayloadIndex(f, mosaic::PayloadIndexType::kText), "index");
  t0 = Clock::now();
  std::vector<mosaic::Point> batch;
  for (size_t i = 0; i < docs.size(); ++i) {
    mosaic::Point p;
    p.id = uint64_t{i};
    p.payload = {{"title", docs[i].title}, {"text", docs[i].text}};
    for (int k = 0; k < 2; ++k) {
      ft.set_pooling(poolings[k]);
      auto v = ft.EncodeText(texts[i]);
      if (!v.empty()) p.vectors[pool_vec[k]] = std::move(v);
    }
    batch.push_back(std::move(p));
    if (batch.size() == 1000 || i + 1 == docs.size()) {
      Check(c.Upsert(batch), "upsert");
      batch.clear();
    }
  }
  Check(c.Flush(), "flush");
  const double mosaic_index_s = Seconds(t0, Clock::now());

  LanceDb lance{std::string(MOSAIC_SOURCE_DIR) + "/bench/lancedb/fts.mjs",
                (tmp / "lancedb").string()};
  double lance_index_s = 0;
  if (lancedb) {
    const auto j =
        mosaic::Json::parse(lance.Run("index " + lance.dir + " " + data + "/corpus.jsonl"));
    lance_index_s = j.at("seconds").get<double>();
  }

  // The systems, as functions of (query text, parameters).
  auto bm25 = [&](const std::string& q, const Bm25Params& p) {
    mosaic::TextSearchRequest r;
    r.fields = {"title^" + std::to_string(p.title), "text"};
    r.query = q;
    r.limit = kTopK;
    r.with_payload = false;
    r.k1 = p.k1;
    r.b = p.b;
    return r;
  };
  auto run_bm25 = [&](const std::string& q, const Bm25Params& p) {
    auto hits = c.SearchText(bm25(q, p));
    Check(hits.status(), "SearchText '" + q + "'");
    return ToHits(*hits);
  };
  auto run_rm3 = [&](const std::string& q, const Bm25Params& p,
                     const mosaic::query::FeedbackOptions& fb) {
    auto hits = mosaic::query::SearchTextWithFeedback(c, bm25(q, p), fb);
    Check(hits.status(), "SearchTextWithFeedback '" + q + "'");
    return ToHits(*hits);
  };
  // Dense: each pooling encodes queries with its own setting (the encoder is shared, so the
  // tuning runs it single-threaded per pooling).
  std::vector<std::unique_ptr<mosaic::embed::FastTextEncoder>> encoders;
  for (int k = 0; k < 2; ++k) {
    auto e = mosaic::embed::FastTextEncoder::Open(*manifest, (tmp / "ft").string());
    Check(e.status(), "open fastText");
    (*e)->set_pooling(poolings[k]);
    encoders.push_back(std::move(e).value());
  }
  auto run_dense = [&](const std::string& q, int k) {
    mosaic::SearchRequest r;
    r.vector_name = pool_vec[k];
    r.vector = encoders[k]->EncodeText(q);
    r.limit = kTopK;
    r.with_payload = false;
    if (r.vector.empty()) return Hits{};
    auto hits = c.Search(r);
    Check(hits.status(), "Search '" + q + "'");
    return ToHits(*hits);
  };
  auto over = [&](const QuerySet& set, const std::function<Hits(const std::string&)>& fn) {
    return RunAll(set.queries.size(), threads, [&](size_t i) { return fn(set.queries[i].text); });
  };

  // --- Tuning on the train queries only. ---
  const Bm25Params defaults;
  const Quality default_train =
      Evaluate(train, over(train, [&](auto& q) { return run_bm25(q, defaults); }), docs);
  Bm25Params best_bm25;
  double best = -1;
  for (float k1 : {0.4f, 0.6f, 0.8f, 1.0f, 1.2f})
    for (float b : {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.75f})
      for (float tw : {0.2f, 0.35f, 0.5f, 0.7f, 1.0f}) {
        const Bm25Params p{k1, b, tw};
        const double n =
            Evaluate(train, over(train, [&](auto& q) { return run_bm25(q, p); }), docs).ndcg;
        if (n > best) best = n, best_bm25 = p;
      }
  const double bm25_train = best;
  std::fprintf(stderr, "tuned bm25 on train: %s nDCG@10 %.4f\n", best_bm25.Describe().c_str(),
               best);

  mosaic::query::FeedbackOptions best_fb;
  best = -1;
  for (size_t fd : {3, 5, 10})
    for (size_t ft_terms : {5, 10, 20})
      for (float lambda : {0.7f, 0.85f, 0.95f}) {
        mosaic::query::FeedbackOptions fb;
        fb.docs = fd;
        fb.terms = ft_terms;
        fb.original_weight = lambda;
        const double n =
            Evaluate(train, over(train, [&](auto& q) { return run_rm3(q, best_bm25, fb); }), docs)
                .ndcg;
        if (n > best) best = n, best_fb = fb;
      }
  const double rm3_train = best;
  std::fprintf(stderr, "tuned rm3 on train: docs %zu terms %zu lambda %.2f nDCG@10 %.4f\n",
               best_fb.docs, best_fb.terms, best_fb.original_weight, best);

  int best_pool = 0;
  double dense_train[2];
  for (int k = 0; k < 2; ++k) {
    dense_train[k] = Evaluate(train,
                              RunAll(train.queries.size(), 1,
                                     [&](size_t i) { return run_dense(train.queries[i].text, k); }),
                              docs)
                         .ndcg;
    if (dense_train[k] > dense_train[best_pool]) best_pool = k;
  }
  std::fprintf(stderr, "fasttext on train: mean %.4f sif %.4f\n", dense_train[0], dense_train[1]);

  // Fusion: the lists are computed once per train query, then fused under each setting.
  const auto train_bm25 = over(train, [&](auto& q) { return run_bm25(q, best_bm25); });
  const auto train_rm3 = over(train, [&](auto& q) { return run_rm3(q, best_bm25, best_fb); });
  const auto train_dense = RunAll(train.queries.size(), 1, [&](size_t i) {
    return run_dense(train.queries[i].text, best_pool);
  });
  auto fused_quality = [&](const FusionParams& p) {
    std::vector<Hits> out(train.queries.size());
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = Fuse(p.text_rm3 ? train_rm3[i] : train_bm25[i], train_dense[i], p);
    return Evaluate(train, out, docs).ndcg;
  };
  FusionParams best_rrf, best_dbsf;
  double rrf_train = -1, dbsf_train = -1;
  for (bool rm3 : {false, true}) {
    for (float k : {5.f, 10.f, 20.f, 40.f, 60.f, 100.f})
      for (float w : {0.05f, 0.1f, 0.2f, 0.3f, 0.5f, 0.7f, 1.0f}) {
        const FusionParams p{true, rm3, k, w};
        if (double n = fused_quality(p); n > rrf_train) rrf_train = n, best_rrf = p;
      }
    for (float w : {0.05f, 0.1f, 0.2f, 0.3f, 0.5f, 0.7f, 1.0f}) {
      const FusionParams p{false, rm3, 0, w};
      if (double n = fused_quality(p); n > dbsf_train) dbsf_train = n, best_dbsf = p;
    }
  }

  // The query engine's fusion (docs/query.md: RRF, k = 60, BM25 weight 1), what `mosaic search
  // --text` does on a collection with the fastText vector: at the fastText weight 1 it used to
  // have, and at the weight chosen here on train, which is SignalDefaults::vector_weights.
  const FusionParams engine_w1{true, false, 60, 1};
  const double engine_w1_train = fused_quality(engine_w1);
  FusionParams engine_rrf{true, false, 60, 1};
  double engine_rrf_train = -1;
  for (float w : {0.05f, 0.1f, 0.2f, 0.3f, 0.5f, 0.7f, 1.0f}) {
    const FusionParams p{true, false, 60, w};
    if (double n = fused_quality(p); n > engine_rrf_train) engine_rrf_train = n, engine_rrf = p;
  }
  const float engine_default =
      mosaic::query::SignalDefaults().vector_weights.at("fasttext");
  if (engine_rrf.dense_weight != engine_default)
    std::fprintf(stderr, "note: the engine's default fastText weight is %.2f, train chose %.2f\n",
                 engine_default, engine_rrf.dense_weight);

  // --- Report on the test queries, with single-thread queries/s. ---
  struct System {
    std::string name, params;
    double train_ndcg = 0;
    std::function<Hits(const std::string&)> fn;  // empty: LanceDB
    std::vector<Hits> test;
    std::vector<double> qps;
  };
  std::vector<System> systems = {
      {"bm25 defaults", defaults.Describe() + " (not tuned)", default_train.ndcg,
       [&](const std::string& q) { return run_bm25(q, defaults); }},
      {"bm25", best_bm25.Describe(), bm25_train,
       [&](const std::string& q) { return run_bm25(q, best_bm25); }},
      {"bm25+rm3",
       "docs " + std::to_string(best_fb.docs) + ", terms " + std::to_string(best_fb.terms) +
           ", lambda " + std::to_string(best_fb.original_weight).substr(0, 4),
       rm3_train, [&](const std::string& q) { return run_rm3(q, best_bm25, best_fb); }},
      {"fasttext", std::string(mosaic::embed::TextPoolingName(poolings[best_pool])) + " pooling",
       dense_train[best_pool], [&](const std::string& q) { return run_dense(q, best_pool); }},
      {"hybrid rrf", best_rrf.Describe(), rrf_train,
       [&](const std::string& q) {
         return Fuse(best_rrf.text_rm3 ? run_rm3(q, best_bm25, best_fb) : run_bm25(q, best_bm25),
                     run_dense(q, best_pool), best_rrf);
       }},
      {"hybrid engine w1", engine_w1.Describe() + " (not tuned)", engine_w1_train,
       [&](const std::string& q) {
         return Fuse(run_bm25(q, best_bm25), run_dense(q, best_pool), engine_w1);
       }},
      {"hybrid engine", engine_rrf.Describe() + " (k fixed)", engine_rrf_train,
       [&](const std::string& q) {
         return Fuse(run_bm25(q, best_bm25), run_dense(q, best_pool), engine_rrf);
       }},
      {"hybrid score", best_dbsf.Describe(), dbsf_train,
       [&](const std::string& q) {
         return Fuse(best_dbsf.text_rm3 ? run_rm3(q, best_bm25, best_fb) : run_bm25(q, best_bm25),
                     run_dense(q, best_pool), best_dbsf);
       }},
  };
  if (lancedb) systems.push_back({"lancedb fts", "LanceDB defaults (not tuned)", -1, {}});
  std::map<std::string, uint32_t> doc_index;
  for (size_t i = 0; i < docs.size(); ++i)
    doc_index[docs[i].id] = static_cast<uint32_t>(i);
  const std::string query_file = (tmp / "test_queries.txt").string();
  {
    std::ofstream qf(query_file);
    for (const auto& q : test.queries) {
      std::string line = q.text;
      std::replace(line.begin(), line.end(), '\n', ' ');
      qf << line << '\n';
    }
  }
  const size_t nq = test.queries.size();
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < systems.size(); ++i) {
      System& s = systems[(i + r) % systems.size()];
      if (!s.fn) {
        const std::string out = (tmp / "lancedb.json").string();
        lance.Run("query " + lance.dir + " " + query_file + " " + out);
        std::ifstream in(out);
        const auto j = mosaic::Json::parse(in);
        s.qps.push_back(nq / j.at("seconds").get<double>());
        s.test.assign(nq, {});
        const auto& ranked = j.at("ranked");
        for (size_t q = 0; q < nq; ++q)
          for (const auto& id : ranked.at(q))
            s.test[q].push_back({doc_index.at(id), 0.0f});
        continue;
      }
      s.test.assign(nq, {});
      const auto start = Clock::now();
      for (size_t q = 0; q < nq; ++q)
        s.test[q] = s.fn(test.queries[q].text);
      s.qps.push_back(nq / Seconds(start, Clock::now()));
    }
  }

  std::printf(
      "SciFact: %zu docs; tuned on %zu train queries (qrels/train.tsv), reported on %zu "
      "test queries (qrels/test.tsv); top %zu; queries/s 1 thread, median of %d rounds\n",
      docs.size(), train.queries.size(), nq, kTopK, rounds);
  const std::string ngrams = ft_opt.maxn > 0 ? "n-grams " + std::to_string(ft_opt.minn) + ".." +
                                                   std::to_string(ft_opt.maxn)
                                             : "no n-grams";
  std::printf(
      "fastText: skipgram dim %d, %d epochs, %s, trained in %.1f s on %d threads; "
      "Mosaic index (BM25 fields + 2 pooled vectors) %.1f s",
      ft_opt.dim, ft_opt.epochs, ngrams.c_str(), ft_train_s, threads, mosaic_index_s);
  if (lancedb) std::printf("; LanceDB table + FTS index %.1f s", lance_index_s);
  std::printf("\n%-14s %-34s %11s %10s %9s %10s %8s\n", "system", "parameters (chosen on train)",
              "train nDCG", "test nDCG", "test R@100", "queries/s", "q/s vs lancedb");
  const System* peer = lancedb ? &systems.back() : nullptr;
  for (const System& s : systems) {
    const Quality q = Evaluate(test, s.test, docs);
    char train_buf[16] = "-";
    if (s.train_ndcg >= 0) std::snprintf(train_buf, sizeof train_buf, "%.4f", s.train_ndcg);
    std::printf("%-14s %-34s %11s %10.4f %9.4f %10.1f", s.name.c_str(), s.params.c_str(), train_buf,
                q.ndcg, q.recall, Median(s.qps));
    if (peer) std::printf(" %8.2fx", Median(s.qps) / Median(peer->qps));
    std::printf("\n");
  }
  std::printf("queries/s per round:");
  for (const System& s : systems) {
    std::printf("\n  %-14s", s.name.c_str());
    for (double v : s.qps)
      std::printf(" %8.1f", v);
  }
  std::printf("\nreference (not computed): BEIR BM25 (Elasticsearch) nDCG@10 = 0.665\n");
  coll->reset();
  db->reset();
  fs::remove_all(tmp);
  return 0;
}
