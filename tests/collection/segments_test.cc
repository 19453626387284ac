// Multi-segment collections: a flush seals the points written since the last one into a new
// segment and leaves the sealed ones byte for byte as they were; deletes and payload changes of
// sealed points live in the delta file; searches merge the parts' graphs; a compaction (too many
// segments, or asked) folds everything into one; version-1 directories still open; a flush that
// fails at any byte loses nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <random>
#include <set>

#include "collection/collection_files.h"
#include "common/sync_point.h"
#include "index/filter/payload_index.h"
#include "storage/segment.h"
#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::FaultEnv;
using testing::TempDir;
using Model = testing::PointModel;

constexpr uint32_t kDim = 16;

CollectionSchema Schema(bool sq8 = false) {
  CollectionSchema s;
  VectorSpec v{"v", kDim, Metric::kL2, StorageType::kFloat32};
  v.index.kind = IndexKind::kHnsw;
  v.index.sq8 = sq8;
  s.vectors = {v};
  return s;
}

// Points [from, to) with clustered random vectors and a "group" payload (id % 4).
std::vector<Point> MakePoints(uint64_t from, uint64_t to, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  std::vector<Point> out;
  for (uint64_t id = from; id < to; ++id) {
    Point p;
    p.id = id;
    auto& v = p.vectors["v"];
    v.resize(kDim);
    for (uint32_t d = 0; d < kDim; ++d) v[d] = static_cast<float>((id * 7 + d) % 13) + noise(rng);
    p.payload = {{"group", static_cast<int64_t>(id % 4)}, {"batch", static_cast<int64_t>(seed)}};
    out.push_back(std::move(p));
  }
  return out;
}

void Mirror(const std::vector<Point>& points, Model* m) {
  for (const auto& p : points) (*m)[p.id] = {p.payload, p.vectors.at("v")};
}

// Upserts `points` into `c` and mirrors them in `m`; then flushes.
void Add(Collection& c, const std::vector<Point>& points, Model* m) {
  ASSERT_TRUE(c.Upsert(points).ok());
  Mirror(points, m);
}
void AddAndFlush(Collection& c, const std::vector<Point>& points, Model* m) {
  Add(c, points, m);
  ASSERT_TRUE(c.Flush().ok());
}

std::string CollectionDir(const TempDir& dir) { return dir.path() + "/collections/c"; }

std::set<std::string> SegmentFiles(const TempDir& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(CollectionDir(dir))) {
    const std::string f = e.path().filename().string();
    if (f.ends_with(".seg")) out.insert(f);
  }
  return out;
}

std::string ReadAll(const std::string& path) { return *Env::Default()->ReadFile(path); }

// The ids of the exact top 10 for `q` (and under `group` when >= 0) in the model.
std::vector<PointId> ExactTop(const Model& m, const std::vector<float>& q, int group) {
  std::vector<std::pair<float, PointId>> all;
  for (const auto& [id, pv] : m) {
    if (group >= 0 && pv.first.value("group", -1) != group) continue;
    float d = 0;
    for (uint32_t i = 0; i < kDim; ++i) d += (pv.second[i] - q[i]) * (pv.second[i] - q[i]);
    all.emplace_back(d, id);
  }
  std::sort(all.begin(), all.end());
  std::vector<PointId> out;
  for (size_t i = 0; i < all.size() && i < 10; ++i) out.push_back(all[i].second);
  return out;
}

// Recall@10 of graph searches over 30 queries against the model, optionally filtered by group.
double Recall(Collection& c, const Model& m, int group) {
  size_t found = 0, total = 0;
  std::mt19937 rng(99);
  for (int i = 0; i < 30; ++i) {
    SearchRequest r;
    r.vector.resize(kDim);
    for (float& x : r.vector) x = static_cast<float>(rng() % 13);
    r.limit = 10;
    // The queries (grid points) lie between the clusters, where many points are nearly as close:
    // at ef 64 a graph built by parallel inserts gave 0.947 once in dozens of runs.
    r.ef = 128;
    if (group >= 0)
      r.filter = *Filter::FromJson(Json{{"must", {{{"key", "group"}, {"match", {{"value", group}}}}}}});
    auto hits = c.Search(r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok()) return 0;
    const std::vector<PointId> want = ExactTop(m, r.vector, group);
    for (const auto& h : *hits) found += std::count(want.begin(), want.end(), h.id);
    total += want.size();
  }
  return static_cast<double>(found) / static_cast<double>(total);
}

// Holds the first thread that reaches sync point `point` there until Release() (or the end of
// the scope), so that the test acts while that thread is at that exact step.
class HoldAt {
 public:
  explicit HoldAt(std::string point) : point_(std::move(point)), go_(release_.get_future().share()) {
    sync_point::SetCallback([this](std::string_view p) {
      if (p == point_ && !held_.exchange(true)) {
        reached_.set_value();
        go_.wait();
      }
    });
  }
  ~HoldAt() {
    Release();
    sync_point::SetCallback(nullptr);
  }
  bool held() const { return held_; }
  // Whether a thread reached the point within a minute.
  bool Wait() { return reached_.get_future().wait_for(std::chrono::seconds(60)) ==
                       std::future_status::ready; }
  void Release() {
    if (!released_.exchange(true)) release_.set_value();
  }

 private:
  const std::string point_;
  std::promise<void> reached_, release_;
  std::shared_future<void> go_;
  std::atomic<bool> held_{false}, released_{false};
};

