// Crash and fault sweeps over the operations that rewrite files (docs/reliability.md, "Fault
// sweep"): flush (at once, and in the background with writes beside it), compaction, create,
// drop, snapshot, restore and payload-index creation.
// - Power loss: the machine stops at the k-th file-system call of the operation, for every k in
//   turn (PowerLossEnv), and comes back with unsynced data dropped, turned to garbage or zeroed,
//   and unsynced creates, renames and removes undone.
// - Failure: only the k-th call fails (an I/O error, the process goes on and writes again).
// Each time the database must open with every acknowledged write, and the operation must be
// there wholly or not at all (wholly, if it returned OK), and nothing it left may stand in the way
// of doing it again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

#include "common/sync_point.h"
#include "mosaic/db.h"
#include "mosaic/filter.h"
#include "util/fault_env.h"
#include "util/power_loss_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::PowerLossEnv;
using testing::TempDir;

using Model = testing::PointModel;  // id -> (payload, vector)

CollectionSchema Schema() {
  CollectionSchema s;
  VectorSpec v{"v", 8, Metric::kL2, StorageType::kFloat32, {}};
  v.index.kind = IndexKind::kHnsw;
  v.index.m = 8;
  v.index.ef_construction = 32;
  s.vectors = {v};
  return s;
}

Point MakePoint(uint64_t id, int round) {
  Point p;
  p.id = id;
  p.vectors["v"].resize(8);
  for (size_t d = 0; d < 8; ++d) p.vectors["v"][d] = static_cast<float>((id * 31 + d * 7 + round) % 97);
  p.payload = {{"color", id % 3 == 0 ? "red" : "blue"}, {"round", round}};
  return p;
}

Model Read(Collection& c) { return testing::ScrollAll(c); }

// Upserts and deletes through `c`, mirrored in `m`; every write is acknowledged (synced).
void Write(Collection& c, int round, uint64_t first, uint64_t count, Model* m) {
  std::vector<Point> pts;
  for (uint64_t id = first; id < first + count; ++id) pts.push_back(MakePoint(id, round));
  ASSERT_TRUE(c.Upsert(pts).ok());
  for (const Point& p : pts) (*m)[p.id] = {p.payload, p.vectors.at("v")};
}

void Erase(Collection& c, std::vector<PointId> ids, Model* m) {
  ASSERT_TRUE(c.Delete(ids).ok());
  for (const PointId& id : ids) m->erase(id);
}

// The collection holds `want` exactly, and each stored vector is found, by an exact search and
// through the graph (rows, ids, vectors and graph agree).
void ExpectHolds(Collection& c, const Model& want, const std::string& where) {
  ASSERT_EQ(Read(c), want) << where;
  for (const auto& [id, pv] : want) {
    for (bool exact : {true, false}) {
      SearchRequest r;
      r.vector = pv.second;
      r.limit = 1;
      r.exact = exact;
      r.ef = 200;
      auto hits = c.Search(r);
      ASSERT_TRUE(hits.ok()) << where << ": " << hits.status().ToString();
      ASSERT_FALSE(hits->empty()) << where;
      EXPECT_FLOAT_EQ((*hits)[0].score, 0.0f)
          << where << ": nearest of " << id.ToString() << (exact ? " (exact)" : " (graph)");
    }
  }
  // The payload index on "round" (loaded from the segments' index files) agrees.
  for (int round : {1, 2, 3, 5}) {
    Filter f = *Filter::FromJson(Json{{"must", {{{"key", "round"}, {"match", {{"value", round}}}}}}});
    uint64_t n = 0;
    for (const auto& [id, pv] : want) n += pv.first.value("round", 0) == round;
    auto count = c.Count(&f);
    ASSERT_TRUE(count.ok()) << where;
    EXPECT_EQ(*count, n) << where << ": points of round " << round;
  }
}

// The fixture every scenario starts from: collection "c" with acknowledged writes, flushed once
// (so a segment and a log both hold data), then more writes in the log: new points, re-upserts,
// deletes and payload changes of sealed points.
struct Start {
  Model c;
  Model snapshot;  // what snapshot.bin holds, for the scenarios that use it
  Model at_action;  // what "c" held when the action began
};

