// `mosaic dedup` end to end: a sample photo, a half-size copy of it and a distinct photo
// ingested with the visual descriptor; the group with the original first (text and JSON), its
// flags, and bad input (unknown vector, threshold out of range, a collection without the vector,
// a vector that is not cosine).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"
#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/shared_fixture.h"

namespace mosaic {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;

struct Ingest {
  testing::TempDir tmp;
  std::string db, photos;
};

CliRun Mosaic(const Ingest& s, const std::string& args) {
  return testing::RunMosaic("--db " + s.db + " " + args);
}

mosaic::testing::SharedFixture<Ingest> g_ingest;

const Ingest& Ingested() {
  return g_ingest.Get([] {
    auto* s = new Ingest;
    s->db = s->tmp / "db";
    s->photos = s->tmp / "photos";
    const std::string models = s->tmp / "models";
    const std::string from = testing::OfflineModelsDir() + "/visual-descriptor";
    CliRun r = testing::RunMosaic("models add --manifest " + from + "/manifest.json --from " +
                                  from + " --models " + models);
    EXPECT_EQ(r.code, 0) << r.all();
    fs::create_directories(s->photos);
    const std::string d = testing::DataDir();
    fs::copy_file(d + "/darknet/dog.jpg", s->photos + "/dog.jpg");
    fs::copy_file(d + "/skimage/coffee.png", s->photos + "/coffee.png");
    const media::Image dog = media::DecodeImageFile(d + "/darknet/dog.jpg").value();
    auto jpeg =
        media::EncodeJpeg(
            media::Resize(dog, dog.width / 2, dog.height / 2, media::ResizeFilter::kBicubic), 80)
            .value();
    std::ofstream(s->photos + "/dog-small.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
    r = testing::RunMosaic("--db " + s->db + " ingest " + s->photos +
                           " --collection c --quiet --models " + models);
    EXPECT_EQ(r.code, 0) << r.all();
    return s;
  });
}

TEST(DedupCliTest, GroupsTheCopyWithItsOriginalFirst) {
  const Ingest& s = Ingested();
  CliRun r = Mosaic(s, "dedup --collection c --json");
  ASSERT_EQ(r.code, 0) << r.all();
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["vector"], "visual");
  EXPECT_EQ(j["linkage"], "complete");
  EXPECT_EQ(j["points"], 3);
  ASSERT_EQ(j["groups"].size(), 1u) << r.out;
  const Json& copies = j["groups"][0]["copies"];
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0]["path"], s.photos + "/dog.jpg");
  EXPECT_EQ(copies[0]["width"], 768);
  EXPECT_EQ(copies[0]["similarity"], 1.0);
  EXPECT_EQ(copies[1]["path"], s.photos + "/dog-small.jpg");
  EXPECT_EQ(copies[1]["width"], 384);
  EXPECT_GT(copies[1]["bytes"].get<uint64_t>(), 0u);
  EXPECT_GE(copies[1]["similarity"].get<double>(), 0.9);

  r = Mosaic(s, "dedup --collection c");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("1 group of near-duplicates among 3 points"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best 1.000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("768x576"), std::string::npos) << r.out;
  // A threshold above the copy's similarity, or a filter that leaves the copy out: no groups.
  r = Mosaic(s,
             "dedup --collection c --threshold 1 --linkage single --neighbours 4 --exact --json");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_TRUE(Json::parse(r.out)["groups"].empty()) << r.out;
  r = Mosaic(s,
             "dedup --collection c --json --filter '{\"must_not\": [{\"key\": \"file.name\", "
             "\"match\": {\"value\": \"dog-small.jpg\"}}]}'");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Json::parse(r.out)["points"], 2);
  EXPECT_TRUE(Json::parse(r.out)["groups"].empty()) << r.out;
}

TEST(DedupCliTest, BadInput) {
  const Ingest& s = Ingested();
  CliRun r = Mosaic(s, "dedup --collection c --using nope");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.err.find("collection 'c' has no vector 'nope' (it has: visual)"), std::string::npos)
      << r.err;
  r = Mosaic(s, "dedup --collection c --threshold 1.5");
  EXPECT_EQ(r.code, 2) << r.all();
  EXPECT_NE(r.err.find("--threshold 1.5 is out of range"), std::string::npos) << r.err;
  EXPECT_EQ(Mosaic(s, "dedup --collection c --threshold 0").code, 2);
  EXPECT_EQ(Mosaic(s, "dedup --collection c --threshold high").code, 2);
  EXPECT_EQ(Mosaic(s, "dedup --collection c --linkage average").code, 2);
  EXPECT_EQ(Mosaic(s, "dedup --collection c --neighbours 0").code, 2);
  EXPECT_EQ(Mosaic(s, "dedup").code, 2);
  r = Mosaic(s, "dedup --collection missing");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = Mosaic(s, "dedup --collection c --filter '{\"must\": 3}'");
  EXPECT_EQ(r.code, 1) << r.all();

  // A collection without the vector, and one whose vector is not cosine.
  ASSERT_EQ(Mosaic(s, "collection create plain --vector image:4:cosine --vector pos:2:l2").code, 0);
  r = Mosaic(s, "dedup --collection plain");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.err.find("collection 'plain' has no vector 'visual' (it has: image, pos)"),
            std::string::npos)
      << r.err;
  r = Mosaic(s, "dedup --collection plain --using pos");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.err.find("vector 'pos' of collection 'plain' is l2"), std::string::npos) << r.err;
  r = Mosaic(s, "dedup --collection plain --using image --json");
  EXPECT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Json::parse(r.out)["points"], 0);
}

}  // namespace
}  // namespace mosaic
