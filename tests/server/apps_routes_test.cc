// The application routes (src/server/routes_apps.cc) over a real server on a loopback port:
// recommend and kNN classification on a Fashion-MNIST slice, k-means and near-duplicates on
// planted synthetic clusters, people grouped and named (the names outlive a restart), passages
// and answers from ingested Markdown and imported question-answer pairs; strict request parsing,
// unknown collections and the read key's limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "ingest/ingest.h"
#include "io/vector_file.h"
#include "mosaic/db.h"
#include "query/qa.h"
#include "server_test_util.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::testing {
namespace {

namespace fs = std::filesystem;

constexpr size_t kLabelled = 1000;  // Fashion-MNIST training images 0..999 carry "label"
constexpr size_t kHeldOut = 200;    // 1000..1199 carry only "truth"
constexpr int kBlobs = 3;           // synthetic clusters of "blobs"
constexpr int kPerBlob = 40;        // points 100*b + i, i < kPerBlob
constexpr int kDupDim = 64;
// Planted near-duplicates in "blobs": a copy of point 100*b + 1 as 100*b + 99.
constexpr int kCopyOffset = 98;

std::vector<float> Normalized(std::vector<float> v) {
  double n = 0;
  for (float x : v)
    n += double(x) * x;
  for (float& x : v)
    x = static_cast<float>(x / std::sqrt(n));
  return v;
}

Json Ids(const std::vector<uint64_t>& ids) {
  return Json(ids);
}

// The error message of a failed request, checking its status.
std::string Error(const HttpResult& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  if (r.status < 400) return "";
  return r.json()["error"]["message"];
}

// One database with every collection the tests read, made through the library's public API, and
// a server over it (the models registry holds the visual descriptor only: documents' passages
// are found by BM25).
struct World {
  TempDir dir;
  std::string models;
  std::vector<int32_t> labels;  // Fashion-MNIST labels of points 0..1199
  std::unique_ptr<TestServer> server;

  void Build() {
    auto db = Db::Open(dir / "db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    BuildFashion(**db);
    BuildBlobs(**db);
    BuildQa(**db);
    BuildDocs(db->get());
    db->reset();
    server::ServerOptions o;
    o.models_dir = models;
    server = std::make_unique<TestServer>(dir / "db", o);
    ASSERT_TRUE(server->ok());
  }

  void BuildFashion(Db& db) {
    const std::string data = DataDir() + "/fashion-mnist";
    const size_t n = kLabelled + kHeldOut;
    auto images = io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz", n);
    ASSERT_TRUE(images.ok()) << images.status().ToString();
    auto all = io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz");
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    labels.assign(all->begin(), all->begin() + n);
    CollectionSchema schema;
    schema.vectors = {VectorSpec{"image", 784, Metric::kL2}};
    auto c = db.CreateCollection("fashion", schema);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    std::vector<Point> points(n);
    for (size_t i = 0; i < n; ++i) {
      points[i].id = i;
      points[i].vectors["image"].assign(images->row(i), images->row(i) + 784);
      points[i].payload = i < kLabelled ? Json{{"label", labels[i]}} : Json{{"truth", labels[i]}};
    }
    ASSERT_TRUE((*c)->Upsert(points).ok());
  }

  // kBlobs clusters around orthogonal directions (within-cluster cosine about 0.6, none above
  // 0.8), and one near-copy (cosine > 0.999) planted in each.
  void BuildBlobs(Db& db) {
    CollectionSchema schema;
    schema.vectors = {VectorSpec{"visual", kDupDim, Metric::kCosine}};
    auto c = db.CreateCollection("blobs", schema);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    std::mt19937 rng(11);
    std::normal_distribution<float> noise(0, 0.1f), tiny(0, 0.002f);
    std::vector<Point> points;
    for (int b = 0; b < kBlobs; ++b) {
      for (int i = 0; i < kPerBlob; ++i) {
        std::vector<float> v(kDupDim);
        for (float& x : v)
          x = noise(rng);
        v[b] += 1;
        Point p;
        p.id = uint64_t(100 * b + i);
        p.vectors["visual"] = Normalized(v);
        p.payload = {{"blob", b}, {"file", {{"path", "/photos/" + std::to_string(100 * b + i)}}}};
        points.push_back(p);
        if (i == 1) {
          for (float& x : v)
            x += tiny(rng);
          p.id = uint64_t(100 * b + 1 + kCopyOffset);
          p.vectors["visual"] = Normalized(v);
          p.payload["file"]["path"] = "/photos/copy-of-" + std::to_string(100 * b + 1);
          points.push_back(p);
        }
      }
    }
    ASSERT_TRUE((*c)->Upsert(points).ok());
  }

  void BuildQa(Db& db) {
    CollectionSchema schema;
    schema.vectors = {VectorSpec{"question", 8, Metric::kCosine}};
    auto c = db.CreateCollection("faq", schema);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    std::istringstream lines(
        "{\"question\": \"How do I reset my password?\", \"answer\": \"Use the link on the "
        "sign-in page.\"}\n"
        "{\"question\": \"Where are invoices?\", \"answer\": \"Under Billing.\"}\n"
        "{\"question\": \"Where is the export button?\", \"answer\": \"In the top menu.\"}\n");
    query::QaImportOptions o;  // no question vector: answers are found by their words
    o.source = "faq.jsonl";
    auto report = query::ImportQa(**c, lines, nullptr, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->imported, 3u);
  }

  void BuildDocs(Db* db) {
    const std::string folder = dir / "docs";
    fs::create_directories(folder);
    std::ofstream(folder + "/fusion.md")
        << "# Rank fusion\n\n## Reciprocal rank\n\nSearch engines combine several ranked lists. "
           "Reciprocal rank fusion sums one over k plus the rank.\n\n## Scores\n\nScore fusion "
           "normalizes each list's scores first.\n";
    std::ofstream(folder + "/garden.md")
        << "# Gardening\n\nTomatoes need sun and water. Basil grows well beside tomatoes.\n\n"
           "## Pests\n\nAphids eat the young leaves; ladybirds eat the aphids.\n";
    models = dir / "models";
    auto reg = embed::ModelRegistry::Open(models);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    const std::string visual = OfflineModelsDir() + "/visual-descriptor";
    auto manifest = embed::ReadManifest(visual);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    ASSERT_TRUE(reg->Add(*manifest, visual).ok());
    ingest::Options o;
    o.models_dir = models;
    auto ing = ingest::Ingestor::Open(db, "docs", o);
    ASSERT_TRUE(ing.ok()) << ing.status().ToString();
    std::vector<std::string> paths = {folder};
    auto stats = (*ing)->Run(paths);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  }
};

class AppsRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World;
    world_->Build();
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(world_->server && world_->server->ok()); }

