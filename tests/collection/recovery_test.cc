// Durability: a crash at every WAL record boundary (and inside every record) recovers exactly the
// writes that were complete; lost unsynced data; corrupted WAL and segment are reported; flush,
// compaction, snapshot/restore round trips; failed writes change nothing; a flush or drop whose
// directory fsync fails loses nothing acknowledged; handles outlive their Db safely.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <unistd.h>

#include "collection/operation.h"
#include "common/coding.h"
#include "mosaic/db.h"
#include "storage/log_format.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"
#include "util/wal_v1.h"

namespace mosaic {
namespace {

using testing::FaultEnv;
using testing::TempDir;

CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", 8, Metric::kL2, StorageType::kFloat32}};
  return s;
}

// The collection's observable state: id -> (payload, vector).
using Model = testing::PointModel;

// A scripted sequence of writes; step i's effect on a model is applied by ApplyStep.
struct Step {
  int kind;  // 0 upsert, 1 delete, 2 set payload
  std::vector<Point> points;
  std::vector<PointId> ids;
  Json patch;
};

std::vector<Step> MakeSteps(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Step> steps;
  for (int i = 0; i < n; ++i) {
    Step s;
    s.kind = i < 3 ? 0 : static_cast<int>(rng() % 3);
    int count = 1 + rng() % 4;
    for (int j = 0; j < count; ++j) {
      uint64_t id = rng() % 12;
      if (s.kind == 0) {
        Point p;
        p.id = id;
        p.vectors["v"].resize(8);
        for (float& x : p.vectors["v"]) x = static_cast<float>(rng() % 1000) / 10.0f;
        p.payload = {{"step", i}, {"j", j}};
        s.points.push_back(p);
      } else {
        s.ids.push_back(id);
      }
    }
    s.patch = {{"patched", i}};
    steps.push_back(s);
  }
  return steps;
}

void ApplyStep(const Step& s, Model* m) {
  if (s.kind == 0) {
    for (const auto& p : s.points) (*m)[p.id] = {p.payload, p.vectors.at("v")};
  } else if (s.kind == 1) {
    for (const auto& id : s.ids) m->erase(id);
  } else {
    for (const auto& id : s.ids) {
      auto it = m->find(id);
      if (it != m->end()) it->second.first.update(s.patch);
    }
  }
}

Status RunStep(Collection& c, const Step& s) {
  if (s.kind == 0) return c.Upsert(s.points);
  if (s.kind == 1) return c.Delete(s.ids).status();
  // SetPayload fails on missing ids: only patch the ones present, as the model does.
  std::vector<PointId> present;
  for (const auto& p : *c.Get(s.ids, false, false)) present.push_back(p.id);
  if (present.empty()) return Status::OK();
  return c.SetPayload(present, s.patch);
}

// Runs `steps` on `c` and mirrors them in `m`.
void RunAll(Collection& c, const std::vector<Step>& steps, Model* m) {
  for (const auto& s : steps) {
    Status st = RunStep(c, s);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ApplyStep(s, m);
  }
}

// The model a reopened database holds for collection "c".
Model Reopened(const std::string& path, const DbOptions& opt) {
  auto db = Db::Open(path, opt);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return {};
  return testing::ScrollAll(**(*db)->GetCollection("c"));
}

// A database on a FaultEnv whose collection "c" has been through `n` scripted steps, mirrored
// in `model`.
struct FaultDb {
  FaultDb(int n, uint32_t seed) : steps(MakeSteps(n, seed)) {
    opt.env = &env;
    db = *Db::Open(dir.path(), opt);
    c = *db->CreateCollection("c", Schema());
    RunAll(*c, steps, &model);
  }
  // Releases the handle and the Db (the database closes).
  void Close() {
    c.reset();
    db.reset();
  }

  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  std::vector<Step> steps;
  Model model;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

// A copy of the (closed) database at `from` in `to`.
void CopyDb(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  std::filesystem::remove(to + "/LOCK");
}

void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string WalPath(const std::string& db) {
  std::string dir = db + "/collections/c";
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with("wal-")) return e.path().string();
  return "";
}

TEST(Recovery, CrashAtEveryRecordBoundaryAndInsideEveryRecord) {
  TempDir dir;
  auto steps = MakeSteps(25, 1);
  std::vector<uint64_t> boundaries;  // WAL size after each step
  std::vector<Model> models;         // expected state after each step
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    Model m;
    boundaries.push_back(*Env::Default()->GetFileSize(WalPath(dir.path())));
    models.push_back(m);
    for (const auto& s : steps) {
      { Status st = RunStep(*c, s); ASSERT_TRUE(st.ok()) << st.ToString(); }
      ApplyStep(s, &m);
      ASSERT_EQ(testing::ScrollAll(*c), m);
      boundaries.push_back(*Env::Default()->GetFileSize(WalPath(dir.path())));
      models.push_back(m);
    }
  }
  const std::string wal = WalPath(dir.path());
  const std::string full = *Env::Default()->ReadFile(wal);
  ASSERT_EQ(full.size(), boundaries.back());
  // Every boundary, plus cut points inside every record (first byte, middle, last byte).
  std::vector<uint64_t> cuts;
  for (size_t i = 0; i < boundaries.size(); ++i) {
    cuts.push_back(boundaries[i]);
    if (i + 1 < boundaries.size() && boundaries[i + 1] > boundaries[i]) {
      cuts.push_back(boundaries[i] + 1);
      cuts.push_back((boundaries[i] + boundaries[i + 1]) / 2);
      cuts.push_back(boundaries[i + 1] - 1);
    }
  }
  for (uint64_t cut : cuts) {
    TempDir copy;
    CopyDb(dir.path(), copy.path());
    std::filesystem::resize_file(WalPath(copy.path()), cut);
    size_t complete = 0;
    while (complete + 1 < boundaries.size() && boundaries[complete + 1] <= cut) ++complete;
    auto db = Db::Open(copy.path());
    ASSERT_TRUE(db.ok()) << "cut " << cut << ": " << db.status().ToString();
    auto c = *(*db)->GetCollection("c");
    ASSERT_EQ(testing::ScrollAll(*c), models[complete]) << "cut " << cut;
    // The recovered log accepts new writes, and they survive another reopen.
    ASSERT_TRUE(RunStep(*c, steps[0]).ok());
    Model after = models[complete];
    ApplyStep(steps[0], &after);
    c.reset();
    db = Result<std::unique_ptr<Db>>(Status::Internal("closed"));
    auto db2 = Db::Open(copy.path());
    ASSERT_TRUE(db2.ok()) << db2.status().ToString();
    ASSERT_EQ(testing::ScrollAll(**(*db2)->GetCollection("c")), after) << "cut " << cut;
  }
}

