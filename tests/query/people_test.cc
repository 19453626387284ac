// People (src/query/people.h) on faces that ingest finds in Debian's sample media: the astronaut
// (Eileen Collins) in three pictures, the cameraman in two, Messi in one, and Megamind.avi, where
// Roxanne and Bernard each appear in two shots. Grouping, names found by the query engine's text
// search, merge, split, incremental clustering, and the errors.
#include "query/people.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "ingest/ingest.h"
#include "ingest/test_models.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"
#include "mosaic/db.h"
#include "query/engine.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/shared_fixture.h"

namespace mosaic::query {
namespace {

namespace fs = std::filesystem;

void WritePng(const media::Image& img, const std::string& path) {
  auto png = media::EncodePng(img);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
}

struct Library {
  mosaic::testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;

  // Ingests `folder` with the faces model only.
  void Ingest(const std::string& folder) {
    ingest::Options o;
    o.models_dir = ingest::IngestModels();
    o.encoders = {"faces"};
    auto ing = ingest::Ingestor::Open(db.get(), "media", o);
    ASSERT_TRUE(ing.ok()) << ing.status().ToString();
    std::vector<std::string> paths = {folder};
    auto stats = (*ing)->Run(paths);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->files_failed, 0u);
    c = db->GetCollection("media").value();
  }

  // Who each face is, from its file (and, in the video, its time).
  std::map<PointId, std::string> Truth() const {
    ScrollRequest req;
    req.filter =
        Filter::Parse(R"({"must": [{"key": "kind", "match": {"value": "face"}}]})").value();
    req.limit = 1000;
    std::map<PointId, std::string> out;
    for (const Point& p : c->Scroll(req).value().points) {
      const std::string name = p.payload["file"]["name"];
      if (name == "Megamind.avi") {
        const double t = p.payload["time"];
        out[p.id] = (t < 4.3 || (t > 6.5 && t < 8.6)) ? "roxanne" : "bernard";
      } else {
        out[p.id] = name.substr(0, name.find_first_of("-."));
      }
    }
    return out;
  }

  std::string PersonOf(const PointId& face) const {
    auto p = c->Get({&face, 1}, true, false).value();
    return p.empty() ? "" : p[0].payload.value("person_id", "");
  }
};

// astronaut.png, -flip, -crop; camera.png, -flip; messi5.jpg; Megamind.avi: ingested once, then
// a copy of the database per test.
mosaic::testing::SharedFixture<Library> g_library;

const std::string& IngestedDb() {
  static const Library* once = &g_library.Get([] {
    auto* lib = new Library;
    const std::string folder = lib->dir / "media";
    fs::create_directories(folder);
    const std::string d = mosaic::testing::DataDir();
    for (const char* f : {"/skimage/astronaut.png", "/skimage/camera.png",
                          "/photos/opencv/messi5.jpg", "/video/Megamind.avi"})
      fs::copy_file(d + f, folder + "/" + fs::path(f).filename().string());
    auto astronaut = media::DecodeImageFile(d + "/skimage/astronaut.png");
    auto camera = media::DecodeImageFile(d + "/skimage/camera.png");
    EXPECT_TRUE(astronaut.ok() && camera.ok());
    if (astronaut.ok() && camera.ok()) {
      WritePng(media::FlipHorizontal(*astronaut), folder + "/astronaut-flip.png");
      WritePng(media::Crop(*astronaut, 90, 0, 300, 300), folder + "/astronaut-crop.png");
      WritePng(media::FlipHorizontal(*camera), folder + "/camera-flip.png");
    }
    lib->db = Db::Open(lib->dir / "db").value();
    lib->Ingest(folder);
    lib->c.reset();
    lib->db.reset();  // closed, so that copies are whole
    return lib;
  });
  static const std::string path = once->dir / "db";
  return path;
}

std::unique_ptr<Library> MakeLibrary() {
  auto lib = std::make_unique<Library>();
  fs::copy(IngestedDb(), lib->dir / "db", fs::copy_options::recursive);
  lib->db = Db::Open(lib->dir / "db").value();
  lib->c = lib->db->GetCollection("media").value();
  return lib;
}

// Pairwise precision and recall of the persons against the truth.
std::pair<double, double> Pairwise(const Library& lib) {
  const auto truth = lib.Truth();
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [id, who] : truth)
    rows.emplace_back(who, lib.PersonOf(id));
  size_t both = 0, same_person = 0, same_truth = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = i + 1; j < rows.size(); ++j) {
      const bool p = !rows[i].second.empty() && rows[i].second == rows[j].second;
      const bool t = rows[i].first == rows[j].first;
      both += p && t, same_person += p, same_truth += t;
    }
  }
  return {same_person ? double(both) / same_person : 1.0,
          same_truth ? double(both) / same_truth : 1.0};
}

