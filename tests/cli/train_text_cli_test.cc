// `mosaic models train-text`: fastText text vectors trained on a collection's text, the copy that
// carries them (--write), a search fusing them, and the command's bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"

namespace mosaic::testing {
namespace {

TEST(CliTrainText, TrainsWritesACopyAndSearchesIt) {
  TempDir dir;
  auto run = [](const std::string& args) { return RunMosaic(args); };
  const std::string db = " --db '" + dir / "db" + "'";
  const std::string models = db + " --models '" + dir / "models" + "'";
  std::ifstream in(testing::SciFactDir() + "/corpus.jsonl");
  ASSERT_TRUE(in.good()) << "SciFact corpus missing beside the repository";
  {
    std::ofstream out(dir / "points.jsonl");
    const size_t n = Scaled(150, 80);
    size_t i = 0;
    for (std::string line; i < n && std::getline(in, line); ++i) {
      const Json d = Json::parse(line);
      out << Json{{"id", i},
                  {"vectors", {{"v", {1.0}}}},
                  {"payload", {{"title", d["title"]}, {"text", d["text"]}}}}
                 .dump()
          << "\n";
    }
  }
  ASSERT_EQ(run("collection create docs --vector v:1:cosine" + db).code, 0);
  ASSERT_EQ(run("collection index docs --field title --type text" + db).code, 0);
  ASSERT_EQ(run("collection index docs --field text --type text" + db).code, 0);
  ASSERT_EQ(run("upsert --collection docs '" + dir / "points.jsonl" + "'" + db).code, 0);

  EXPECT_EQ(run("models train-text" + models).code, 2);  // no --collection
  EXPECT_EQ(run("models train-text --collection docs --pooling max" + models).code, 2);
  auto r = run("models train-text --collection nope" + models);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;

  r = run("models train-text --collection docs --dim 16 --epochs 3 --maxn 0 --write docs-ft" +
          models);
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("installed model 'fasttext-docs'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote collection 'docs-ft'"), std::string::npos) << r.out;
  r = run("models train-text --collection docs --replace --write docs-ft" + models);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;

  r = run("search --collection docs-ft --text 'vitamin D deficiency' --limit 3 --explain" + models);
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("fasttext #"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mosaic::testing
