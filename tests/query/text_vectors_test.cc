// Offline dense text vectors (fastText, src/embed/text) and RM3 feedback (src/query/feedback.h)
// on SciFact abstracts: pooling, SIF, determinism, `train-text`'s library route (train, install,
// copy with the vector) and a text query fusing the fastText vector with BM25.
#include "query/input/text_vectors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "embed/registry/registry.h"
#include "embed/text/fasttext_encoder.h"
#include "mosaic/db.h"
#include "query/engine.h"
#include "query/feedback.h"
#include "query/input/media_input_encoder.h"
#include "text/word_tokenizer.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

using embed::FastTextEncoder;
using embed::TextPooling;

struct Abstract {
  std::string title, text;
};

const std::vector<Abstract>& Abstracts() {
  static const std::vector<Abstract> docs = [] {
    std::vector<Abstract> out;
    std::ifstream in(testing::SciFactDir() + "/corpus.jsonl");
    EXPECT_TRUE(in.good()) << "SciFact corpus missing beside the repository";
    const size_t n = testing::Scaled(300, 150);
    for (std::string line; out.size() < n && std::getline(in, line);) {
      const Json j = Json::parse(line);
      out.push_back({j.value("title", ""), j.value("text", "")});
    }
    return out;
  }();
  return docs;
}

embed::FastTextTrainOptions SmallModel() {
  embed::FastTextTrainOptions o;
  o.dim = 32;
  o.epochs = 5;
  o.maxn = 0;  // whole words only: fast enough for the test suite
  o.threads = 1;
  o.seed = 7;
  o.name = "fasttext-test";
  return o;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    d += double(a[i]) * b[i];
  return d;
}

TEST(FastTextEncoderTest, PoolsDeterministicallyAndFindsTheAbstractOfATitle) {
  const auto& docs = Abstracts();
  ASSERT_GE(docs.size(), 150u);
  std::vector<std::string> texts;
  for (const auto& d : docs)
    texts.push_back(d.title + "\n" + d.text);
  testing::TempDir dir;
  auto m1 = embed::TrainFastText(texts, dir / "a", SmallModel());
  auto m2 = embed::TrainFastText(texts, dir / "b", SmallModel());
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ(m1->family, "fasttext");
  EXPECT_EQ(m1->dim, 32);
  auto e1 = FastTextEncoder::Open(*m1, dir / "a");
  auto e2 = FastTextEncoder::Open(*m2, dir / "b");
  ASSERT_TRUE(e1.ok()) << e1.status().ToString();
  ASSERT_TRUE(e2.ok());
  // One thread and a seed: the same model, so the same vectors bit for bit.
  EXPECT_EQ((*e1)->EncodeText(texts[3]), (*e2)->EncodeText(texts[3]));

  const auto pc = m1->preprocess.at("sif_pc").get<std::vector<float>>();
  ASSERT_EQ(pc.size(), 32u);
  EXPECT_NEAR(Dot(pc, pc), 1.0, 1e-4);
  auto& enc = **e1;
  const auto sif = enc.EncodeText(texts[5]);
  enc.set_pooling(TextPooling::kMean);
  const auto mean = enc.EncodeText(texts[5]);
  ASSERT_EQ(sif.size(), 32u);
  ASSERT_EQ(mean.size(), 32u);
  EXPECT_NEAR(Dot(sif, sif), 1.0, 1e-4);
  EXPECT_NEAR(Dot(mean, mean), 1.0, 1e-4);
  EXPECT_NEAR(Dot(sif, pc), 0.0, 1e-4);  // the common component is removed
  EXPECT_GT(std::abs(Dot(mean, pc)), 0.05);
  EXPECT_LT(Dot(sif, mean), 0.999);
  EXPECT_TRUE(enc.EncodeText("the of and").empty());  // stopwords only: no vector
  EXPECT_TRUE(enc.EncodeText("").empty());

  // Each title finds its own abstract among all of them far above chance (10 / n).
  for (TextPooling p : {TextPooling::kMean, TextPooling::kSif}) {
    enc.set_pooling(p);
    std::vector<std::vector<float>> abstracts;
    for (const auto& d : docs)
      abstracts.push_back(enc.EncodeText(d.text));
    size_t found = 0, asked = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      const auto q = enc.EncodeText(docs[i].title);
      if (q.empty() || abstracts[i].empty()) continue;
      ++asked;
      const double own = Dot(q, abstracts[i]);
      size_t better = 0;
      for (const auto& a : abstracts)
        better += !a.empty() && Dot(q, a) > own;
      found += better < 10;
    }
    EXPECT_GT(double(found) / asked, 0.3) << embed::TextPoolingName(p);
  }
}

