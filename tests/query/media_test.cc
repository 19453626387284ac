// Queries over media ingested from Debian's sample files (photos, a scanned page, a video with
// speech, card-game recordings, a Markdown document), with the offline models and the CLIP-shaped
// test model: explain's evidence (tags with confidence, the OCR line, the spoken words with their
// times, the sentence of a passage with the terms highlighted, the shot's time range), queries
// by image, video clip and audio clip through MediaInputEncoder, and their errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "ingest/ingest.h"
#include "ingest/test_models.h"
#include "mosaic/db.h"
#include "query/classify.h"
#include "query/engine.h"
#include "query/recommend.h"
#include "query/input/media_input_encoder.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::query {
namespace {

namespace fs = std::filesystem;

struct Media {
  mosaic::testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
  std::unique_ptr<MediaInputEncoder> encoder;
  std::string folder;
};

Media*& MediaSlot() {
  static Media* m = nullptr;
  return m;
}

// The shared fixture is freed after the last test, before the process's exit handlers run: its
// encoders' ONNX Runtime sessions join their worker threads then, not while statics are being
// destroyed (an ASan run once caught an ORT worker reading memory an exit handler had freed).
class MediaEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete MediaSlot();
    MediaSlot() = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const kMediaEnvironment =
    ::testing::AddGlobalTestEnvironment(new MediaEnvironment);

Media& GetMedia() {
  static Media* m = MediaSlot() = [] {
    auto* m = new Media;
    m->folder = m->dir / "media";
    fs::create_directories(m->folder);
    const std::string d = mosaic::testing::DataDir();
    for (const std::string& f :
         {d + "/darknet/dog.jpg", d + "/darknet/horses.jpg", d + "/skimage/page.png",
          d + "/skimage/chelsea.png", d + "/speech/cards/001.wav", d + "/speech/cards/005.wav",
          d + "/video/Megamind.avi"})
      fs::copy_file(f, m->folder + "/" + fs::path(f).filename().string());
    std::ofstream(m->folder + "/fusion.md") << "# Ranking\n\nSearch engines combine several ranked "
                                               "lists. Reciprocal rank fusion merges ranked lists "
                                               "by summing one over k plus the rank. The constant "
                                               "k dampens the top ranks.\n\n## Gardens\n\n"
                                               "Tomatoes need sun and water.\n";
    m->db = Db::Open(m->dir / "db").value();
    ingest::Options o;
    o.models_dir = ingest::IngestModels();
    auto ing = ingest::Ingestor::Open(m->db.get(), "media", o);
    EXPECT_TRUE(ing.ok()) << ing.status().ToString();
    std::vector<std::string> paths = {m->folder};
    auto stats = (*ing)->Run(paths);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->files_failed, 0u);
    m->c = m->db->GetCollection("media").value();
    MediaInputOptions mo;
    mo.models_dir = o.models_dir;
    m->encoder = MediaInputEncoder::Open(*m->c, mo).value();
    return m;
  }();
  return *m;
}

QueryResponse Ask(QueryRequest r) {
  Media& m = GetMedia();
  auto resp = QueryEngine(*m.c, m.encoder.get()).Query(r);
  EXPECT_TRUE(resp.ok()) << resp.status().ToString();
  return resp.ok() ? std::move(resp).value() : QueryResponse();
}

QueryRequest Explained(std::vector<Input> inputs, size_t limit = 10) {
  QueryRequest r;
  r.query = AutoQuery{std::move(inputs)};
  r.explain = true;
  r.limit = limit;
  return r;
}

std::string FileName(const Hit& h) {
  return h.payload->at("file").at("name").get<std::string>();
}

// The text of each highlighted range.
std::vector<std::string> Highlighted(const Json& part) {
  std::vector<std::string> out;
  const std::string text = part.at("text").get<std::string>();
  for (const Json& r : part.at("highlights"))
    out.push_back(text.substr(r[0].get<size_t>(), r[1].get<size_t>() - r[0].get<size_t>()));
  return out;
}

const Hit* FirstOfKind(const QueryResponse& r, const std::string& kind) {
  for (const Hit& h : r.hits)
    if (h.payload && h.payload->value("kind", "") == kind) return &h;
  return nullptr;
}

void EverySignalIsPlannedForAText() {
  QueryResponse r = Ask(Explained({Input::Text("dog")}));
  std::set<std::string> names;
  for (const Json& c : r.explain["plan"]["children"])
    names.insert(c["name"].get<std::string>());
  // The CLIP-shaped model's text tower, BM25 over the text fields, the tags.
  EXPECT_EQ(names, (std::set<std::string>{"clip", "text", "tags"}));
  EXPECT_EQ(r.explain["plan"]["kind"], "fusion");
}