// A database at `dir` (on `env`) with collection "c", mirrored in `m`.
class Segments : public ::testing::Test {
 protected:
  void Create(bool sq8 = false) {
    opt.env = &env;
    opt.compact_below_bytes = 0;  // these collections are small: seal them all the same
    opt.background_merges = false;  // a merge runs in the flush that starts it: counts are exact
    db = *Db::Open(dir.path(), opt);
    c = *db->CreateCollection("c", Schema(sq8));
  }
  void Close() {
    c.reset();
    db.reset();
  }
  void Reopen() {
    Close();
    db = *Db::Open(dir.path(), opt);
    c = *db->GetCollection("c");
  }
  // After a reopen the collection holds `m` and graph searches find it.
  void ExpectKeptAcrossReopen() {
    Reopen();
    EXPECT_EQ(testing::ScrollAll(*c), m);
    EXPECT_GE(Recall(*c, m, -1), 0.95);
  }

  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  Model m;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

TEST_F(Segments, FlushSealsNewPointsAndLeavesSealedSegmentsAlone) {
  Create();
  auto first = MakePoints(0, 600, 1);
  AddAndFlush(*c, first, &m);
  EXPECT_EQ(c->Info().segments, 1u);
  const auto sealed = SegmentFiles(dir);
  ASSERT_EQ(sealed.size(), 1u);
  const std::string sealed_bytes = ReadAll(CollectionDir(dir) + "/" + *sealed.begin());

  // New points, deletes and payload changes of sealed points, a re-upsert of a sealed id.
  auto second = MakePoints(600, 900, 2);
  Add(*c, second, &m);
  std::vector<PointId> gone = {PointId(uint64_t{3}), PointId(uint64_t{10}),
                               PointId(uint64_t{700})};
  ASSERT_EQ(*c->Delete(gone), 3u);
  for (const auto& id : gone) m.erase(id);
  std::vector<PointId> patched = {PointId(uint64_t{5}), PointId(uint64_t{6})};
  ASSERT_TRUE(c->SetPayload(patched, Json{{"note", "changed"}}).ok());
  for (const auto& id : patched) m[id].first["note"] = "changed";
  auto again = MakePoints(20, 22, 3);
  AddAndFlush(*c, again, &m);

  CollectionInfo info = c->Info();
  EXPECT_EQ(info.segments, 2u);
  EXPECT_EQ(info.points, m.size());
  EXPECT_EQ(SegmentFiles(dir).size(), 2u);
  // The first segment was not rewritten.
  EXPECT_EQ(ReadAll(CollectionDir(dir) + "/" + *sealed.begin()), sealed_bytes);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  EXPECT_GE(Recall(*c, m, 2), 0.95);  // filtered: each part's graph under its allow-set

  Reopen();
  info = c->Info();
  EXPECT_EQ(info.segments, 2u);
  EXPECT_TRUE(info.graphs_rebuilt.empty());  // each segment's graph was saved when it was sealed
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);

  // A compaction folds the segments and the delta into one segment.
  ASSERT_TRUE(c->Compact().ok());
  EXPECT_EQ(c->Info().segments, 1u);
  EXPECT_EQ(c->Info().deleted_pending, 0u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
}

// A snapshot carries the segments as they are (docs/snapshot_format.md): the restore has the same
// segments, loads their graphs, and replays the growing part from the log.
TEST_F(Segments, ASnapshotKeepsTheSegmentsAndRestoresWithoutARebuild) {
  Create();
  for (uint32_t round = 0; round < 2; ++round) {
    auto points = MakePoints(round * 400, round * 400 + 400, round + 30);
    AddAndFlush(*c, points, &m);
  }
  auto growing = MakePoints(800, 1000, 32);  // in the growing part, not sealed
  Add(*c, growing, &m);
  ASSERT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{2}), PointId(uint64_t{900})}).ok());
  m.erase(PointId(uint64_t{2}));
  m.erase(PointId(uint64_t{900}));
  const std::string snap = dir.path() + "/c.snapshot";
  ASSERT_TRUE(db->CreateSnapshot("c", snap).ok());
  auto r = db->RestoreSnapshot(snap, "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->Info().graphs_rebuilt.empty());
  EXPECT_EQ((*r)->Info().segments, 2u);
  EXPECT_EQ((*r)->Info().deleted_pending, c->Info().deleted_pending);
  EXPECT_EQ(testing::ScrollAll(**r), m);
  EXPECT_GE(Recall(**r, m, -1), 0.95);
}

TEST_F(Segments, ASmallCollectionIsCompactedAtEveryFlush) {
  Create();
  opt.compact_below_bytes = 100 * kDim * sizeof(float);  // 100 points' vectors
  Reopen();
  AddAndFlush(*c, MakePoints(0, 80, 40), &m);
  AddAndFlush(*c, MakePoints(80, 100, 41), &m);
  EXPECT_EQ(c->Info().segments, 1u);  // 100 points: compacted
  AddAndFlush(*c, MakePoints(100, 150, 42), &m);
  EXPECT_EQ(c->Info().segments, 2u);  // 150 points: sealed
  EXPECT_EQ(testing::ScrollAll(*c), m);
}