TEST(Recovery, UnsyncedWritesLostOnlyWithSyncPolicyNever) {
  for (SyncPolicy policy : {SyncPolicy::kAlways, SyncPolicy::kNever}) {
    TempDir dir;
    FaultEnv env;
    DbOptions opt;
    opt.env = &env;
    opt.sync = policy;
    auto steps = MakeSteps(10, 2);
    Model m;
    {
      auto db = *Db::Open(dir.path(), opt);
      auto c = *db->CreateCollection("c", Schema());
      for (const auto& s : steps) {
        { Status st = RunStep(*c, s); ASSERT_TRUE(st.ok()) << st.ToString(); }
        ApplyStep(s, &m);
      }
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());  // the machine crashes
    auto db = Db::Open(dir.path(), opt);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Model got = testing::ScrollAll(**(*db)->GetCollection("c"));
    if (policy == SyncPolicy::kAlways) {
      EXPECT_EQ(got, m);  // every acknowledged write survives
    } else {
      EXPECT_TRUE(got.empty());  // nothing was synced
    }
  }
}

TEST(Recovery, PeriodicSyncBoundsTheLossWhenWritesStop) {
  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  opt.env = &env;
  opt.sync = SyncPolicy::kPeriodic;
  opt.sync_interval_ms = 20;
  auto steps = MakeSteps(5, 12);
  Model m;
  auto db = *Db::Open(dir.path(), opt);
  auto c = *db->CreateCollection("c", Schema());
  RunAll(*c, steps, &m);
  // No more writes: the background syncer must still make them durable. (Waits up to 10 s, not
  // one interval: a loaded test machine may not schedule the syncer thread on time.)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (env.UnsyncedBytes() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(env.UnsyncedBytes(), 0u);
  ASSERT_TRUE(env.DropUnsyncedData().ok());  // the machine crashes after the syncer's pass
  c.reset();
  db.reset();
  EXPECT_EQ(Reopened(dir.path(), opt), m);
}