struct Corpus {
  testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

// The abstracts as an ingest-like collection: title and text as text-indexed fields.
std::unique_ptr<Corpus> MakeCorpus() {
  auto out = std::make_unique<Corpus>();
  out->db = Db::Open(out->dir / "db").value();
  CollectionSchema schema;
  schema.vectors = {{"v", 1, Metric::kL2, StorageType::kFloat32, {}}};
  out->c = out->db->CreateCollection("docs", schema).value();
  for (const char* f : {"title", "text"})
    EXPECT_TRUE(out->c->CreatePayloadIndex(f, PayloadIndexType::kText).ok());
  std::vector<Point> points;
  const auto& docs = Abstracts();
  for (size_t i = 0; i < docs.size(); ++i) {
    Point p;
    p.id = uint64_t{i};
    p.vectors["v"] = {0.0f};
    p.payload = {{"title", docs[i].title}, {"text", docs[i].text}};
    points.push_back(std::move(p));
  }
  EXPECT_TRUE(out->c->Upsert(points).ok());
  return out;
}

TEST(TextVectorsTest, TrainsInstallsCopiesAndFusesWithBm25) {
  auto corpus = MakeCorpus();
  query::TextVectorOptions o;
  o.models_dir = corpus->dir / "models";
  o.train = SmallModel();
  auto m = query::TrainTextModel(*corpus->c, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto reg = embed::ModelRegistry::Open(o.models_dir).value();
  EXPECT_TRUE(reg.Contains("fasttext-test"));
  EXPECT_EQ(query::TrainTextModel(*corpus->c, o).status().code(), StatusCode::kAlreadyExists);

  auto copy = query::WriteTextVectors(*corpus->db, *corpus->c, "docs-ft", "fasttext-test", o);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  const size_t n = Abstracts().size();
  EXPECT_EQ(copy->points, n);
  EXPECT_EQ(copy->with_vector, n);
  auto ft = corpus->db->GetCollection("docs-ft").value();
  ASSERT_NE(ft->schema().Find("fasttext"), nullptr);
  EXPECT_EQ(ft->PayloadIndexes().size(), 2u);
  EXPECT_EQ(ft->Count().value(), n + 1);  // and the record naming the model
  EXPECT_EQ(query::WriteTextVectors(*corpus->db, *corpus->c, "docs-ft", "fasttext-test", o)
                .status()
                .code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(
      query::WriteTextVectors(*corpus->db, *corpus->c, "other", "no-such-model", o).status().code(),
      StatusCode::kNotFound);

  // A text query encodes with the collection's fastText model and fuses it with BM25.
  query::MediaInputOptions mo;
  mo.models_dir = o.models_dir;
  auto enc = query::MediaInputEncoder::Open(*ft, mo);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_EQ((*enc)->TextVectors(), std::vector<std::string>{"fasttext"});
  const size_t target = 17;
  query::QueryRequest r;
  r.query = query::AutoQuery{{query::Input::Text(Abstracts()[target].title)}};
  r.explain = true;
  r.understand = false;
  r.limit = 5;
  auto resp = query::QueryEngine(*ft, enc->get()).Query(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_FALSE(resp->hits.empty());
  EXPECT_EQ(resp->hits[0].id, PointId(uint64_t{target}));
  std::set<std::string> signals;
  for (const auto& s : resp->hits[0].signals)
    signals.insert(s.signal);
  EXPECT_TRUE(signals.count("fasttext")) << "signals of the top hit lack fasttext";
  EXPECT_TRUE(signals.count("text"));
}

TEST(FeedbackTest, ExpandsWithTermsOfTheTopDocumentsAndSearches) {
  ASSERT_GT(Abstracts().size(), 42u);
  auto corpus = MakeCorpus();
  TextSearchRequest r;
  r.fields = {"title^0.5", "text"};
  r.query = Abstracts()[42].title;
  r.limit = 10;
  query::FeedbackOptions fb;
  fb.docs = 5;
  fb.terms = 8;
  auto terms = query::ExpandQuery(*corpus->c, r, fb);
  ASSERT_TRUE(terms.ok()) << terms.status().ToString();
  const size_t original = text::WordTokenizer::Create().value().Terms(r.query).size();
  EXPECT_GT(terms->size(), original);
  double total = 0;
  for (const auto& t : *terms)
    total += t.weight;
  EXPECT_NEAR(total, 1.0, 1e-4);
  auto hits = query::SearchTextWithFeedback(*corpus->c, r, fb);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 10u);
  EXPECT_EQ((*hits)[0].id, PointId(uint64_t{42}));
  EXPECT_TRUE((*hits)[0].payload.has_value());
  for (size_t i = 1; i < hits->size(); ++i)
    EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
  fb.original_weight = 1.5f;
  EXPECT_EQ(query::ExpandQuery(*corpus->c, r, fb).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mosaic