TEST_F(Segments, MaxSegmentsBoundsTheCountByMerging) {
  opt.max_segments = 3;
  Create();
  size_t most = 0;
  for (uint32_t round = 0; round < 8; ++round) {
    auto points = MakePoints(round * 100, round * 100 + 150, round + 10);  // overlaps the last
    AddAndFlush(*c, points, &m);
    most = std::max<size_t>(most, c->Info().segments);
    EXPECT_LE(SegmentFiles(dir).size(), 3u) << "round " << round;
  }
  EXPECT_EQ(most, 3u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  ExpectKeptAcrossReopen();
}

// Segments past half of max_segment_bytes are left as they are (but for deletes), and no merge
// makes one larger than it, though max_segments asks for fewer.
TEST_F(Segments, AMergeMakesNoSegmentPastMaxSegmentBytes) {
  opt.merge_factor = 2;
  opt.max_segments = 2;
  opt.max_segment_bytes = 4000 * kDim * sizeof(float);  // 4000 points; 2000 and more: full
  Create();
  for (uint32_t round = 0; round < 8; ++round)
    AddAndFlush(*c, MakePoints(round * 1200, round * 1200 + 1200, 100 + round), &m);
  // Pairs of 1200 merged into 2400 each; without the limit they would have gone on to 9600.
  const CollectionInfo info = c->Info();
  EXPECT_EQ(info.merges_done, 4u);
  EXPECT_EQ(info.segments, 4u);
  EXPECT_EQ(info.merges_pending, 0u);
  for (const std::string& f : SegmentFiles(dir)) {
    auto seg = storage::Segment::Open(Env::Default(), CollectionDir(dir) + "/" + f, /*map=*/true);
    ASSERT_TRUE(seg.ok()) << seg.status().ToString();
    EXPECT_EQ((*seg)->num_points(), 2400u) << f;
  }
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  // Deletes still hollow out a full segment enough to merge it alone.
  std::vector<PointId> gone;
  for (uint64_t id = 0; id < 2400; id += 2) gone.emplace_back(id);
  ASSERT_EQ(*c->Delete(gone), gone.size());
  for (const auto& id : gone) m.erase(id);
  EXPECT_EQ(c->Info().merges_done, 5u);
  EXPECT_EQ(c->Info().deleted_pending, 0u);
  ExpectKeptAcrossReopen();
}

// While merges lag (one held at its start here), sealed segments pile up past
// slowdown_segments and each upsert waits for them; once the merges catch up, writes go at
// full speed again. Nothing written is lost either way.
TEST_F(Segments, WritesSlowDownWhileMergesLagAndNotOnceTheyCatchUp) {
  opt.merge_factor = 2;
  opt.slowdown_segments = 2;
  Create();
  opt.background_merges = true;
  Reopen();
  HoldAt hold("CollectionImpl::BuildMerge:Start");
  AddAndFlush(*c, MakePoints(0, 300, 110), &m);
  AddAndFlush(*c, MakePoints(300, 600, 111), &m);  // two of one size: a merge starts, and waits
  ASSERT_TRUE(hold.Wait());
  AddAndFlush(*c, MakePoints(600, 900, 112), &m);  // written beside two segments: not over
  EXPECT_EQ(c->Info().writes_slowed, 0u);
  AddAndFlush(*c, MakePoints(900, 1200, 113), &m);  // three: 300 points wait 1 x 300 x 100 us
  EXPECT_EQ(c->Info().writes_slowed, 1u);
  Add(*c, MakePoints(1200, 1300, 114), &m);  // four: 100 points wait 2 x 100 x 100 us
  CollectionInfo info = c->Info();
  EXPECT_EQ(info.segments, 4u);
  EXPECT_EQ(info.writes_slowed, 2u);
  EXPECT_GE(info.write_slowdown_ms, 50u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  hold.Release();
  for (int i = 0; i < 600 && c->Info().merges_pending > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  info = c->Info();
  ASSERT_EQ(info.merges_pending, 0u);
  EXPECT_LE(info.segments, 2u);  // 1200 points sealed: 1200, or 600 + 600
  Add(*c, MakePoints(1300, 1400, 115), &m);
  EXPECT_EQ(c->Info().writes_slowed, 2u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  ExpectKeptAcrossReopen();
}

TEST_F(Segments, APayloadChangedInPlaceSurvivesLaterFlushes) {
  Create();
  AddAndFlush(*c, MakePoints(0, 300, 50), &m);
  ASSERT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{4})}, Json{{"note", "kept"}}).ok());
  m[PointId(uint64_t{4})].first["note"] = "kept";
  AddAndFlush(*c, MakePoints(300, 400, 51), &m);  // the delta lists the change
  AddAndFlush(*c, MakePoints(400, 500, 52), &m);  // and the next one still does
  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
}