// Every file under `dir` (recursively) and its bytes.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[e.path().string()] = *Env::Default()->ReadFile(e.path().string());
  return files;
}

// Damages the WAL of a database holding a few writes (byte `offset` ^= `flip`); the collection
// must be reported damaged with Corruption naming the file and `where`, and its directory left
// as it is for inspection, while the database opens.
void ExpectDamagedWalRefused(size_t offset, char flip, const std::string& where) {
  TempDir dir;
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    for (const auto& s : MakeSteps(6, 3)) ASSERT_TRUE(RunStep(*c, s).ok());
  }
  std::string wal = WalPath(dir.path());
  std::string data = *Env::Default()->ReadFile(wal);
  data[offset] ^= flip;
  WriteWholeFile(wal, data);
  auto before = Files(dir / "collections/c");
  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto damaged = (*db)->DamagedCollections();
  ASSERT_EQ(damaged.count("c"), 1u);
  EXPECT_TRUE(damaged["c"].IsCorruption()) << damaged["c"].ToString();
  EXPECT_NE(damaged["c"].message().find(wal + ": "), std::string::npos) << damaged["c"].message();
  EXPECT_NE(damaged["c"].message().find(where), std::string::npos) << damaged["c"].message();
  auto c = (*db)->GetCollection("c");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsCorruption()) << c.status().ToString();
  EXPECT_NE(c.status().message().find("collection 'c' is damaged"), std::string::npos);
  EXPECT_NE(c.status().message().find(where), std::string::npos) << c.status().message();
  EXPECT_EQ(Files(dir / "collections/c"), before);  // nothing "repaired" away
}

TEST(Recovery, CorruptWalIsReportedNotLoaded) {
  ExpectDamagedWalRefused(storage::kLogFileHeaderSize + 20, 0x44, "offset 16");  // first record
}

// The length of a record used to be outside its CRC: a damaged length read as a torn tail, and
// opening truncated every acknowledged record after it.
TEST(Recovery, DamagedWalLengthIsReportedNotTruncated) {
  // The first record's length grows by 1 MiB, past the end of the file.
  ExpectDamagedWalRefused(storage::kLogFileHeaderSize + 6, 0x10, "offset 16");
}

// Databases written before WAL version 2 open; their log is replaced by a version-2 one at once.
TEST(Recovery, OpensAVersion1LogAndMovesToVersion2) {
  TempDir dir;
  {
    auto db = *Db::Open(dir.path());
    ASSERT_TRUE(db->CreateCollection("c", Schema()).ok());
  }
  Model m;
  std::vector<std::pair<uint8_t, std::string>> records;
  for (const Step& s : MakeSteps(6, 16)) {
    if (s.kind != 0) continue;
    collection::Operation op;
    op.type = collection::OpType::kUpsert;
    op.lsn = records.size() + 1;
    for (const auto& p : s.points) op.points.push_back({p.id, {{0, p.vectors.at("v")}}, p.payload});
    records.emplace_back(static_cast<uint8_t>(op.type), collection::EncodeOperation(op));
    ApplyStep(s, &m);
  }
  ASSERT_FALSE(records.empty());
  WriteWholeFile(WalPath(dir.path()), testing::Version1Wal(records));
  {
    auto db = Db::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = *(*db)->GetCollection("c");
    EXPECT_EQ(testing::ScrollAll(*c), m);
    RunAll(*c, MakeSteps(4, 17), &m);
  }
  std::string wal = *Env::Default()->ReadFile(WalPath(dir.path()));
  EXPECT_EQ(DecodeFixed32(wal.data() + 8), storage::kLogVersion);
  EXPECT_EQ(Reopened(dir.path(), {}), m);
}

std::string SegmentPath(const std::string& db) {
  for (const auto& e : std::filesystem::directory_iterator(db + "/collections/c"))
    if (e.path().extension() == ".seg") return e.path().string();
  return "";
}

// Collection "c" after a few scripted steps, flushed into a segment, the database closed.
void WriteFlushed(const std::string& path, uint32_t seed) {
  auto db = *Db::Open(path);
  auto c = *db->CreateCollection("c", Schema());
  for (const auto& s : MakeSteps(6, seed)) ASSERT_TRUE(RunStep(*c, s).ok());
  ASSERT_TRUE(c->Flush().ok());
}

