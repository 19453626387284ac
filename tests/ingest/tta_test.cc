// Test-time augmentation at ingest (Options::tta, ingest/tta.h): an image's stored vector is the
// normalized mean of the visual descriptor's vectors of the image and its views, the choice is
// recorded in the collection and kept by later runs, and bad choices are refused.
#include "ingest/tta.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "ingest/ingest.h"
#include "ingest/layout.h"
#include "ingest/test_models.h"
#include "media/image_decode.h"
#include "media/image_ops.h"
#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::ingest {
namespace {

namespace fs = std::filesystem;

TEST(TtaTest, ParsesViews) {
  EXPECT_TRUE(ParseTta("").value().empty());
  EXPECT_TRUE(ParseTta("none").value().empty());
  EXPECT_EQ(TtaName(ParseTta("crop,flip").value()), "flip,crop");
  EXPECT_EQ(TtaName(ParseTta("flip").value()), "flip");
  auto bad = ParseTta("flip,rotate");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'rotate'"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(ParseTta("flip,flip").ok());
  const media::Image img =
      media::DecodeImageFile(testing::DataDir() + "/skimage/chelsea.png").value();
  auto views = TtaViews(img, {TtaView::kFlip, TtaView::kCrop});
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].pixels, media::FlipHorizontal(img).pixels);
  EXPECT_EQ(views[1].width, static_cast<int>(std::lround(img.width * kTtaCropShare)));
  EXPECT_EQ(views[1].height, static_cast<int>(std::lround(img.height * kTtaCropShare)));
}

TEST(TtaTest, StoredVectorIsTheMeanOfTheViews) {
  testing::TempDir dir;
  const std::string photos = dir / "photos";
  fs::create_directories(photos);
  const std::string src = testing::DataDir() + "/skimage/chelsea.png";
  fs::copy_file(src, photos + "/chelsea.png");
  auto db = Db::Open(dir / "db").value();
  Options o;
  o.models_dir = IngestModels();
  o.encoders = {"visual"};
  o.tta = "flip,crop";
  {
    auto ing = Ingestor::Open(db.get(), "c", o);
    ASSERT_TRUE(ing.ok()) << ing.status().ToString();
    std::vector<std::string> paths = {photos};
    auto stats = (*ing)->Run(paths);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->files_new, 1u);
  }
  auto c = db->GetCollection("c").value();
  ScrollRequest r;
  r.with_vectors = true;
  r.filter =
      Filter::FromJson({{"must", {{{"key", "kind"}, {"match", {{"value", "image"}}}}}}}).value();
  auto page = c->Scroll(r).value();
  ASSERT_EQ(page.points.size(), 1u);
  const std::vector<float>& stored = page.points[0].vectors.at("visual");

  // The same views through the same model, averaged and normalized here.
  auto reg = embed::ModelRegistry::Open(IngestModels()).value();
  auto enc = embed::OpenEncoder(reg.Get("visual-descriptor").value(),
                                reg.ModelDir("visual-descriptor"), embed::Modality::kImage)
                 .value();
  const media::Image img = media::DecodeImageFile(src).value();
  std::vector<media::Image> views = TtaViews(img, ParseTta("flip,crop").value());
  std::vector<embed::EncoderInput> in(3);
  in[0].image = &img;
  in[1].image = &views[0];
  in[2].image = &views[1];
  auto outs = enc->Encode(in).value();
  std::vector<const std::vector<float>*> vs = {&outs[0].vectors[0], &outs[1].vectors[0],
                                               &outs[2].vectors[0]};
  const std::vector<float> mean = PoolVectors(vs, {1, 1, 1});
  ASSERT_EQ(stored.size(), mean.size());
  double dot = 0, diff = 0, plain_dot = 0;
  for (size_t d = 0; d < mean.size(); ++d) {
    dot += double(stored[d]) * mean[d];
    diff = std::max(diff, std::abs(double(stored[d]) - mean[d]));
    plain_dot += double(stored[d]) * outs[0].vectors[0][d];
  }
  EXPECT_NEAR(dot, 1.0, 1e-5);
  EXPECT_LT(diff, 1e-4);
  // And it is not simply the image's own vector.
  EXPECT_LT(plain_dot, 0.9999);

  // The choice is recorded: a later run keeps it, another choice is refused.
  std::vector<PointId> meta_id = {PointId(kIngestRecordId)};
  EXPECT_EQ(c->Get(meta_id).value()[0].payload.value("tta", std::string()), "flip,crop");
  Options again = o;
  again.tta = "";
  EXPECT_TRUE(Ingestor::Open(db.get(), "c", again).ok());
  again.tta = "flip";
  auto refused = Ingestor::Open(db.get(), "c", again);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("'flip,crop', not 'flip'"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace mosaic::ingest
