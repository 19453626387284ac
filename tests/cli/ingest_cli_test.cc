// `mosaic ingest` end to end: the real binary on real photos, its summary, exit codes and error
// log, and what happens when it is killed (-9) or interrupted (Ctrl-C) halfway: the next run
// resumes without duplicates.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

namespace fs = std::filesystem;

const std::string kMosaic = testing::MosaicBinary();

using testing::CliRun;
CliRun Mosaic(const std::string& args) { return testing::RunMosaic(args); }

// A registry with the visual descriptor, the object detector and faces (converted offline models).
std::string Models(const testing::TempDir& tmp) {
  const std::string dir = tmp / "models";
  for (const char* m : {"visual-descriptor", "nanodet", "faces"}) {
    const std::string from = testing::OfflineModelsDir() + "/" + m;
    CliRun r = Mosaic("models add --manifest " + from + "/manifest.json --from " + from + " --models " + dir);
    EXPECT_EQ(r.code, 0) << r.all();
  }
  return dir;
}

// `copies` × 5 sample photos under distinct names.
std::string PhotoFolder(const testing::TempDir& tmp, int copies) {
  const std::string dir = tmp / "photos";
  fs::create_directories(dir);
  const std::string d = testing::DataDir();
  const std::vector<std::string> photos = {d + "/skimage/astronaut.png", d + "/skimage/coffee.png",
                                           d + "/skimage/chelsea.png", d + "/darknet/dog.jpg",
                                           d + "/darknet/horses.jpg"};
  for (int c = 0; c < copies; ++c)
    for (size_t i = 0; i < photos.size(); ++i)
      fs::copy_file(photos[i], dir + "/p" + std::to_string(c) + "_" + std::to_string(i) + fs::path(photos[i]).extension().string());
  return dir;
}

uint64_t Count(const std::string& db, const std::string& kind) {
  CliRun r = Mosaic("--db " + db + " count --collection c --filter '{\"must\":[{\"key\":\"kind\",\"match\":{\"value\":\"" +
                 kind + "\"}}]}'");
  EXPECT_EQ(r.code, 0) << r.all();
  return std::stoull(r.out);
}

uint64_t WalBytes(const std::string& db) {
  uint64_t n = 0;
  std::error_code ec;
  if (!fs::exists(db + "/collections/c", ec)) return 0;
  for (const auto& e : fs::directory_iterator(db + "/collections/c", ec))
    if (e.path().filename().string().starts_with("wal-")) n += e.file_size(ec);
  return n;
}