// Flushes of about one size merge merge_factor at a time, in the flush that starts the merge
// here (background_merges is off): deletes, re-upserts and payload changes made before, and
// the payload indexes, follow the points to their new slots, on disk and in memory.
TEST_F(Segments, NeighboursOfOneSizeMergeAndKeepEveryChange) {
  opt.merge_factor = 2;
  Create();
  ASSERT_TRUE(c->CreatePayloadIndex("group", PayloadIndexType::kInteger).ok());
  ASSERT_TRUE(c->CreatePayloadIndex("note", PayloadIndexType::kText).ok());
  uint64_t next = 0;
  for (uint32_t round = 0; round < 6; ++round) {
    Add(*c, MakePoints(next, next + 300, 60 + round), &m);
    next += 300;
    // Changes to points sealed earlier: a delete, a re-upsert, a payload change.
    std::vector<PointId> gone = {PointId(uint64_t{round * 37 + 1})};
    ASSERT_TRUE(c->Delete(gone).ok());
    m.erase(gone[0]);
    Add(*c, MakePoints(round * 41 + 2, round * 41 + 3, 90 + round), &m);
    const PointId noted(uint64_t{round * 53 + 5});
    if (m.count(noted)) {
      ASSERT_TRUE(c->SetPayload(std::vector<PointId>{noted},
                                Json{{"note", "round " + std::to_string(round) + " lighthouse"}})
                      .ok());
      m[noted].first["note"] = "round " + std::to_string(round) + " lighthouse";
    }
    ASSERT_TRUE(c->Flush().ok());
    EXPECT_EQ(testing::ScrollAll(*c), m) << "round " << round;
  }
  const CollectionInfo info = c->Info();
  EXPECT_GE(info.merges_done, 3u);
  EXPECT_LE(info.segments, 3u);  // six flushes of 300: 1200 + 600 + 300 at most
  EXPECT_EQ(info.merges_pending, 0u);
  auto check = [&] {
    EXPECT_EQ(testing::ScrollAll(*c), m);
    EXPECT_GE(Recall(*c, m, -1), 0.95);
    EXPECT_GE(Recall(*c, m, 2), 0.95);  // filtered through the remapped integer index
    Filter f = *Filter::FromJson(Json{{"must", {{{"key", "group"}, {"match", {{"value", 3}}}}}}});
    size_t want = 0;
    for (const auto& [id, pv] : m) want += pv.first.value("group", -1) == 3;
    EXPECT_EQ(*c->Count(&f), want);
    TextSearchRequest t;
    t.fields = {"note"};
    t.query = "lighthouse";
    t.limit = 100;
    auto hits = c->SearchText(t);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    size_t noted = 0;
    for (const auto& [id, pv] : m) noted += pv.first.contains("note");
    EXPECT_EQ(hits->size(), noted);
    for (const auto& h : *hits) EXPECT_TRUE(m.at(h.id).first.contains("note"));
  };
  check();
  Reopen();
  EXPECT_TRUE(c->Info().graphs_rebuilt.empty());
  check();
}

// What the payload and text indexes answer: counts by group and tag, and text hits with scores.
std::vector<std::string> IndexAnswers(Collection& c) {
  std::vector<std::string> out;
  for (int g = 0; g < 4; ++g) {
    Filter f = *Filter::FromJson(Json{{"must", {{{"key", "group"}, {"match", {{"value", g}}}}}}});
    out.push_back("group " + std::to_string(g) + ": " + std::to_string(*c.Count(&f)));
  }
  for (const char* tag : {"t0", "t1", "t2"}) {
    Filter f = *Filter::FromJson(Json{{"must", {{{"key", "tag"}, {"match", {{"value", tag}}}}}}});
    out.push_back(std::string("tag ") + tag + ": " + std::to_string(*c.Count(&f)));
  }
  for (const char* q : {"lighthouse", "harbor storm", "round", "quiet"}) {
    TextSearchRequest t;
    t.fields = {"note"};
    t.query = q;
    t.limit = 1000;
    auto hits = c.SearchText(t);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok()) continue;
    std::string line = std::string(q) + ":";
    for (const auto& h : *hits) line += " " + h.id.ToString() + "=" + std::to_string(h.score);
    out.push_back(line);
  }
  return out;
}

size_t FilesEndingWith(const TempDir& dir, const std::string& ext) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(CollectionDir(dir)))
    n += e.path().filename().string().ends_with(ext);
  return n;
}

// Each sealed segment's index file holds exactly the index of the payloads its segment stores.
void ExpectIndexFilesMatchPayloads(const TempDir& dir, const std::map<std::string, PayloadIndexType>& defs) {
  size_t checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(CollectionDir(dir))) {
    if (e.path().extension() != ".seg") continue;
    auto seg = storage::Segment::Open(Env::Default(), e.path().string());
    ASSERT_TRUE(seg.ok()) << seg.status().ToString();
    const uint32_t n = static_cast<uint32_t>((*seg)->num_points());
    index::PayloadIndexSet from_file, from_payloads;
    for (const auto& [field, type] : defs) {
      ASSERT_TRUE(from_file.Create(field, type).ok());
      ASSERT_TRUE(from_payloads.Create(field, type).ok());
    }
    for (uint32_t i = 0; i < n; ++i) from_payloads.Insert(i, *(*seg)->DecodePayload(i));
    std::string idx = e.path().string();
    idx.replace(idx.size() - 3, 3, "idx");
    bool partial = false;
    auto loaded = from_file.Load(Env::Default(), idx, n, {0, {}}, &partial);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->size(), defs.size()) << idx;
    const std::string a = dir.path() + "/a.idx", b = dir.path() + "/b.idx";
    ASSERT_TRUE(from_file.Save(Env::Default(), a, n, {0, {}, n}).ok());
    ASSERT_TRUE(from_payloads.Save(Env::Default(), b, n, {0, {}, n}).ok());
    EXPECT_TRUE(ReadAll(a) == ReadAll(b)) << idx << " does not index its segment's payloads";
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

