// Snapshots written before archives (docs/segment_format.md: a segment file, version 2 with the
// HNSW graphs, version 1 without) still restore: the graphs are loaded instead of rebuilt, an old
// snapshot without graphs is rebuilt, a damaged or mismatched graph is rebuilt and said so in
// CollectionInfo::graphs_rebuilt. Today's snapshots (archives) are taken consistently while
// writers go on (the last tests here); snapshot_archive_test.cc has the rest.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "collection/collection_files.h"
#include "common/coding.h"
#include "common/sync_point.h"
#include "mosaic/db.h"
#include "storage/segment.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"
#include "util/segment_file.h"

namespace mosaic {
namespace {

using testing::TempDir;

constexpr uint32_t kGraphKind = 0x10000;  // + vector index

// Two HNSW vectors: "v" (l2, SQ8 once the graph is built over 1000 points) and "t" (cosine, on
// two points in three).
CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", 16, Metric::kL2, StorageType::kFloat32},
               {"t", 8, Metric::kCosine, StorageType::kFloat32}};
  s.vectors[0].index = {IndexKind::kHnsw, 8, 64, 32, /*sq8=*/true};
  s.vectors[1].index = {IndexKind::kHnsw, 6, 40, 32, /*sq8=*/false};
  return s;
}

// Clustered points, so that the graph's choices matter.
class Points {
 public:
  explicit Points(uint32_t seed) : rng_(seed) {}
  Point Make(uint64_t id) {
    Point p;
    p.id = id;
    const float center = static_cast<float>(rng_() % 20);
    auto& v = p.vectors["v"];
    for (int i = 0; i < 16; ++i) v.push_back(center + noise_(rng_));
    if (id % 3 != 0) {
      auto& t = p.vectors["t"];
      for (int i = 0; i < 8; ++i) t.push_back(center * (i % 2 ? 1 : -1) + noise_(rng_));
    }
    p.payload = {{"id", id}};
    return p;
  }
  std::vector<Point> Batch(uint64_t first, uint64_t count) {
    std::vector<Point> out;
    for (uint64_t id = first; id < first + count; ++id) out.push_back(Make(id));
    return out;
  }

 private:
  std::mt19937 rng_;
  std::normal_distribution<float> noise_{0, 1};
};

// Every query's results on both vectors, at a fixed ef: "id:score" (the score to the bit).
std::vector<std::string> Results(Collection& c, uint32_t seed) {
  Points queries(seed);
  std::vector<std::string> out;
  for (uint64_t q = 0; q < 30; ++q) {
    Point p = queries.Make(1);  // id 1: has both vectors
    for (const char* name : {"v", "t"}) {
      SearchRequest r;
      r.vector_name = name;
      r.vector = p.vectors[name];
      r.limit = 10;
      r.ef = 24;
      r.with_payload = false;
      auto hits = c.Search(r);
      EXPECT_TRUE(hits.ok()) << hits.status().ToString();
      if (!hits.ok()) return out;
      std::string line;
      for (const auto& h : *hits) {
        char score[32];
        std::snprintf(score, sizeof(score), "%a", h.score);
        line += h.id.ToString() + ":" + score + " ";
      }
      out.push_back(line);
    }
  }
  return out;
}

std::string ReadAll(const std::string& path) { return *Env::Default()->ReadFile(path); }

