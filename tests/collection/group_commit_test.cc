// Group commit (CollectionImpl::CommitGroup, docs/reliability.md "Group commit"): upserts queued
// behind each other share one log sync; a failed sync fails every write of its group, and none
// of them comes back; a write built from the state sees every write queued before it. Groups are
// formed deterministically: the leader of a group is held at a sync point until the writers the
// test wants behind it are queued.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "common/sync_point.h"
#include "mosaic/db.h"
#include "util/eventually.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::Eventually;
using testing::FaultEnv;
using testing::PointModel;
using testing::ScrollAll;
using testing::TempDir;

// A guard against a hang, long enough for any loaded machine: a test that gets here has failed.
constexpr auto kHang = std::chrono::seconds(60);

CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", 4, Metric::kL2, StorageType::kFloat32}};
  return s;
}

Point MakePoint(uint64_t id, int version = 1) {
  Point p;
  p.id = id;
  p.vectors["v"] = {static_cast<float>(id), static_cast<float>(version), 0, 0};
  p.payload = {{"version", version}};
  return p;
}

// A database directory and the Env that counts and fails its syncs.
struct Fixture {
  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  Fixture() { opt.env = &env; }
};

void Add(const Point& p, PointModel* m) {
  (*m)[p.id] = {p.payload, p.vectors.at("v")};
}

// Counts queued writers and holds the first upsert that reaches its graph step (after its sync,
// before it is applied, holding the collection's write lock) until release() holds; then runs
// `on_release` in the held thread.
class HoldFirstLeader {
 public:
  HoldFirstLeader() {
    sync_point::SetCallback([this](std::string_view point) {
      if (point == "CollectionImpl::AwaitTurn:Queued") {
        ++queued_;
        return;
      }
      if (point != "CollectionImpl::Commit:Indexing" || held_.exchange(true)) return;
      if (!Eventually([this] { return release_.load(); }, kHang)) ADD_FAILURE() << "never released";
      if (on_release_) on_release_();
    });
  }
  ~HoldFirstLeader() {
    release_ = true;
    sync_point::SetCallback(nullptr);
  }
  int queued() const { return queued_; }
  bool WaitHeld() {
    return Eventually([this] { return held_.load(); }, kHang);
  }
  bool WaitQueued(int n) {
    return Eventually([&] { return queued_.load() >= n; }, kHang);
  }
  void Release(std::function<void()> on_release = nullptr) {
    on_release_ = std::move(on_release);
    release_ = true;
  }

 private:
  std::atomic<int> queued_{0};
  std::atomic<bool> held_{false};
  std::atomic<bool> release_{false};
  std::function<void()> on_release_;  // set before release_, read after it
};

// 8 threads upsert single points under kAlways: every point is there after a reopen, and the log
// was synced fewer times than there were writes (the first group is made certain: its leader is
// held until the other seven writers wait behind it).
TEST(GroupCommit, ConcurrentWritersShareSyncs) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  Fixture f;
  f.opt.sync = SyncPolicy::kAlways;
  PointModel model;
  uint64_t syncs = 0;
  {
    auto db = *Db::Open(f.dir.path(), f.opt);
    auto c = *db->CreateCollection("c", Schema());
    const uint64_t syncs_before = f.env.SyncCount("/c/wal-");
    {
      HoldFirstLeader hold;
      auto writer = [&](int t) {
        for (int i = 0; i < kPerThread; ++i) {
          Status s = c->Upsert(std::vector<Point>{MakePoint(t * 1000 + i)});
          if (!s.ok()) return s;
        }
        return Status::OK();
      };
      std::vector<std::future<Status>> threads;
      threads.push_back(std::async(std::launch::async, writer, 0));
      ASSERT_TRUE(hold.WaitHeld());
      for (int t = 1; t < kThreads; ++t)
        threads.push_back(std::async(std::launch::async, writer, t));
      ASSERT_TRUE(hold.WaitQueued(kThreads));
      hold.Release();
      for (auto& fut : threads) {
        Status s = fut.get();
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
    syncs = f.env.SyncCount("/c/wal-") - syncs_before;
    for (int t = 0; t < kThreads; ++t)
      for (int i = 0; i < kPerThread; ++i)
        Add(MakePoint(t * 1000 + i), &model);
    EXPECT_EQ(ScrollAll(*c), model);
  }
  constexpr uint64_t kWrites = kThreads * kPerThread;
  EXPECT_GT(syncs, 0u);
  EXPECT_LT(syncs, kWrites);
  std::printf("%llu writes, %llu log syncs\n", static_cast<unsigned long long>(kWrites),
              static_cast<unsigned long long>(syncs));
  auto db = *Db::Open(f.dir.path());
  EXPECT_EQ(ScrollAll(**db->GetCollection("c")), model);
}

// A group whose sync fails: every writer in it gets "the write was not made", none of its points
// is visible or comes back at a reopen, the write before the group stands, and once the disk
// works again (and the database is reopened, as after any failed log sync) writes go through.
TEST(GroupCommit, AFailedSyncFailsTheWholeGroup) {
  constexpr int kFollowers = 7;
  Fixture f;
  PointModel model;
  {
    auto db = *Db::Open(f.dir.path(), f.opt);
    auto c = *db->CreateCollection("c", Schema());
    for (uint64_t id = 0; id < 5; ++id) {
      ASSERT_TRUE(c->Upsert(std::vector<Point>{MakePoint(id)}).ok());
      Add(MakePoint(id), &model);
    }
    f.env.SetPathFilter("/c/wal-");
    std::vector<Status> followers(kFollowers);
    Status first;
    {
      HoldFirstLeader hold;
      // The first writer is a group of its own, synced, and held before it is applied; the
      // followers queue behind it and then form one group, whose sync fails.
      auto leader = std::async(std::launch::async,
                               [&] { return c->Upsert(std::vector<Point>{MakePoint(100)}); });
      ASSERT_TRUE(hold.WaitHeld());
      std::vector<std::future<Status>> threads;
      for (int i = 0; i < kFollowers; ++i)
        threads.push_back(std::async(std::launch::async, [&c, i] {
          return c->Upsert(std::vector<Point>{MakePoint(200 + i)});
        }));
      ASSERT_TRUE(hold.WaitQueued(1 + kFollowers));
      hold.Release([&] { f.env.FailSyncs(true); });
      first = leader.get();
      for (int i = 0; i < kFollowers; ++i)
        followers[i] = threads[i].get();
    }
    ASSERT_TRUE(first.ok()) << first.ToString();
    Add(MakePoint(100), &model);
    for (const Status& s : followers) {
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      EXPECT_NE(s.message().find("injected fsync failure"), std::string::npos) << s.ToString();
      EXPECT_NE(s.message().find("the write was not made"), std::string::npos) << s.ToString();
      EXPECT_EQ(s.message().find("may appear after a reopen"), std::string::npos) << s.ToString();
    }
    EXPECT_EQ(ScrollAll(*c), model);
    f.env.FailSyncs(false);
    // As after any failed log sync, the log refuses writes until the database is reopened.
    EXPECT_FALSE(c->Upsert(std::vector<Point>{MakePoint(300)}).ok());
  }
  f.env.SetPathFilter("");
  {
    auto db = *Db::Open(f.dir.path(), f.opt);
    auto c = *db->GetCollection("c");
    EXPECT_EQ(ScrollAll(*c), model);
    ASSERT_TRUE(c->Upsert(std::vector<Point>{MakePoint(400)}).ok());
    Add(MakePoint(400), &model);
    ASSERT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{0})}).ok());
    model.erase(PointId(uint64_t{0}));
  }
  auto db = *Db::Open(f.dir.path());
  EXPECT_EQ(ScrollAll(**db->GetCollection("c")), model);
}