// Each segment's payload and text indexes are saved beside it (by flushes and merges, with the
// payloads changed and points deleted meanwhile) and loaded at open instead of being rebuilt from
// the payloads; what they answer is what a rebuild answers. A missing or damaged file is rebuilt
// and saved again.
TEST_F(Segments, IndexFilesAnswerAsARebuildWould) {
  opt.merge_factor = 2;
  Create();
  ASSERT_TRUE(c->CreatePayloadIndex("group", PayloadIndexType::kInteger).ok());
  ASSERT_TRUE(c->CreatePayloadIndex("note", PayloadIndexType::kText).ok());
  const char* words[] = {"lighthouse", "harbor", "storm", "quiet", "round", "keeper"};
  uint64_t next = 0;
  for (uint32_t round = 0; round < 5; ++round) {
    auto points = MakePoints(next, next + 300, 30 + round);
    for (auto& p : points) {
      const uint64_t id = p.id.num();
      p.payload["note"] = std::string(words[id % 6]) + " " + words[(id / 6) % 6] + " " + words[id % 5];
      p.payload["tag"] = "t" + std::to_string(id % 3);
    }
    Add(*c, points, &m);
    next += 300;
    if (round == 2) {  // an index created over points already sealed
      ASSERT_TRUE(c->CreatePayloadIndex("tag", PayloadIndexType::kKeyword).ok());
    }
    // Sealed points: deleted, re-upserted, their notes and groups changed.
    for (uint64_t id = round * 17 + 1; id < next; id += 97) {
      const PointId pid(id);
      if (!m.count(pid)) continue;
      if (id % 2) {
        ASSERT_TRUE(c->Delete(std::vector<PointId>{pid}).ok());
        m.erase(pid);
      } else {
        const Json change = {{"note", "quiet lighthouse round " + std::to_string(round)},
                             {"group", static_cast<int64_t>(round % 4)}};
        ASSERT_TRUE(c->SetPayload(std::vector<PointId>{pid}, change).ok());
        for (const auto& [k, v] : change.items()) m[pid].first[k] = v;
      }
    }
    Add(*c, MakePoints(round * 13 + 4, round * 13 + 5, 80 + round), &m);
    ASSERT_TRUE(c->Flush().ok());
  }
  ASSERT_GE(c->Info().merges_done, 2u);
  ExpectIndexFilesMatchPayloads(dir, c->PayloadIndexes());
  const std::vector<std::string> answers = IndexAnswers(*c);
  EXPECT_EQ(FilesEndingWith(dir, ".idx"), c->Info().segments);
  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_EQ(IndexAnswers(*c), answers);
  // Without the files: rebuilt from the payloads, the same answers, and saved again.
  const std::string cdir = CollectionDir(dir);
  std::vector<std::string> idx;
  for (const auto& e : std::filesystem::directory_iterator(cdir))
    if (e.path().extension() == ".idx") idx.push_back(e.path().string());
  ASSERT_FALSE(idx.empty());
  const std::string saved = ReadAll(idx[0]);
  for (const auto& f : idx) std::filesystem::remove(f);
  Reopen();
  EXPECT_EQ(IndexAnswers(*c), answers);
  EXPECT_EQ(FilesEndingWith(dir, ".idx"), idx.size());
  EXPECT_EQ(ReadAll(idx[0]), saved);
  // A damaged file: the same.
  std::string damaged = saved;
  damaged[damaged.size() / 2] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), idx[0], damaged).ok());
  Reopen();
  EXPECT_EQ(IndexAnswers(*c), answers);
  EXPECT_EQ(ReadAll(idx[0]), saved);
  EXPECT_EQ(testing::ScrollAll(*c), m);
}

// After an open, the text index of a sealed segment reads its lists from the segment's index
// file. Deleting its points, changing their notes and adding points beside them answers as the
// indexes rebuilt from the payloads do (scores included: the document frequencies leave out the
// deleted), before and after a compaction rewrites the segments.
TEST_F(Segments, TextListsReadFromTheFileFollowChangesToSealedPoints) {
  opt.merge_factor = 100;  // no merge until asked
  Create();
  ASSERT_TRUE(c->CreatePayloadIndex("note", PayloadIndexType::kText).ok());
  ASSERT_TRUE(c->CreatePayloadIndex("group", PayloadIndexType::kInteger).ok());
  const char* words[] = {"lighthouse", "harbor", "storm", "quiet", "round", "keeper"};
  for (uint64_t from : {0, 400}) {
    auto points = MakePoints(from, from + 400, 40);
    for (auto& p : points) {
      const uint64_t id = p.id.num();
      p.payload["note"] = std::string(words[id % 6]) + " " + words[(id / 7) % 6];
      p.payload["tag"] = "t" + std::to_string(id % 3);
    }
    Add(*c, points, &m);
    ASSERT_TRUE(c->Flush().ok());
  }
  const uint64_t heap_lists = c->Info().payload_index_bytes;
  Reopen();
  // The lists are the file's now: the indexes' heap is mostly the integer index's.
  EXPECT_LT(c->Info().payload_index_bytes, heap_lists / 2);
  const std::vector<std::string> before = IndexAnswers(*c);
  for (uint64_t id = 3; id < 800; id += 11) {
    const PointId pid(id);
    if (id % 2) {
      ASSERT_TRUE(c->Delete(std::vector<PointId>{pid}).ok());
      m.erase(pid);
    } else {
      const Json change = {{"note", "quiet quiet lighthouse"}, {"group", 3}};
      ASSERT_TRUE(c->SetPayload(std::vector<PointId>{pid}, change).ok());
      for (const auto& [k, v] : change.items()) m[pid].first[k] = v;
    }
  }
  auto more = MakePoints(800, 850, 41);
  for (auto& p : more) p.payload["note"] = "storm keeper round";
  Add(*c, more, &m);
  const std::vector<std::string> changed = IndexAnswers(*c);
  EXPECT_NE(changed, before);
  // The same answers from indexes rebuilt from the payloads.
  Close();
  for (const auto& e : std::filesystem::directory_iterator(CollectionDir(dir)))
    if (e.path().extension() == ".idx") std::filesystem::remove(e.path());
  Reopen();
  EXPECT_EQ(IndexAnswers(*c), changed);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  // And after a compaction rewrites them into one.
  Reopen();
  ASSERT_TRUE(c->Compact().ok());
  EXPECT_EQ(IndexAnswers(*c), changed);
  Reopen();
  EXPECT_EQ(IndexAnswers(*c), changed);
}