void Populate(Db& db, const std::string& snapshot_path, Start* s) {
  auto c = db.CreateCollection("c", Schema());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->CreatePayloadIndex("round", PayloadIndexType::kInteger).ok());
  Write(**c, 1, 0, 24, &s->c);
  ASSERT_TRUE((*c)->Flush().ok());
  Write(**c, 2, 16, 16, &s->c);
  Erase(**c, {1, 2, 3, 4, 5, 6, 7, 8, 9}, &s->c);
  // A payload changed in place on sealed points (a flush writes it to the delta file).
  const Json patch = {{"patched", true}, {"round", 5}};
  ASSERT_TRUE((*c)->SetPayload(std::vector<PointId>{10, 11}, patch).ok());
  for (uint64_t id : {10, 11}) s->c[PointId(id)].first.update(patch);
  if (!snapshot_path.empty()) {
    ASSERT_TRUE(db.CreateSnapshot("c", snapshot_path).ok());
    s->snapshot = s->c;
    Write(**c, 3, 40, 4, &s->c);
  }
}

struct Scenario {
  const char* name;
  bool uses_snapshot;
  std::function<Status(Db&, const std::string& dir)> action;
  // Checks the reopened database; `acked`: the action returned OK.
  std::function<void(Db&, const Start&, bool acked, const std::string& dir, const std::string& where)>
      check;
  size_t max_segments = DbOptions{}.max_segments;
  uint64_t wal_flush_bytes = DbOptions{}.wal_flush_bytes;
};

std::shared_ptr<Collection> Get(Db& db, const std::string& name) {
  auto c = db.GetCollection(name);
  return c.ok() ? *c : nullptr;
}

// The "background flush" scenario: a flush that an upsert (batch A) starts in the background is
// held at its start (before any file-system call) while batch B is upserted into the log it
// seals; then Flush() waits for it (B's record copied into its new log) and seals B. The main
// thread makes no call while the flush thread runs, so the calls come in one order.
struct BackgroundFlush {
  std::mutex mu;
  std::condition_variable cv;
  bool reached = false, open = false;
  bool a_acked = false, b_acked = false;
};
BackgroundFlush g_flush;

std::vector<Point> Batch(uint64_t first, uint64_t count, int round) {
  std::vector<Point> pts;
  for (uint64_t id = first; id < first + count; ++id) pts.push_back(MakePoint(id, round));
  return pts;
}
const std::vector<Point>& BatchA() {
  static const std::vector<Point> a = Batch(100, 48, 6);
  return a;
}
const std::vector<Point>& BatchB() {
  static const std::vector<Point> b = Batch(16, 8, 7);  // re-upserts of points in the log
  return b;
}

Status FlushInTheBackground(Db& db) {
  BackgroundFlush& g = g_flush;
  {
    std::lock_guard<std::mutex> l(g.mu);
    g.reached = g.open = g.a_acked = g.b_acked = false;
  }
  sync_point::SetCallback([](std::string_view point) {
    if (point != "CollectionImpl::BuildSeal:Start") return;
    BackgroundFlush& g = g_flush;
    std::unique_lock<std::mutex> l(g.mu);
    g.reached = true;
    g.cv.notify_all();
    g.cv.wait(l, [&] { return g.open; });
  });
  auto open_gate = [] {
    BackgroundFlush& g = g_flush;
    std::lock_guard<std::mutex> l(g.mu);
    g.open = true;
    g.cv.notify_all();
  };
  auto c = Get(db, "c");
  Status s = c->Upsert(BatchA());
  g.a_acked = s.ok();
  if (s.ok()) {
    std::unique_lock<std::mutex> l(g.mu);
    if (!g.cv.wait_for(l, std::chrono::seconds(60), [&] { return g.reached; })) {
      ADD_FAILURE() << "batch A started no background flush (wal_flush_bytes too high?)";
      s = Status::Internal("no background flush");
    }
  }
  if (s.ok()) {
    s = c->Upsert(BatchB());
    g.b_acked = s.ok();
  }
  open_gate();
  if (s.ok()) s = c->Flush();
  sync_point::SetCallback(nullptr);
  return s;
}

// After a reopen: the start, and each batch if it was acknowledged (or, if not, wholly or not at
// all: an unacknowledged write may still be in the log).
void ExpectBackgroundFlush(Db& db, const Start& s, const std::string& where) {
  auto c = Get(db, "c");
  ASSERT_NE(c, nullptr) << where;
  auto present = [&](const std::vector<Point>& batch) {
    auto got = c->Get(std::vector<PointId>{batch.back().id}, true, false);
    return got.ok() && !got->empty() && got->front().payload.value("round", 0) ==
                                            batch.back().payload.value("round", -1);
  };
  Model want = s.c;
  for (const auto* batch : {&BatchA(), &BatchB()}) {
    const bool acked = batch == &BatchA() ? g_flush.a_acked : g_flush.b_acked;
    if (acked || present(*batch))
      for (const Point& p : *batch) want[p.id] = {p.payload, p.vectors.at("v")};
    EXPECT_TRUE(!acked || present(*batch)) << where << ": an acknowledged batch is missing";
  }
  ExpectHolds(*c, want, where);
}


