// `mosaic search` end to end: every flag, on a collection made from JSON lines and on media
// ingested from Debian's sample files, and the errors of bad input (exit 2 for a bad command
// line, 1 for a failed query), each naming the value.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;

// A collection of ten notes with a 2-d vector, text, kind, date and doc fields.
struct Notes {
  testing::TempDir dir;
  std::string db;

  Notes() : db(dir / "db") {
    EXPECT_EQ(Run("collection create notes --vector v:2:cosine").code, 0);
    std::ofstream f(dir / "notes.jsonl");
    const char* texts[] = {"a red car at night",  "a red bicycle",        "blue car in the rain",
                           "a dog on a beach",    "dogs running on sand", "a cat asleep",
                           "red sunset over sea", "night city lights",    "a car ferry",
                           "the beach at dawn"};
    const char* kinds[] = {"image", "image", "shot", "image", "shot",
                           "image", "image", "shot", "chunk", "image"};
    for (int i = 0; i < 10; ++i) {
      const double a = 0.3 * i;  // on the unit circle
      mosaic::Json p = {{"id", i},
                        {"vector", {std::cos(a), std::sin(a)}},
                        {"payload",
                         {{"title", std::string("note ") + std::to_string(i)},
                          {"text", texts[i]},
                          {"kind", kinds[i]},
                          {"date", "20" + std::to_string(18 + i % 6) + "-07-0" +
                                       std::to_string(1 + i % 9) + "T10:00:00Z"},
                          {"doc", "d" + std::to_string(i / 3)}}}};
      f << p.dump() << "\n";
    }
    f.close();
    EXPECT_EQ(Run("upsert --collection notes " + (dir / "notes.jsonl")).code, 0);
    for (const char* idx :
         {"--field text --type text", "--field title --type text", "--field kind --type keyword",
          "--field date --type datetime", "--field doc --type keyword"})
      EXPECT_EQ(Run(std::string("collection index notes ") + idx).code, 0);
  }
  CliRun Run(const std::string& args) const {
    return testing::RunMosaic("--db '" + db + "' " + args);
  }
  mosaic::Json Search(const std::string& args) const {
    CliRun r = Run("search --collection notes --json " + args);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.all();
    return r.code == 0 ? mosaic::Json::parse(r.out) : mosaic::Json();
  }
};

std::vector<int> Ids(const Json& j) {
  std::vector<int> ids;
  for (const auto& p : j["points"])
    ids.push_back(p["id"].get<int>());
  return ids;
}

TEST(SearchCli, TextVectorIdAndQueryExpressions) {
  Notes n;
  Json j = n.Search("--text 'red car'");
  ASSERT_FALSE(j["points"].empty());
  EXPECT_EQ(j["points"][0]["id"], 0);  // both words
  EXPECT_EQ(j["points"][0]["snippet"], "a red car at night");
  // A weighted negative input pushes "night" down.
  Json minus = n.Search("--text car --text -0.5:night");
  EXPECT_EQ(Ids(minus).back(), 0);
  Json expr = n.Search("--query '\"car\" - 0.5 * \"night\"'");
  EXPECT_EQ(Ids(expr), Ids(minus));
  // By a point: its neighbours, without itself.
  Json like = n.Search("--id 3 --limit 2");
  std::vector<int> near = Ids(like);
  EXPECT_EQ(std::set<int>(near.begin(), near.end()), (std::set<int>{2, 4}));  // equally near
  Json vec = n.Search("--vector '[1, 0]' --limit 3");
  EXPECT_EQ(Ids(vec), (std::vector<int>{0, 1, 2}));
  Json using_v = n.Search("--vector '[1, 0]' --using v --limit 1 --with-vectors");
  EXPECT_EQ(using_v["points"][0]["vectors"]["v"].size(), 2u);
  Json fields = n.Search("--text night --fields text");
  EXPECT_EQ(Ids(fields), (std::vector<int>{0, 7}));
}

TEST(SearchCli, FuseExplainPagesAndThreshold) {
  Notes n;
  Json rrf = n.Search("--text car --vector '[1, 0]' --explain --limit 3");
  ASSERT_EQ(rrf["points"].size(), 3u);
  const Json& ex = rrf["points"][0]["explain"];
  EXPECT_EQ(ex["signals"].size(), 2u) << ex.dump();
  EXPECT_EQ(rrf["explain"]["plan"]["method"], "rrf");
  Json dbsf = n.Search("--text car --vector '[1, 0]' --fuse dbsf --explain");
  EXPECT_EQ(dbsf["explain"]["plan"]["method"], "dbsf");
  Json k = n.Search("--text car --vector '[1, 0]' --rrf-k 1 --explain --limit 1");
  EXPECT_EQ(k["explain"]["plan"]["k"], 1.0);
  // Pages: offsets 0, 3, 6 of a page of 3 are the first 9 hits.
  std::vector<int> paged;
  for (int off : {0, 3, 6})
    for (int id :
         Ids(n.Search("--text car --vector '[1, 0]' --limit 3 --offset " + std::to_string(off))))
      paged.push_back(id);
  std::vector<int> whole = Ids(n.Search("--text car --vector '[1, 0]' --limit 9"));
  EXPECT_EQ(paged, whole);
  Json th = n.Search("--vector '[1, 0]' --using v --score-threshold 0.9");
  for (const auto& p : th["points"])
    EXPECT_GE(p["score"].get<double>(), 0.9);
  EXPECT_LT(th["points"].size(), 10u);
  Json exact = n.Search("--vector '[1, 0]' --using v --exact --ef 8 --limit 2");
  EXPECT_EQ(Ids(exact), (std::vector<int>{0, 1}));
  Json nopay = n.Search("--vector '[1, 0]' --no-payload --limit 1");
  EXPECT_FALSE(nopay["points"][0].contains("payload"));
}