// Closing a collection whose log passed flush_on_close_bytes seals it first: the reopen replays
// nothing. A shorter log is left to replay.
TEST_F(Segments, ClosingSealsALongLog) {
  opt.flush_on_close_bytes = 256 << 10;
  Create();
  Add(*c, MakePoints(0, 100, 20), &m);  // a short log: replayed at the reopen
  Reopen();
  EXPECT_EQ(c->Info().segments, 0u);
  EXPECT_GT(c->Info().wal_bytes, 0u);
  Add(*c, MakePoints(100, 4000, 21), &m);
  ASSERT_GE(c->Info().wal_bytes, opt.flush_on_close_bytes);
  Reopen();
  const CollectionInfo info = c->Info();
  EXPECT_EQ(info.segments, 1u);
  EXPECT_LT(info.wal_bytes, 1024u);  // an empty log: its header
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
}

// A merge in the background: writes (to points of the segments being merged too), a flush and
// searches go on while it builds; what they did is all there once it is switched in, and after
// a reopen.
TEST_F(Segments, ABackgroundMergeLetsWritesAndFlushesGoOn) {
  opt.merge_factor = 2;
  Create();
  opt.background_merges = true;
  Reopen();
  ASSERT_TRUE(c->CreatePayloadIndex("group", PayloadIndexType::kInteger).ok());
  ASSERT_TRUE(c->CreatePayloadIndex("note", PayloadIndexType::kText).ok());
  HoldAt hold("CollectionImpl::BuildMerge:Start");
  AddAndFlush(*c, MakePoints(0, 400, 70), &m);
  // Deleted before the merge starts: it drops their slots, and every later slot moves down.
  std::vector<PointId> dropped = {PointId(uint64_t{5}), PointId(uint64_t{6})};
  ASSERT_EQ(*c->Delete(dropped), 2u);
  for (const auto& id : dropped) m.erase(id);
  AddAndFlush(*c, MakePoints(400, 800, 71), &m);  // two of one size: a merge starts, and waits
  ASSERT_TRUE(hold.Wait());
  EXPECT_EQ(c->Info().merges_pending, 1u);
  // Meanwhile: deletes, re-upserts and payload changes in the run being merged, new points,
  // a flush that seals them, searches.
  std::vector<PointId> gone = {PointId(uint64_t{3}), PointId(uint64_t{450})};
  ASSERT_EQ(*c->Delete(gone), 2u);
  for (const auto& id : gone) m.erase(id);
  Add(*c, MakePoints(10, 12, 72), &m);
  const Json change = {{"note", "quiet lighthouse"}, {"group", 3}};
  ASSERT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{500})}, change).ok());
  m[PointId(uint64_t{500})].first.update(change);
  AddAndFlush(*c, MakePoints(800, 900, 73), &m);
  Add(*c, MakePoints(900, 950, 74), &m);  // growing when the merge switches in
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  hold.Release();
  for (int i = 0; i < 600 && c->Info().merges_pending > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const CollectionInfo info = c->Info();
  EXPECT_EQ(info.merges_pending, 0u);
  EXPECT_GE(info.merges_done, 1u);
  EXPECT_TRUE(info.background_error.empty()) << info.background_error;
  // Points upserted after the switch go to the new growing part, numbered after the merged run.
  Add(*c, MakePoints(950, 1000, 75), &m);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  EXPECT_GE(Recall(*c, m, 1), 0.95);
  // The merged segment's index file indexes the payloads it holds (500's change came after the
  // merge read it, or before: either way the delta and the file agree at open).
  ExpectIndexFilesMatchPayloads(dir, c->PayloadIndexes());
  const std::vector<std::string> answers = IndexAnswers(*c);
  ExpectKeptAcrossReopen();
  EXPECT_EQ(IndexAnswers(*c), answers);
}