void TagsWithTheirConfidence() {
  QueryResponse r = Ask(Explained({Input::Text("dog")}));
  const Hit* dog = nullptr;
  for (const Hit& h : r.hits)
    if (FileName(h) == "dog.jpg") dog = &h;
  ASSERT_NE(dog, nullptr);
  ASSERT_TRUE(dog->evidence.contains("tags")) << dog->evidence.dump();
  const Json& tag = dog->evidence["tags"][0];
  EXPECT_EQ(tag["tag"], "dog");
  EXPECT_EQ(tag["confidence"], dog->payload->at("tag_scores").at("dog"));
  bool tags_signal = false;
  for (const SignalMatch& s : dog->signals)
    tags_signal = tags_signal || (s.signal == "tags" && s.rank >= 1);
  EXPECT_TRUE(tags_signal);
}

void AnAnimalIsNotAPerson() {
  // WordNet calls a person an "animate being"; stemmed, "animal" and "animate" are both "anim".
  // The tags signal matches whole words, so no point tagged only "person" ranks for "animal".
  QueryResponse r = Ask(Explained({Input::Text("animal")}, 20));
  size_t by_tags = 0;
  for (const Hit& h : r.hits) {
    bool tags = false;
    for (const SignalMatch& s : h.signals) tags = tags || (s.signal == "tags" && s.rank > 0);
    if (!tags) continue;
    ++by_tags;
    static const std::set<std::string> kAnimals = {"bird", "cat", "dog", "horse", "sheep", "cow",
                                                   "elephant", "bear", "zebra", "giraffe"};
    bool animal = false;
    for (const Json& x : h.payload->at("tags")) animal = animal || kAnimals.count(x.get<std::string>());
    EXPECT_TRUE(animal) << FileName(h) << " ranked for 'animal' with tags " << h.payload->at("tags").dump();
  }
  EXPECT_GE(by_tags, 1u);  // the dog, the horses
}

void TheOcrLine() {
  QueryResponse r = Ask(Explained({Input::Text("markers of the coins")}));
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(FileName(r.hits[0]), "page.png");
  ASSERT_TRUE(r.hits[0].evidence.contains("ocr")) << r.hits[0].evidence.dump();
  const Json& line = r.hits[0].evidence["ocr"][0];
  EXPECT_EQ(line["text"], "Let us first determine markers of the coins and the");
  EXPECT_EQ(Highlighted(line), (std::vector<std::string>{"markers", "coins"}));
  EXPECT_EQ(line["box"].size(), 4u);
}

void TheSpokenWordsWithTheirTimes() {
  QueryResponse r = Ask(Explained({Input::Text("spades")}));
  const Hit* speech = FirstOfKind(r, "speech");
  ASSERT_NE(speech, nullptr);
  EXPECT_EQ(FileName(*speech), "005.wav");
  ASSERT_TRUE(speech->evidence.contains("words")) << speech->evidence.dump();
  const Json& w = speech->evidence["words"][0];
  EXPECT_EQ(w["text"], "spades");
  const double start = speech->evidence["time"]["start"], end = speech->evidence["time"]["end"];
  EXPECT_LE(start, w["start"].get<double>());
  EXPECT_LT(w["start"].get<double>(), w["end"].get<double>());
  EXPECT_LE(w["end"].get<double>(), end);
}

void TheSentenceOfAPassage() {
  QueryResponse r = Ask(Explained({Input::Text("reciprocal rank fusion")}));
  // The chunk that says it (the test model's random CLIP vectors may rank the other one level).
  const Hit* chunk = nullptr;
  for (const Hit& h : r.hits)
    if (h.payload->value("kind", "") == "chunk" && h.payload->value("index", -1) == 0) chunk = &h;
  ASSERT_NE(chunk, nullptr);
  bool first_by_bm25 = false;
  for (const SignalMatch& s : chunk->signals)
    first_by_bm25 = first_by_bm25 || (s.signal == "text" && s.rank == 1);
  EXPECT_TRUE(first_by_bm25);
  ASSERT_TRUE(chunk->evidence.contains("sentence")) << chunk->evidence.dump();
  EXPECT_EQ(chunk->evidence["sentence"]["text"],
            "Reciprocal rank fusion merges ranked lists by summing one over k plus the rank.");
  // "ranked" and "rank" share the stem "rank".
  EXPECT_EQ(Highlighted(chunk->evidence["sentence"]),
            (std::vector<std::string>{"Reciprocal", "rank", "fusion", "ranked", "rank"}));
  EXPECT_EQ(chunk->evidence["headings"], "Ranking");
  EXPECT_EQ(chunk->snippet, chunk->evidence["sentence"]["text"]);
}

