// The applications over real data: recommendation for a history of Fashion-MNIST items (recency,
// negative feedback, seen items left out), kNN classification with k chosen by cross-validation
// and written back, zero-shot's error without a text model; literature search and question
// answering over ingested Markdown documents and imported question-answer pairs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "ingest/ingest.h"
#include "io/vector_file.h"
#include "mosaic/db.h"
#include "query/classify.h"
#include "query/input/media_input_encoder.h"
#include "query/input/text_embedder.h"
#include "query/passages.h"
#include "query/qa.h"
#include "query/recommend.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"
#include "util/shared_fixture.h"

namespace mosaic::query {
namespace {

namespace fs = std::filesystem;

const size_t kLabelled = mosaic::testing::Scaled(4000, 1500);
const size_t kUnlabelled = mosaic::testing::Scaled(400, 100);

// Fashion-MNIST training images: the first kLabelled with "label", the next kUnlabelled with
// only "truth".
struct Fashion {
  mosaic::testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
  std::vector<int32_t> labels;
};

mosaic::testing::SharedFixture<Fashion> g_fashion;

Fashion& GetFashion() {
  return g_fashion.Get([] {
    auto* f = new Fashion;
    const std::string data = mosaic::testing::DataDir() + "/fashion-mnist";
    const size_t n = kLabelled + kUnlabelled;
    io::Matrix base = io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz", n).value();
    f->labels = io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz").value();
    f->db = Db::Open(f->dir.path()).value();
    CollectionSchema schema;
    schema.vectors = {VectorSpec{"image", 784, Metric::kL2}};
    f->c = f->db->CreateCollection("fashion", schema).value();
    std::vector<Point> points(n);
    for (size_t i = 0; i < n; ++i) {
      points[i].id = i;
      points[i].vectors["image"].assign(base.row(i), base.row(i) + 784);
      points[i].payload =
          i < kLabelled ? Json{{"label", f->labels[i]}} : Json{{"truth", f->labels[i]}};
    }
    EXPECT_TRUE(f->c->Upsert(points).ok());
    return f;
  });
}

// The first `n` labelled ids of class `label`.
std::vector<PointId> OfClass(int label, size_t n) {
  std::vector<PointId> out;
  for (size_t i = 0; i < kLabelled && out.size() < n; ++i)
    if (GetFashion().labels[i] == label) out.emplace_back(static_cast<uint64_t>(i));
  return out;
}

size_t CountOfClass(const QueryResponse& r, int label) {
  size_t n = 0;
  for (const Hit& h : r.hits)
    n += GetFashion().labels[h.id.num()] == label;
  return n;
}

TEST(Recommend, RecentInterestsWinAndSeenItemsAreLeftOut) {
  Fashion& f = GetFashion();
  // Sneakers (7) 120 days ago, then trousers (1).
  RecommendRequest r;
  for (const PointId& id : OfClass(7, 6))
    r.history.push_back({id, 0, 1});
  for (const PointId& id : OfClass(1, 6))
    r.history.push_back({id, 120 * 86400, 1});
  r.limit = 20;
  r.half_life_s = 14 * 86400;
  auto recent = Recommend(*f.c, nullptr, r);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  ASSERT_EQ(recent->hits.size(), 20u);
  r.half_life_s = 0;  // no decay: the old sneakers count as much
  auto flat = Recommend(*f.c, nullptr, r);
  ASSERT_TRUE(flat.ok());
  EXPECT_GE(CountOfClass(*recent, 1), 18u);
  EXPECT_LT(CountOfClass(*flat, 1), CountOfClass(*recent, 1));
  std::set<PointId> seen;
  for (const Interaction& it : r.history)
    seen.insert(it.id);
  for (const auto* resp : {&*recent, &*flat})
    for (const Hit& h : resp->hits)
      EXPECT_FALSE(seen.count(h.id)) << "seen item " << h.id.ToString() << " recommended";
  EXPECT_EQ(recent->explain["recommend"]["history"]["interactions"], 12);
}

TEST(Recommend, DislikesPushAwayAndBadInputIsNamed) {
  Fashion& f = GetFashion();
  // Pullovers (2) liked; coats (4), which look alike, disliked.
  RecommendRequest r;
  for (const PointId& id : OfClass(2, 8))
    r.history.push_back({id, 0, 1});
  r.limit = 30;
  auto liked = Recommend(*f.c, nullptr, r);
  ASSERT_TRUE(liked.ok()) << liked.status().ToString();
  for (const PointId& id : OfClass(4, 8))
    r.history.push_back({id, 0, -1});
  auto disliked = Recommend(*f.c, nullptr, r);
  ASSERT_TRUE(disliked.ok());
  EXPECT_LT(CountOfClass(*disliked, 4), CountOfClass(*liked, 4));

  RecommendRequest bad;
  bad.positive = {Input::Point(PointId(999999))};
  auto missing = Recommend(*f.c, nullptr, bad);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("999999"), std::string::npos);
  bad.using_vector = "clip";
  auto vector = Recommend(*f.c, nullptr, bad);
  EXPECT_NE(vector.status().message().find("no vector named 'clip'; it has: image"),
            std::string::npos)
      << vector.status().ToString();
  auto history = ParseHistory("{\"id\": 1, \"time\": \"2026-02-30\"}\n");
  EXPECT_NE(history.status().message().find("line 1"), std::string::npos);
  history =
      ParseHistory("# a comment\n7\n{\"id\": \"a\", \"time\": \"2026-03-01\", \"weight\": -1}\n");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].time, 1772323200);  // 2026-03-01T00:00:00Z
  EXPECT_EQ((*history)[1].weight, -1);
}