TEST(Recovery, CorruptSegmentIsReportedNotLoaded) {
  TempDir dir;
  WriteFlushed(dir.path(), 4);
  std::string seg = SegmentPath(dir.path());
  ASSERT_FALSE(seg.empty());
  std::string data = *Env::Default()->ReadFile(seg);
  data[70] ^= 1;  // inside the first section (metadata), which follows the 64-byte header
  WriteWholeFile(seg, data);
  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto c = (*db)->GetCollection("c");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsCorruption()) << c.status().ToString();
  EXPECT_NE(c.status().message().find(".seg"), std::string::npos);
}

// Issue 14, hole 9: one damaged collection made Db::Open fail for all of them.
TEST(Recovery, ADamagedCollectionDoesNotStopTheOthers) {
  TempDir dir;
  Model healthy;
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    auto d = *db->CreateCollection("d", Schema());
    for (const auto& s : MakeSteps(6, 5)) ASSERT_TRUE(RunStep(*c, s).ok());
    RunAll(*d, MakeSteps(6, 6), &healthy);
  }
  std::string wal = WalPath(dir.path());
  std::string data = *Env::Default()->ReadFile(wal);
  data[storage::kLogFileHeaderSize + 20] ^= 0x44;  // the first of several records
  WriteWholeFile(wal, data);
  const auto before = Files(dir / "collections/c");

  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->ListCollections(), std::vector<std::string>{"d"});
  ASSERT_EQ((*db)->DamagedCollections().size(), 1u);
  EXPECT_EQ(testing::ScrollAll(**(*db)->GetCollection("d")), healthy);

  auto expect_damaged = [](const Status& s) {
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("collection 'c' is damaged"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("offset 16"), std::string::npos) << s.ToString();
  };
  expect_damaged((*db)->GetCollection("c").status());
  expect_damaged((*db)->DropCollection("c"));
  TempDir out;
  expect_damaged((*db)->CreateSnapshot("c", out / "c.snap"));
  Status created = (*db)->CreateCollection("c", Schema()).status();
  EXPECT_TRUE(created.IsAlreadyExists()) << created.ToString();
  EXPECT_NE(created.message().find("damaged"), std::string::npos) << created.ToString();
  ASSERT_TRUE((*db)->CreateSnapshot("d", out / "d.snap").ok());
  Status restored = (*db)->RestoreSnapshot(out / "d.snap", "c").status();
  EXPECT_TRUE(restored.IsAlreadyExists()) << restored.ToString();
  // The healthy collection takes writes and flushes meanwhile.
  auto d = *(*db)->GetCollection("d");
  RunAll(*d, MakeSteps(4, 7), &healthy);
  ASSERT_TRUE(d->Flush().ok());
  d.reset();
  db = Result<std::unique_ptr<Db>>(Status::Internal("closed"));
  EXPECT_EQ(Files(dir / "collections/c"), before);  // never written, never deleted

  auto again = Db::Open(dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->DamagedCollections().count("c"), 1u);
  EXPECT_EQ(testing::ScrollAll(**(*again)->GetCollection("d")), healthy);
}