// "c" holds what it held, and takes writes.
void ExpectC(Db& db, const Start& s, const std::string& where) {
  auto c = Get(db, "c");
  ASSERT_NE(c, nullptr) << where;
  ExpectHolds(*c, s.c, where);
  Status w = c->Upsert(std::vector<Point>{MakePoint(99, 9)});
  EXPECT_TRUE(w.ok()) << where << ": a write after reopening: " << w.ToString();
}

// Collection `name`, when absent, can be created (nothing left behind blocks it).
void ExpectAbsentOrRecreatable(Db& db, const std::string& name, const std::string& where) {
  if (Get(db, name) != nullptr) return;
  auto made = db.CreateCollection(name, Schema());
  EXPECT_TRUE(made.ok()) << where << ": creating " << name << " again: " << made.status().ToString();
}

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> v;
  v.push_back({"flush", false, [](Db& db, const std::string&) { return Get(db, "c")->Flush(); },
               [](Db& db, const Start& s, bool, const std::string&, const std::string& where) {
                 ExpectC(db, s, where);
               }});
  // The flush seals a second segment, one more than max_segments allows: a merge of the two runs
  // in the same flush (background_merges is off), and switches in with the seal.
  v.push_back({"merge", false, [](Db& db, const std::string&) { return Get(db, "c")->Flush(); },
               [](Db& db, const Start& s, bool, const std::string&, const std::string& where) {
                 ExpectC(db, s, where);
               }});
  v.back().max_segments = 1;
  v.push_back({"background flush", false,
               [](Db& db, const std::string&) { return FlushInTheBackground(db); },
               [](Db& db, const Start& s, bool, const std::string&, const std::string& where) {
                 ExpectBackgroundFlush(db, s, where);
               }});
  v.back().wal_flush_bytes = 3 << 10;  // past it with batch A (~2.7 KB), not before (~1 KB)
  v.push_back({"compaction", false,
               [](Db& db, const std::string&) {
                 auto c = Get(db, "c");
                 if (Status f = c->Flush(); !f.ok()) return f;
                 return c->Compact();
               },
               [](Db& db, const Start& s, bool, const std::string&, const std::string& where) {
                 ExpectC(db, s, where);
               }});
  v.push_back({"create", false,
               [](Db& db, const std::string&) { return db.CreateCollection("d", Schema()).status(); },
               [](Db& db, const Start& s, bool acked, const std::string&, const std::string& where) {
                 ExpectC(db, s, where);
                 auto d = Get(db, "d");
                 if (acked) {
                   ASSERT_NE(d, nullptr) << where << ": acknowledged create lost";
                 }
                 if (d != nullptr) {
                   EXPECT_EQ(Read(*d), Model{}) << where;
                   EXPECT_TRUE(d->Upsert(std::vector<Point>{MakePoint(1, 1)}).ok()) << where;
                 }
                 ExpectAbsentOrRecreatable(db, "d", where);
               }});
  v.push_back({"drop", false, [](Db& db, const std::string&) { return db.DropCollection("c"); },
               [](Db& db, const Start& s, bool acked, const std::string&, const std::string& where) {
                 auto c = Get(db, "c");
                 if (acked) {
                   EXPECT_EQ(c, nullptr) << where << ": acknowledged drop undone";
                 }
                 if (c != nullptr) ExpectC(db, s, where);
                 ExpectAbsentOrRecreatable(db, "c", where);
               }});
  v.push_back({"snapshot", false,
               [](Db& db, const std::string& dir) { return db.CreateSnapshot("c", dir + "/s2.bin"); },
               [](Db& db, const Start& s, bool acked, const std::string& dir, const std::string& where) {
                 ExpectC(db, s, where);
                 auto r = db.RestoreSnapshot(dir + "/s2.bin", "r");
                 if (acked) {
                   ASSERT_TRUE(r.ok()) << where << ": acknowledged snapshot: " << r.status().ToString();
                 }
                 if (r.ok()) ExpectHolds(**r, s.at_action, where + " (restored)");
               }});
  v.push_back({"restore", true,
               [](Db& db, const std::string& dir) {
                 return db.RestoreSnapshot(dir + "/snapshot.bin", "r").status();
               },
               [](Db& db, const Start& s, bool acked, const std::string&, const std::string& where) {
                 ExpectC(db, s, where);
                 auto r = Get(db, "r");
                 if (acked) {
                   ASSERT_NE(r, nullptr) << where << ": acknowledged restore lost";
                 }
                 if (r != nullptr) ExpectHolds(*r, s.snapshot, where + " (restored)");
                 ExpectAbsentOrRecreatable(db, "r", where);
               }});
  v.push_back({"payload index", false,
               [](Db& db, const std::string&) {
                 return Get(db, "c")->CreatePayloadIndex("color", PayloadIndexType::kKeyword);
               },
               [](Db& db, const Start& s, bool acked, const std::string&, const std::string& where) {
                 auto c = Get(db, "c");
                 ASSERT_NE(c, nullptr) << where;
                 const bool indexed = c->PayloadIndexes().count("color") > 0;
                 if (acked) {
                   EXPECT_TRUE(indexed) << where << ": acknowledged index lost";
                 }
                 auto red = Filter::Parse(R"({"must": [{"key": "color", "match": {"value": "red"}}]})");
                 ASSERT_TRUE(red.ok());
                 uint64_t want = 0;
                 for (const auto& [id, pv] : s.c) want += pv.first["color"] == "red";
                 auto n = c->Count(&*red);
                 ASSERT_TRUE(n.ok()) << where;
                 EXPECT_EQ(*n, want) << where << (indexed ? " (indexed)" : " (not indexed)");
                 ExpectC(db, s, where);
               }});
  return v;
}