void TheShotsTimeRange() {
  QueryResponse r = Ask(Explained({Input::Text("judge a book by its cover")}, 20));
  const Hit* shot = FirstOfKind(r, "shot");
  ASSERT_NE(shot, nullptr);
  EXPECT_EQ(FileName(*shot), "Megamind.avi");
  ASSERT_TRUE(shot->evidence.contains("time"));
  EXPECT_EQ(shot->evidence["time"]["start"], shot->payload->at("start"));
  EXPECT_EQ(shot->evidence["time"]["end"], shot->payload->at("end"));
  ASSERT_TRUE(shot->evidence.contains("transcript")) << shot->evidence.dump();
  auto words = Highlighted(shot->evidence["transcript"]);
  EXPECT_NE(std::find(words.begin(), words.end(), "judge"), words.end());
}

void GroupByFileGivesTheBestShotPerVideo() {
  QueryRequest r = Explained({Input::Text("judge a book by its cover")});
  r.filter = Filter::Parse(R"({"must": [{"key": "kind", "match": {"value": "shot"}}]})").value();
  r.group_by = GroupBy{"file_id", 1};
  QueryResponse g = Ask(r);
  ASSERT_EQ(g.groups.size(), 1u);
  ASSERT_EQ(g.groups[0].hits.size(), 1u);
  EXPECT_EQ(FileName(g.groups[0].hits[0]), "Megamind.avi");
}