// A collection whose log is damaged in the middle is repaired to the records before the damage;
// the damaged files are copied aside first.
TEST(Recovery, RepairKeepsTheLogBeforeTheDamage) {
  TempDir dir;
  auto steps = MakeSteps(12, 8);
  std::vector<uint64_t> boundaries;  // WAL size before each step
  std::vector<Model> models;         // state before each step
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    Model m;
    for (const auto& s : steps) {
      boundaries.push_back(*Env::Default()->GetFileSize(WalPath(dir.path())));
      models.push_back(m);
      ASSERT_TRUE(RunStep(*c, s).ok());
      ApplyStep(s, &m);
    }
  }
  const std::string wal = WalPath(dir.path());
  std::string data = *Env::Default()->ReadFile(wal);
  // Steps that changed nothing (a payload patch of absent ids) logged nothing: count records.
  std::vector<size_t> record_steps;  // the step whose record starts at each distinct boundary
  for (size_t i = 0; i < steps.size(); ++i)
    if ((i + 1 < steps.size() ? boundaries[i + 1] : data.size()) > boundaries[i])
      record_steps.push_back(i);
  ASSERT_GE(record_steps.size(), 6u);
  const size_t k = record_steps.size() / 2;  // the damaged record
  const uint64_t damage_at = boundaries[record_steps[k]];
  data[damage_at + storage::kLogRecordHeaderSize + 2] ^= 0x20;  // its payload
  WriteWholeFile(wal, data);

  auto db = *Db::Open(dir.path());
  ASSERT_EQ(db->DamagedCollections().count("c"), 1u);
  Status healthy = db->RepairCollection("nope").status();
  EXPECT_TRUE(healthy.IsNotFound()) << healthy.ToString();
  auto report = db->RepairCollection("c");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->wal_records_kept, k);
  EXPECT_EQ(report->wal_records_dropped, record_steps.size() - k - 1);  // after the damaged one
  ASSERT_TRUE(report->wal_damage_offset.has_value());
  EXPECT_EQ(*report->wal_damage_offset, damage_at);
  EXPECT_EQ(report->wal_bytes_dropped, data.size() - damage_at);
  EXPECT_FALSE(report->segment_lost);
  const Model& expected = models[record_steps[k]];
  EXPECT_EQ(report->points, expected.size());
  // The damaged log is kept, byte for byte, next to the repaired collection.
  const std::string kept = report->backup_dir + "/" + std::filesystem::path(wal).filename().string();
  EXPECT_EQ(*Env::Default()->ReadFile(kept), data);
  EXPECT_TRUE(db->DamagedCollections().empty());
  auto c = *db->GetCollection("c");
  EXPECT_EQ(testing::ScrollAll(*c), expected);
  EXPECT_TRUE(db->RepairCollection("c").status().IsInvalidArgument());
  // The repaired collection takes writes, and everything survives a reopen (the copy included).
  Model m = expected;
  RunAll(*c, MakeSteps(4, 9), &m);
  c.reset();
  db.reset();
  EXPECT_EQ(Reopened(dir.path(), {}), m);
  EXPECT_EQ(*Env::Default()->ReadFile(kept), data);
}

// A segment that cannot be read is reported lost; the log's records after it are kept.
TEST(Recovery, RepairOfAnUnreadableSegmentKeepsTheLog) {
  TempDir dir;
  Model after_flush;  // the writes made after the flush: upserts only, so they stand alone
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    for (const auto& s : MakeSteps(6, 10)) ASSERT_TRUE(RunStep(*c, s).ok());
    ASSERT_TRUE(c->Flush().ok());
    std::vector<Step> upserts;
    for (auto& s : MakeSteps(8, 11))
      if (s.kind == 0) upserts.push_back(s);
    RunAll(*c, upserts, &after_flush);
  }
  ASSERT_FALSE(after_flush.empty());
  std::filesystem::resize_file(SegmentPath(dir.path()), 100);
  auto db = *Db::Open(dir.path());
  ASSERT_EQ(db->DamagedCollections().count("c"), 1u);
  auto report = db->RepairCollection("c");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->segment_lost);
  EXPECT_EQ(report->points, after_flush.size());
  bool said_lost = false;
  for (const auto& n : report->notes) said_lost |= n.find("lost: the points of segment") == 0;
  EXPECT_TRUE(said_lost);
  EXPECT_EQ(testing::ScrollAll(**db->GetCollection("c")), after_flush);
  db.reset();
  EXPECT_EQ(Reopened(dir.path(), {}), after_flush);
}

// Issue 14, hole 10: segments were mapped MAP_SHARED, so a segment file truncated from outside
// while open killed the process with SIGBUS on the next read of it.
TEST(Recovery, ASegmentTruncatedFromOutsideDoesNotKillTheProcess) {
  TempDir dir;
  Model m;
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("c", Schema());
    RunAll(*c, MakeSteps(30, 12), &m);
    ASSERT_TRUE(c->Flush().ok());
  }
  auto db = *Db::Open(dir.path());  // the segment is loaded from its file
  auto c = *db->GetCollection("c");
  EXPECT_EQ(c->Info().segment_mapped_bytes, 0u);  // within the default budget: in memory
  SearchRequest q;
  q.vector = std::vector<float>(8, 50.0f);
  q.limit = 5;
  auto hits = c->Search(q);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  const std::string seg = SegmentPath(dir.path());
  for (uint64_t size : {uint64_t{4096}, uint64_t{0}}) {
    ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(size)), 0);
    EXPECT_EQ(testing::ScrollAll(*c), m);  // reads every vector and payload
    auto again = c->Search(q);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ASSERT_EQ(again->size(), hits->size());
    for (size_t i = 0; i < hits->size(); ++i) EXPECT_EQ((*again)[i].id, (*hits)[i].id);
  }
  // A compaction writes a whole new segment from memory (a flush would add a segment and leave
  // the damaged one, which the next open would report).
  RunAll(*c, MakeSteps(3, 13), &m);
  ASSERT_TRUE(c->Compact().ok());
  c.reset();
  db.reset();
  EXPECT_EQ(Reopened(dir.path(), {}), m);
}