// The sweep's instrument: what PowerLossEnv undoes and keeps.
TEST(PowerLossEnvTest, UndoesWhatWasNotMadeDurable) {
  TempDir tmp;
  const std::string d = tmp.path();
  PowerLossEnv env(d + "/stash");
  auto write = [&](const std::string& name, const std::string& synced, const std::string& more) {
    auto f = env.NewWritableFile(d + "/" + name);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(synced).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append(more).ok());
    ASSERT_TRUE((*f)->Close().ok());
  };
  write("kept", "abc", "defgh");
  write("moved", "m", "");
  write("removed", "r", "");
  ASSERT_TRUE(env.SyncDir(d).ok());
  write("new", "n", "");                                        // not in a synced directory
  ASSERT_TRUE(env.RenameFile(d + "/moved", d + "/renamed").ok());  // nor is this rename
  ASSERT_TRUE(env.RemoveFile(d + "/removed").ok());                // nor this remove
  const uint64_t next = env.calls() + 1;
  env.CrashAt(next);
  EXPECT_FALSE(env.NewWritableFile(d + "/late").ok());
  EXPECT_FALSE(env.RemoveFile(d + "/kept").ok());  // every call after the crash fails
  EXPECT_TRUE(env.crashed());
  ASSERT_TRUE(env.PowerLoss(PowerLossEnv::Tail::kZeros).ok());
  Env* real = Env::Default();
  EXPECT_EQ(*real->ReadFile(d + "/kept"), std::string("abc\0\0\0\0\0", 8));
  EXPECT_FALSE(real->FileExists(d + "/new"));
  EXPECT_FALSE(real->FileExists(d + "/late"));
  EXPECT_FALSE(real->FileExists(d + "/renamed"));
  EXPECT_EQ(*real->ReadFile(d + "/moved"), "m");
  EXPECT_EQ(*real->ReadFile(d + "/removed"), "r");
  // After a power loss everything on disk is durable; a new unsynced tail is dropped.
  auto f = env.NewAppendableFile(d + "/kept");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("zz").ok());
  ASSERT_TRUE(env.PowerLoss(PowerLossEnv::Tail::kDropped).ok());
  EXPECT_EQ(*real->GetFileSize(d + "/kept"), 8u);
}

enum class Mode { kPowerLoss, kFailOnce };

// Durability is simulated, so the databases live in memory where there is a tmpfs (removing
// thousands of small directories on a busy disk took most of the time).
void UseMemoryTempDirs() {
  if (::access("/dev/shm", W_OK) == 0) ::setenv("TMPDIR", "/dev/shm", 1);
}

