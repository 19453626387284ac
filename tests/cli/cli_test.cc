// The `mosaic` binary end to end: real processes, real files, exit codes and messages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

CliRun Mosaic(const std::string& db, const std::string& args) {
  testing::CliRun r = testing::RunMosaic("--db '" + db + "' " + args);
  return {r.code, r.all()};
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(Cli, FullRoundTrip) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  CliRun r = Mosaic(db, "collection create docs --vector text:3:cosine --vector img:2");
  ASSERT_EQ(r.code, 0) << r.out;
  WriteFile(dir / "pts.jsonl",
            "{\"id\": 1, \"vectors\": {\"text\": [1, 0, 0], \"img\": [0, 0]}, \"payload\": {\"lang\": \"en\"}}\n"
            "{\"id\": 2, \"vectors\": {\"text\": [0, 1, 0]}, \"payload\": {\"lang\": \"de\"}}\n"
            "this line is broken\n"
            "{\"id\": \"abc\", \"vector\": [0.9, 0.1, 0], \"payload\": {\"lang\": \"en\"}}\n"
            "{\"id\": 4, \"vector\": [1, 2]}\n");
  r = Mosaic(db, "upsert --collection docs " + (dir / "pts.jsonl"));
  EXPECT_EQ(r.code, 1) << r.out;  // two bad lines: reported, the rest stored
  EXPECT_NE(r.out.find("pts.jsonl:3: skipped: not valid JSON"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pts.jsonl:5: skipped: vector 'text' has 2 dims, expected 3"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("upserted 3 points"), std::string::npos) << r.out;

  r = Mosaic(db, "search --collection docs --vector '[1, 0.05, 0]' --limit 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  Json hits = Json::parse(r.out)["points"];
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]["id"], 1);
  EXPECT_EQ(hits[1]["id"], "abc");

  r = Mosaic(db, "search --collection docs --vector '[1, 0.05, 0]' --json "
                 "--filter '{\"must_not\": [{\"key\": \"lang\", \"match\": {\"value\": \"en\"}}]}'");
  ASSERT_EQ(r.code, 0) << r.out;
  hits = Json::parse(r.out)["points"];
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], 2);

  r = Mosaic(db, "count --collection docs");
  EXPECT_EQ(r.out, "3\n");
  r = Mosaic(db, "get --collection docs abc 2");
  Json got = Json::parse(r.out);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["payload"]["lang"], "en");

  r = Mosaic(db, "snapshot create docs " + (dir / "docs.snap"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = Mosaic(db, "delete --collection docs --filter '{\"must\": [{\"key\": \"lang\", \"match\": {\"value\": \"en\"}}]}'");
  EXPECT_NE(r.out.find("deleted 2 points"), std::string::npos) << r.out;
  r = Mosaic(db, "snapshot restore " + (dir / "docs.snap") + " docs2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Mosaic(db, "count --collection docs2").out, "3\n");
  EXPECT_EQ(Mosaic(db, "count --collection docs").out, "1\n");

  r = Mosaic(db, "scroll --collection docs2 --limit 2");
  Json page = Json::parse(r.out);
  EXPECT_EQ(page["points"].size(), 2u);
  EXPECT_EQ(page["next_offset"], "abc");

  r = Mosaic(db, "collection info docs2 --json");
  Json info = Json::parse(r.out);
  EXPECT_EQ(info["points"], 3);
  EXPECT_EQ(info["schema"]["vectors"][0]["metric"], "cosine");
  r = Mosaic(db, "collection list");
  EXPECT_EQ(r.out, "docs\ndocs2\n");
  EXPECT_EQ(Mosaic(db, "collection drop docs").code, 0);
  EXPECT_EQ(Mosaic(db, "collection list").out, "docs2\n");
}

// Full-text search from the command line: a text index, then BM25 hits with a filter.
TEST(Cli, TextSearch) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  ASSERT_EQ(Mosaic(db, "collection create notes --vector v:2").code, 0);
  WriteFile(dir / "notes.jsonl",
            "{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"body\": \"Espresso is brewed under pressure\", \"lang\": \"en\"}}\n"
            "{\"id\": 2, \"vector\": [0, 1], \"payload\": {\"body\": \"Brewing tea takes patience\", \"lang\": \"en\"}}\n"
            "{\"id\": 3, \"vector\": [1, 1], \"payload\": {\"body\": \"Cold brew coffee\", \"lang\": \"de\"}}\n");
  ASSERT_EQ(Mosaic(db, "upsert --collection notes " + (dir / "notes.jsonl")).code, 0);
  CliRun r = Mosaic(db, "collection index notes --field body --type text");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("indexed 'body' as text"), std::string::npos) << r.out;
  testing::CliRun s = testing::RunMosaic("--db '" + db + "' search --collection notes --text 'brewed espresso' --fields body --json");
  ASSERT_EQ(s.code, 0) << s.all();
  Json hits = Json::parse(s.out)["points"];
  ASSERT_EQ(hits.size(), 3u);  // brew/brewed/brewing share a stem
  EXPECT_EQ(hits[0]["id"], 1);
  EXPECT_GT(hits[0]["score"].get<double>(), hits[1]["score"].get<double>());
  s = testing::RunMosaic("--db '" + db + "' search --collection notes --text brew --fields body --json "
                         "--filter '{\"must\": [{\"key\": \"lang\", \"match\": {\"value\": \"de\"}}]}'");
  ASSERT_EQ(s.code, 0) << s.all();
  hits = Json::parse(s.out)["points"];
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], 3);
  r = Mosaic(db, "search --collection notes --text brew --fields lang");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("field 'lang' has no text index"), std::string::npos) << r.out;
  r = Mosaic(db, "search --collection notes --text brew --fields body --exact");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("apply to vector search only"), std::string::npos) << r.out;
  // Without --fields a text searches every text signal: here the one text index.
  s = testing::RunMosaic("--db '" + db + "' search --collection notes --text brew --json");
  ASSERT_EQ(s.code, 0) << s.all();
  EXPECT_EQ(Json::parse(s.out)["points"].size(), 3u) << s.out;
}