  TestServer& srv() { return *world_->server; }
  int Label(const Json& id) const { return world_->labels[id.get<size_t>()]; }
  // The first `n` labelled ids of class `label`.
  std::vector<uint64_t> OfClass(int label, size_t n) const {
    std::vector<uint64_t> out;
    for (size_t i = 0; i < kLabelled && out.size() < n; ++i)
      if (world_->labels[i] == label) out.push_back(i);
    return out;
  }
  static World* world_;
};

World* AppsRoutesTest::world_ = nullptr;

TEST_F(AppsRoutesTest, RecommendMovesTowardThePositiveExamples) {
  // Sneakers (7) liked, sandals (5), which look alike, disliked.
  const auto liked = OfClass(7, 5);
  auto r =
      srv().Post("/v1/collections/fashion/recommend",
                 Json{{"positive", Ids(liked)}, {"negative", Ids(OfClass(5, 3))}, {"limit", 20}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json points = r.json()["points"];
  ASSERT_EQ(points.size(), 20u);
  size_t sneakers = 0, sandals = 0;
  for (const Json& p : points) {
    sneakers += Label(p["id"]) == 7;
    sandals += Label(p["id"]) == 5;
    EXPECT_EQ(std::count(liked.begin(), liked.end(), p["id"].get<uint64_t>()), 0)
        << "an example was recommended: " << p["id"];
  }
  EXPECT_GE(sneakers, 16u) << r.body;
  EXPECT_LE(sandals, 1u);

  // Trousers (1) instead: the recommendations follow the examples.
  r = srv().Post("/v1/collections/fashion/recommend",
                 Json{{"positive", Ids(OfClass(1, 5))}, {"limit", 10}});
  ASSERT_EQ(r.status, 200) << r.body;
  size_t trousers = 0;
  for (const Json& p : r.json()["points"].get<std::vector<Json>>())
    trousers += Label(p["id"]) == 1;
  EXPECT_GE(trousers, 9u) << r.body;

  // best_score over a cosine vector: near any one example (two blobs), away from the negative.
  r = srv().Post(
      "/v1/collections/blobs/recommend",
      Json{{"positive", {5, 105}}, {"negative", {205}}, {"strategy", "best_score"}, {"limit", 20}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<int> blobs;
  for (const Json& p : r.json()["points"].get<std::vector<Json>>())
    blobs.insert(p["id"].get<int>() / 100);
  EXPECT_EQ(blobs, (std::set<int>{0, 1})) << r.body;

  // Server-side files are never read; the codec's messages name the field.
  EXPECT_NE(Error(srv().Post("/v1/collections/fashion/recommend",
                             Json{{"positive", {{{"image", "/etc/hostname"}}}}}),
                  400)
                .find("positive[0]"),
            std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/fashion/recommend",
                             Json{{"positive", {3}}, {"strategy", "closest"}}),
                  400)
                .find("\"closest\""),
            std::string::npos);
  EXPECT_NE(
      Error(srv().Post("/v1/collections/fashion/recommend", Json{{"positive", {999999}}}), 404)
          .find("999999"),
      std::string::npos);
}

TEST_F(AppsRoutesTest, KnnLabelsHeldOutPointsAndWritesThemBack) {
  // The held-out points are those without "label": kNN labels exactly them.
  auto r = srv().Post("/v1/collections/fashion/classify",
                      Json{{"label_field", "label"}, {"k", 5}, {"vote", "weighted"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["method"], "knn");
  EXPECT_EQ(j["k"], 5);
  EXPECT_EQ(j["labelled"], kLabelled);
  EXPECT_EQ(j["classified"], kHeldOut);
  EXPECT_TRUE(j["written"].is_null());
  ASSERT_EQ(j["predictions"].size(), kHeldOut);
  size_t right = 0;
  for (const Json& p : j["predictions"]) {
    const size_t id = p["id"];
    ASSERT_GE(id, kLabelled);
    right += p["label"] == world_->labels[id];
    EXPECT_GT(p["confidence"].get<double>(), 0);
    EXPECT_LE(p["confidence"].get<double>(), 1.0001);
  }
  EXPECT_GE(double(right) / kHeldOut, 0.7) << right << " of " << kHeldOut;

  // Chosen by cross-validation, for 20 given ids, written back; "limit" caps only the answer.
  std::vector<uint64_t> ids;
  for (uint64_t i = kLabelled; i < kLabelled + 20; ++i)
    ids.push_back(i);
  r = srv().Post(
      "/v1/collections/fashion/classify",
      Json{{"ids", Ids(ids)}, {"cv_points", 100}, {"write_field", "predicted"}, {"limit", 5}});
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.json();
  EXPECT_EQ(j["classified"], 20);
  EXPECT_EQ(j["predictions"].size(), 5u);
  EXPECT_EQ(j["written"], "predicted");
  EXPECT_FALSE(j["cross_validation"].empty());
  EXPECT_GT(j["cv_accuracy"].get<double>(), 0.6);
  r = srv().Post(
      "/v1/collections/fashion/points/count",
      Json{{"filter", {{"must", {{{"key", "predicted_confidence"}, {"range", {{"gte", 0}}}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["count"], 20);

  // Errors name the key and the value.
  EXPECT_NE(Error(srv().Post("/v1/collections/fashion/classify", Json{{"k", "five"}}), 400)
                .find("k: expected an integer"),
            std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/fashion/classify", Json{{"kk", 3}}), 400)
                .find("kk: unknown key"),
            std::string::npos);
  EXPECT_NE(
      Error(srv().Post("/v1/collections/fashion/classify", Json{{"labels", {"shirt"}}, {"k", 3}}),
            400)
          .find("k: zero-shot"),
      std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/fashion/classify", Json{{"ids", {5, 4242}}}), 404)
                .find("4242"),
            std::string::npos);
  EXPECT_NE(
      Error(srv().Post("/v1/collections/fashion/classify", Json{{"label_field", "colour"}}), 400)
          .find("'colour'"),
      std::string::npos);
  // Zero-shot needs a text model in the vector's space; this collection has none.
  EXPECT_NE(
      Error(srv().Post("/v1/collections/fashion/classify", Json{{"labels", {"shirt", "shoe"}}}),
            400)
          .find("text model"),
      std::string::npos);
}

TEST_F(AppsRoutesTest, ClusterFindsThePlantedBlobs) {
  auto r = srv().Post("/v1/collections/blobs/cluster",
                      Json{{"k", kBlobs}, {"using", "visual"}, {"sample", 1000}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  const size_t total = kBlobs * (kPerBlob + 1);
  EXPECT_EQ(j["points"], total);
  EXPECT_EQ(j["vector"], "visual");
  EXPECT_TRUE(j["centroids_collection"].is_null());  // nothing written unless asked
  ASSERT_EQ(j["clusters"].size(), size_t(kBlobs));
  std::set<int> blobs;
  for (const Json& c : j["clusters"]) {
    EXPECT_EQ(c["size"], kPerBlob + 1) << c.dump();
    ASSERT_EQ(c["sample"].size(), size_t(kPerBlob + 1));
    const int blob = c["sample"][0].get<int>() / 100;
    for (const Json& id : c["sample"])
      EXPECT_EQ(id.get<int>() / 100, blob) << c.dump();
    blobs.insert(blob);
  }
  EXPECT_EQ(blobs.size(), size_t(kBlobs));

  // Written back, with a filter and a small sample: members nearest the centroid first.
  r = srv().Post("/v1/collections/blobs/cluster",
                 Json{{"k", 2},
                      {"filter", {{"must", {{{"key", "blob"}, {"match", {{"any", {0, 1}}}}}}}}},
                      {"write_field", "cluster"},
                      {"sample", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.json();
  EXPECT_EQ(j["points"], 2 * (kPerBlob + 1));
  EXPECT_EQ(j["written"], "cluster");
  for (const Json& c : j["clusters"])
    EXPECT_EQ(c["sample"].size(), 2u);
  r = srv().Post(
      "/v1/collections/blobs/points/count",
      Json{{"filter", {{"must", {{{"key", "cluster"}, {"match", {{"any", {0, 1}}}}}}}}}});
  EXPECT_EQ(r.json()["count"], 2 * (kPerBlob + 1)) << r.body;

  EXPECT_NE(Error(srv().Post("/v1/collections/blobs/cluster", Json{{"using", "visual"}}), 400)
                .find("\"k\""),
            std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/blobs/cluster", Json{{"k", 0}}), 400).find("k:"),
            std::string::npos);
  EXPECT_NE(
      Error(srv().Post("/v1/collections/blobs/cluster", Json{{"k", 2}, {"using", "clip"}}), 404)
          .find("clip"),
      std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/blobs/cluster",
                             Json{{"sweep", {{"from", 2}, {"to", 4}, {"by", "knee"}}}}),
                  400)
                .find("\"knee\""),
            std::string::npos);
}

TEST_F(AppsRoutesTest, DedupFindsThePlantedCopies) {
  auto r =
      srv().Post("/v1/collections/blobs/dedup", Json{{"threshold", 0.95}, {"using", "visual"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["points"], kBlobs * (kPerBlob + 1));
  EXPECT_EQ(j["linkage"], "complete");
  ASSERT_EQ(j["groups"].size(), size_t(kBlobs)) << r.body;
  std::set<std::set<int>> groups;
  for (const Json& g : j["groups"]) {
    std::set<int> ids;
    for (const Json& c : g["copies"])
      ids.insert(c["id"].get<int>());
    groups.insert(ids);
    EXPECT_GT(g["min_similarity"].get<double>(), 0.99);
  }
  for (int b = 0; b < kBlobs; ++b)
    EXPECT_TRUE(groups.count({100 * b + 1, 100 * b + 1 + kCopyOffset})) << r.body;

  EXPECT_NE(
      Error(srv().Post("/v1/collections/blobs/dedup", Json{{"threshold", 1.5}}), 400).find("1.5"),
      std::string::npos);
  EXPECT_NE(Error(srv().Post("/v1/collections/blobs/dedup", Json{{"linkage", "average"}}), 400)
                .find("average"),
            std::string::npos);
  EXPECT_EQ(srv().Post("/v1/collections/fashion/dedup", Json{{"using", "image"}}).status, 400);
}

TEST_F(AppsRoutesTest, PassagesAndAnswers) {
  auto r = srv().Post("/v1/collections/docs/passages",
                      Json{{"query", "what eats aphids"}, {"documents", 2}, {"per_document", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json docs = r.json()["documents"];
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(docs[0]["title"], "Gardening");
  ASSERT_EQ(docs[0]["passages"].size(), 1u);
  EXPECT_NE(docs[0]["passages"][0]["sentence"]["text"].get<std::string>().find("ladybirds"),
            std::string::npos)
      << r.body;

  r = srv().Post("/v1/collections/docs/ask",
                 Json{{"question", "how does reciprocal rank fusion combine lists?"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.json()["answers"].empty());
  EXPECT_EQ(r.json()["answers"][0]["source"], "passage");
  EXPECT_EQ(r.json()["answers"][0]["title"], "Rank fusion");

  r = srv().Post("/v1/collections/faq/ask",
                 Json{{"question", "I forgot my password"}, {"limit", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json()["answers"].size(), 1u) << r.body;  // one question shares a word
  EXPECT_EQ(r.json()["answers"][0]["answer"], "Use the link on the sign-in page.");
  EXPECT_EQ(r.json()["answers"][0]["question"], "How do I reset my password?");

  EXPECT_NE(Error(srv().Post("/v1/collections/docs/passages", Json::object()), 400)
                .find("query: required"),
            std::string::npos);
  EXPECT_NE(
      Error(srv().Post("/v1/collections/docs/ask", Json{{"question", "x"}, {"limit", 0}}), 400)
          .find("limit"),
      std::string::npos);
  EXPECT_EQ(srv().Post("/v1/collections/docs/ask", "{\"question\": ").status, 400);
  // Neither pairs nor passages.
  EXPECT_EQ(srv().Post("/v1/collections/blobs/ask", Json{{"question", "anything"}}).status, 404);
}

TEST_F(AppsRoutesTest, UnknownCollectionIs404OnEveryRoute) {
  for (const char* route : {"recommend", "classify", "cluster", "dedup", "passages", "ask"}) {
    auto r = srv().Post(std::string("/v1/collections/nope/") + route, Json::object());
    EXPECT_NE(Error(r, 404).find("nope"), std::string::npos) << route;
  }
  EXPECT_EQ(srv().Get("/v1/collections/nope/people").status, 404);
  EXPECT_EQ(srv().Get("/v1/collections/nope/people/p-1/faces").status, 404);
  // A collection without face vectors has no people.
  EXPECT_NE(Error(srv().Get("/v1/collections/blobs/people"), 400).find("face"), std::string::npos);
}

// ---- people (a database of their own: names must outlive a restart) -----------------------

// Two persons, three photos each (faces near one of two directions), one face per photo.
void BuildFaces(const std::string& db_dir) {
  auto db = Db::Open(db_dir);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  CollectionSchema schema;
  schema.vectors = {VectorSpec{"face", 8, Metric::kCosine}};
  auto c = (*db)->CreateCollection("album", schema);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0, 0.05f);
  std::vector<Point> points;
  for (int person = 0; person < 2; ++person) {
    for (int k = 0; k < 3; ++k) {
      const uint64_t photo = 10 * (person + 1) + k;
      const std::string path = "/album/" + std::to_string(photo) + ".jpg";
      Point p;
      p.id = photo;
      p.payload = {{"kind", "image"}, {"file", {{"path", path}}}};
      points.push_back(p);
      std::vector<float> v(8);
      for (float& x : v)
        x = noise(rng);
      v[person] += 1;
      Point f;
      f.id = 100 + photo;
      f.vectors["face"] = Normalized(v);
      f.payload = {{"kind", "face"},
                   {"parent", photo},
                   {"file", {{"path", path}}},
                   {"box", {10, 10, 60, 70}},
                   {"score", 0.9 - 0.1 * k}};
      points.push_back(f);
    }
  }
  ASSERT_TRUE((*c)->Upsert(points).ok());
}

TEST(AppsPeopleRoutesTest, GroupNameAndListFacesAcrossARestart) {
  TempDir dir;
  BuildFaces(dir.path());
  std::string ada;
  {
    TestServer srv(dir.path());
    ASSERT_TRUE(srv.ok());
    auto r = srv.Get("/v1/collections/album/people");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()["people"].empty());
    EXPECT_EQ(r.json()["unassigned_faces"], 6);

    EXPECT_NE(srv.Post("/v1/collections/album/people/cluster", Json{{"threshold", "high"}})
                  .body.find("threshold"),
              std::string::npos);
    r = srv.Post("/v1/collections/album/people/cluster", Json{{"threshold", 0.7}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["faces"], 6);
    EXPECT_EQ(r.json()["new_persons"], 2);
    EXPECT_EQ(r.json()["persons"], 2);

    r = srv.Get("/v1/collections/album/people");
    ASSERT_EQ(r.status, 200) << r.body;
    Json people = r.json()["people"];
    ASSERT_EQ(people.size(), 2u);
    EXPECT_EQ(people[0]["faces"], 3);
    EXPECT_EQ(people[1]["faces"], 3);
    ada = people[0]["id"].get<std::string>();
    const std::string other = people[1]["id"].get<std::string>();

    r = srv.Post("/v1/collections/album/people/" + ada + "/name", Json{{"name", "Ada"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["name"], "Ada");
    // Another person may not take the name (merge instead); names are required; unknown ids 404.
    EXPECT_EQ(
        srv.Post("/v1/collections/album/people/" + other + "/name", Json{{"name", "Ada"}}).status,
        409);
    EXPECT_EQ(srv.Post("/v1/collections/album/people/" + other + "/name", Json::object()).status,
              400);
    EXPECT_EQ(srv.Post("/v1/collections/album/people/" + other + "/name",
                       Json{{"name", "Bo"}, {"alias", "B"}})
                  .status,
              400);
    EXPECT_EQ(srv.Post("/v1/collections/album/people/p-77/name", Json{{"name", "Cy"}}).status, 404);
    EXPECT_EQ(srv.Get("/v1/collections/album/people/p-77/faces").status, 404);
  }
  TestServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  auto r = srv.Get("/v1/collections/album/people");
  ASSERT_EQ(r.status, 200) << r.body;
  bool named = false;
  for (const Json& p : r.json()["people"].get<std::vector<Json>>())
    named |= p["id"] == ada && p["name"] == "Ada";
  EXPECT_TRUE(named) << r.body;
  r = srv.Get("/v1/collections/album/people/" + ada + "/faces");
  ASSERT_EQ(r.status, 200) << r.body;
  Json faces = r.json()["faces"];
  ASSERT_EQ(faces.size(), 3u);
  std::set<uint64_t> parents;
  for (const Json& f : faces)
    parents.insert(f["parent"].get<uint64_t>());
  // One person's three photos: 10..12 or 20..22.
  EXPECT_EQ(*parents.rbegin() - *parents.begin(), 2u) << r.body;
  EXPECT_EQ(*parents.begin() % 10, 0u) << r.body;
  // The photos carry the name, so that search finds them.
  r = srv.Get("/v1/collections/album/points/" + std::to_string(*parents.begin()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["payload"]["person"], Json::array({"Ada"})) << r.body;
}

TEST(AppsAuthRoutesTest, TheReadKeyReadsButDoesNotWrite) {
  TempDir dir;
  BuildFaces(dir.path());
  server::ServerOptions o;
  o.read_key = "reader";
  o.admin_key = "admin";
  TestServer srv(dir.path(), o);
  ASSERT_TRUE(srv.ok());
  const std::map<std::string, std::string> reader = {{"api-key", "reader"}};
  const std::map<std::string, std::string> admin = {{"api-key", "admin"}};
  const std::string c = "/v1/collections/album";
  auto r = srv.Send("POST", c + "/cluster", Json{{"k", 2}}.dump(), reader);
  EXPECT_EQ(r.status, 200) << r.body;
  r = srv.Send("POST", c + "/cluster", Json{{"k", 2}, {"write_field", "g"}}.dump(), reader);
  EXPECT_NE(Error(r, 403).find("write_field"), std::string::npos);
  r = srv.Send("POST", c + "/cluster", Json{{"k", 2}, {"centroids", true}}.dump(), reader);
  EXPECT_NE(Error(r, 403).find("centroids"), std::string::npos);
  r = srv.Send("POST", c + "/cluster", Json{{"k", 2}, {"centroids", true}}.dump(), admin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["centroids_collection"], "album-clusters");
  r = srv.Send("POST", c + "/classify", Json{{"label_field", "kind"}, {"write_field", "w"}}.dump(),
               reader);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(srv.Send("GET", c + "/people", "", reader).status, 200);
  EXPECT_EQ(srv.Send("POST", c + "/people/cluster", "{}", reader).status, 403);
  EXPECT_EQ(srv.Send("POST", c + "/people/p-1/name", Json{{"name", "x"}}.dump(), reader).status,
            403);
  EXPECT_EQ(srv.Send("POST", c + "/people/cluster", "{}").status, 401);
  EXPECT_EQ(srv.Send("POST", c + "/people/cluster", "{}", admin).status, 200);
}

}  // namespace
}  // namespace mosaic::testing