// One point of a sweep: `sc` with a power loss (leaving unsynced tails as `tail`) or a single
// failure at its `k`-th file-system call. Returns false when the action made fewer calls than k;
// then, for a power loss, the power went right after the action returned, and what it
// acknowledged must have been durable.
bool RunPoint(const Scenario& sc, Mode mode, uint64_t k, PowerLossEnv::Tail tail) {
  TempDir tmp;
  const std::string dir = tmp.path(), db_path = dir + "/db";
  PowerLossEnv env(dir + "/stash");
  DbOptions opt;
  opt.env = &env;
  opt.search_threads = 1;
  opt.compact_below_bytes = 0;  // small: a flush seals (the compact scenario rewrites)
  opt.background_merges = false;  // a merge runs inside the flush: the calls are in one order
  opt.max_segments = sc.max_segments;
  opt.wal_flush_bytes = sc.wal_flush_bytes;
  // Every other point maps the segments: both ways of holding them meet every fault.
  if (k % 2 == 1) opt.segment_memory_budget_bytes = 0;
  Start start;
  bool acked = false;
  bool reached = false;
  std::string where;
  {
    auto db = Db::Open(db_path, opt);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return false;
    Populate(**db, sc.uses_snapshot ? dir + "/snapshot.bin" : "", &start);
    if (::testing::Test::HasFatalFailure()) return false;
    start.at_action = start.c;
    const uint64_t at = env.calls() + k;
    if (mode == Mode::kPowerLoss) {
      env.CrashAt(at);
    } else {
      env.FailAt(at);
    }
    Status s = sc.action(**db, dir);
    acked = s.ok();
    reached = env.calls() >= at;
    where = std::string(sc.name) + ", " +
            (!reached                  ? "power loss after it returned"
             : mode == Mode::kPowerLoss ? "power loss at call " + std::to_string(k)
                                        : "failure of call " + std::to_string(k)) +
            " (" + env.failed_call() + ", tail " + std::to_string(static_cast<int>(tail)) +
            "): " + s.ToString();
    if (mode == Mode::kFailOnce) {
      // The process goes on: whatever the failure left, later writes succeed or fail cleanly.
      if (auto c = Get(**db, "c")) {
        const Point p = MakePoint(98, 8);
        if (c->Upsert(std::vector<Point>{p}).ok()) start.c[p.id] = {p.payload, p.vectors.at("v")};
      }
    }
  }
  if (!reached && mode == Mode::kFailOnce) return false;
  if (mode == Mode::kPowerLoss) {
    Status lost = env.PowerLoss(tail, static_cast<uint32_t>(k));
    EXPECT_TRUE(lost.ok()) << lost.ToString();
  }
  auto db = Db::Open(db_path);
  EXPECT_TRUE(db.ok()) << where << ": reopening: " << db.status().ToString();
  if (db.ok()) sc.check(**db, start, acked, dir, where);
  return reached;
}

// Sweeps every call of `sc`'s action (with every tail, for power losses). Returns the number of
// points run.
uint64_t Sweep(const Scenario& sc, Mode mode) {
  const std::vector<PowerLossEnv::Tail> tails =
      mode == Mode::kPowerLoss ? std::vector<PowerLossEnv::Tail>{PowerLossEnv::Tail::kDropped,
                                                                 PowerLossEnv::Tail::kGarbage,
                                                                 PowerLossEnv::Tail::kZeros}
                               : std::vector<PowerLossEnv::Tail>{PowerLossEnv::Tail::kDropped};
  uint64_t points = 0;
  for (uint64_t k = 1;; ++k) {
    bool reached = true;
    for (PowerLossEnv::Tail tail : tails) {
      reached = RunPoint(sc, mode, k, tail);
      if (!reached && mode == Mode::kFailOnce) return points;
      ++points;
      if (::testing::Test::HasFailure()) return points;
    }
    if (!reached) return points;
  }
}

TEST(FaultSweep, PowerLossAtEveryCallOfEveryRewrite) {
  UseMemoryTempDirs();
  uint64_t total = 0;
  for (const Scenario& sc : Scenarios()) {
    const uint64_t n = Sweep(sc, Mode::kPowerLoss);
    ASSERT_FALSE(HasFailure()) << sc.name;
    EXPECT_GT(n, 9u) << sc.name << " makes too few file-system calls to be swept";
    std::printf("power loss: %-14s %3llu points\n", sc.name, static_cast<unsigned long long>(n));
    total += n;
  }
  std::printf("power loss: %llu points in all\n", static_cast<unsigned long long>(total));
}

TEST(FaultSweep, EveryCallOfEveryRewriteFailsOnce) {
  UseMemoryTempDirs();
  uint64_t total = 0;
  for (const Scenario& sc : Scenarios()) {
    const uint64_t n = Sweep(sc, Mode::kFailOnce);
    ASSERT_FALSE(HasFailure()) << sc.name;
    std::printf("failure:    %-14s %3llu points\n", sc.name, static_cast<unsigned long long>(n));
    total += n;
  }
  std::printf("failure:    %llu points in all\n", static_cast<unsigned long long>(total));
}

}  // namespace
}  // namespace mosaic
