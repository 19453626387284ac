// `mosaic recommend`, `classify`, `passages`, `qa import` and `ask` end to end on small
// collections made with the CLI, and the errors of bad input (exit 2 for a bad command line, 1
// for a failed operation), each naming the value.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/shared_fixture.h"

namespace mosaic {
namespace {

using testing::CliRun;

// Points on the unit circle: ids 0-9 near angle 0 labelled "east", 10-19 near pi/2 "north";
// 20-23 unlabelled (two near each). Passages: chunks of two documents.
struct Apps {
  testing::TempDir dir;
  std::string db;

  Apps() : db(dir / "db") {
    EXPECT_EQ(Run("collection create items --vector v:2:cosine").code, 0);
    std::ofstream f(dir / "items.jsonl");
    for (int i = 0; i < 24; ++i) {
      const bool north = (i >= 10 && i < 20) || i >= 22;
      const double a = (north ? 1.5708 : 0.0) + 0.02 * (i % 10) - 0.05;
      Json payload = Json::object();
      if (i < 20) payload["label"] = north ? "north" : "east";
      f << Json({{"id", i}, {"vector", {std::cos(a), std::sin(a)}}, {"payload", payload}}).dump()
        << "\n";
    }
    const char* chunks[][3] = {
        {"d1", "Rank fusion",
         "Reciprocal rank fusion sums one over k plus the rank. It needs no scores."},
        {"d1", "Rank fusion", "Score fusion normalizes the scores of each list."},
        {"d2", "Gardening", "Tomatoes need sun. Ladybirds eat the aphids on the leaves."}};
    for (int i = 0; i < 3; ++i)
      f << Json({{"id", 100 + i},
                 {"vector", {1.0, 0.5}},
                 {"payload",
                  {{"kind", "chunk"},
                   {"file_id", chunks[i][0]},
                   {"title", chunks[i][1]},
                   {"text", chunks[i][2]},
                   {"headings", std::string(chunks[i][1]) + " > Part " + std::to_string(i)}}}})
               .dump()
        << "\n";
    f.close();
    EXPECT_EQ(Run("upsert --collection items '" + (dir / "items.jsonl") + "'").code, 0);
    for (const char* idx : {"--field text --type text", "--field title --type text",
                            "--field kind --type keyword", "--field file_id --type keyword"})
      EXPECT_EQ(Run(std::string("collection index items ") + idx).code, 0);
  }
  CliRun Run(const std::string& args) const {
    return testing::RunMosaic("--db '" + db + "' " + args);
  }
  Json RunJson(const std::string& args) const {
    CliRun r = Run(args + " --json");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.all();
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
};

mosaic::testing::SharedFixture<Apps> g_apps;

Apps& GetApps() {
  return g_apps.Get([] { return new Apps; });
}

TEST(RecommendCli, ExamplesHistoryAndErrors) {
  Apps& a = GetApps();
  Json r = a.RunJson(
      "recommend --collection items --positive 11 --negative 1 --limit 5 "
      "--filter '{\"must_not\": [{\"is_empty\": {\"key\": \"label\"}}]}'");
  ASSERT_EQ(r["points"].size(), 5u);
  for (const Json& p : r["points"]) {
    EXPECT_NE(p["id"], 11);  // an example is never its own recommendation
    EXPECT_EQ(p["payload"]["label"], "north") << p.dump();
  }
  std::ofstream(a.dir / "history.jsonl") << "{\"id\": 2, \"time\": \"2026-01-01\"}\n"
                                            "{\"id\": 12, \"time\": \"2026-06-01\"}\n";
  r = a.RunJson("recommend --collection items --history '" + (a.dir / "history.jsonl") +
                "' --half-life 7 --limit 3 --kind none-such");
  EXPECT_TRUE(r["points"].empty());
  r = a.RunJson("recommend --collection items --history '" + (a.dir / "history.jsonl") +
                "' --half-life 7 --limit 3");
  ASSERT_EQ(r["points"].size(), 3u);
  for (const Json& p : r["points"]) {
    EXPECT_TRUE(p["id"] != 2 && p["id"] != 12) << "a seen item came back";
    EXPECT_GE(p["id"].get<int>(), 10) << "the older interest outweighed the newer";
  }

  CliRun bad = a.Run("recommend --collection items --positive 999");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("point 999 is not in collection 'items'"), std::string::npos) << bad.err;
  bad = a.Run("recommend --collection items --positive 1 --using clip");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("no vector named 'clip'"), std::string::npos) << bad.err;
  bad = a.Run("recommend --collection items");
  EXPECT_EQ(bad.code, 2);
  std::ofstream(a.dir / "broken.jsonl") << "5\n{\"id\": 3, \"weight\": \"lots\"}\n";
  bad = a.Run("recommend --collection items --history '" + (a.dir / "broken.jsonl") + "'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("history line 2: \"weight\" is not a number"), std::string::npos)
      << bad.err;
}