TEST(SearchCli, ShapingFlags) {
  Notes n;
  Json group = n.Search("--vector '[1, 0]' --group-by doc --group-size 2 --limit 2");
  ASSERT_EQ(group["groups"].size(), 2u);
  EXPECT_EQ(group["groups"][0]["id"], "d0");
  EXPECT_EQ(group["groups"][0]["hits"].size(), 2u);
  Json sorted = n.Search("--sort date:desc --limit 10");
  std::vector<std::string> dates;
  for (const auto& p : sorted["points"])
    dates.push_back(p["order_value"]);
  EXPECT_TRUE(std::is_sorted(dates.rbegin(), dates.rend()));
  Json sorted_hits = n.Search("--text car --sort date");
  std::vector<std::string> car_dates;
  for (const auto& p : sorted_hits["points"])
    car_dates.push_back(p["order_value"]);
  EXPECT_EQ(car_dates.size(), 3u);
  EXPECT_TRUE(std::is_sorted(car_dates.begin(), car_dates.end()));
  // A sorted listing continues with --after.
  Json first = n.Search("--sort date --limit 4");
  ASSERT_TRUE(first.contains("next_cursor"));
  Json next = n.Search("--sort date --limit 4 --after '" + first["next_cursor"].dump() + "'");
  Json offset = n.Search("--sort date --limit 4 --offset 4");
  EXPECT_EQ(Ids(next), Ids(offset));
  Json facets = n.Search(
      "--filter '{\"must\": [{\"key\": \"kind\", \"match\": {\"value\": \"image\"}}]}' --facet "
      "kind --facet date:year");
  EXPECT_EQ(facets["facets"]["kind"][0]["value"], "image");
  EXPECT_EQ(facets["facets"]["kind"][0]["count"], 6);
  EXPECT_FALSE(facets["facets"]["date"].empty());
  Json cut = n.Search("--text 'red car night' --autocut");
  EXPECT_EQ(Ids(cut), (std::vector<int>{0}));
  Json mmr = n.Search("--vector '[1, 0]' --using v --mmr --diversity 0.9 --limit 2");
  EXPECT_EQ(mmr["points"][0]["id"], 0);
  EXPECT_GT(mmr["points"][1]["id"].get<int>(), 3);
  Json understood = n.Search("--text 'photos of a beach'");
  EXPECT_EQ(understood["explain"]["understood"][0]["as"], "kind");
  for (const auto& p : understood["points"])
    EXPECT_EQ(p["payload"]["kind"], "image");
  Json literal = n.Search("--text 'photos of a beach' --literal");
  EXPECT_FALSE(literal.contains("explain"));
}

