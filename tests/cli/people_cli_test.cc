// `mosaic people` end to end on the real binary: faces ingested from the astronaut, the cameraman,
// Messi and Megamind.avi (Roxanne and Bernard in two shots each); cluster, list, show, name,
// `mosaic search --text NAME`, merge, split, and bad command lines and operations.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;

struct PeopleCli {
  testing::TempDir tmp;
  std::string db;
  std::string Run(const std::string& args, int want = 0) {
    CliRun r = testing::RunMosaic("--db " + db + " " + args);
    EXPECT_EQ(r.code, want) << args << "\n" << r.all();
    return r.out + r.err;
  }
};

void Ingest(PeopleCli& s) {
  s.db = s.tmp / "db";
  const std::string models = s.tmp / "models", media = s.tmp / "media";
  const std::string from = testing::OfflineModelsDir() + "/faces";
  CliRun r = testing::RunMosaic("models add --manifest " + from + "/manifest.json --from " + from +
                                " --models " + models);
  ASSERT_EQ(r.code, 0) << r.all();
  fs::create_directories(media);
  const std::string d = testing::DataDir();
  for (const char* f : {"/skimage/astronaut.png", "/skimage/camera.png",
                        "/photos/opencv/messi5.jpg", "/video/Megamind.avi"})
    fs::copy_file(d + f, media + "/" + fs::path(f).filename().string());
  s.Run("ingest " + media + " --collection m --models " + models + " --quiet");
}

TEST(PeopleCliTest, ClusterNameSearchMergeSplit) {
  PeopleCli s;
  Ingest(s);
  std::string out = s.Run("people cluster --collection m");
  // Measured: 5 persons (astronaut, cameraman, Messi, Roxanne, Bernard).
  EXPECT_NE(out.find("7 faces, 7 grouped now"), std::string::npos) << out;
  EXPECT_NE(out.find("5 persons"), std::string::npos) << out;
  out = s.Run("people list --collection m");
  EXPECT_NE(out.find("astronaut.png"), std::string::npos) << out;
  EXPECT_NE(out.find("Megamind.avi"), std::string::npos) << out;

  // The persons by their sample file.
  const Json list = Json::parse(s.Run("people list --collection m --json"));
  std::string ada;
  std::vector<std::string> video;
  for (const Json& p : list["persons"]) {
    const std::string file = p["sample_file"];
    if (file.ends_with("/astronaut.png")) ada = p["id"];
    if (file.ends_with("/Megamind.avi")) video.push_back(p["id"]);
  }
  ASSERT_FALSE(ada.empty()) << list.dump();
  ASSERT_EQ(video.size(), 2u) << list.dump();
  out = s.Run("people name --collection m " + ada + " \"Ada Lovelace\"");
  EXPECT_NE(out.find(ada + " is now 'Ada Lovelace'"), std::string::npos) << out;
  out = s.Run("people show --collection m " + ada);
  EXPECT_NE(out.find("astronaut.png  box [17"), std::string::npos) << out;
  out = s.Run("search --collection m --text Ada --limit 3");
  EXPECT_NE(out.find("astronaut.png"), std::string::npos) << out;
  EXPECT_EQ(out.find("camera.png"), std::string::npos) << out;

  // Video faces: show gives their times; merging two persons, then splitting them apart again.
  out = s.Run("people show --collection m " + video[0]);
  EXPECT_NE(out.find("Megamind.avi  box ["), std::string::npos) << out;
  EXPECT_NE(out.find("  0:0"), std::string::npos) << out;
  out = s.Run("people merge --collection m " + video[0] + " " + video[1]);
  EXPECT_NE(out.find(video[1] + " merged into " + video[0]), std::string::npos) << out;
  EXPECT_EQ(Json::parse(s.Run("people list --collection m --json"))["persons"].size(), 4u);
  out = s.Run("people split --collection m " +
              video[0]);  // at 0.7 + 0.05: the pairs of one person are at 0.79
  EXPECT_NE(out.find(video[0] + " split: new persons p-"), std::string::npos) << out;
  EXPECT_EQ(Json::parse(s.Run("people list --collection m --json"))["persons"].size(), 5u);

  // Bad operations (exit 1) and command lines (exit 2), each naming the value.
  out = s.Run("people show --collection m p-99", 1);
  EXPECT_NE(out.find("no person 'p-99' in collection 'm'"), std::string::npos) << out;
  out = s.Run("people name --collection m " + ada + " ''", 1);
  EXPECT_NE(out.find("the name for person '" + ada + "' is empty"), std::string::npos) << out;
  out = s.Run("people merge --collection m " + ada + " " + ada, 1);
  EXPECT_NE(out.find("cannot merge person '" + ada + "' with itself"), std::string::npos) << out;
  out = s.Run("people cluster --collection m --threshold abc", 2);
  EXPECT_NE(out.find("--threshold 'abc' is not a number"), std::string::npos) << out;
  out = s.Run("people cluster --collection m --threshold 1.5", 1);
  EXPECT_NE(out.find("1.5"), std::string::npos) << out;
  out = s.Run("people name --collection m " + ada, 2);
  EXPECT_NE(out.find("expected 2 arguments, got 1"), std::string::npos) << out;
  out = s.Run("people rename --collection m", 2);
  EXPECT_NE(out.find("unknown verb 'rename'"), std::string::npos) << out;
  out = s.Run("people list", 2);
  EXPECT_NE(out.find("missing --collection"), std::string::npos) << out;
  s.Run("collection create plain --vector image:4:cosine");
  out = s.Run("people cluster --collection plain", 1);
  EXPECT_NE(out.find("collection 'plain' has no vector 'face'"), std::string::npos) << out;
}

}  // namespace
}  // namespace mosaic