// A flush the log's size triggers runs in the background: writes (to the points being sealed
// too) and searches go on while it writes the segment; a crash before it commits loses nothing
// (the old manifest and log hold it all); once committed, the new log holds the records written
// meanwhile.
TEST_F(Segments, AFlushInTheBackgroundLetsWritesGoOn) {
  opt.wal_flush_bytes = 64 << 10;
  Create();
  ASSERT_TRUE(c->CreatePayloadIndex("note", PayloadIndexType::kText).ok());
  AddAndFlush(*c, MakePoints(0, 300, 80), &m);
  HoldAt hold("CollectionImpl::BuildSeal:Built");
  uint64_t next = 300;
  for (; !hold.held() && next < 5000; next += 50) Add(*c, MakePoints(next, next + 50, 81), &m);
  ASSERT_TRUE(hold.held()) << "no flush started by " << next;
  ASSERT_TRUE(hold.Wait());
  EXPECT_TRUE(c->Info().flushing);
  EXPECT_EQ(c->Info().segments, 1u);  // not committed yet
  // Meanwhile: deletes in the part being sealed and in the sealed segment, a payload change and
  // a re-upsert in the part being sealed, new points.
  std::vector<PointId> gone = {PointId(uint64_t{5}), PointId(uint64_t{310})};
  ASSERT_EQ(*c->Delete(gone), 2u);
  for (const auto& id : gone) m.erase(id);
  const Json change = {{"note", "amber lantern"}, {"group", 2}};
  ASSERT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{320})}, change).ok());
  m[PointId(uint64_t{320})].first.update(change);
  Add(*c, MakePoints(330, 332, 82), &m);
  Add(*c, MakePoints(next, next + 100, 83), &m);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  {
    // A crash now: the segment's files are written, CURRENT does not name them yet.
    TempDir crashed;
    std::filesystem::copy(dir.path(), crashed.path(),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    DbOptions o;
    auto db2 = Db::Open(crashed.path(), o);
    ASSERT_TRUE(db2.ok()) << db2.status().ToString();
    auto c2 = *(*db2)->GetCollection("c");
    EXPECT_EQ(testing::ScrollAll(*c2), m);
    EXPECT_EQ(c2->Info().segments, 1u);
  }
  hold.Release();
  ASSERT_TRUE(c->Flush().ok());  // waits for the background flush, then seals what followed
  const CollectionInfo info = c->Info();
  EXPECT_FALSE(info.flushing);
  EXPECT_TRUE(info.background_error.empty()) << info.background_error;
  EXPECT_EQ(info.segments, 3u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  ExpectIndexFilesMatchPayloads(dir, c->PayloadIndexes());
  const std::vector<std::string> answers = IndexAnswers(*c);
  ExpectKeptAcrossReopen();
  EXPECT_EQ(IndexAnswers(*c), answers);
}

// Once a flush commits, its part reads rows and payloads from the segment it wrote (mapped
// here: a budget of 0), not from the heap; a payload changed while the files were written stays
// as changed.
TEST_F(Segments, ASealedPartReadsItsSegmentInsteadOfTheHeap) {
  opt.wal_flush_bytes = 64 << 10;
  opt.segment_memory_budget_bytes = 0;
  Create();
  AddAndFlush(*c, MakePoints(0, 300, 90), &m);
  CollectionInfo info = c->Info();
  EXPECT_EQ(info.segment_mapped_bytes, info.segment_bytes);
  EXPECT_EQ(info.vector_bytes.at("v"), 0u);
  HoldAt hold("CollectionImpl::BuildSeal:Built");
  uint64_t next = 300;
  for (; !hold.held() && next < 5000; next += 50) Add(*c, MakePoints(next, next + 50, 91), &m);
  ASSERT_TRUE(hold.held()) << "no flush started by " << next;
  ASSERT_TRUE(hold.Wait());
  const Json change = {{"group", 9}};
  ASSERT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{310})}, change).ok());
  m[PointId(uint64_t{310})].first.update(change);
  EXPECT_GT(c->Info().vector_bytes.at("v"), 0u);  // the part being sealed is still in the heap
  hold.Release();
  ASSERT_TRUE(c->Flush().ok());
  info = c->Info();
  EXPECT_EQ(info.segments, 3u);
  EXPECT_EQ(info.segment_mapped_bytes, info.segment_bytes);
  EXPECT_EQ(info.vector_bytes.at("v"), 0u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  ExpectKeptAcrossReopen();
}

// Compact() and a snapshot wait for a flush in the background, and then hold every write.
TEST_F(Segments, CompactAndSnapshotWaitForABackgroundFlush) {
  opt.wal_flush_bytes = 64 << 10;
  Create();
  AddAndFlush(*c, MakePoints(0, 300, 85), &m);
  HoldAt hold("CollectionImpl::BuildSeal:Start");
  uint64_t next = 300;
  for (; !hold.held() && next < 5000; next += 50) Add(*c, MakePoints(next, next + 50, 86), &m);
  ASSERT_TRUE(hold.Wait());
  Add(*c, MakePoints(next, next + 20, 87), &m);
  auto compacted = std::async(std::launch::async, [&] { return c->Compact(); });
  EXPECT_EQ(compacted.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  hold.Release();
  ASSERT_TRUE(compacted.get().ok());
  EXPECT_EQ(c->Info().segments, 1u);
  EXPECT_FALSE(c->Info().flushing);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  // A snapshot taken while another background flush builds holds every write too.
  for (next += 20; !c->Info().flushing && next < 10000; next += 50)
    Add(*c, MakePoints(next, next + 50, 88), &m);
  const std::string snap = dir.path() + "/c.snapshot";
  ASSERT_TRUE(db->CreateSnapshot("c", snap).ok());
  ASSERT_TRUE(db->RestoreSnapshot(snap, "copy").ok());
  EXPECT_EQ(testing::ScrollAll(**db->GetCollection("copy")), m);
  ExpectKeptAcrossReopen();
}

// A background flush that fails (here: its delta file cannot be renamed into place) is reported,
// loses nothing, and is retried by a later write.
TEST_F(Segments, AFailedBackgroundFlushIsRetried) {
  opt.wal_flush_bytes = 64 << 10;
  Create();
  AddAndFlush(*c, MakePoints(0, 300, 90), &m);
  env.SetPathFilter(".del");
  env.FailRenames(true);
  auto wait_idle = [&] {
    for (int i = 0; i < 600 && c->Info().flushing; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  uint64_t next = 300;
  for (; c->Info().background_error.empty() && next < 5000; next += 50) {
    Add(*c, MakePoints(next, next + 50, 91), &m);
    wait_idle();
  }
  const std::string error = c->Info().background_error;
  EXPECT_NE(error.find("flushing collection 'c'"), std::string::npos) << error;
  EXPECT_EQ(c->Info().segments, 1u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  env.FailRenames(false);
  env.SetPathFilter("");
  Add(*c, MakePoints(next, next + 50, 92), &m);  // past the threshold: the flush starts again
  wait_idle();
  const CollectionInfo info = c->Info();
  EXPECT_TRUE(info.background_error.empty()) << info.background_error;
  EXPECT_EQ(info.segments, 2u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  ExpectKeptAcrossReopen();
}

// Deletes alone start a merge of the segment they hollowed out (no flush needed), and the
// retired slots go.
TEST_F(Segments, ASegmentWithManyDeletesIsMergedAlone) {
  Create();
  AddAndFlush(*c, MakePoints(0, 2000, 80), &m);
  AddAndFlush(*c, MakePoints(2000, 2100, 81), &m);
  std::vector<PointId> gone;
  for (uint64_t id = 0; id < 2000; id += 2) gone.emplace_back(id);
  for (uint64_t id = 1; id < 400; id += 2) gone.emplace_back(id);
  ASSERT_EQ(*c->Delete(gone), gone.size());
  for (const auto& id : gone) m.erase(id);
  const CollectionInfo info = c->Info();
  EXPECT_EQ(info.merges_done, 1u);
  EXPECT_EQ(info.segments, 2u);
  EXPECT_EQ(info.deleted_pending, 0u);
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.95);
  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_EQ(c->Info().deleted_pending, 0u);
}

TEST_F(Segments, SegmentsShareOneSq8Codec) {
  Create(/*sq8=*/true);
  for (uint32_t round = 0; round < 3; ++round) {
    auto points = MakePoints(round * 1200, round * 1200 + 1200, round + 20);
    AddAndFlush(*c, points, &m);
  }
  // The first flush merged its segment to train the codes; the later ones sealed with them.
  EXPECT_EQ(c->Info().segments, 3u);
  EXPECT_GE(Recall(*c, m, -1), 0.9);
  Reopen();
  EXPECT_TRUE(c->Info().graphs_rebuilt.empty());
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_GE(Recall(*c, m, -1), 0.9);
}

TEST_F(Segments, AVersion1DirectoryOpensAndMovesToVersion2AtTheNextFlush) {
  Create();
  Add(*c, MakePoints(0, 300, 4), &m);
  ASSERT_TRUE(c->Compact().ok());  // one segment, nothing retired: what version 1 wrote
  Close();
  // Rewrite CURRENT as version 1 named it, and drop what version 1 did not have.
  const std::string cdir = CollectionDir(dir);
  Json cur = Json::parse(ReadAll(cdir + "/CURRENT"));
  const uint64_t gen = cur["generation"].get<uint64_t>();
  ASSERT_EQ(cur["segments"].size(), 1u);
  ASSERT_EQ(cur["segments"][0]["gen"].get<uint64_t>(), gen);
  std::filesystem::remove(cdir + "/" + cur["delta"].get<std::string>());
  Json v1 = {{"format_version", 1},
             {"generation", gen},
             {"segment", collection::SegmentName(gen)},
             {"wal", collection::WalName(gen)}};
  std::ofstream(cdir + "/CURRENT", std::ios::trunc) << v1.dump(2) << "\n";

  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
  EXPECT_TRUE(c->Info().graphs_rebuilt.empty());
  Add(*c, MakePoints(300, 400, 5), &m);
  ASSERT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{1})}).ok());
  m.erase(PointId(uint64_t{1}));
  ASSERT_TRUE(c->Flush().ok());
  EXPECT_EQ(c->Info().segments, 2u);
  Json now = Json::parse(ReadAll(cdir + "/CURRENT"));
  EXPECT_EQ(now["format_version"], 2);
  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
}

