// Races between searches, writers, snapshots and the periodic WAL syncer (issue 14, holes 6-8),
// each provoked at an exact point: a sync point (common/sync_point.h) or a FaultEnv call that
// holds a thread until the test lets it go. Also: snapshots whose metadata is malformed.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "common/sync_point.h"
#include "mosaic/db.h"
#include "storage/segment.h"
#include "util/eventually.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::FaultEnv;
using testing::TempDir;

// A guard against a hang, long enough for any loaded machine: a test that gets here has failed.
constexpr auto kHang = std::chrono::seconds(30);

CollectionSchema Schema(IndexKind kind = IndexKind::kFlat) {
  CollectionSchema s;
  s.vectors = {{"v", 4, Metric::kL2, StorageType::kFloat32}};
  s.vectors[0].index.kind = kind;
  return s;
}

Point MakePoint(uint64_t id, float x, int version) {
  Point p;
  p.id = id;
  p.vectors["v"] = {x, 0, 0, 0};
  p.payload = {{"version", version}};
  return p;
}

using Model = testing::PointModel;
using testing::ScrollAll;

using testing::Eventually;

// Three times: leaves an unsynced write in `c`'s log (a write syncs itself once an interval has
// passed since the last sync, so it writes until one does not), then waits for the syncer to sync
// it. (More than once: a syncer pass already past the held lock when it was taken may still
// finish; the next one would wait behind it.)
void ExpectSyncerSyncs(FaultEnv& env, Collection& c, const std::string& wal) {
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000 && env.UnsyncedBytes() == 0; ++i)
      ASSERT_TRUE(c.Upsert(std::vector<Point>{MakePoint(i, 1, round)}).ok());
    ASSERT_GT(env.UnsyncedBytes(), 0u);
    const uint64_t syncs = env.SyncCount(wal);
    ASSERT_TRUE(Eventually([&] { return env.UnsyncedBytes() == 0; }))
        << "round " << round << ": the syncer did not sync " << wal;
    EXPECT_GT(env.SyncCount(wal), syncs);
  }
}

// Lets a held thread go when the test leaves, also by a failed ASSERT (declared after the future
// waiting for that thread, so it runs first).
struct UnblockOnExit {
  FaultEnv& env;
  ~UnblockOnExit() { env.Unblock(); }
};

class SyncPointGuard {
 public:
  explicit SyncPointGuard(sync_point::Callback cb) { sync_point::SetCallback(std::move(cb)); }
  ~SyncPointGuard() { sync_point::SetCallback(nullptr); }
};

// Hole 6. A re-upsert used to take the old version out of the HNSW graph before the new one was
// inserted (that insert runs while searches go on), so a search in between found neither. Now the
// new version enters the graph unseen and both switch in one step.
TEST(Concurrency, SearchDuringAReUpsertSeesExactlyOneVersion) {
  TempDir dir;
  // One thread builds the graph: these points lie on a line, where a parallel build can still
  // leave a node unreachable (docs/hnsw_format.md, "Reachability"), and this test is about
  // versions, not graph recall.
  DbOptions opt;
  opt.search_threads = 1;
  auto db = *Db::Open(dir.path(), opt);
  auto c = *db->CreateCollection("c", Schema(IndexKind::kHnsw));
  std::vector<Point> points;
  for (uint64_t i = 0; i < 40; ++i) {  // point 7's version v has x = 6.75 + 0.25 v
    points.push_back(MakePoint(i, i == 7 ? 7.0f : static_cast<float>(i), 1));
  }
  ASSERT_TRUE(c->Upsert(points).ok());

  // Searches for everything (the graph path) and returns the versions of point 7 it found.
  auto versions_of_7 = [&] {
    SearchRequest r;
    r.vector = {7.2f, 0, 0, 0};
    r.limit = 40;
    r.ef = 100;
    r.with_payload = true;
    r.with_vectors = true;
    auto hits = c->Search(r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<int> found;
    if (!hits.ok()) return found;
    EXPECT_EQ(hits->size(), 40u);
    for (const auto& h : *hits) {
      if (h.id != PointId(uint64_t{7})) continue;
      const int version = (*h.payload)["version"].get<int>();
      found.push_back(version);
      // The payload and the vector are of the same version.
      EXPECT_EQ(h.vectors.at("v")[0], 6.75f + 0.25f * static_cast<float>(version))
          << "version " << version;
    }
    return found;
  };
  ASSERT_EQ(versions_of_7(), std::vector<int>{1});

  int checks = 0;
  {
    SyncPointGuard guard([&](std::string_view point) {
      if (!point.starts_with("CollectionImpl::Commit:")) return;
      ++checks;
      std::vector<int> seen = versions_of_7();
      EXPECT_EQ(seen.size(), 1u) << "at " << point << ": point 7 found " << seen.size()
                                 << " times";
    });
    ASSERT_TRUE(c->Upsert(std::vector<Point>{MakePoint(7, 7.25f, 2)}).ok());
    EXPECT_GT(checks, 0);
    EXPECT_EQ(versions_of_7(), std::vector<int>{2});
    // The same id twice in one batch: the last one wins, one version is seen throughout.
    checks = 0;
    ASSERT_TRUE(c->Upsert(std::vector<Point>{MakePoint(7, 7.5f, 3), MakePoint(7, 7.75f, 4)}).ok());
    EXPECT_GT(checks, 0);
  }
  auto after = versions_of_7();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0], 4);
}

