// Near-duplicate detection (query::FindDuplicates) on sample photos ingested with the visual
// descriptor, without and with test-time augmentation ("crop"): generated copies (resized,
// re-encoded, cropped, mirrored) are grouped with their original, the original first; distinct
// photos are not grouped; a filter limits both sides; bad options are refused.
#include "query/dedup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "ingest/ingest.h"
#include "ingest/test_models.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"
#include "mosaic/db.h"
#include "query/engine.h"
#include "query/input/media_input_encoder.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/shared_fixture.h"

namespace mosaic::query {
namespace {

namespace fs = std::filesystem;

void WriteJpeg(const media::Image& img, int quality, const std::string& path) {
  auto jpeg = media::EncodeJpeg(img, quality);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg->data()),
             static_cast<std::streamsize>(jpeg->size()));
}

// Two photos with copies each (in folders a/ and b/), three distinct photos (in c/), ingested
// twice: without test-time augmentation and with "crop".
struct Photos {
  mosaic::testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> plain, crop;
};

mosaic::testing::SharedFixture<Photos> g_photos;

Photos& GetPhotos() {
  return g_photos.Get([] {
    auto* p = new Photos;
    const std::string d = mosaic::testing::DataDir();
    const std::string root = p->dir / "photos";
    const std::vector<std::pair<std::string, std::string>> sources = {
        {"a", d + "/darknet/dog.jpg"}, {"b", d + "/skimage/chelsea.png"}};
    for (const auto& [folder, src] : sources) {
      fs::create_directories(root + "/" + folder);
      fs::copy_file(src, root + "/" + folder + "/original" + fs::path(src).extension().string());
      auto img = media::DecodeImageFile(src);
      EXPECT_TRUE(img.ok()) << img.status().ToString();
      const media::Image& m = *img;
      WriteJpeg(media::Resize(m, m.width / 2, m.height / 2, media::ResizeFilter::kBicubic), 90,
                root + "/" + folder + "/half.jpg");
      WriteJpeg(m, 30, root + "/" + folder + "/q30.jpg");
      WriteJpeg(media::Crop(m, 0, 0, m.width * 9 / 10, m.height * 9 / 10), 90,
                root + "/" + folder + "/crop.jpg");
      WriteJpeg(media::FlipHorizontal(m), 90, root + "/" + folder + "/flip.jpg");
    }
    fs::create_directories(root + "/c");
    for (const char* f : {"/darknet/eagle.jpg", "/skimage/coffee.png", "/darknet/horses.jpg"})
      fs::copy_file(d + f, root + "/c/" + fs::path(f).filename().string());
    p->db = Db::Open(p->dir / "db").value();
    for (const char* tta : {"none", "crop"}) {
      ingest::Options o;
      o.models_dir = ingest::IngestModels();
      o.encoders = {"visual"};
      o.tta = tta;
      auto ing = ingest::Ingestor::Open(p->db.get(), tta, o);
      EXPECT_TRUE(ing.ok()) << ing.status().ToString();
      std::vector<std::string> paths = {root};
      auto stats = (*ing)->Run(paths);
      EXPECT_TRUE(stats.ok()) << stats.status().ToString();
      EXPECT_EQ(stats->files_failed, 0u);
    }
    p->plain = p->db->GetCollection("none").value();
    p->crop = p->db->GetCollection("crop").value();
    return p;
  });
}

// "a/half.jpg" for a copy's path.
std::string Rel(const DuplicateCopy& c) {
  const fs::path p(c.path);
  return p.parent_path().filename().string() + "/" + p.filename().string();
}

std::set<std::string> Names(const DuplicateGroup& g) {
  std::set<std::string> out;
  for (const auto& c : g.copies)
    out.insert(Rel(c));
  return out;
}

