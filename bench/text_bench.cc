// text_bench: BM25 full-text retrieval on SciFact (BEIR format) through the public
// Collection::SearchText, next to Xapian 1.4 (BM25Weight, English Snowball stemmer) on the same
// corpus and queries, in the same process: indexing docs/s, nDCG@10 and Recall@100 over the test
// queries that have judgments, and single-thread queries/s (top 100).
//
//   text_bench [--data DIR] [--rounds N] [--examples N]
//
// DIR holds corpus.jsonl, queries.jsonl and qrels/test.tsv (default: ../shared/data/scifact
// beside the repository). Rounds rotate the order of the systems; the median round is reported.
//
// Rows (all BM25 k1 = 1.2, b = 0.75 unless named):
//   mosaic:           title and text as two text-indexed payload fields, scores summed (per-field
//                     length and document frequencies), the way Mosaic's ingest indexes them;
//                     also with k1 = 0.9, b = 0.4 (Anserini's defaults);
//   mosaic title^W:   the same two fields with the title's scores weighed by W (0.5, 0.3);
//   mosaic one field: title and text joined in one text-indexed field, Xapian-flat's model;
//   mosaic reopened:  the first row's collection in a database closed and opened again, so its
//                     posting lists are read in place from the index file (same scores expected);
//   xapian-flat:      title and text as one document text;
//   xapian-fields:    the title under prefix "S", the text unprefixed, queries search both (Xapian
//                     1.4's BM25 normalizes by the whole document's length, so it cannot score
//                     fields separately as Mosaic does).
// Xapian: TermGenerator without positions (Mosaic keeps none; BM25 needs none), English Snowball
// stemmer, QueryParser with STEM_SOME, default operator OR, and Mosaic's stopword list on both
// sides so both drop the same words; BM25Weight(k1 1.2, k2 0, k3 1, b 0.75, min_normlen 0.5).
// The Xapian variant with the better nDCG@10 is the one the ratios are taken against.
#include <xapian.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "mosaic/db.h"

namespace {

namespace fs = std::filesystem;
using mosaic::bench::Clock;
using mosaic::bench::Median;
using mosaic::bench::Seconds;
[[noreturn]] void Die(const std::string& what) { mosaic::bench::Die("text_bench", what); }

void Check(const mosaic::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

// The stopwords Mosaic's word tokenizer drops (docs/text_search.md), given to Xapian too so
// both systems match the same query words.
constexpr const char* kStopwords[] = {
    "a",    "an",   "and",   "are",  "as",    "at",    "be",   "been", "but",  "by",
    "can",  "could", "did",  "do",   "does",  "for",   "from", "had",  "has",  "have",
    "he",   "her",  "his",   "i",    "if",    "in",    "into", "is",   "it",   "its",
    "may",  "no",   "not",   "of",   "on",    "or",    "our",  "she",  "so",   "such",
    "than", "that", "the",   "their", "then", "there", "these", "they", "this", "to",
    "was",  "we",   "were",  "with"};

constexpr size_t kTopK = 100;

struct Doc {
  std::string id, title, text;
};

struct Query {
  std::string id, text;
};

// Judgments: query id -> (doc id -> graded relevance).
using Qrels = std::map<std::string, std::map<std::string, int>>;

// Calls fn with each non-empty line of a JSON Lines file, parsed.
template <typename Fn>
void ForEachJsonLine(const std::string& path, Fn&& fn) {
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) fn(mosaic::Json::parse(line));
}

std::vector<Doc> ReadCorpus(const std::string& path) {
  std::vector<Doc> docs;
  ForEachJsonLine(path, [&](const mosaic::Json& j) {
    docs.push_back({j.at("_id").get<std::string>(), j.value("title", ""), j.value("text", "")});
  });
  return docs;
}

std::vector<Query> ReadQueries(const std::string& path) {
  std::vector<Query> qs;
  ForEachJsonLine(path, [&](const mosaic::Json& j) {
    qs.push_back({j.at("_id").get<std::string>(), j.at("text").get<std::string>()});
  });
  return qs;
}

// Accepts BEIR's "query-id corpus-id score" (with a header line) and TREC's
// "query-id iteration corpus-id score" (the shipped test.tsv), whitespace-separated.
Qrels ReadQrels(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  Qrels qrels;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::vector<std::string> f;
    for (std::string w; ss >> w;) f.push_back(w);
    if (f.size() < 3 || f[0] == "query-id") continue;
    const std::string& doc = f.size() >= 4 ? f[2] : f[1];
    qrels[f[0]][doc] = std::stoi(f.back());
  }
  return qrels;
}