TEST(SearchCli, TableOutput) {
  Notes n;
  CliRun r = n.Run("search --collection notes --text 'red car' --explain --limit 2");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("note 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[red] [car] at night"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signals: text #1"), std::string::npos) << r.out;
  r = n.Run("search --collection notes --text 'videos from 2019'");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("understood \"videos\" as kind"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("understood \"from 2019\" as date 2019-01-01T00:00:00Z .. 2020-01-01T00:00:00Z"),
      std::string::npos)
      << r.out;
}

TEST(SearchCli, RequestFile) {
  Notes n;
  std::ofstream(n.dir / "req.json")
      << R"({"prefetch": [{"query": {"bm25": {"query": "car", "fields": ["text"]}}},
                                                      {"query": {"nearest": [1, 0]}}],
                                         "query": {"rrf": {"k": 10}}, "limit": 2})";
  Json j = n.Search("--request " + (n.dir / "req.json"));
  EXPECT_EQ(j["points"].size(), 2u);
  CliRun r = n.Run("search --collection notes --request " + (n.dir / "missing.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("missing.json"), std::string::npos) << r.all();
  std::ofstream(n.dir / "bad.json") << R"({"query": {"nearest": [1, 0]}, "limt": 2})";
  r = n.Run("search --collection notes --request " + (n.dir / "bad.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("limt: unknown key"), std::string::npos) << r.all();
}

TEST(SearchCli, BadInputNamesTheValue) {
  Notes n;
  struct Case {
    std::string args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"--text x --using nope", 1, "no vector named 'nope'"},
      {"--vector '[1, 0, 0]'", 1, "3 dims"},
      {"--vector '[1, \"a\"]'", 2, "--vector[1]: expected a number"},
      {"--vector 'not json'", 2, "--vector is not valid JSON"},
      {"--image " + (n.dir / "nope.jpg"), 2, "nope.jpg"},
      {"--text 0:car", 2, "weight 0"},
      {"--query '\"car\" +'", 2, "missing a term"},
      {"--query '\"car'", 2, "unclosed quote"},
      {"--query '\"car\" \"dog\"'", 2, "expected + or -"},
      {"--id 42", 1, "point 42 is not in collection 'notes'"},
      {"--text car --fuse max", 2, "--fuse expects rrf or dbsf, got 'max'"},
      {"--vector '[1, 0]' --using v --fuse rrf", 2,
       "--fuse applies to queries over several signals"},
      {"--text car --limit 0", 2, "--limit must be >= 1"},
      {"--text car --offset x", 2, "'x'"},
      {"--text car --score-threshold high", 2, "'high'"},
      {"--text car --group-size 2", 2, "--group-size needs --group-by"},
      {"--text car --diversity 0.3", 2, "--diversity needs --mmr"},
      {"--text car --mmr --diversity 2", 2, "'2'"},
      {"--text car --sort ':desc'", 2, "--sort needs a field"},
      {"--text car --facet ':year'", 2, "--facet needs a field"},
      {"--text car --after nope", 2, "--after expects"},
      {"--text car --after '{\"id\": 1}'", 1, "cursor continues an ordered listing"},
      {"--text car --fields nope", 1, "field 'nope' has no text index"},
      {"--vector '[1, 0]' --fields text", 2, "--fields makes a BM25 search of one --text"},
      {"--text car --filter '{\"must\": 5}'", 1, "filter"},
      {"--text car --group-by doc --group-size 0", 2, "--group-size >= 1"},
      {"--text car --rrf-k -1", 2, "--rrf-k"},
      {"--text car --bogus", 2, "unknown option --bogus"},
      {"--text car --using v --mmr --diversity 0.5 --exact --ef -3", 2, "--ef"},
  };
  for (const Case& c : cases) {
    CliRun r = n.Run("search --collection notes " + c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.all();
    EXPECT_NE(r.all().find(c.message), std::string::npos) << c.args << "\n" << r.all();
  }
  CliRun r = n.Run("search --text car");
  EXPECT_EQ(r.code, 2);
  r = n.Run("search --collection nope --text car");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("collection 'nope' not found"), std::string::npos) << r.all();
}

// Media inputs on a collection ingested from sample files with the offline models.
TEST(SearchCli, ImageVideoAndAudioInputs) {
  testing::TempDir dir;
  const std::string models = dir / "models";
  for (const char* m : {"visual-descriptor", "nanodet"}) {
    const std::string from = testing::OfflineModelsDir() + "/" + m;
    ASSERT_EQ(testing::RunMosaic("models add --manifest " + from + "/manifest.json --from " + from +
                                 " --models " + models)
                  .code,
              0);
  }
  ASSERT_EQ(
      testing::RunMosaic(
          "models add pocketsphinx-en-us --from /usr/share/pocketsphinx/model/en-us --models " +
          models)
          .code,
      0);
  const std::string media = dir / "media";
  fs::create_directories(media);
  const std::string d = testing::DataDir();
  for (const std::string& f : {d + "/darknet/dog.jpg", d + "/darknet/horses.jpg",
                               d + "/speech/cards/005.wav", d + "/video/Megamind.avi"})
    fs::copy_file(f, media + "/" + fs::path(f).filename().string());
  const std::string db = dir / "db";
  CliRun r = testing::RunMosaic("--db " + db + " ingest " + media + " --collection m --models " +
                                models + " --quiet");
  ASSERT_EQ(r.code, 0) << r.all();
  auto search = [&](const std::string& args) {
    return testing::RunMosaic("--db " + db + " search --collection m --models " + models + " " +
                              args);
  };
  r = search("--image " + media + "/horses.jpg --limit 1 --json");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Json::parse(r.out)["points"][0]["payload"]["file"]["name"], "horses.jpg");
  r = search("--video " + media + "/Megamind.avi --using visual --limit 1 --json");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Json::parse(r.out)["points"][0]["payload"]["kind"], "video");
  r = search("--audio " + media + "/005.wav --limit 3 --explain");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("005.wav  0:00"), std::string::npos)
      << r.out;  // a speech segment and its time
  EXPECT_NE(r.out.find("said: \"eight\""), std::string::npos) << r.out;
  r = search("--query '" + media + "/dog.jpg - 0.5 * " + media + "/horses.jpg' --limit 2 --json");
  ASSERT_EQ(r.code, 0) << r.all();
  std::ofstream(dir / "broken.jpg") << "not an image";
  r = search("--image " + (dir / "broken.jpg"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("broken.jpg"), std::string::npos) << r.all();
  r = search("--query " + (dir / "notes.txt") + "x");
  EXPECT_EQ(r.code, 0) << r.all();  // not a file: a text
}

}  // namespace
}  // namespace mosaic