TEST(ClassifyCli, KnnWritesLabelsAndNamesBadInput) {
  Apps& a = GetApps();
  Json r = a.RunJson(
      "classify --collection items --write guess --filter "
      "'{\"must_not\": [{\"key\": \"kind\", \"match\": {\"value\": \"chunk\"}}]}'");
  EXPECT_EQ(r["method"], "knn");
  EXPECT_EQ(r["labelled"], 20);
  ASSERT_EQ(r["predictions"].size(), 4u);
  for (const Json& p : r["predictions"])
    EXPECT_EQ(p["label"], p["id"].get<int>() >= 22 ? "north" : "east") << p.dump();
  CliRun count = a.Run(
      "count --collection items --filter '{\"must\": [{\"key\": \"guess\", \"match\": {\"value\": "
      "\"north\"}}]}'");
  EXPECT_EQ(count.out, "2\n") << count.all();

  CliRun bad = a.Run("classify --collection items --k 21");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("k = 21 is larger than the 20 labelled points"), std::string::npos)
      << bad.err;
  bad = a.Run("classify --collection items --using face");
  EXPECT_NE(bad.err.find("no vector named 'face'; it has: v"), std::string::npos) << bad.err;
  bad = a.Run("classify --collection items --labels cat,dog");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("needs a text model"), std::string::npos) << bad.err;
  bad = a.Run("classify --collection items --vote loudest");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("'loudest'"), std::string::npos) << bad.err;
}

TEST(PassagesCli, GroupedPerDocumentWithTheSentence) {
  Apps& a = GetApps();
  Json r = a.RunJson("passages --collection items what do ladybirds eat");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["title"], "Gardening");
  EXPECT_EQ(r[0]["passages"][0]["sentence"]["text"], "Ladybirds eat the aphids on the leaves.");
  r = a.RunJson("passages --collection items rank fusion scores --per-document 2");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["document"], "d1");
  EXPECT_EQ(r[0]["passages"].size(), 2u);
  CliRun plain = a.Run("passages --collection items ladybirds");
  EXPECT_NE(plain.out.find("**Ladybirds**"), std::string::npos) << plain.out;
  EXPECT_EQ(a.Run("passages --collection items").code, 2);
}

TEST(QaCli, ImportReportsBrokenLinesAndAskAnswers) {
  Apps& a = GetApps();
  const std::string models = a.dir / "models";
  std::ofstream f(a.dir / "faq.jsonl");
  f << "{\"question\": \"How do I reset my password?\", \"answer\": \"Use the sign-in page "
       "link.\"}\n"
       "{\"question\": \"Where do I find invoices?\", \"answer\": \"Under billing, invoices.\"}\n"
       "{\"question\": \"broken\n"
       "{\"question\": \"Can I change my password later?\", \"answer\": \"Yes, in settings.\"}\n"
       "{\"question\": \"How do I delete my account?\", \"answer\": \"Write to support.\"}\n";
  f.close();
  CliRun imp =
      a.Run("qa import --collection faq '" + (a.dir / "faq.jsonl") + "' --models '" + models + "'");
  EXPECT_EQ(imp.code, 1) << imp.all();  // a line was skipped
  EXPECT_NE(imp.out.find("imported 4 question-answer pairs"), std::string::npos) << imp.all();
  EXPECT_NE(imp.err.find("line 3: not a JSON object"), std::string::npos) << imp.err;
  Json r = a.RunJson("ask --collection faq where are my invoices --models '" + models + "'");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["question"], "Where do I find invoices?");
  EXPECT_EQ(r[0]["source"], "qa");
  // Over the documents of another collection: the passage answers.
  r = a.RunJson("ask --collection items what eats aphids --limit 1");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["source"], "passage");
  EXPECT_EQ(r[0]["title"], "Gardening");

  EXPECT_EQ(a.Run("qa import --collection faq2 '" + (a.dir / "none.jsonl") + "'").code, 1);
  EXPECT_EQ(a.Run("qa export --collection faq").code, 2);
  CliRun bad = a.Run("qa import --collection faq3 '" + (a.dir / "faq.jsonl") +
                     "' --model no-such-model --models '" + models + "'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("no-such-model"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace mosaic