// A search during an upsert finds `limit` hits. The HNSW insert of a staged point used to link
// the graph to it layer by layer from its top, so a search could descend into it while its
// lower layers had no links yet and stop there: the point itself was the graph's only result,
// and, being staged, was then dropped, leaving 0 hits (1 before hole 6, when it was shown).
// Found by a soak test (5 in ~130,000 searches); here each upsert is held just after the graph
// first links to its point, and the search is for that point's vector, which leads to it.
TEST(Concurrency, SearchDuringAnUpsertFindsLimitHits) {
  TempDir dir;
  auto db = *Db::Open(dir.path());
  CollectionSchema schema;
  schema.vectors = {{"v", 8, Metric::kL2, StorageType::kFloat32}};
  schema.vectors[0].index.kind = IndexKind::kHnsw;
  schema.vectors[0].index.m = 4;  // a quarter of the points reach layer 1
  auto c = *db->CreateCollection("c", schema);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  auto random_point = [&](uint64_t id) {
    Point p;
    p.id = id;
    std::vector<float>& v = p.vectors["v"];
    for (int i = 0; i < 8; ++i) v.push_back(u(rng));
    return p;
  };
  constexpr uint64_t kPoints = 300;
  std::vector<Point> points;
  for (uint64_t id = 0; id < kPoints; ++id) points.push_back(random_point(id));
  ASSERT_TRUE(c->Upsert(points).ok());

  std::vector<float> inserting;
  std::atomic<bool> held{false};
  int checks = 0;
  std::vector<std::string> short_results;
  SyncPointGuard guard([&](std::string_view point) {
    if (point != "HnswIndex::Insert:Connected" || held.exchange(true)) return;
    ++checks;
    SearchRequest r;
    r.vector = inserting;
    r.limit = 10;
    Result<std::vector<ScoredPoint>> hits = Status::Internal("not run");
    // Another thread, as a real search would be (this one is inside the graph's insert).
    std::thread([&] { hits = c->Search(r); }).join();
    if (!hits.ok() || hits->size() != 10)
      short_results.push_back(hits.ok() ? std::to_string(hits->size()) + " hits"
                                        : hits.status().ToString());
  });
  for (uint64_t i = 0; i < 60; ++i) {  // re-upserts: each id moves to a new place
    Point p = random_point(i * 5 % kPoints);
    inserting = p.vectors["v"];
    held = false;
    ASSERT_TRUE(c->Upsert(std::vector<Point>{p}).ok());
  }
  EXPECT_EQ(checks, 60);
  EXPECT_TRUE(short_results.empty()) << short_results.size() << " of " << checks
                                     << " searches were short, first: "
                                     << (short_results.empty() ? "" : short_results[0]);
}

struct Fixture {
  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  std::unique_ptr<Db> db;

  explicit Fixture(SyncPolicy sync = SyncPolicy::kAlways) {
    opt.env = &env;
    opt.sync = sync;
    opt.sync_interval_ms = 5;
    db = *Db::Open(dir.path(), opt);
  }
  std::shared_ptr<Collection> Create(const std::string& name, int points) {
    auto c = *db->CreateCollection(name, Schema());
    std::vector<Point> ps;
    for (int i = 0; i < points; ++i) ps.push_back(MakePoint(i, static_cast<float>(i), 1));
    EXPECT_TRUE(c->Upsert(ps).ok());
    return c;
  }
  // Files in the database directory (not below) whose names contain `part`.
  std::vector<std::string> FilesWith(const std::string& part) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      if (e.path().filename().string().find(part) != std::string::npos)
        out.push_back(e.path().filename().string());
    return out;
  }
};