// Writes built from the state (SetPayload checks its ids exist, Delete keeps only existing ids)
// queued behind upserts of the same ids see those upserts, though the upserts were neither
// applied nor acknowledged when these writes were called.
TEST(GroupCommit, StateBuiltWritesSeeTheUpsertsQueuedBeforeThem) {
  Fixture f;
  PointModel model;
  {
    auto db = *Db::Open(f.dir.path(), f.opt);
    auto c = *db->CreateCollection("c", Schema());
    Status leader_status, upsert2, upsert3, set_payload, upsert4;
    Result<uint64_t> deleted = Status::Internal("not run");
    {
      HoldFirstLeader hold;
      auto leader = std::async(std::launch::async,
                               [&] { return c->Upsert(std::vector<Point>{MakePoint(1)}); });
      ASSERT_TRUE(hold.WaitHeld());
      // Queued one at a time, so their order in the queue is known.
      std::vector<std::function<void()>> writes = {
          [&] { upsert2 = c->Upsert(std::vector<Point>{MakePoint(2)}); },
          [&] { upsert3 = c->Upsert(std::vector<Point>{MakePoint(3)}); },
          [&] {
            set_payload = c->SetPayload(std::vector<PointId>{PointId(uint64_t{2})}, {{"x", 1}});
          },
          [&] {
            deleted = c->Delete(std::vector<PointId>{PointId(uint64_t{3}), PointId(uint64_t{9})});
          },
          [&] { upsert4 = c->Upsert(std::vector<Point>{MakePoint(4)}); },
      };
      // Futures, not threads: on a failed ASSERT their destructors wait instead of terminating.
      std::vector<std::future<void>> threads;
      for (size_t i = 0; i < writes.size(); ++i) {
        threads.push_back(std::async(std::launch::async, writes[i]));
        ASSERT_TRUE(hold.WaitQueued(static_cast<int>(i) + 2)) << "write " << i;
      }
      hold.Release();
      leader_status = leader.get();
      for (auto& t : threads)
        t.get();
    }
    EXPECT_TRUE(leader_status.ok()) << leader_status.ToString();
    EXPECT_TRUE(upsert2.ok()) << upsert2.ToString();
    EXPECT_TRUE(upsert3.ok()) << upsert3.ToString();
    EXPECT_TRUE(set_payload.ok()) << set_payload.ToString();
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    EXPECT_EQ(*deleted, 1u);
    EXPECT_TRUE(upsert4.ok()) << upsert4.ToString();
    Add(MakePoint(1), &model);
    Add(MakePoint(2), &model);
    model[PointId(uint64_t{2})].first["x"] = 1;
    Add(MakePoint(4), &model);
    EXPECT_EQ(ScrollAll(*c), model);
  }
  auto db = *Db::Open(f.dir.path());
  EXPECT_EQ(ScrollAll(**db->GetCollection("c")), model);
}

// With grouping off (max_write_group_bytes = 0) every write is logged and synced alone.
TEST(GroupCommit, GroupingOffSyncsEveryWrite) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20;
  Fixture f;
  f.opt.max_write_group_bytes = 0;
  auto db = *Db::Open(f.dir.path(), f.opt);
  auto c = *db->CreateCollection("c", Schema());
  const uint64_t syncs_before = f.env.SyncCount("/c/wal-");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kPerThread; ++i)
        EXPECT_TRUE(c->Upsert(std::vector<Point>{MakePoint(t * 1000 + i)}).ok());
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(f.env.SyncCount("/c/wal-") - syncs_before, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(*c->Count(nullptr), uint64_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace mosaic