// The same with the segment memory-mapped (a budget of 0): the rows and payloads it loses read
// as zeros, so every read that needs them fails with IOError naming the file, and nothing
// computed from them is returned or written; ids (decoded at open) and writes go on; the process
// lives.
TEST(Recovery, AMappedSegmentTruncatedFromOutsideFailsItsReadsNotTheProcess) {
  TempDir dir;
  DbOptions opt;
  opt.segment_memory_budget_bytes = 0;
  Model m;
  {
    auto db = *Db::Open(dir.path(), opt);
    auto c = *db->CreateCollection("c", Schema());
    RunAll(*c, MakeSteps(30, 12), &m);
    ASSERT_TRUE(c->Flush().ok());
  }
  auto db = *Db::Open(dir.path(), opt);
  auto c = *db->GetCollection("c");
  EXPECT_EQ(testing::ScrollAll(*c), m);
  const CollectionInfo info = c->Info();
  EXPECT_EQ(info.segment_mapped_bytes, info.segment_bytes);
  EXPECT_GT(info.segment_mapped_bytes, 0u);
  SearchRequest q;
  q.vector = std::vector<float>(8, 50.0f);
  q.limit = 5;
  ASSERT_TRUE(c->Search(q).ok());
  const std::string seg = SegmentPath(dir.path());
  ASSERT_EQ(::truncate(seg.c_str(), 0), 0);
  auto names_the_file = [&](const Status& s) {
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.message().find(seg), std::string::npos) << s.ToString();
  };
  names_the_file(c->Search(q).status());
  q.exact = true;
  names_the_file(c->Search(q).status());
  ScrollRequest all;
  all.limit = 1000;
  all.with_vectors = true;
  names_the_file(c->Scroll(all).status());
  all.with_vectors = false;
  names_the_file(c->Scroll(all).status());  // with payloads
  all.with_payload = false;
  auto ids = c->Scroll(all);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->points.size(), m.size());
  EXPECT_EQ(*c->Count(nullptr), m.size());
  std::vector<PointId> one = {ids->points[0].id};
  names_the_file(c->Get(one, true, true).status());
  names_the_file(c->Get(one, true, false).status());
  EXPECT_TRUE(c->Get(one, false, false).ok());
  // A compaction would write the zeros into a new segment: it fails, and changes nothing.
  names_the_file(c->Compact());
  EXPECT_EQ(c->Count(nullptr).value(), m.size());
  Model more = m;
  RunAll(*c, MakeSteps(3, 13), &more);
  c.reset();
  db.reset();
  // What was truncated is lost to this collection: the next open says so, naming the file.
  auto again = *Db::Open(dir.path(), opt);
  auto reopened = again->GetCollection("c");
  ASSERT_FALSE(reopened.ok());
  EXPECT_TRUE(reopened.status().IsCorruption()) << reopened.status().ToString();
  EXPECT_NE(reopened.status().message().find(seg), std::string::npos);
}

// A segment truncated while closed is Corruption at open (and only for its collection).
TEST(Recovery, ASegmentTruncatedWhileClosedIsCorruption) {
  TempDir dir;
  WriteFlushed(dir.path(), 14);
  const std::string seg = SegmentPath(dir.path());
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 1);
  auto db = *Db::Open(dir.path());
  auto c = db->GetCollection("c");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsCorruption()) << c.status().ToString();
  EXPECT_NE(c.status().message().find(seg), std::string::npos) << c.status().ToString();
}