TEST_F(Segments, ADamagedDeltaFileIsReportedAndRepairKeepsThePoints) {
  Create();
  AddAndFlush(*c, MakePoints(0, 200, 6), &m);
  ASSERT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{7})}).ok());
  m.erase(PointId(uint64_t{7}));
  AddAndFlush(*c, MakePoints(200, 250, 7), &m);
  Close();
  const std::string cdir = CollectionDir(dir);
  const std::string delta = Json::parse(ReadAll(cdir + "/CURRENT"))["delta"].get<std::string>();
  std::string bytes = ReadAll(cdir + "/" + delta);
  bytes[bytes.size() / 2] ^= 0x20;
  std::ofstream(cdir + "/" + delta, std::ios::binary | std::ios::trunc) << bytes;

  db = *Db::Open(dir.path(), opt);
  auto damaged = db->GetCollection("c");
  ASSERT_FALSE(damaged.ok());
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find(delta), std::string::npos)
      << damaged.status().ToString();
  auto report = db->RepairCollection("c");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // The points are kept; with the delta lost, the deleted one is back, and the report says so.
  Model got = testing::ScrollAll(**db->GetCollection("c"));
  ASSERT_EQ(got.count(PointId(uint64_t{7})), 1u);
  got.erase(PointId(uint64_t{7}));
  EXPECT_EQ(got, m);
  bool said = false;
  for (const auto& n : report->notes) said = said || n.find("deleted points may be back") != std::string::npos;
  EXPECT_TRUE(said);
}

// A flush that runs out of disk at any byte fails, keeps every point readable, and leaves files
// that reopen to the same points (the seal either committed or left no trace).
TEST_F(Segments, AFlushFailingAtAnyByteLosesNothing) {
  Create();
  AddAndFlush(*c, MakePoints(0, 200, 8), &m);
  int failed = 0;
  for (int64_t budget = 0; budget < 40000; budget += 1500) {
    auto points = MakePoints(1000 + budget, 1000 + budget + 20, 9);
    Add(*c, points, &m);
    ASSERT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{1})},
                              Json{{"budget", budget}}).ok());
    m[PointId(uint64_t{1})].first["budget"] = budget;
    env.SetWriteBudget(budget);
    Status s = c->Flush();
    env.SetWriteBudget(-1);
    failed += !s.ok();
    ASSERT_EQ(testing::ScrollAll(*c), m) << "budget " << budget << ": " << s.ToString();
  }
  EXPECT_GT(failed, 3);
  ASSERT_TRUE(c->Flush().ok());
  Close();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  Reopen();
  EXPECT_EQ(testing::ScrollAll(*c), m);
}

}  // namespace
}  // namespace mosaic