TEST(DedupTest, CopiesGroupWithTheirOriginalBestFirst) {
  for (bool tta : {false, true}) {
    SCOPED_TRACE(tta ? "tta crop" : "no tta");
    auto r = FindDuplicates(tta ? *GetPhotos().crop : *GetPhotos().plain, DedupOptions());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->points, 13u);
    ASSERT_EQ(r->groups.size(), 2u);
    for (const DuplicateGroup& g : r->groups) {
      const std::string folder = Rel(g.copies[0]).substr(0, 1);
      ASSERT_TRUE(folder == "a" || folder == "b") << Rel(g.copies[0]);
      // The original has the most pixels: it comes first, with similarity 1.
      EXPECT_TRUE(Rel(g.copies[0]).starts_with(folder + "/original")) << Rel(g.copies[0]);
      EXPECT_EQ(g.copies[0].similarity, 1.0f);
      EXPECT_GT(g.copies[0].width * g.copies[0].height, 0);
      for (size_t i = 1; i < g.copies.size(); ++i) {
        // Nothing of another photo, and never a bigger copy after a smaller one.
        EXPECT_EQ(Rel(g.copies[i]).substr(0, 1), folder);
        EXPECT_LE(g.copies[i].width * g.copies[i].height,
                  g.copies[i - 1].width * g.copies[i - 1].height);
        EXPECT_GE(g.copies[i].similarity, kDefaultDedupThreshold);
        EXPECT_GE(g.copies[i].similarity, g.min_similarity);
      }
      // All four copies (the descriptor pools its feature maps globally, so it is nearly
      // mirror-invariant even without a flip view).
      const std::set<std::string> want = {folder + "/half.jpg", folder + "/q30.jpg",
                                          folder + "/crop.jpg", folder + "/flip.jpg"};
      for (const auto& w : want)
        EXPECT_TRUE(Names(g).count(w)) << w;
      EXPECT_GE(g.min_similarity, kDefaultDedupThreshold);
    }
  }
}

TEST(DedupTest, FilterAndLinkage) {
  Collection& c = *GetPhotos().crop;
  DedupOptions o;
  auto folder = [&](const std::string& f) {
    return Filter::FromJson({{"must",
                              {{{"key", "file.folder"},
                                {"match", {{"value", GetPhotos().dir / ("photos/" + f)}}}}}}})
        .value();
  };
  o.filter = folder("b");
  auto r = FindDuplicates(c, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->points, 5u);
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(Names(r->groups[0]).size(), 5u);
  // The distinct photos alone: no group.
  o.filter = folder("c");
  r = FindDuplicates(c, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->points, 3u);
  EXPECT_TRUE(r->groups.empty()) << r->groups.size();
  // At a loose threshold, complete linkage still keeps every pair of a group above it, while
  // single linkage (connected components) may chain further: each complete group lies inside
  // one single-linkage group.
  o.filter.reset();
  o.threshold = 0.6f;
  auto complete = FindDuplicates(c, o);
  o.linkage = DedupLinkage::kSingle;
  auto single = FindDuplicates(c, o);
  ASSERT_TRUE(complete.ok() && single.ok());
  ASSERT_FALSE(complete->groups.empty());
  EXPECT_LE(single->groups.size(), complete->groups.size());
  for (const DuplicateGroup& g : complete->groups) {
    EXPECT_GE(g.min_similarity, 0.6f);
    size_t holding = 0;
    for (const DuplicateGroup& s : single->groups) {
      const std::set<std::string> names = Names(s);
      bool all = true;
      for (const auto& n : Names(g))
        all = all && names.count(n);
      holding += all;
    }
    EXPECT_EQ(holding, 1u) << Rel(g.copies[0]);
  }
}

TEST(DedupTest, RefusesBadOptions) {
  Collection& c = *GetPhotos().plain;
  DedupOptions o;
  o.threshold = 1.5f;
  auto r = FindDuplicates(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("1.5"), std::string::npos) << r.status().ToString();
  o.threshold = 0;
  EXPECT_TRUE(FindDuplicates(c, o).status().IsInvalidArgument());
  o = DedupOptions();
  o.vector = "clip";
  r = FindDuplicates(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("no vector 'clip' (it has: visual)"), std::string::npos)
      << r.status().ToString();
}

// A query image is encoded with the views its collection was made with: in the TTA collection
// the original photo finds its own point at similarity ~1, as in the plain one.
TEST(DedupTest, QueryImagesGetTheCollectionsViews) {
  const std::string original = GetPhotos().dir / "photos/a/original.jpg";
  for (Collection* c : {GetPhotos().plain.get(), GetPhotos().crop.get()}) {
    SCOPED_TRACE(c->name());
    MediaInputOptions mo;
    mo.models_dir = ingest::IngestModels();
    auto encoder = MediaInputEncoder::Open(*c, mo);
    ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
    QueryRequest q;
    q.query = NearestQuery{{Input::File(InputKind::kImage, original)}};
    q.using_vector = "visual";
    q.limit = 1;
    auto r = QueryEngine(*c, encoder->get()).Query(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->hits.size(), 1u);
    EXPECT_EQ(r->hits[0].payload->at("file").at("name"), "original.jpg");
    EXPECT_GT(r->hits[0].score, 0.9999f);
  }
}

}  // namespace
}  // namespace mosaic::query