TEST(Recovery, FlushCompactionAndReopenKeepTheSameState) {
  TempDir dir;
  DbOptions opt;
  opt.wal_flush_bytes = 2000;  // force several automatic flushes
  auto steps = MakeSteps(60, 5);
  Model m;
  {
    auto db = *Db::Open(dir.path(), opt);
    auto c = *db->CreateCollection("c", Schema());
    for (size_t i = 0; i < steps.size(); ++i) {
      ASSERT_TRUE(RunStep(*c, steps[i]).ok());
      ApplyStep(steps[i], &m);
      if (i == 30) {
        ASSERT_TRUE(c->Compact().ok());
      }
    }
    EXPECT_EQ(testing::ScrollAll(*c), m);
    EXPECT_GT(c->Info().segment_bytes, 0u);
    ASSERT_TRUE(c->Compact().ok());
    EXPECT_EQ(c->Info().deleted_pending, 0u);
    EXPECT_EQ(testing::ScrollAll(*c), m);
  }
  auto db = *Db::Open(dir.path(), opt);
  EXPECT_EQ(testing::ScrollAll(**db->GetCollection("c")), m);
  // Only the live segment and WAL remain.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "collections/c")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 6u);  // collection.json, CURRENT, seg, its index file, delta, wal
}

TEST(Recovery, CrashDuringFlushKeepsTheOldState) {
  FaultDb f(10, 6);
  f.env.SetPathFilter("CURRENT");
  f.env.FailRenames(true);  // the commit point of the flush fails
  EXPECT_FALSE(f.c->Flush().ok());
  f.env.FailRenames(false);
  EXPECT_EQ(testing::ScrollAll(*f.c), f.model);
  ASSERT_TRUE(RunStep(*f.c, f.steps[0]).ok());
  ApplyStep(f.steps[0], &f.model);
  f.Close();
  EXPECT_EQ(Reopened(f.dir.path(), f.opt), f.model);
}

// A flush whose directory fsync fails after CURRENT was switched may or may not have committed.
// It used to delete the files CURRENT then named, so the next open failed. Now nothing of either
// generation is deleted, writes are refused until reopen, and the database opens with every
// acknowledged write whichever generation CURRENT names after a crash.
TEST(Recovery, UncertainFlushCommitRefusesWritesAndOpensEitherWay) {
  FaultDb f(10, 13);
  const std::string current = f.dir / "collections/c/CURRENT";
  const std::string old_current = *f.env.ReadFile(current);
  f.env.FailSyncDirsAfterRenameTo("CURRENT");
  Status flushed = f.c->Flush();
  EXPECT_TRUE(flushed.IsIOError()) << flushed.ToString();
  f.env.FailSyncDirs(false);
  const std::string new_current = *f.env.ReadFile(current);
  ASSERT_NE(new_current, old_current);  // the rename happened; only its durability is unknown
  EXPECT_EQ(testing::ScrollAll(*f.c), f.model);   // reads go on
  Status refused = RunStep(*f.c, f.steps[0]);
  EXPECT_TRUE(refused.IsIOError()) << refused.ToString();
  EXPECT_NE(refused.message().find("reopen"), std::string::npos) << refused.message();
  EXPECT_TRUE(f.c->Flush().IsIOError());
  EXPECT_EQ(testing::ScrollAll(*f.c), f.model);
  f.Close();
  for (const std::string& cur : {new_current, old_current}) {
    TempDir copy;
    CopyDb(f.dir.path(), copy.path());
    WriteWholeFile(copy / "collections/c/CURRENT", cur);
    EXPECT_EQ(Reopened(copy.path(), {}), f.model) << "CURRENT: " << cur;
  }
  EXPECT_EQ(Reopened(f.dir.path(), f.opt), f.model);
}

// A drop whose directory fsync fails may or may not be durable. The handle used to go on
// acknowledging writes into the renamed .trash-* directory, which the next open deletes.
TEST(Recovery, FailedDropStopsWritesAndReopensConsistently) {
  FaultDb f(8, 14);
  f.env.FailRenames(true);  // a drop whose rename fails changes nothing
  EXPECT_TRUE(f.db->DropCollection("c").IsIOError());
  f.env.FailRenames(false);
  ASSERT_TRUE(RunStep(*f.c, f.steps[0]).ok());
  ApplyStep(f.steps[0], &f.model);
  f.env.FailSyncDirsAfterRenameTo(".trash-");
  Status dropped = f.db->DropCollection("c");
  EXPECT_TRUE(dropped.IsIOError()) << dropped.ToString();
  f.env.FailSyncDirs(false);
  Status refused = RunStep(*f.c, f.steps[1]);
  EXPECT_TRUE(refused.IsNotFound()) << refused.ToString();
  EXPECT_TRUE(f.db->GetCollection("c").status().IsNotFound());
  EXPECT_TRUE(f.db->ListCollections().empty());
  f.Close();
  {  // A crash undid the rename: the collection is back with every write acknowledged before.
    TempDir copy;
    CopyDb(f.dir.path(), copy.path());
    for (const auto& e : std::filesystem::directory_iterator(copy / "collections"))
      if (e.path().filename().string().starts_with(".trash-"))
        std::filesystem::rename(e.path(), copy / "collections/c");
    EXPECT_EQ(Reopened(copy.path(), {}), f.model);
  }
  auto reopened = Db::Open(f.dir.path(), f.opt);  // no crash: the drop stands
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->GetCollection("c").status().IsNotFound());
  EXPECT_TRUE((*reopened)->ListCollections().empty());
}