void WriteAll(const std::string& path, const std::string& bytes) {
  auto f = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

std::string GraphFile(const TempDir& dir, const std::string& collection, size_t v) {
  return dir / ("collections/" + collection + "/" + collection::GraphName(1, v));
}

// A collection with re-upserted and deleted points, flushed once past 1000 points (so "v" has
// an SQ8 graph) and written to since (so the graphs hold tombstones and unflushed points).
void Fill(Collection& c, Points& gen) {
  for (uint64_t first = 0; first < 1500; first += 500)
    ASSERT_TRUE(c.Upsert(gen.Batch(first, 500)).ok());
  ASSERT_TRUE(c.Flush().ok());
  std::vector<PointId> gone;
  for (uint64_t id = 0; id < 1500; id += 9) gone.emplace_back(id);
  ASSERT_TRUE(c.Delete(gone).ok());
  ASSERT_TRUE(c.Upsert(gen.Batch(100, 150)).ok());   // re-upserts
  ASSERT_TRUE(c.Upsert(gen.Batch(1500, 300)).ok());  // new points
}

// Writes a snapshot of collection `name` at `out` the way the build before archives wrote it: a
// segment file (version 2) of the live points with each vector's graph over them. Compacts the
// collection first: its one segment then holds the live points in order and its graph files are
// numbered as the snapshot's points. `edit` may change the metadata (the collection's config).
void WriteLegacySnapshot(Collection& c, const std::string& dir, const std::string& out,
                         const std::function<void(Json*)>& edit = nullptr) {
  ASSERT_TRUE(c.Compact().ok());
  const Json current = Json::parse(ReadAll(dir + "/CURRENT"));
  ASSERT_EQ(current["segments"].size(), 1u);
  const uint64_t gen = current["segments"][0]["gen"].get<uint64_t>();
  auto seg = *storage::Segment::Open(Env::Default(), dir + "/" + collection::SegmentName(gen));
  const auto ids = *seg->DecodeIds();
  std::vector<Json> payloads;
  for (size_t i = 0; i < seg->num_points(); ++i) payloads.push_back(*seg->DecodePayload(i));
  storage::SegmentContents s;
  s.meta = Json::parse(ReadAll(dir + "/collection.json"));
  if (edit) edit(&s.meta);
  s.last_lsn = seg->last_lsn();
  s.num_points = seg->num_points();
  s.dims = {seg->dim(0), seg->dim(1)};
  s.id = [&](size_t i) -> const PointId& { return ids[i]; };
  s.payload = [&](size_t i) -> const Json& { return payloads[i]; };
  s.vector = [&](size_t i, size_t v) -> const float* {
    return seg->has_vector(i, v) ? seg->vectors(v) + i * seg->dim(v) : nullptr;
  };
  s.graphs = {ReadAll(dir + "/" + collection::GraphName(gen, 0)),
              ReadAll(dir + "/" + collection::GraphName(gen, 1))};
  ASSERT_TRUE(storage::WriteSegment(Env::Default(), out, s).ok());
}

// A database with one filled collection "c" and its old-format snapshot at dir / "c.snapshot".
struct Snapshotted {
  explicit Snapshotted(uint32_t seed) : gen(seed) {
    db = std::move(Db::Open(dir.path())).value();
    c = *db->CreateCollection("c", Schema());
    Fill(*c, gen);
    WriteLegacySnapshot(*c, dir / "collections/c", snapshot);
  }
  TempDir dir;
  const std::string snapshot = dir / "c.snapshot";
  Points gen;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

TEST(SnapshotGraphs, OldSnapshotRestoreLoadsTheGraphsAndSearchesAsTheOriginal) {
  Snapshotted f(1);
  TempDir& dir = f.dir;
  std::unique_ptr<Db>& db = f.db;
  std::shared_ptr<Collection>& c = f.c;
  const std::string& snap = f.snapshot;

  auto seg = storage::Segment::Open(Env::Default(), snap);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->version(), 2u);
  ASSERT_FALSE((*seg)->graph(0)->empty());
  ASSERT_FALSE((*seg)->graph(1)->empty());

  auto r = db->RestoreSnapshot(snap, "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{});
  // The restored collection's graph files are the snapshot's sections, byte for byte; its segment
  // holds only the points (version 1).
  EXPECT_EQ(ReadAll(GraphFile(dir, "r", 0)), *(*seg)->graph(0));
  EXPECT_EQ(ReadAll(GraphFile(dir, "r", 1)), *(*seg)->graph(1));
  auto restored_seg = storage::Segment::Open(
      Env::Default(), dir / ("collections/r/" + collection::SegmentName(1)));
  ASSERT_TRUE(restored_seg.ok());
  EXPECT_EQ((*restored_seg)->version(), 1u);
  EXPECT_EQ(testing::ScrollAll(**r, "v"), testing::ScrollAll(*c, "v"));
  EXPECT_EQ(testing::ScrollAll(**r, "t"), testing::ScrollAll(*c, "t"));

  // The snapshot's graphs are the compacted original's: both give the same ids and scores.
  EXPECT_EQ(c->Info().graphs_rebuilt, std::vector<std::string>{});
  const auto want = Results(*c, 7);
  ASSERT_EQ(want.size(), 60u);
  EXPECT_EQ(Results(**r, 7), want);

  // And after a reopen, loading the same files.
  r = Status::Internal("closed");
  c.reset();
  db.reset();
  db = *Db::Open(dir.path());
  auto again = *db->GetCollection("r");
  EXPECT_EQ(again->Info().graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(Results(*again, 7), want);
}

// The graphs are those of the points the snapshot writes, although writes go on between the
// view (taken under the write lock) and the graphs' renumbering: inserts that link into existing
// nodes, deletes that tombstone them, and re-upserts.
TEST(SnapshotGraphs, WritesAfterTheViewDoNotReachTheSnapshot) {
  Snapshotted f(2);
  TempDir& dir = f.dir;
  std::unique_ptr<Db>& db = f.db;
  std::shared_ptr<Collection>& c = f.c;
  Points& gen = f.gen;
  ASSERT_TRUE(c->Compact().ok());  // no tombstones: the snapshot's numbering is the original's
  const auto want = Results(*c, 8);
  const auto want_points = testing::ScrollAll(*c, "v");

  int writes = 0;
  sync_point::SetCallback([&](std::string_view point) {
    if (point != "CollectionImpl::WriteSnapshot:ViewTaken") return;
    ++writes;
    std::vector<PointId> gone;
    for (uint64_t id = 1; id < 1800; id += 5) gone.emplace_back(id);
    EXPECT_TRUE(c->Delete(gone).ok());
    EXPECT_TRUE(c->Upsert(gen.Batch(400, 200)).ok());
    EXPECT_TRUE(c->Upsert(gen.Batch(5000, 400)).ok());
  });
  Status snapped = db->CreateSnapshot("c", dir / "c.snapshot");
  sync_point::SetCallback(nullptr);
  ASSERT_TRUE(snapped.ok()) << snapped.ToString();
  ASSERT_EQ(writes, 1);
  EXPECT_NE(testing::ScrollAll(*c, "v"), want_points);  // the writes were made

  auto r = db->RestoreSnapshot(dir / "c.snapshot", "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(testing::ScrollAll(**r, "v"), want_points);
  EXPECT_EQ(Results(**r, 8), want);
}

// Snapshots taken while another thread upserts and deletes: each restores with its graphs loaded
// (their nodes are exactly the snapshot's points, or the open would have rebuilt them), and each
// restored point is found by a search for its own vector.
TEST(SnapshotGraphs, SnapshotsWhileAnotherThreadWrites) {
  TempDir dir;
  auto db = *Db::Open(dir.path());
  auto c = *db->CreateCollection("c", Schema());
  Points gen(3);
  ASSERT_TRUE(c->Upsert(gen.Batch(0, 1200)).ok());
  ASSERT_TRUE(c->Flush().ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches{0};
  std::thread writer([&, c] {
    Points wgen(4);
    for (uint64_t round = 0; !stop.load(); ++round) {
      const uint64_t first = (round * 37) % 2000;
      EXPECT_TRUE(c->Upsert(wgen.Batch(first, 40)).ok());
      std::vector<PointId> gone{PointId((round * 53) % 2000), PointId((round * 71) % 2000)};
      EXPECT_TRUE(c->Delete(gone).ok());
      batches.fetch_add(1);
    }
  });
  for (int i = 0; i < 4; ++i) {
    const uint64_t before = batches.load();
    while (batches.load() < before + 3) std::this_thread::yield();
    const std::string name = "r" + std::to_string(i);
    ASSERT_TRUE(db->CreateSnapshot("c", dir / (name + ".snapshot")).ok());
  }
  stop = true;
  writer.join();
  for (int i = 0; i < 4; ++i) {
    const std::string name = "r" + std::to_string(i);
    auto r = db->RestoreSnapshot(dir / (name + ".snapshot"), name);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{}) << name;
    const auto points = testing::ScrollAll(**r, "v");
    size_t found = 0, tried = 0;
    size_t n = 0;
    for (const auto& [id, point] : points) {
      if (n++ % 20 != 0) continue;
      SearchRequest q;
      q.vector_name = "v";
      q.vector = point.second;
      q.limit = 1;
      q.ef = 64;
      auto hits = (*r)->Search(q);
      ASSERT_TRUE(hits.ok());
      ++tried;
      found += !hits->empty() && (*hits)[0].id == id;
    }
    EXPECT_GE(found * 100, tried * 95) << name << ": " << found << " of " << tried;
  }
}

// A snapshot written before graphs were carried (version 1) restores, rebuilding the graphs. It
// is made here the way the old build made it: the same points with no graph sections.
TEST(SnapshotGraphs, VersionOneSnapshotRestoresByRebuilding) {
  Snapshotted f(5);
  TempDir& dir = f.dir;
  std::unique_ptr<Db>& db = f.db;
  std::shared_ptr<Collection>& c = f.c;
  auto seg = storage::Segment::Open(Env::Default(), f.snapshot);
  ASSERT_TRUE(seg.ok());
  ASSERT_TRUE((*seg)->WritePoints(Env::Default(), dir / "old.snapshot").ok());
  ASSERT_EQ(DecodeFixed32(ReadAll(dir / "old.snapshot").data() + 8), 1u);

  auto r = db->RestoreSnapshot(dir / "old.snapshot", "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Info().graphs_rebuilt, (std::vector<std::string>{"v", "t"}));
  EXPECT_EQ(testing::ScrollAll(**r, "v"), testing::ScrollAll(*c, "v"));
  // The rebuilt graphs were saved: a reopen loads them.
  r = Status::Internal("closed");
  c.reset();
  db.reset();
  db = *Db::Open(dir.path());
  EXPECT_EQ((*db->GetCollection("r"))->Info().graphs_rebuilt, std::vector<std::string>{});
}

// The snapshot fuzz seed written by the build before graph sections (tests/fuzz/corpus).
TEST(SnapshotGraphs, SnapshotOfTheOldBuildRestores) {
  const std::string old = std::string(MOSAIC_SOURCE_DIR) +
                          "/tests/fuzz/corpus/snapshot/photos-v1.snapshot";
  ASSERT_EQ(DecodeFixed32(ReadAll(old).data() + 8), 1u);
  TempDir dir;
  auto db = *Db::Open(dir.path());
  auto r = db->RestoreSnapshot(old, "photos");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*(*r)->Count(), 6u);
  EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{"image"});
}

// Policy (docs/segment_format.md): a graph section that fails its checksum does not fail the
// restore; the points are checked on their own, and that graph is rebuilt from them. A graph
// whose own checks fail (its checksum recomputed in the snapshot, so the damage gets past the
// segment's) is rebuilt at open the same way.
TEST(SnapshotGraphs, DamagedGraphSectionIsRebuilt) {
  Snapshotted f(6);
  TempDir& dir = f.dir;
  std::unique_ptr<Db>& db = f.db;
  std::shared_ptr<Collection>& c = f.c;
  const std::string good = ReadAll(f.snapshot);
  const size_t entry = testing::SegmentTableEntry(good, kGraphKind + 1);  // vector "t"
  ASSERT_NE(entry, std::string::npos);
  std::string bad = good;
  bad[DecodeFixed64(good.data() + entry + 8) + 200] ^= 0x40;

  WriteAll(dir / "bad.snapshot", bad);
  auto seg = storage::Segment::Open(Env::Default(), dir / "bad.snapshot");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  Status damage = (*seg)->graph(1).status();
  EXPECT_TRUE(damage.IsCorruption());
  EXPECT_NE(damage.message().find("bad.snapshot"), std::string::npos) << damage.ToString();
  EXPECT_NE(damage.message().find("graph of vector 1"), std::string::npos) << damage.ToString();

  const auto want = testing::ScrollAll(*c, "t");
  for (const auto& [file, bytes] :
       {std::pair<std::string, std::string>{"bad.snapshot", bad},
        {"bad-inner.snapshot", testing::RecomputeSegmentChecksums(bad)}}) {
    WriteAll(dir / file, bytes);
    const std::string name = file.substr(0, file.find('.'));
    auto r = db->RestoreSnapshot(dir / file, name);
    ASSERT_TRUE(r.ok()) << file << ": " << r.status().ToString();
    EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{"t"}) << file;
    EXPECT_EQ(testing::ScrollAll(**r, "t"), want) << file;
    SearchRequest q;
    q.vector_name = "t";
    q.vector = want.begin()->second.second;
    q.limit = 1;
    auto hits = (*r)->Search(q);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u);
  }
  // A damaged point section still refuses the whole snapshot.
  bad = good;
  bad[DecodeFixed64(good.data() + testing::SegmentTableEntry(good, 2) + 8)] ^= 1;  // ids
  WriteAll(dir / "bad-ids.snapshot", bad);
  EXPECT_TRUE(db->RestoreSnapshot(dir / "bad-ids.snapshot", "x").status().IsCorruption());
}

// A graph built with other parameters than the schema asks for is rebuilt, not used: here the
// snapshot's schema is edited to another ef_construction for "v" and another M for "t".
TEST(SnapshotGraphs, GraphOfOtherParametersIsRebuilt) {
  Snapshotted f(7);
  TempDir& dir = f.dir;
  std::unique_ptr<Db>& db = f.db;
  std::shared_ptr<Collection>& c = f.c;
  WriteLegacySnapshot(*c, dir / "collections/c", dir / "edited.snapshot", [](Json* meta) {
    (*meta)["schema"]["vectors"][0]["index"]["ef_construction"] = 65;
    (*meta)["schema"]["vectors"][1]["index"]["m"] = 7;
  });

  auto r = db->RestoreSnapshot(dir / "edited.snapshot", "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Info().graphs_rebuilt, (std::vector<std::string>{"v", "t"}));
  EXPECT_EQ(testing::ScrollAll(**r, "v"), testing::ScrollAll(*c, "v"));
}

}  // namespace
}  // namespace mosaic