// Hole 7. A snapshot used to hold the collection's writer lock for the whole write; now it takes
// its view under the lock and writes without it.
TEST(Concurrency, WritersGoOnWhileASnapshotIsWritten) {
  Fixture f;
  auto c = f.Create("c", 20);
  const Model at_start = ScrollAll(*c);
  const std::string snap = f.dir / "c.snapshot";

  f.env.BlockAt(FaultEnv::Op::kCreate, snap + ".tmp");
  auto snapshot = std::async(std::launch::async, [&] { return f.db->CreateSnapshot("c", snap); });
  UnblockOnExit unblock{f.env};
  ASSERT_TRUE(f.env.WaitUntilBlocked());
  // The snapshot is held before it wrote a byte; writes of every kind complete meanwhile.
  auto writes = std::async(std::launch::async, [&] {
    Status s = c->Upsert(std::vector<Point>{MakePoint(100, 100, 1), MakePoint(3, 33, 2)});
    if (s.ok()) s = c->Delete(std::vector<PointId>{PointId(uint64_t{0})}).status();
    if (s.ok()) s = c->SetPayload(std::vector<PointId>{PointId(uint64_t{1})}, {{"x", 1}});
    if (s.ok()) s = c->Flush();
    return s;
  });
  UnblockOnExit unblock_writes{f.env};
  const bool writes_done = writes.wait_for(kHang) == std::future_status::ready;
  EXPECT_TRUE(writes_done) << "writes waited for the snapshot";
  f.env.Unblock();
  ASSERT_TRUE(snapshot.get().ok());
  ASSERT_TRUE(writes.get().ok());
  EXPECT_EQ(ScrollAll(*c).count(PointId(uint64_t{100})), 1u);

  // The snapshot holds exactly the state at its start.
  auto restored = f.db->RestoreSnapshot(snap, "r");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ScrollAll(**restored), at_start);
  EXPECT_TRUE(f.FilesWith(".tmp").empty());
}

// Hole 7. Two snapshots to one path used to share the temporary name path.tmp: the second
// truncated and renamed the file the first was still writing, which then wrote into the final
// file. Now each has its own temporary file; whichever renames last wins, whole.
TEST(Concurrency, TwoSnapshotsToOnePathLeaveAValidSnapshot) {
  Fixture f;
  auto a = f.Create("a", 3);
  auto b = f.Create("b", 300);  // larger, so that a torn mix of the two is not a whole file
  const Model model_a = ScrollAll(*a), model_b = ScrollAll(*b);
  const std::string snap = f.dir / "one.snapshot";

  // a's snapshot is held at its first append, its temporary file created (a's snapshot is small,
  // so that append is all of it); b's runs to the end meanwhile.
  f.env.BlockAt(FaultEnv::Op::kAppend, snap + ".tmp");
  auto first = std::async(std::launch::async, [&] { return f.db->CreateSnapshot("a", snap); });
  UnblockOnExit unblock{f.env};
  ASSERT_TRUE(f.env.WaitUntilBlocked());
  Status second = f.db->CreateSnapshot("b", snap);
  f.env.Unblock();
  Status first_status = first.get();
  // Each succeeds or fails cleanly; at least one succeeds, and what is at the path is whole.
  EXPECT_TRUE(first_status.ok() || second.ok())
      << first_status.ToString() << "; " << second.ToString();

  auto restored = f.db->RestoreSnapshot(snap, "r");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const Model got = ScrollAll(**restored);
  EXPECT_TRUE(got == model_a || got == model_b) << got.size() << " points";
  if (first_status.ok()) EXPECT_EQ(got, model_a);  // it renamed last
  EXPECT_TRUE(f.FilesWith(".tmp").empty());
}

// Hole 7. The rename of a snapshot into place is made durable by syncing its directory, and a
// failure to do so fails the snapshot.
TEST(Concurrency, SnapshotSyncsItsDirectory) {
  Fixture f;
  f.Create("c", 5);
  const std::string snaps = f.dir / "snaps";
  ASSERT_TRUE(Env::Default()->CreateDirIfMissing(snaps).ok());
  ASSERT_TRUE(f.db->CreateSnapshot("c", snaps + "/c.snapshot").ok());
  EXPECT_EQ(f.env.SyncDirCount(snaps), 1u);

  f.env.SetPathFilter("/snaps");
  f.env.FailSyncDirs(true);
  Status s = f.db->CreateSnapshot("c", snaps + "/d.snapshot");
  f.env.FailSyncDirs(false);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("d.snapshot"), std::string::npos) << s.message();
}