std::string PersonWithFile(People& people, const std::string& file) {
  for (const auto& p : people.List().value()) {
    for (const auto& f : people.Show(p.id).value()) {
      if (fs::path(f.file).filename() == file) return p.id;
    }
  }
  return "";
}

TEST(PeopleTest, GroupsFacesAndNamesAreSearchable) {
  auto lib = MakeLibrary();
  const auto truth = lib->Truth();
  ASSERT_EQ(truth.size(), 10u);  // 3 + 2 + 1 photos, 4 video faces
  auto people = People::Open(*lib->c);
  ASSERT_TRUE(people.ok()) << people.status().ToString();
  auto report = people->Cluster();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->faces, 10u);
  EXPECT_EQ(report->clustered, 10u);
  const auto [precision, recall] = Pairwise(*lib);
  // Measured: 5 persons, precision 1, recall 1.
  EXPECT_GE(precision, 0.99);
  EXPECT_GE(recall, 0.7);
  EXPECT_GE(report->persons, 4u);
  EXPECT_LE(report->persons, 7u);

  const std::string ada = PersonWithFile(*people, "astronaut.png");
  ASSERT_FALSE(ada.empty());
  EXPECT_EQ(PersonWithFile(*people, "astronaut-flip.png"), ada);
  ASSERT_TRUE(people->Name(ada, "Ada").ok());
  const std::string roxanne = PersonWithFile(*people, "Megamind.avi");
  ASSERT_TRUE(people->Name(roxanne, " Roxanne Ritchi ").ok());  // trimmed

  // The photos' own points carry the name, and a text search finds them.
  QueryRequest r;
  r.query = AutoQuery{{Input::Text("Ada")}};
  r.filter = Filter::Parse(R"({"must": [{"key": "kind", "match": {"value": "image"}}]})").value();
  auto resp = QueryEngine(*lib->c).Query(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::set<std::string> files;
  for (const auto& hit : resp->hits)
    files.insert(hit.payload.value()["file"]["name"]);
  EXPECT_EQ(files,
            (std::set<std::string>{"astronaut.png", "astronaut-flip.png", "astronaut-crop.png"}));
  auto by_id = Filter::Parse(R"({"must": [{"key": "person_id", "match": {"value": ")" + ada +
                             R"("}}, {"key": "kind", "match": {"value": "image"}}]})");
  EXPECT_EQ(lib->c->Count(&by_id.value()).value(), 3u);

  // In the video: the file and the shots showing her.
  r.query = AutoQuery{{Input::Text("roxanne")}};
  r.filter =
      Filter::Parse(R"({"must": [{"key": "kind", "match": {"any": ["video", "shot"]}}]})").value();
  resp = QueryEngine(*lib->c).Query(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::multiset<std::string> kinds;
  for (const auto& hit : resp->hits) {
    kinds.insert(hit.payload.value()["kind"]);
    EXPECT_EQ(hit.payload.value()["person"], Json::array({"Roxanne Ritchi"}))
        << hit.payload->dump();
  }
  EXPECT_EQ(kinds, (std::multiset<std::string>{"video", "shot", "shot"}));

  // Renaming replaces the name everywhere.
  ASSERT_TRUE(people->Name(ada, "Eileen Collins").ok());
  r.query = AutoQuery{{Input::Text("Ada")}};
  r.filter.reset();
  resp = QueryEngine(*lib->c).Query(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_TRUE(resp->hits.empty());
}

TEST(PeopleTest, MergeSplitAndIncrementalClustering) {
  auto lib = MakeLibrary();
  auto people = People::Open(*lib->c).value();
  ASSERT_TRUE(people.Cluster().ok());
  const std::string ada = PersonWithFile(people, "astronaut.png");
  const std::string cam = PersonWithFile(people, "camera.png");
  ASSERT_NE(ada, cam);
  ASSERT_TRUE(people.Name(cam, "Cameraman").ok());

  // Merge: the cameraman's faces join, and his name goes with them, since ada had none.
  ASSERT_TRUE(people.Merge(ada, cam).ok());
  EXPECT_EQ(people.Show(ada).value().size(), 5u);
  EXPECT_TRUE(people.Show(cam).status().IsNotFound());
  EXPECT_EQ(people.List().value().front().name, "Cameraman");

  // Split at a stricter threshold than the merged pair's mean similarity: two again.
  auto created = people.Split(ada, 0.6f);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 1u);
  EXPECT_EQ(PersonWithFile(people, "astronaut.png"), ada);  // the larger group keeps the id
  EXPECT_EQ(PersonWithFile(people, "camera.png"), created->front());
  // Named faces moved out by hand.
  const auto faces = people.Show(ada).value();
  ASSERT_EQ(faces.size(), 3u);
  auto moved = people.Split(ada, std::nullopt, std::vector<PointId>{faces[0].id});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(people.Show(moved->front()).value().size(), 1u);
  ASSERT_TRUE(people.Merge(ada, moved->front()).ok());

  // Incremental: a new picture of the astronaut joins her person; nobody else changes.
  std::map<PointId, std::string> before;
  for (const auto& [id, who] : lib->Truth())
    before[id] = lib->PersonOf(id);
  auto img = media::DecodeImageFile(mosaic::testing::DataDir() + "/skimage/astronaut.png");
  ASSERT_TRUE(img.ok());
  const std::string more = lib->dir / "more";
  fs::create_directories(more);
  WritePng(media::Resize(*img, 300, 300, media::ResizeFilter::kBilinear),
           more + "/astronaut-small.png");
  lib->Ingest(more);
  auto report = people.Cluster();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->clustered, 1u);
  EXPECT_EQ(report->joined, 1u);
  EXPECT_EQ(report->new_persons, 0u);
  EXPECT_EQ(PersonWithFile(people, "astronaut-small.png"), ada);
  for (const auto& [id, person] : before)
    EXPECT_EQ(lib->PersonOf(id), person);
  // Nothing new: nothing to do.
  EXPECT_EQ(people.Cluster().value().clustered, 0u);
}

