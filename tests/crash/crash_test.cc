// The crash harness (docs/reliability.md, "Crash harness"): a writer process is killed with
// SIGKILL at random moments, over and over on one database, and after each kill the database is
// checked against what the writer had acknowledged (crash_model.h). Two writers:
//   - crash_writer (the library, every op of crash_model.h, the three sync policies in turn);
//   - `mosaic serve`, written to over HTTP by this test, which counts a 200 as acknowledged.
// Each check runs on a copy of the killed database, so the next writer itself recovers from the
// crash state as the kill left it.
//
// MOSAIC_CRASH_KEEP=DIR keeps the killed database of a failed check there (DIR must not exist).
// MOSAIC_CRASH_SEED=N replays a run (the seed is printed first). MOSAIC_CRASH_KILLS=N sets the
// kills of a run (two thirds for the library writer, a third for the server; default 120, 45 at
// MOSAIC_TEST_SCALE=small). The long variant, e.g. MOSAIC_CRASH_KILLS=1000:
//   MOSAIC_CRASH_KILLS=1000 ctest --test-dir build -L crash --output-on-failure -V
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "crash/crash_model.h"
#include "util/fault_env.h"
#include "util/http_client.h"
#include "util/test_scale.h"

namespace mosaic::crash {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t Seed() {
  if (const char* s = std::getenv("MOSAIC_CRASH_SEED"); s != nullptr && *s != '\0')
    return std::stoull(s);
  return std::random_device{}() * 0x100000001ull ^ static_cast<uint64_t>(
                                                         Clock::now().time_since_epoch().count());
}

// This writer's share of the run's kills.
int Kills(int share_num, int share_den) {
  long total = testing::Scaled(120, 45);
  if (const char* s = std::getenv("MOSAIC_CRASH_KILLS"); s != nullptr && *s != '\0')
    total = std::stol(s);
  return static_cast<int>(std::max<long>(1, total * share_num / share_den));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last whole line of the file, or "".
std::string LastLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in.tellg();
  if (size <= 0) return "";
  const std::streamoff from = std::max<std::streamoff>(0, size - 512);
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  size_t end = tail.rfind('\n');
  if (end == std::string::npos) return "";
  size_t begin = tail.rfind('\n', end == 0 ? 0 : end - 1);
  begin = (begin == std::string::npos || begin >= end) ? 0 : begin + 1;
  return tail.substr(begin, end - begin);
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& stderr_path) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* err = std::freopen(stderr_path.c_str(), "w", stderr);
    if (err == nullptr) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Kills `pid` with SIGKILL and reaps it; "" if it died of that kill, else how it ended.
std::string KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return "";
  if (WIFEXITED(status)) return "exited by itself with code " + std::to_string(WEXITSTATUS(status));
  return "died of signal " + std::to_string(WTERMSIG(status));
}