// A Db destroyed while a handle lived used to release the LOCK and free the thread pool that
// the handle still used: a second Db could then open the same files.
TEST(Recovery, AHandleKeepsTheDatabaseLockedAndWorking) {
  TempDir dir;
  auto steps = MakeSteps(8, 15);
  Model m;
  std::shared_ptr<Collection> c;
  {
    auto db = *Db::Open(dir.path());
    c = *db->CreateCollection("c", Schema());
  }
  auto second = Db::Open(dir.path());
  ASSERT_FALSE(second.ok()) << "a second Db opened while a handle of the first was alive";
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
  RunAll(*c, steps, &m);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  std::vector<SearchRequest> requests(3);
  for (auto& r : requests) {
    r.vector_name = "v";
    r.vector.assign(8, 1.0f);
    r.limit = 5;
  }
  auto found = c->SearchBatch(requests);  // runs on the Db's thread pool
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->size(), 3u);
  ASSERT_TRUE(c->Flush().ok());
  c.reset();  // the last handle: the database closes
  EXPECT_EQ(Reopened(dir.path(), {}), m);
}

TEST(Recovery, FullDiskFailsTheWriteAndLosesNothing) {
  FaultDb f(8, 7);
  f.env.SetWriteBudget(10);
  std::vector<Point> big = MakeSteps(1, 8)[0].points;
  Status s = f.c->Upsert(big);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_EQ(testing::ScrollAll(*f.c), f.model);  // the failed write is not visible
  f.env.SetWriteBudget(-1);
  ASSERT_TRUE(f.c->Upsert(big).ok());  // and the log still works
  for (const auto& p : big) f.model[p.id] = {p.payload, p.vectors.at("v")};
  f.Close();
  EXPECT_EQ(Reopened(f.dir.path(), f.opt), f.model);
}

TEST(Recovery, SnapshotRestoreRoundTrip) {
  TempDir dir;
  auto steps = MakeSteps(30, 9);
  Model m;
  auto db = *Db::Open(dir.path());
  auto c = *db->CreateCollection("c", Schema());
  ASSERT_TRUE(c->CreatePayloadIndex("step", PayloadIndexType::kInteger).ok());
  for (const auto& s : steps) {
    ASSERT_TRUE(RunStep(*c, s).ok());
    ApplyStep(s, &m);
  }
  std::string snap = dir / "c.snapshot";
  ASSERT_TRUE(db->CreateSnapshot("c", snap).ok());
  // Later writes do not leak into the snapshot.
  std::vector<PointId> all_ids;
  for (uint64_t id = 0; id < 12; ++id) all_ids.emplace_back(id);
  ASSERT_TRUE(c->Delete(all_ids).ok());
  auto restored = db->RestoreSnapshot(snap, "c2");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(testing::ScrollAll(**restored), m);
  EXPECT_EQ((*restored)->Info().payload_indexes.count("step"), 1u);
  EXPECT_TRUE(db->RestoreSnapshot(snap, "c2").status().IsAlreadyExists());
  // A damaged snapshot is refused before anything is created.
  std::string data = *Env::Default()->ReadFile(snap);
  data[100] ^= 1;
  auto f = *Env::Default()->NewWritableFile(snap);
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Close().ok());
  auto bad = db->RestoreSnapshot(snap, "c3");
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_TRUE(db->GetCollection("c3").status().IsNotFound());
  // The restored collection survives a reopen.
  restored = Status::Internal("closed");
  c.reset();
  db.reset();
  auto db2 = *Db::Open(dir.path());
  EXPECT_EQ(testing::ScrollAll(**db2->GetCollection("c2")), m);
}

}  // namespace
}  // namespace mosaic