// Hole 8. The periodic syncer used to take the Db's lock, which a create holds while it writes
// the new collection's files, and each collection's writer lock, which a flush holds while it
// writes the segment: behind either, no log was synced, for as long as they took.
TEST(Concurrency, PeriodicSyncerIsNotHeldUpByACreate) {
  Fixture f(SyncPolicy::kPeriodic);
  auto a = f.Create("a", 1);
  f.env.BlockAt(FaultEnv::Op::kCreate, "/.tmp-b-");
  auto create = std::async(std::launch::async, [&] { return f.db->CreateCollection("b", Schema()); });
  UnblockOnExit unblock{f.env};
  ASSERT_TRUE(f.env.WaitUntilBlocked());

  ExpectSyncerSyncs(f.env, *a, "/a/wal-");
  f.env.Unblock();
  ASSERT_TRUE(create.get().ok());
}

TEST(Concurrency, PeriodicSyncerIsNotHeldUpByAFlush) {
  Fixture f(SyncPolicy::kPeriodic);
  auto a = f.Create("a", 10);
  auto b = f.Create("b", 1);
  f.env.BlockAt(FaultEnv::Op::kCreate, "/a/seg-000002.seg");
  auto flush = std::async(std::launch::async, [&] { return a->Flush(); });
  UnblockOnExit unblock{f.env};
  ASSERT_TRUE(f.env.WaitUntilBlocked());

  ExpectSyncerSyncs(f.env, *b, "/b/wal-");
  f.env.Unblock();
  ASSERT_TRUE(flush.get().ok());
}

// A snapshot whose metadata names a payload index type that is not a string used to throw out of
// RestoreSnapshot (nlohmann's type_error) and kill the process.
TEST(Concurrency, SnapshotWithMalformedPayloadIndexesIsCorruption) {
  TempDir dir;
  auto db = *Db::Open(dir.path());
  auto write_snapshot = [&](const std::string& path, const Json& indexes) {
    storage::SegmentContents c;
    c.meta = {{"format_version", 1}, {"name", "x"}, {"schema", Schema().ToJson()}};
    if (!indexes.is_discarded()) c.meta["payload_indexes"] = indexes;
    c.dims = {4};
    c.num_points = 0;
    ASSERT_TRUE(storage::WriteSegment(Env::Default(), path, c).ok());
  };
  struct Case {
    Json indexes;
    std::string expect;  // in the message
  };
  const std::vector<Case> cases = {
      {{{"color", 123456789}}, "'color' has type 123456789"},
      {{{"n", "integer"}, {"tags", Json::array({"keyword"})}}, "'tags' has type [\"keyword\"]"},
      {{{"tags", nullptr}}, "'tags' has type null"},
      {{{"tags", "no-such-type"}}, "no-such-type"},
      {Json::array({"keyword"}), "payload_indexes"},
      {"keyword", "payload_indexes"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir / ("bad" + std::to_string(i) + ".snapshot");
    write_snapshot(path, cases[i].indexes);
    auto r = db->RestoreSnapshot(path, "r" + std::to_string(i));
    ASSERT_FALSE(r.ok()) << cases[i].indexes.dump();
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(cases[i].expect), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_TRUE(db->GetCollection("r" + std::to_string(i)).status().IsNotFound());
  }
  // A bad schema in a snapshot is Corruption too (the file is damaged, not the request).
  {
    const std::string path = dir / "bad-schema.snapshot";
    storage::SegmentContents c;
    c.meta = {{"schema", {{"vectors", {{{"name", 5}, {"dim", 4}}}}}}};
    c.dims = {4};
    ASSERT_TRUE(storage::WriteSegment(Env::Default(), path, c).ok());
    auto r = db->RestoreSnapshot(path, "rs");
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
  // Without payload_indexes (or with null), a snapshot restores with none.
  const std::string ok_path = dir / "ok.snapshot";
  write_snapshot(ok_path, Json(Json::value_t::discarded));
  auto r = db->RestoreSnapshot(ok_path, "ok");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->PayloadIndexes().empty());
}

}  // namespace
}  // namespace mosaic