TEST(Classify, KnnChosenByCrossValidationLabelsHeldOutPoints) {
  Fashion& f = GetFashion();
  KnnOptions o;
  o.cv_points = mosaic::testing::Scaled(600, 200);
  auto knn = KnnClassifier::Fit(*f.c, o);
  ASSERT_TRUE(knn.ok()) << knn.status().ToString();
  EXPECT_EQ(knn->labelled(), kLabelled);
  EXPECT_EQ(knn->cv().size(), 2 * 16u);  // k = 1, 3, ..., 31; majority and weighted
  ClassifyRun run;
  run.label_field = "label";
  run.write_field = "predicted";
  auto predictions =
      ClassifyPoints(*f.c, "", run, [&](const auto& v) { return knn->PredictBatch(v); });
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  ASSERT_EQ(predictions->size(), kUnlabelled);
  size_t right = 0;
  for (const Prediction& p : *predictions) {
    right += p.label == f.labels[p.id.num()];
    EXPECT_GT(p.confidence, 0);
    EXPECT_LE(p.confidence, 1.0001);
  }
  const double accuracy = static_cast<double>(right) / kUnlabelled;
  EXPECT_GE(accuracy, 0.72) << "k " << knn->k() << " weighted " << knn->weighted();
  // Written back: as many points carry the right "predicted" as were right.
  size_t stored_right = 0;
  for (int label = 0; label < 10; ++label) {
    auto filter = Filter::FromJson({{"must",
                                     {{{"key", "predicted"}, {"match", {{"value", label}}}},
                                      {{"key", "truth"}, {"match", {{"value", label}}}}}}});
    stored_right += f.c->Count(&*filter).value();
  }
  EXPECT_EQ(stored_right, right);

  o.k = kLabelled + 1;
  auto too_many = KnnClassifier::Fit(*f.c, o);
  EXPECT_NE(too_many.status().message().find("larger than the " + std::to_string(kLabelled)),
            std::string::npos)
      << too_many.status().ToString();
  o.k = 0;
  o.label_field = "colour";
  EXPECT_NE(KnnClassifier::Fit(*f.c, o).status().message().find("'colour'"), std::string::npos);
}

TEST(Classify, ZeroShotNeedsATextModel) {
  Fashion& f = GetFashion();
  auto encoder = MediaInputEncoder::Open(*f.c);
  ASSERT_TRUE(encoder.ok());
  ZeroShotOptions o;
  o.labels = {"shirt", "shoe"};
  auto z = ZeroShotClassifier::Create(*f.c, **encoder, o);
  EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(z.status().message().find("needs a text model"), std::string::npos);
}

// ---- documents and question-answer pairs ----------------------------------------------------