TEST(Cli, ErrorsAndHelp) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  CliRun r = Mosaic(db, "--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: mosaic"), std::string::npos);
  for (const char* cmd : {"collection", "upsert", "search", "snapshot", "get", "eval"}) {
    r = Mosaic(db, std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("usage:"), std::string::npos) << cmd;
  }
  r = Mosaic(db, "frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos);
  r = Mosaic(db, "search --collection nope --vector '[1]'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("collection 'nope' not found"), std::string::npos) << r.out;
  r = Mosaic(db, "collection create x --vector v:abc");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("dimension 'abc'"), std::string::npos) << r.out;
  ASSERT_EQ(Mosaic(db, "collection create x --dim 2").code, 0);
  r = Mosaic(db, "collection create x --dim 2");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("already exists"), std::string::npos);
  r = Mosaic(db, "search --collection x --vector '[1, 2, 3]'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("query vector has 3 dims"), std::string::npos) << r.out;
  r = Mosaic(db, "search --collection x --vector '[1, 2]' --filter '{\"must\": 5}'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("filter"), std::string::npos) << r.out;
  r = Mosaic(db, "search --collection x --vector '[1, 2]' --limit many");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("'many'"), std::string::npos) << r.out;
  r = Mosaic(db, "upsert --collection x " + (dir / "missing.fvecs"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("missing.fvecs"), std::string::npos) << r.out;
  r = Mosaic(db, "search --collection x --vector '[1, 2]' --bogus 1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown option --bogus"), std::string::npos);
}

TEST(Cli, VectorFilesAndRecall) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  // A small fvecs file written here: 300 vectors of 8 dims.
  {
    std::ofstream f(dir / "base.fvecs", std::ios::binary);
    for (int i = 0; i < 300; ++i) {
      int32_t d = 8;
      f.write(reinterpret_cast<char*>(&d), 4);
      for (int j = 0; j < 8; ++j) {
        float x = static_cast<float>((i * 37 + j * 11) % 101) / 7.0f;
        f.write(reinterpret_cast<char*>(&x), 4);
      }
    }
  }
  ASSERT_EQ(Mosaic(db, "collection create v --dim 8").code, 0);
  CliRun r = Mosaic(db, "upsert --collection v " + (dir / "base.fvecs") + " --id-start 1000 --flush");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Mosaic(db, "count --collection v").out, "300\n");
  r = Mosaic(db, "search --collection v --vector-file " + (dir / "base.fvecs") + " --row 5 --limit 1 --json");
  Json hits = Json::parse(r.out)["points"];
  EXPECT_EQ(hits[0]["id"], 1005);
  EXPECT_FLOAT_EQ(hits[0]["score"].get<float>(), 0.0f);
  r = Mosaic(db, "eval recall --collection v --queries " + (dir / "base.fvecs") +
                     " --num-queries 50 --min-recall 1.0");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("recall@10 = 1.0000 over 50 queries"), std::string::npos) << r.out;
}

TEST(Cli, HnswCollection) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  {
    std::ofstream f(dir / "base.fvecs", std::ios::binary);
    for (int i = 0; i < 500; ++i) {
      int32_t d = 8;
      f.write(reinterpret_cast<char*>(&d), 4);
      for (int j = 0; j < 8; ++j) {
        float x = static_cast<float>((i * 131 + j * 71) % 997) / 13.0f;
        f.write(reinterpret_cast<char*>(&x), 4);
      }
    }
  }
  CliRun r = Mosaic(db, "collection create g --vector v:8:l2:hnsw --m 8 --ef 32");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(Mosaic(db, "upsert --collection g " + (dir / "base.fvecs")).code, 0);
  r = Mosaic(db, "collection info g");
  EXPECT_NE(r.out.find("index hnsw: m 8, ef_construction 200, ef 32, quantization none"),
            std::string::npos) << r.out;
  r = Mosaic(db, "search --collection g --vector-file " + (dir / "base.fvecs") +
                     " --row 7 --limit 1 --ef 64 --json");
  EXPECT_EQ(Json::parse(r.out)["points"][0]["id"], 7) << r.out;
  r = Mosaic(db, "eval recall --collection g --queries " + (dir / "base.fvecs") +
                     " --num-queries 100 --min-recall 0.95");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Mosaic(db, "collection create bad --vector v:8:l2:tree");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown index type 'tree'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mosaic