void ByImage() {
  Media& m = GetMedia();
  QueryRequest r = Explained({Input::File(InputKind::kImage, m.folder + "/dog.jpg")}, 3);
  QueryResponse resp = Ask(r);
  ASSERT_FALSE(resp.hits.empty());
  EXPECT_EQ(FileName(resp.hits[0]), "dog.jpg");  // itself: the same vectors
  std::set<std::string> names;
  for (const Json& c : resp.explain["plan"]["children"])
    names.insert(c["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"clip", "visual"}));
}

void ByVideoClip() {
  Media& m = GetMedia();
  QueryRequest r;
  r.query = NearestQuery{{Input::File(InputKind::kVideo, m.folder + "/Megamind.avi")}};
  r.using_vector = "visual";
  r.limit = 3;
  QueryResponse resp = Ask(r);
  ASSERT_FALSE(resp.hits.empty());
  // Its keyframes pooled as ingest pools the video point: the video itself, similarity ~1.
  EXPECT_EQ(resp.hits[0].payload->at("kind"), "video");
  EXPECT_EQ(FileName(resp.hits[0]), "Megamind.avi");
  EXPECT_NEAR(resp.hits[0].score, 1.0, 1e-3);
}

void ByAudioClip() {
  Media& m = GetMedia();
  QueryRequest r = Explained({Input::File(InputKind::kAudio, m.folder + "/005.wav")}, 5);
  QueryResponse resp = Ask(r);
  const Hit* speech = FirstOfKind(resp, "speech");
  ASSERT_NE(speech, nullptr);
  EXPECT_EQ(FileName(*speech), "005.wav");
  // The transcript's words are the query's: they are highlighted in the hit.
  ASSERT_TRUE(speech->evidence.contains("words"));
}

void MoreLikeThisExcludesTheExample() {
  QueryResponse dog = Ask(Explained({Input::Text("dog")}, 1));
  ASSERT_FALSE(dog.hits.empty());
  const PointId id = dog.hits[0].id;
  QueryRequest r;
  r.query = AutoQuery{{Input::Point(id)}};
  r.limit = 50;
  QueryResponse like = Ask(r);
  ASSERT_FALSE(like.hits.empty());
  for (const Hit& h : like.hits)
    EXPECT_NE(h.id, id);
}

void InputErrorsNameTheInput() {
  Media& m = GetMedia();
  const std::string bad = m.dir / "broken.jpg";
  std::ofstream(bad) << "this is not a JPEG";
  QueryRequest r;
  r.query = AutoQuery{{Input::File(InputKind::kImage, bad)}};
  auto resp = QueryEngine(*m.c, m.encoder.get()).Query(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(resp.status().IsInvalidArgument()) << resp.status().ToString();
  EXPECT_NE(resp.status().message().find("broken.jpg"), std::string::npos)
      << resp.status().ToString();
  r.query = AutoQuery{{Input::File(InputKind::kImage, m.dir / "missing.jpg")}};
  resp = QueryEngine(*m.c, m.encoder.get()).Query(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.status().message().find("missing.jpg"), std::string::npos)
      << resp.status().ToString();
}

// Zero-shot over the CLIP-shaped model (random weights: the check is that each point gets the
// label whose text vector is nearest its own, with probabilities that sum to 1), and
// recommendations across kinds that share the `visual` space: a photo finds video shots.
void ZeroShotAndCrossModalRecommend() {
  Media& m = GetMedia();
  ZeroShotOptions o;
  o.labels = {"dog", "horse", "cat"};
  auto z = ZeroShotClassifier::Create(*m.c, *m.encoder, o);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->using_vector(), "clip");
  std::vector<std::vector<float>> labels;
  for (const auto& l : o.labels)
    labels.push_back(m.encoder->Encode(Input::Text("a photo of a " + l)).value().vectors["clip"]);
  ClassifyRun run;
  run.filter = Filter::FromJson({{"must", {{{"key", "kind"}, {"match", {{"value", "image"}}}}}}})
                   .value();
  run.write_field = "zero_shot";
  auto predictions = ClassifyPoints(*m.c, "clip", run, [&](const auto& vectors) {
    std::vector<Prediction> out;
    for (const auto& v : vectors)
      out.push_back(z->Predict(v));
    return Result<std::vector<Prediction>>(out);
  });
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  ASSERT_EQ(predictions->size(), 4u);  // dog, horses, page, chelsea
  for (const Prediction& p : *predictions) {
    const Point point = m.c->Get(std::vector<PointId>{p.id}).value().at(0);
    const std::vector<float>& v = point.vectors.at("clip");
    size_t best = 0;
    double best_cos = -2, total = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
      double dot = 0, nv = 0, nl = 0;
      for (size_t d = 0; d < v.size(); ++d) {
        dot += v[d] * labels[i][d];
        nv += v[d] * v[d];
        nl += labels[i][d] * labels[i][d];
      }
      if (dot / std::sqrt(nv * nl) > best_cos) best_cos = dot / std::sqrt(nv * nl), best = i;
    }
    EXPECT_EQ(p.label, o.labels[best]);
    for (const auto& [label, score] : p.scores)
      total += score;
    EXPECT_NEAR(total, 1.0, 1e-4);
    EXPECT_EQ(point.payload["zero_shot"], p.label);
  }

  RecommendRequest r;
  auto dog = m.c->Scroll({.limit = 1,
                          .filter = Filter::FromJson({{"must",
                                                       {{{"key", "file.name"}, {"match", {{"value", "dog.jpg"}}}},
                                                        {{"key", "kind"}, {"match", {{"value", "image"}}}}}}})
                                        .value()})
                 .value();
  ASSERT_EQ(dog.points.size(), 1u);
  r.positive = {Input::Point(dog.points[0].id)};
  r.using_vector = "visual";
  r.filter = Filter::FromJson({{"must", {{{"key", "kind"}, {"match", {{"value", "shot"}}}}}}}).value();
  auto shots = Recommend(*m.c, m.encoder.get(), r);
  ASSERT_TRUE(shots.ok()) << shots.status().ToString();
  ASSERT_FALSE(shots->hits.empty());
  for (const Hit& h : shots->hits)
    EXPECT_EQ(h.payload->value("kind", ""), "shot");
}

// One test, so that the media are ingested once per process (ctest runs each test in its own).
TEST(MediaQuery, ExplainEvidenceAndMediaInputs) {
  {
    SCOPED_TRACE("EverySignalIsPlannedForAText");
    EverySignalIsPlannedForAText();
  }
  {
    SCOPED_TRACE("TagsWithTheirConfidence");
    TagsWithTheirConfidence();
  }
  {
    SCOPED_TRACE("AnAnimalIsNotAPerson");
    AnAnimalIsNotAPerson();
  }
  {
    SCOPED_TRACE("TheOcrLine");
    TheOcrLine();
  }
  {
    SCOPED_TRACE("TheSpokenWordsWithTheirTimes");
    TheSpokenWordsWithTheirTimes();
  }
  {
    SCOPED_TRACE("TheSentenceOfAPassage");
    TheSentenceOfAPassage();
  }
  {
    SCOPED_TRACE("TheShotsTimeRange");
    TheShotsTimeRange();
  }
  {
    SCOPED_TRACE("GroupByFileGivesTheBestShotPerVideo");
    GroupByFileGivesTheBestShotPerVideo();
  }
  {
    SCOPED_TRACE("ByImage");
    ByImage();
  }
  {
    SCOPED_TRACE("ByVideoClip");
    ByVideoClip();
  }
  {
    SCOPED_TRACE("ByAudioClip");
    ByAudioClip();
  }
  {
    SCOPED_TRACE("MoreLikeThisExcludesTheExample");
    MoreLikeThisExcludesTheExample();
  }
  {
    SCOPED_TRACE("InputErrorsNameTheInput");
    InputErrorsNameTheInput();
  }
  {
    SCOPED_TRACE("ZeroShotAndCrossModalRecommend");
    ZeroShotAndCrossModalRecommend();
  }
}

}  // namespace
}  // namespace mosaic::query