void SleepMicros(uint64_t us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

// A fresh database with the harness's collection.
void CreateDatabase(const std::string& path) {
  auto db = Db::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto c = db.value()->CreateCollection(kCollection, Schema());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
}

// The run's figures, printed at its end (and quoted in docs/reliability.md).
struct Tally {
  int kills = 0;
  int cut = 0;          // kills that cut an op in flight
  int cut_applied = 0;  // ...which then showed in the database
  std::map<char, int> cut_by_kind;
  uint64_t acked = 0;
  uint64_t searches = 0;
  uint64_t index_misses = 0;
  uint64_t snapshots_restored = 0;
  uint64_t points = 0;

  void Add(const std::vector<Op>& ops, const CheckReport& r) {
    kills++;
    for (const Op& op : ops) acked += op.outcome == Outcome::kAcked && op.kind != OpKind::kOpen;
    if (r.cut_op) {
      cut++;
      cut_by_kind[static_cast<char>(r.cut_kind)]++;
      cut_applied += r.cut_op_applied;
    }
    searches += r.searches;
    index_misses += r.index_misses;
    if (!r.index_miss_notes.empty()) std::printf("HNSW miss after a kill: %s\n", r.index_miss_notes.c_str());
    snapshots_restored += r.snapshots_restored;
    points = r.points;
  }
  void Print(const char* what, uint64_t seed, Clock::time_point start) const {
    std::string kinds;
    for (const auto& [k, n] : cut_by_kind) kinds += " " + std::string(1, k) + "=" + std::to_string(n);
    std::printf(
        "crash harness (%s, seed %llu): %d kills survived in %.1f s; %llu ops acknowledged; %d "
        "kills cut an op in flight (%d of them applied whole, the rest not at all; by kind:%s); "
        "%llu self-searches (%llu HNSW misses), %llu snapshots restored; %llu points at the end\n",
        what, static_cast<unsigned long long>(seed), kills,
        std::chrono::duration<double>(Clock::now() - start).count(),
        static_cast<unsigned long long>(acked), cut, cut_applied, kinds.c_str(),
        static_cast<unsigned long long>(searches), static_cast<unsigned long long>(index_misses),
        static_cast<unsigned long long>(snapshots_restored),
        static_cast<unsigned long long>(points));
    std::fflush(stdout);
  }
};

// The checker itself: a database built by hand that breaks each promise must fail the check.
class CrashModelTest : public ::testing::Test {
 protected:
  // A database holding `points` (id -> seq of MakePoint), plus point 1 with `odd` if given.
  std::string Make(const std::map<uint64_t, uint64_t>& points, const Point* odd = nullptr) {
    const std::string path = dir_ / ("db" + std::to_string(++n_));
    auto db = Db::Open(path);
    EXPECT_TRUE(db.ok());
    auto c = db.value()->CreateCollection(kCollection, Schema());
    EXPECT_TRUE(c.ok());
    std::vector<Point> batch;
    for (const auto& [id, seq] : points) batch.push_back(MakePoint(id, seq));
    if (odd != nullptr) batch.push_back(*odd);
    EXPECT_TRUE(c.value()->Upsert(batch).ok());
    return path;
  }
  static Op MakeOp(uint64_t seq, OpKind kind, std::vector<uint64_t> removed,
                   std::vector<uint64_t> upserted, Outcome outcome) {
    Op op;
    op.seq = seq;
    op.kind = kind;
    op.removed = std::move(removed);
    op.upserted = std::move(upserted);
    op.outcome = outcome;
    return op;
  }
  Status Check(const std::string& path, const std::vector<Op>& ops, CheckReport* report) {
    Model model;
    std::mt19937_64 rng(1);
    return model.Check(path, ops, dir_ / ("scratch" + std::to_string(++n_)), rng, report);
  }

  testing::TempDir dir_;
  int n_ = 0;
};

TEST_F(CrashModelTest, AcceptsTheAcknowledgedStateWithOrWithoutTheWholeCutOp) {
  const std::vector<Op> ops = {MakeOp(1, OpKind::kUpsert, {}, {1, 2, 3}, Outcome::kAcked),
                               MakeOp(2, OpKind::kDelete, {2}, {}, Outcome::kAcked),
                               MakeOp(3, OpKind::kReplace, {3}, {4, 5}, Outcome::kAttempted)};
  CheckReport report;
  ASSERT_TRUE(Check(Make({{1, 1}, {3, 1}}), ops, &report).ok());
  EXPECT_TRUE(report.cut_op);
  EXPECT_FALSE(report.cut_op_applied);
  Status s = Check(Make({{1, 1}, {4, 3}, {5, 3}}), ops, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(report.cut_op_applied);
}

TEST_F(CrashModelTest, RejectsLostHalfAppliedAndMixedPoints) {
  const std::vector<Op> ops = {MakeOp(1, OpKind::kUpsert, {}, {1, 2, 3}, Outcome::kAcked),
                               MakeOp(2, OpKind::kDelete, {2}, {}, Outcome::kAcked),
                               MakeOp(3, OpKind::kUpsert, {}, {4, 5}, Outcome::kAttempted)};
  CheckReport report;
  Status lost = Check(Make({{1, 1}}), ops, &report);
  EXPECT_TRUE(lost.IsCorruption()) << lost.ToString();
  EXPECT_NE(lost.message().find("point 3 (written by op 1) is missing"), std::string::npos)
      << lost.message();
  Status undeleted = Check(Make({{1, 1}, {2, 1}, {3, 1}}), ops, &report);
  EXPECT_NE(undeleted.message().find("point 2"), std::string::npos) << undeleted.message();
  Status half = Check(Make({{1, 1}, {3, 1}, {4, 3}}), ops, &report);
  EXPECT_NE(half.message().find("point 5 (written by op 3) is missing"), std::string::npos)
      << half.message();
  Point mixed = MakePoint(3, 1);
  mixed.payload = MakePoint(3, 2).payload;
  Status mixed_s = Check(Make({{1, 1}}, &mixed), ops, &report);
  EXPECT_NE(mixed_s.message().find("point 3 has payload"), std::string::npos) << mixed_s.message();
}

// One run: the seed, the work area (the database, snapshots, the copies checked), the model and
// the figures. Prints the seed at once and the figures at the end.
class CrashRun {
 public:
  CrashRun(const char* what, int kills_num, int kills_den)
      : what_(what), seed_(Seed()), kills_(Kills(kills_num, kills_den)), rng_(seed_) {
    std::printf("crash harness (%s): seed %llu\n", what_, static_cast<unsigned long long>(seed_));
    std::fflush(stdout);
  }
  ~CrashRun() {
    EXPECT_GT(tally_.acked, static_cast<uint64_t>(tally_.kills)) << "the writers barely wrote";
    tally_.Print(what_, seed_, start_);
  }

  int kills() const { return kills_; }
  std::mt19937_64& rng() { return rng_; }
  std::string Path(const std::string& name) const { return dir_ / name; }
  const std::string& db() const { return db_; }
  std::string Context(int kill) const {
    return std::string(what_) + " kill " + std::to_string(kill) +
           " (replay: MOSAIC_CRASH_SEED=" + std::to_string(seed_) + ")";
  }

  // After kill `kill`: no op failed, and a copy of the database holds what `ops` (the ops since
  // the last kill) acknowledged. The copy and the snapshots in `snapshot_dir` are removed.
  void CheckKill(int kill, const std::vector<Op>& ops, const std::string& snapshot_dir) {
    for (const Op& op : ops)
      ASSERT_NE(op.outcome, Outcome::kFailed) << Context(kill) << ": op " << op.seq << ": " << op.error;
    const std::string copy = dir_ / "check", scratch = dir_ / "scratch";
    fs::remove_all(copy);
    fs::remove_all(scratch);
    fs::copy(db_, copy, fs::copy_options::recursive);
    CheckReport report;
    Status s = model_.Check(copy, ops, scratch, rng_, &report);
    if (const char* keep = std::getenv("MOSAIC_CRASH_KEEP"); !s.ok() && keep != nullptr) {
      fs::copy(db_, keep, fs::copy_options::recursive);  // as the kill left it, before any open
      std::printf("%s: the killed database is kept in %s\n", Context(kill).c_str(), keep);
    }
    fs::remove_all(copy);
    fs::remove_all(scratch);
    for (const auto& e : fs::directory_iterator(snapshot_dir)) fs::remove(e.path());
    ASSERT_TRUE(s.ok()) << Context(kill) << ": " << s.ToString();
    tally_.Add(ops, report);
  }

 private:
  const char* what_;
  uint64_t seed_;
  int kills_;
  Clock::time_point start_ = Clock::now();
  std::mt19937_64 rng_;
  testing::TempDir dir_;
  std::string db_ = dir_ / "db";
  Model model_;
  Tally tally_;
};

TEST(CrashTest, LibraryWriterLosesNoAcknowledgedWrite) {
  CrashRun run("library", 2, 3);
  const std::string log = run.Path("ops.log"), err = run.Path("writer.err");
  const std::string snapshots = run.Path("snapshots");
  fs::create_directories(snapshots);
  ASSERT_NO_FATAL_FAILURE(CreateDatabase(run.db()));
  size_t seen_ops = 0;
  uint64_t next_seq = 1;
  // A process crash loses nothing acknowledged under any policy (docs/reliability.md).
  const char* policies[] = {"always", "always", "periodic", "never"};
  for (int k = 0; k < run.kills(); ++k) {
    pid_t pid = Spawn({CRASH_WRITER_PATH, run.db(), log, snapshots, std::to_string(run.rng()()),
                       std::to_string(next_seq), policies[k % 4]},
                      err);
    ASSERT_GT(pid, 0);
    const uint64_t mode = run.rng()() % 10;
    if (mode < 3) {
      // Into a flush, compaction or snapshot: wait for one to start, then a few milliseconds.
      const auto give_up = Clock::now() + std::chrono::seconds(5);
      std::regex maintenance("^A [0-9]+ [FCS] .*");
      while (Clock::now() < give_up && !std::regex_match(LastLine(log), maintenance)) SleepMicros(200);
      SleepMicros(run.rng()() % 4000);
    } else if (mode < 4) {
      SleepMicros(run.rng()() % 40000);  // mostly into the open and its recovery
    } else {
      SleepMicros(5000 + run.rng()() % 800000);
    }
    std::string how = KillAndReap(pid);
    ASSERT_EQ(how, "") << run.Context(k) << ": the writer " << how << ": " << ReadFile(err);
    std::vector<Op> ops = ParseLog(ReadFile(log));
    std::vector<Op> fresh(ops.begin() + static_cast<std::ptrdiff_t>(seen_ops), ops.end());
    SCOPED_TRACE(std::string("writer policy ") + policies[k % 4]);
    ASSERT_NO_FATAL_FAILURE(run.CheckKill(k, fresh, snapshots));
    seen_ops = ops.size();
    if (!ops.empty()) next_seq = ops.back().seq + 1;
  }
}

// `mosaic serve` as the killed process; this test is its client.
class ServerLife {
 public:
  ServerLife(const std::string& db, const std::string& err, uint64_t client_seed, uint64_t* next_seq)
      : db_(db), err_(err), rng_(client_seed), next_seq_(next_seq) {
    pid_ = Spawn({MOSAIC_CLI_PATH, "--db", db, "serve", "--host", "127.0.0.1", "--port", "0",
                  "--quiet", "--wal-flush-kb", "16", "--io-threads", "1", "--workers", "2"},
                 err);
  }
  ~ServerLife() {
    if (pid_ > 0) KillAndReap(pid_);
    if (client_.joinable()) client_.join();
  }
  bool started() const { return pid_ > 0; }

  // SIGKILL; "" if the server died of it, else how it ended.
  std::string Kill() {
    std::string how = KillAndReap(pid_);
    pid_ = -1;
    return how;
  }

  // Waits for the server to listen, then writes to it from a thread until it stops answering.
  bool StartClient() {
    const auto give_up = Clock::now() + std::chrono::seconds(120);
    std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    std::string text;
    while (!std::regex_search(text = ReadFile(err_), m, listening)) {
      if (Clock::now() > give_up) return false;
      SleepMicros(1000);
    }
    uint16_t port = static_cast<uint16_t>(std::stoi(m[1].str()));
    client_ = std::thread([this, port] { Write(port); });
    return true;
  }
  bool in_snapshot() const { return in_snapshot_.load(); }

  // The ops made, once the server is dead and the client has stopped.
  std::vector<Op> Finish() {
    if (client_.joinable()) client_.join();
    return std::move(ops_);
  }

 private:
  void Write(uint16_t port) {
    testing::HttpClient http(port);
    const std::string base = std::string("/v1/collections/") + kCollection;
    OpMix mix;
    mix.replace = mix.flush = mix.compact = false;
    while (true) {
      Op op = RandomOp(rng_, (*next_seq_)++, mix);
      testing::HttpResult r;
      ops_.push_back(op);  // attempted
      if (op.kind == OpKind::kUpsert) {
        Json points = Json::array();
        for (uint64_t id : op.upserted) {
          Point p = MakePoint(id, op.seq);
          points.push_back({{"id", id}, {"vectors", p.vectors}, {"payload", p.payload}});
        }
        r = http.Put(base + "/points", Json{{"points", points}}.dump());
      } else if (op.kind == OpKind::kDelete) {
        r = http.Post(base + "/points/delete", Json{{"ids", op.removed}}.dump());
      } else {
        in_snapshot_ = true;
        r = http.Post(base + "/snapshots", "");
        in_snapshot_ = false;
        if (r.status == 201) ops_.back().path = db_ + "/snapshots/" + r.json()["name"].get<std::string>();
      }
      if (r.status == -1) return;  // killed: the op is cut
      if (r.status != 200 && r.status != 201) {
        ops_.back().outcome = Outcome::kFailed;
        ops_.back().error = std::to_string(r.status) + " " + r.body;
        return;
      }
      ops_.back().outcome = Outcome::kAcked;
    }
  }

  std::string db_, err_;
  std::mt19937_64 rng_;
  uint64_t* next_seq_;
  pid_t pid_ = -1;
  std::thread client_;
  std::atomic<bool> in_snapshot_{false};
  std::vector<Op> ops_;  // the client thread's until it is joined
};

TEST(CrashTest, ServerLosesNoWriteAnsweredWith200) {
  CrashRun run("server", 1, 3);
  const std::string err = run.Path("server.err"), snapshots = run.db() + "/snapshots";
  ASSERT_NO_FATAL_FAILURE(CreateDatabase(run.db()));
  fs::create_directories(snapshots);
  uint64_t next_seq = 1;
  for (int k = 0; k < run.kills(); ++k) {
    ServerLife life(run.db(), err, run.rng()(), &next_seq);
    ASSERT_TRUE(life.started());
    const uint64_t mode = run.rng()() % 10;
    if (mode < 1) {
      SleepMicros(run.rng()() % 40000);  // into the open and its recovery
    } else {
      ASSERT_TRUE(life.StartClient()) << run.Context(k) << ": the server did not start: "
                                      << ReadFile(err);
      if (mode < 3) {
        const auto give_up = Clock::now() + std::chrono::seconds(5);
        while (Clock::now() < give_up && !life.in_snapshot()) SleepMicros(100);
        SleepMicros(run.rng()() % 3000);
      } else {
        SleepMicros(5000 + run.rng()() % 800000);
      }
    }
    std::string how = life.Kill();
    std::vector<Op> ops = life.Finish();
    ASSERT_EQ(how, "") << run.Context(k) << ": the server " << how << ": " << ReadFile(err);
    ASSERT_NO_FATAL_FAILURE(run.CheckKill(k, ops, snapshots));
  }
}

}  // namespace
}  // namespace mosaic::crash