// nDCG@10 with linear gains (trec_eval / pytrec_eval, as BEIR reports) and the ideal ranking
// from the judgments; Recall@100 over the judged-relevant documents.
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
  for (size_t i = 0; i < gains.size() && i < 10; ++i) idcg += gains[i] / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0;
}

double Recall100(const std::vector<std::string>& ranked, const std::map<std::string, int>& rel) {
  size_t relevant = 0, found = 0;
  for (const auto& [d, g] : rel) relevant += g > 0;
  for (size_t i = 0; i < ranked.size() && i < 100; ++i) {
    auto it = rel.find(ranked[i]);
    found += it != rel.end() && it->second > 0;
  }
  return relevant ? double(found) / relevant : 0;
}

double Jaccard10(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::set<std::string> sa(a.begin(), a.begin() + std::min<size_t>(10, a.size()));
  std::set<std::string> sb(b.begin(), b.begin() + std::min<size_t>(10, b.size()));
  size_t inter = 0;
  for (const auto& x : sa) inter += sb.count(x);
  const size_t uni = sa.size() + sb.size() - inter;
  return uni ? double(inter) / uni : 1.0;
}

// One system's results and timings: ranked corpus ids per query.
struct Run {
  std::string name;
  double index_docs_per_s = 0;
  std::vector<double> round_qps;
  std::vector<std::vector<std::string>> ranked;
  double ndcg = 0, recall = 0;
};

class XapianSystem {
 public:
  XapianSystem(const std::string& dir, bool fields) : fields_(fields) {
    for (const char* w : kStopwords) stopper_.add(w);
    fs::remove_all(dir);
    db_ = std::make_unique<Xapian::WritableDatabase>(dir, Xapian::DB_CREATE_OR_OVERWRITE);
  }

  // Adds the documents in corpus order (docid = index + 1) and commits; returns seconds.
  double Index(const std::vector<Doc>& docs) {
    const auto t0 = Clock::now();
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_stopper(&stopper_);
    for (const Doc& d : docs) {
      Xapian::Document doc;
      tg.set_document(doc);
      tg.index_text_without_positions(d.title, 1, fields_ ? "S" : "");
      tg.index_text_without_positions(d.text);
      db_->add_document(doc);
    }
    db_->commit();
    const double s = Seconds(t0, Clock::now());
    PrepareQueries();
    return s;
  }

  // Readies the query parser once, as an application would.
  void PrepareQueries() {
    qp_.set_stemmer(Xapian::Stem("english"));
    qp_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp_.set_stopper(&stopper_);
    qp_.set_default_op(Xapian::Query::OP_OR);
    qp_.set_database(*db_);
    if (fields_) {
      qp_.add_prefix("", "");
      qp_.add_prefix("", "S");
    }
  }