// Waits until the collection's log has grown by a file group (a few photos with their thumbnails,
// well over the few hundred bytes of the collection's own set-up records).
void WaitForFirstWrites(const std::string& db) {
  uint64_t created = 0;
  for (int i = 0; i < 3000 && created == 0; ++i) {
    created = WalBytes(db);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 3000 && WalBytes(db) <= created + 8192; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Runs an ingest in the background, sends it `sig` once its first files are written, and returns
// its wait status; its output goes to `log`.
int StopMidRun(const std::string& args, const std::string& db, const std::string& log, int sig) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string cmd = "exec " + kMosaic + " " + args + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  WaitForFirstWrites(db);
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(IngestCli, SummaryExitCodeAndErrorLog) {
  testing::TempDir tmp;
  const std::string models = Models(tmp);
  const std::string in = PhotoFolder(tmp, 1);
  std::ofstream(in + "/broken.jpg") << "not a jpeg";
  const std::string db = tmp / "db";
  CliRun r = Mosaic("--db " + db + " ingest " + in + " --collection c --models " + models + " --quiet");
  EXPECT_EQ(r.code, 1) << r.all();  // one file failed
  EXPECT_NE(r.out.find("5 new"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("broken.jpg: not a recognized image format"), std::string::npos) << r.out;
  std::ifstream log(db + "/logs/ingest-c.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  Json j = Json::parse(line);
  EXPECT_EQ(j["path"], in + "/broken.jpg");
  EXPECT_EQ(j["stage"], "decode");
  EXPECT_EQ(j["code"], "InvalidArgument");
  EXPECT_EQ(Count(db, "image"), 5u);

  // Again, as JSON: everything unchanged, the broken file reported again.
  fs::remove(in + "/broken.jpg");
  r = Mosaic("--db " + db + " ingest " + in + " --collection c --models " + models + " --json");
  EXPECT_EQ(r.code, 0) << r.all();
  Json s = Json::parse(r.out);
  EXPECT_EQ(s["files_unchanged"], 5);
  EXPECT_EQ(s["points_written"], 0);
  EXPECT_TRUE(s["errors"].empty());

  // Usage errors name the problem.
  r = Mosaic("--db " + db + " ingest " + in + " --models " + models);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all().find("--collection is required"), std::string::npos);
  r = Mosaic("--db " + db + " ingest " + in + " --collection c --encoders clip,sonar --models " + models);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("unknown encoder 'sonar'"), std::string::npos) << r.all();
}

// The folder of the interrupted runs: 60 files, 30 in the sanitizer pass.
const int kCopies = static_cast<int>(testing::Scaled(12, 6));
const uint64_t kFiles = 5 * static_cast<uint64_t>(kCopies);

// Killed with SIGKILL mid-run, then run again: each file is either fully in or fully out, and the
// second run takes exactly the ones that are out.
TEST(IngestCli, ResumesAfterKillWithoutDuplicates) {
  testing::TempDir tmp;
  const std::string models = Models(tmp);
  const std::string in = PhotoFolder(tmp, kCopies);
  const std::string db = tmp / "db";
  const std::string args = "--db " + db + " ingest " + in + " --collection c --models " + models +
                           " --encoders visual,objects,faces --threads 1 --quiet";
  const int status = StopMidRun(args, db, tmp / "run1.txt", SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the first run finished before it could be killed";
  const uint64_t done = Count(db, "image");
  EXPECT_LT(done, kFiles);

  CliRun r = Mosaic(args + " --json");
  ASSERT_EQ(r.code, 0) << r.all();
  Json s = Json::parse(r.out);
  EXPECT_EQ(s["files_unchanged"].get<uint64_t>(), done);
  EXPECT_EQ(s["files_new"].get<uint64_t>(), kFiles - done);
  EXPECT_EQ(Count(db, "image"), kFiles);
  // The same as one uninterrupted run: same number of points of each kind.
  const std::string db2 = tmp / "db2";
  r = Mosaic("--db " + db2 + " ingest " + in + " --collection c --models " + models +
          " --encoders visual,objects,faces --quiet");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Count(db, "face"), Count(db2, "face"));
  CliRun all1 = Mosaic("--db " + db + " count --collection c");
  CliRun all2 = Mosaic("--db " + db2 + " count --collection c");
  EXPECT_EQ(all1.out, all2.out);
}

// Ctrl-C: the files in flight are finished and written, the run says it was interrupted
// (exit 130), and the next run completes it.
TEST(IngestCli, CtrlCStopsCleanlyAndTheNextRunCompletes) {
  testing::TempDir tmp;
  const std::string models = Models(tmp);
  const std::string in = PhotoFolder(tmp, kCopies);
  const std::string db = tmp / "db";
  const std::string args = "--db " + db + " ingest " + in + " --collection c --models " + models +
                           " --encoders visual,objects,faces --threads 1";
  const int status = StopMidRun(args, db, tmp / "run1.txt", SIGINT);
  ASSERT_TRUE(WIFEXITED(status));
  std::ifstream f(tmp / "run1.txt");
  std::stringstream out;
  out << f.rdbuf();
  if (WEXITSTATUS(status) == 0) GTEST_SKIP() << "the run finished before the signal arrived";
  EXPECT_EQ(WEXITSTATUS(status), 130) << out.str();
  EXPECT_NE(out.str().find("interrupted; run again to resume"), std::string::npos) << out.str();
  const uint64_t done = Count(db, "image");
  EXPECT_LT(done, kFiles);
  CliRun r = Mosaic(args + " --json");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(Json::parse(r.out)["files_new"].get<uint64_t>(), kFiles - done);
  EXPECT_EQ(Count(db, "image"), kFiles);
}

}  // namespace
}  // namespace mosaic