struct Docs {
  mosaic::testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

mosaic::testing::SharedFixture<Docs> g_docs;

Docs& GetDocs() {
  return g_docs.Get([] {
    auto* d = new Docs;
    const std::string folder = d->dir / "docs";
    fs::create_directories(folder);
    std::ofstream(folder + "/fusion.md")
        << "# Rank fusion\n\n## Reciprocal rank\n\nSearch engines combine several ranked lists. "
           "Reciprocal rank fusion sums one over k plus the rank. The constant k dampens the "
           "top ranks.\n\n## Scores\n\nScore fusion normalizes each list's scores first.\n";
    std::ofstream(folder + "/garden.md")
        << "# Gardening\n\nTomatoes need sun and water. Basil grows well beside tomatoes.\n\n"
           "## Pests\n\nAphids eat the young leaves; ladybirds eat the aphids.\n";
    d->db = Db::Open(d->dir / "db").value();
    ingest::Options o;
    // Only the visual descriptor, which documents do not use: their passages are BM25's.
    o.models_dir = d->dir / "models";
    auto reg = embed::ModelRegistry::Open(o.models_dir);
    const std::string visual = mosaic::testing::OfflineModelsDir() + "/visual-descriptor";
    EXPECT_TRUE(reg.ok() && reg->Add(embed::ReadManifest(visual).value(), visual).ok());
    auto ing = ingest::Ingestor::Open(d->db.get(), "docs", o);
    EXPECT_TRUE(ing.ok()) << ing.status().ToString();
    std::vector<std::string> paths = {folder};
    auto stats = (*ing)->Run(paths);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    d->c = d->db->GetCollection("docs").value();
    return d;
  });
}

TEST(Passages, BestPassagePerDocumentWithItsSentence) {
  Docs& d = GetDocs();
  PassageRequest r;
  r.query = "what eats aphids";
  auto docs = FindPassages(*d.c, nullptr, r);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_FALSE(docs->empty());
  const DocumentPassages& top = (*docs)[0];
  EXPECT_EQ(top.title, "Gardening");
  EXPECT_TRUE(top.path.ends_with("garden.md")) << top.path;
  ASSERT_FALSE(top.passages.empty());
  const Passage& p = top.passages[0];
  EXPECT_NE(p.headings.find("Pests"), std::string::npos) << p.headings;
  ASSERT_TRUE(p.sentence.is_object());
  const std::string s = p.sentence["text"];
  EXPECT_NE(s.find("ladybirds eat the aphids"), std::string::npos) << s;
  std::set<std::string> words;
  for (const Json& h : p.sentence["highlights"])
    words.insert(s.substr(h[0].get<size_t>(), h[1].get<size_t>() - h[0].get<size_t>()));
  EXPECT_TRUE(words.count("aphids")) << p.sentence.dump();

  r.query = "  ";
  EXPECT_EQ(FindPassages(*d.c, nullptr, r).status().code(), StatusCode::kInvalidArgument);
}

TEST(Ask, AnswersFromPairsOrFromPassages) {
  Docs& d = GetDocs();
  AskRequest q;
  q.question = "how does reciprocal rank fusion combine lists?";
  auto from_docs = Ask(*d.c, nullptr, q);
  ASSERT_TRUE(from_docs.ok()) << from_docs.status().ToString();
  ASSERT_FALSE(from_docs->empty());
  EXPECT_EQ((*from_docs)[0].source, "passage");
  EXPECT_EQ((*from_docs)[0].title, "Rank fusion");

  // Question vectors from the CLIP-shaped test model's text tower (random weights: the import's
  // job is to store what the model gives; answers are found by the question's words here).
  const std::string clip = mosaic::testing::TestModelsDir() + "/clip-random-tiny-openai";
  auto manifest = embed::ReadManifest(clip);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto text = embed::OpenEncoder(*manifest, clip, embed::Modality::kText);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  CollectionSchema schema;
  schema.vectors = {VectorSpec{"question", static_cast<uint32_t>(manifest->dim), Metric::kCosine}};
  auto faq = d.db->CreateCollection("faq", schema).value();
  std::istringstream lines(
      "{\"question\": \"How do I reset my password?\", \"answer\": \"Use the link on the sign-in "
      "page.\"}\n"
      "{\"question\": \"broken line\"\n"
      "\n"
      "{\"question\": \"Where are invoices?\", \"answer\": \"Under Billing.\", \"id\": 77, "
      "\"team\": \"billing\"}\n"
      "{\"answer\": \"no question\"}\n");
  TextEmbedder embedder = EncoderTextEmbedder(std::shared_ptr<embed::Encoder>(std::move(*text)));
  QaImportOptions o;
  o.vector = "question";
  o.source = "faq.jsonl";
  auto report = ImportQa(*faq, lines, embedder, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->imported, 2u);
  EXPECT_EQ(report->skipped, 2u);
  ASSERT_EQ(report->problems.size(), 2u);
  EXPECT_TRUE(report->problems[0].starts_with("line 2: not a JSON object")) << report->problems[0];
  EXPECT_EQ(report->problems[1], "line 5: no \"question\" text");
  auto stored = faq->Get(std::vector<PointId>{77}).value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].payload["team"], "billing");
  EXPECT_EQ(stored[0].payload["line"], 4);
  EXPECT_EQ(stored[0].vectors.count("question"), 1u);

  q.question = "I forgot my password";
  auto answers = Ask(*faq, nullptr, q);
  ASSERT_TRUE(answers.ok()) << answers.status().ToString();
  ASSERT_EQ(answers->size(), 1u);  // only one question shares a word
  EXPECT_EQ((*answers)[0].source, "qa");
  EXPECT_EQ((*answers)[0].question, "How do I reset my password?");
  EXPECT_EQ((*answers)[0].answer, "Use the link on the sign-in page.");

  auto empty = d.db->CreateCollection("empty", schema).value();
  EXPECT_EQ(Ask(*empty, nullptr, q).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mosaic::query