  std::vector<Xapian::docid> Search(const std::string& text, size_t k) {
    Xapian::Enquire enquire(*db_);
    enquire.set_query(qp_.parse_query(text));
    enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
    Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
    std::vector<Xapian::docid> out;
    out.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) out.push_back(*it);
    return out;
  }

 private:
  bool fields_;
  Xapian::SimpleStopper stopper_;
  Xapian::QueryParser qp_;
  std::unique_ptr<Xapian::WritableDatabase> db_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = MOSAIC_DEFAULT_DATA_DIR;
  int rounds = 5;
  size_t examples = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--examples" && i + 1 < argc) {
      examples = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--data DIR] [--rounds N] [--examples N]\n", argv[0]);
      return 2;
    }
  }
  const auto docs = ReadCorpus(data + "/corpus.jsonl");
  const auto all_queries = ReadQueries(data + "/queries.jsonl");
  const Qrels qrels = ReadQrels(data + "/qrels/test.tsv");
  std::vector<Query> queries;
  for (const auto& q : all_queries)
    if (qrels.count(q.id)) queries.push_back(q);
  if (docs.empty() || queries.empty()) Die("no documents or no judged queries in " + data);
  const size_t nq = queries.size();

  const fs::path tmp = fs::temp_directory_path() / "mosaic-text-bench";
  fs::remove_all(tmp);
  fs::create_directories(tmp);

  // Mosaic: a tiny constant vector keeps the schema valid (a collection needs one). Collection
  // "fields" has title and text as two payload fields, each with its own text index (scores
  // summed per field); collection "flat" has them joined in one field "all", Xapian-flat's model.
  mosaic::DbOptions opt;
  opt.search_threads = 1;
  auto db = mosaic::Db::Open((tmp / "mosaic").string(), opt);
  Check(db.status(), "open db");
  mosaic::CollectionSchema schema;
  schema.vectors = {{"v", 1, mosaic::Metric::kL2, mosaic::StorageType::kFloat32}};
  auto index_mosaic = [&](mosaic::Db& into, const std::string& name, bool flat) {
    auto c = into.CreateCollection(name, schema);
    Check(c.status(), "create collection " + name);
    const std::vector<std::string> fields =
        flat ? std::vector<std::string>{"all"} : std::vector<std::string>{"title", "text"};
    for (const std::string& f : fields)
      Check((*c)->CreatePayloadIndex(f, mosaic::PayloadIndexType::kText), "index " + f);
    const auto t0 = Clock::now();
    std::vector<mosaic::Point> batch;
    for (size_t i = 0; i < docs.size(); ++i) {
      mosaic::Point p;
      p.id = uint64_t{i};
      p.vectors["v"] = {0.0f};
      if (flat)
        p.payload = {{"all", docs[i].title + "\n" + docs[i].text}};
      else
        p.payload = {{"title", docs[i].title}, {"text", docs[i].text}};
      batch.push_back(std::move(p));
      if (batch.size() == 1000 || i + 1 == docs.size()) {
        Check((*c)->Upsert(batch), "upsert");
        batch.clear();
      }
    }
    Check((*c)->Flush(), "flush");
    return std::make_pair(*c, docs.size() / Seconds(t0, Clock::now()));
  };
  auto [fields_coll, fields_dps] = index_mosaic(**db, "fields", false);
  auto [flat_coll, flat_dps] = index_mosaic(**db, "flat", true);
  // The "fields" collection again in a second database, closed and opened again: its text lists
  // are then read in place from the segment's index file (docs/segment_format.md, "Text lists
  // read in place") where the first database's stay in the heap lists they were built in.
  const std::string reopened_dir = (tmp / "mosaic-reopened").string();
  {
    auto first = mosaic::Db::Open(reopened_dir, opt);
    Check(first.status(), "open db");
    index_mosaic(**first, "fields", false);
  }
  auto reopened_db = mosaic::Db::Open(reopened_dir, opt);
  Check(reopened_db.status(), "reopen db");
  auto reopened_coll = (*reopened_db)->GetCollection("fields");
  Check(reopened_coll.status(), "reopen collection");

  XapianSystem xflat((tmp / "xapian-flat").string(), false);
  XapianSystem xfields((tmp / "xapian-fields").string(), true);
  double xflat_dps, xfields_dps;
  try {
    xflat_dps = docs.size() / xflat.Index(docs);
    xfields_dps = docs.size() / xfields.Index(docs);
  } catch (const Xapian::Error& e) {
    Die("xapian index: " + e.get_description());
  }

  // A system's search: query text -> corpus indexes of the top kTopK.
  using SearchFn = std::function<std::vector<size_t>(const std::string&)>;
  auto mosaic_search = [&](std::shared_ptr<mosaic::Collection> c, std::vector<std::string> fields,
                           float k1, float b) -> SearchFn {
    return [c, fields, k1, b](const std::string& text) {
      mosaic::TextSearchRequest req;
      req.fields = fields;
      req.query = text;
      req.limit = kTopK;
      req.with_payload = false;
      req.k1 = k1;
      req.b = b;
      auto hits = c->SearchText(req);
      Check(hits.status(), "SearchText '" + text + "'");
      std::vector<size_t> out;
      for (const auto& h : *hits) out.push_back(h.id.num());
      return out;
    };
  };
  auto xapian_search = [&](XapianSystem* x) -> SearchFn {
    return [x](const std::string& text) {
      std::vector<size_t> out;
      try {
        for (Xapian::docid d : x->Search(text, kTopK)) out.push_back(d - 1);
      } catch (const Xapian::Error& e) {
        Die("xapian search: " + e.get_description());
      }
      return out;
    };
  };
  std::vector<Run> runs = {
      {"mosaic k1=1.2 b=0.75", fields_dps}, {"mosaic k1=0.9 b=0.4", fields_dps},
      {"mosaic title^0.5", fields_dps},     {"mosaic title^0.3", fields_dps},
      {"mosaic one field", flat_dps},       {"mosaic reopened", fields_dps},
      {"xapian-flat", xflat_dps},
      {"xapian-fields", xfields_dps}};
  const std::vector<SearchFn> search = {
      mosaic_search(fields_coll, {"title", "text"}, 1.2f, 0.75f),
      mosaic_search(fields_coll, {"title", "text"}, 0.9f, 0.4f),
      mosaic_search(fields_coll, {"title^0.5", "text"}, 1.2f, 0.75f),
      mosaic_search(fields_coll, {"title^0.3", "text"}, 1.2f, 0.75f),
      mosaic_search(flat_coll, {"all"}, 1.2f, 0.75f),
      mosaic_search(*reopened_coll, {"title", "text"}, 1.2f, 0.75f), xapian_search(&xflat),
      xapian_search(&xfields)};

  // Rounds rotate the order of the systems so none always runs after the same one.
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < runs.size(); ++i) {
      const size_t sys = (i + r) % runs.size();
      runs[sys].ranked.assign(nq, {});
      const auto t0 = Clock::now();
      for (size_t q = 0; q < nq; ++q)
        for (size_t d : search[sys](queries[q].text))
          runs[sys].ranked[q].push_back(docs[d].id);
      runs[sys].round_qps.push_back(nq / Seconds(t0, Clock::now()));
    }
  }

  std::vector<std::vector<double>> per_query_ndcg(runs.size(), std::vector<double>(nq));
  for (size_t s = 0; s < runs.size(); ++s) {
    for (size_t q = 0; q < nq; ++q) {
      const auto& rel = qrels.at(queries[q].id);
      per_query_ndcg[s][q] = Ndcg10(runs[s].ranked[q], rel);
      runs[s].ndcg += per_query_ndcg[s][q];
      runs[s].recall += Recall100(runs[s].ranked[q], rel);
    }
    runs[s].ndcg /= nq;
    runs[s].recall /= nq;
  }
  auto run_index = [&](const std::string& name) {
    for (size_t i = 0; i < runs.size(); ++i)
      if (runs[i].name == name) return i;
    Die("no run named " + name);
    return size_t{0};
  };
  const size_t xflat_run = run_index("xapian-flat"), xfield_run = run_index("xapian-fields");
  const size_t xbest = runs[xfield_run].ndcg > runs[xflat_run].ndcg ? xfield_run : xflat_run;
  const Run& m = runs[0];
  const Run& x = runs[xbest];

  std::printf("BM25 on SciFact: %zu docs, %zu judged test queries, top %zu, 1 thread, "
              "median of %d rounds\n",
              docs.size(), nq, kTopK, rounds);
  std::printf("%-22s %12s %9s %8s %11s\n", "system", "index doc/s", "nDCG@10", "R@100",
              "queries/s");
  for (const Run& r : runs)
    std::printf("%-22s %12.0f %9.4f %8.4f %11.1f%s\n", r.name.c_str(), r.index_docs_per_s, r.ndcg,
                r.recall, Median(r.round_qps), &r == &x ? "   <- Xapian's better variant" : "");
  for (const Run& r : runs) {
    if (r.name.rfind("mosaic", 0) != 0) continue;
    std::printf("%-22s / %s: index %.2fx, queries/s %.2fx, nDCG@10 %+.4f, R@100 %+.4f\n", r.name.c_str(),
                x.name.c_str(), r.index_docs_per_s / x.index_docs_per_s, Median(r.round_qps) / Median(x.round_qps),
                r.ndcg - x.ndcg, r.recall - x.recall);
  }
  std::printf("queries/s per round:");
  for (const Run& r : runs) {
    std::printf("\n  %-22s", r.name.c_str());
    for (double v : r.round_qps) std::printf(" %8.1f", v);
  }
  std::printf("\nreference (not computed): BEIR BM25 (Elasticsearch) nDCG@10 = 0.665\n");

  // Overlap, informative: Mosaic's default against Xapian's better variant, and the like-for-like
  // pair (one field holding title and text on both sides).
  auto overlap = [&](size_t a, size_t b) {
    double jaccard = 0;
    size_t top1_same = 0;
    for (size_t q = 0; q < nq; ++q) {
      const auto& ra = runs[a].ranked[q];
      const auto& rb = runs[b].ranked[q];
      jaccard += Jaccard10(ra, rb);
      top1_same += !ra.empty() && !rb.empty() && ra[0] == rb[0];
    }
    std::printf("%s vs %s: mean Jaccard of top-10 sets %.3f, same top-1 on %zu/%zu queries\n",
                runs[a].name.c_str(), runs[b].name.c_str(), jaccard / nq, top1_same, nq);
  };
  overlap(0, xbest);
  overlap(run_index("mosaic one field"), xflat_run);

  // The queries on which the two differ most in nDCG@10, each way (informative).
  if (examples > 0) {
    std::vector<size_t> order(nq);
    for (size_t q = 0; q < nq; ++q) order[q] = q;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return per_query_ndcg[0][a] - per_query_ndcg[xbest][a] <
             per_query_ndcg[0][b] - per_query_ndcg[xbest][b];
    });
    auto show = [&](size_t q) {
      const auto& rel = qrels.at(queries[q].id);
      auto rank_of = [&](const std::vector<std::string>& ranked) {
        for (size_t i = 0; i < ranked.size(); ++i)
          if (rel.count(ranked[i])) return std::to_string(i + 1);
        return std::string("-");
      };
      std::printf("  q%-5s mosaic %.3f (first relevant at %3s)  xapian %.3f (at %3s)  %s\n",
                  queries[q].id.c_str(), per_query_ndcg[0][q], rank_of(m.ranked[q]).c_str(),
                  per_query_ndcg[xbest][q], rank_of(x.ranked[q]).c_str(), queries[q].text.c_str());
    };
    std::printf("largest nDCG@10 differences, %s vs %s; %s better:\n", m.name.c_str(),
                x.name.c_str(), x.name.c_str());
    for (size_t i = 0; i < examples && i < nq; ++i)
      if (per_query_ndcg[0][order[i]] < per_query_ndcg[xbest][order[i]]) show(order[i]);
    std::printf("%s better:\n", m.name.c_str());
    for (size_t i = 0; i < examples && i < nq; ++i)
      if (per_query_ndcg[0][order[nq - 1 - i]] > per_query_ndcg[xbest][order[nq - 1 - i]])
        show(order[nq - 1 - i]);
  }

  fields_coll.reset();
  flat_coll.reset();
  db->reset();
  fs::remove_all(tmp);
  return 0;
}
