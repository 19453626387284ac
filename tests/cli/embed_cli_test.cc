// `mosaic embed` end to end: the real binary on real photos and the generated CLIP-shaped model.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic {
namespace {

using testing::CliRun;

CliRun Embed(const std::string& args, const testing::TempDir&) { return testing::RunMosaic("embed " + args); }

std::vector<Json> Lines(const std::string& out) {
  std::vector<Json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(Json::parse(line));
  return v;
}

double Norm(const Json& v) {
  double s = 0;
  for (const auto& x : v) s += x.get<double>() * x.get<double>();
  return std::sqrt(s);
}

const std::string kModel = testing::TestModelsDir() + "/clip-random-tiny-openai";
std::string Photo(const char* name) { return testing::DataDir() + "/skimage/" + name; }

TEST(EmbedCli, ImagesGiveUnitVectorsAndBadFilesAreSkipped) {
  testing::TempDir tmp;
  std::ofstream(tmp / "empty.jpg").close();
  CliRun r = Embed("image " + Photo("astronaut.png") + " " + Photo("truncated.jpg") + " " + (tmp / "empty.jpg") + " " +
                       Photo("coffee.png") + " --model " + kModel,
                   tmp);
  EXPECT_EQ(r.code, 1) << r.err;  // two inputs failed; the rest were embedded
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["input"], Photo("astronaut.png"));
  EXPECT_EQ(lines[1]["input"], Photo("coffee.png"));
  for (const auto& l : lines) {
    EXPECT_EQ(l["dim"], 32);
    EXPECT_EQ(l["vector"].size(), 32u);
    EXPECT_NEAR(Norm(l["vector"]), 1.0, 1e-5);
  }
  EXPECT_NE(r.err.find("truncated.jpg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("empty.jpg"), std::string::npos) << r.err;
}

TEST(EmbedCli, TextsFromArgumentsAndStdin) {
  testing::TempDir tmp;
  CliRun a = Embed("text 'a photo of a cat' 'two dogs' --model " + kModel, tmp);
  ASSERT_EQ(a.code, 0) << a.err;
  auto lines = Lines(a.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["input"], "two dogs");
  {
    std::ofstream(tmp / "texts.txt") << "a photo of a cat\ntwo dogs\n";
  }
  CliRun b = Embed("text - --model " + kModel + " < '" + (tmp / "texts.txt") + "'", tmp);
  ASSERT_EQ(b.code, 0) << b.err;
  auto from_stdin = Lines(b.out);
  ASSERT_EQ(from_stdin.size(), 2u);
  EXPECT_EQ(from_stdin[0]["vector"], lines[0]["vector"]);
}

TEST(EmbedCli, UsageAndModelErrors) {
  testing::TempDir tmp;
  CliRun r = Embed("image " + Photo("coffee.png"), tmp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;
  r = Embed("video x --model " + kModel, tmp);
  EXPECT_EQ(r.code, 2);
  r = Embed("image " + Photo("coffee.png") + " --model no-such-model --models '" + (tmp / "models") + "'", tmp);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no-such-model"), std::string::npos) << r.err;
  r = Embed("image " + Photo("coffee.png") + " --max-pixels 1000 --model " + kModel, tmp);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("limit"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mosaic

namespace mosaic {
namespace {

// The offline model pack through the CLI: objects with WordNet terms, faces, visual descriptor,
// and speech from the registry.
TEST(EmbedCli, OfflineModelPack) {
  testing::TempDir tmp;
  const std::string offline = testing::OfflineModelsDir();
  CliRun r = Embed("image " + testing::DataDir() + "/darknet/dog.jpg --model " + offline + "/nanodet", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  Json objects = Json::parse(r.out);
  EXPECT_NE(objects["tags"].dump().find("\"dog\""), std::string::npos) << r.out;
  EXPECT_NE(objects["tag_terms"].dump().find("\"animal\""), std::string::npos) << r.out;

  r = Embed("image " + Photo("astronaut.png") + " --model " + offline + "/faces", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  Json faces = Json::parse(r.out);
  ASSERT_EQ(faces["faces"].size(), 1u) << r.out;
  ASSERT_EQ(faces["vectors"].size(), 1u);
  EXPECT_EQ(faces["vectors"][0].size(), 1024u);

  r = Embed("image " + Photo("coffee.png") + " --model " + offline + "/visual-descriptor", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NEAR(Norm(Json::parse(r.out)["vector"]), 1.0, 1e-5);

  const std::string models = tmp / "models";
  const std::string add = std::string(MOSAIC_BINARY_DIR) + "/bin/mosaic models add pocketsphinx-en-us --from " +
                          "/usr/share/pocketsphinx/model/en-us --models '" + models + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(add.c_str()), 0);
  r = Embed("audio " + testing::DataDir() + "/speech/cards/001.wav --model pocketsphinx-en-us --models '" + models +
                "'",
            tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  Json speech = Json::parse(r.out);
  EXPECT_EQ(speech["text"], "ten of clubs") << r.out;
  ASSERT_GE(speech["segments"].size(), 1u);
  EXPECT_EQ(speech["segments"][0]["words"].size(), 3u);
}

}  // namespace
}  // namespace mosaic