TEST(PeopleTest, RejectsBadInput) {
  auto lib = MakeLibrary();
  auto people = People::Open(*lib->c).value();
  ASSERT_TRUE(people.Cluster().ok());
  const auto list = people.List().value();
  ASSERT_GE(list.size(), 2u);
  const std::string a = list[0].id, b = list[1].id;

  Status s = people.Name("p-999", "Ada");
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("'p-999'"), std::string::npos) << s.ToString();
  EXPECT_TRUE(people.Show("nobody").status().IsNotFound());
  s = people.Name(a, "  ");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(a), std::string::npos) << s.ToString();
  ASSERT_TRUE(people.Name(a, "Ada").ok());
  s = people.Name(b, "ada");
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  s = people.Merge(a, a);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("itself"), std::string::npos) << s.ToString();
  EXPECT_TRUE(people.Merge(a, "p-999").IsNotFound());
  EXPECT_TRUE(people.Split(a, 1.5f).status().IsInvalidArgument());
  EXPECT_TRUE(people.Cluster({.threshold = -3}).status().IsInvalidArgument());
  auto foreign = people.Split(a, std::nullopt, std::vector<PointId>{PointId("nope:0")});
  EXPECT_TRUE(foreign.status().IsInvalidArgument()) << foreign.status().ToString();
  EXPECT_NE(foreign.status().message().find("nope:0"), std::string::npos);

  CollectionSchema schema;
  schema.vectors = {{"image", 4, Metric::kCosine}};
  auto plain = lib->db->CreateCollection("plain", schema);
  ASSERT_TRUE(plain.ok());
  auto no_faces = People::Open(**plain);
  ASSERT_FALSE(no_faces.ok());
  EXPECT_TRUE(no_faces.status().IsInvalidArgument());
  EXPECT_NE(no_faces.status().message().find("'plain' has no vector 'face'"), std::string::npos)
      << no_faces.status().ToString();
}

}  // namespace
}  // namespace mosaic::query
