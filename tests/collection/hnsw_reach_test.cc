// Every live point of an HNSW-indexed collection is found by a wide search after points of the
// segment are upserted again and deleted, both live and once the WAL is replayed onto the saved
// graph. The sweep that found the hole (docs/hnsw_format.md, "Reachability") lost a point in about
// 1 database of 400; tests/index/hnsw_test.cc reproduces its causes deterministically, this test
// checks the whole path.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "mosaic/db.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

Point MakePoint(uint64_t id, int round) {
  Point p;
  p.id = id;
  std::vector<float>& v = p.vectors["v"];
  for (uint64_t d = 0; d < 8; ++d) v.push_back(float((id * 31 + d * 7 + round) % 97));
  p.payload = {{"color", id % 3 == 0 ? "red" : "blue"}, {"round", round}};
  return p;
}

// The ids of live points that a search for their own vector (limit and ef far above the point
// count) does not return.
std::vector<uint64_t> Missing(const Collection& c, const std::map<uint64_t, Point>& live) {
  std::vector<uint64_t> missing;
  for (const auto& [id, p] : live) {
    SearchRequest r;
    r.vector = p.vectors.at("v");
    r.limit = 100;
    r.ef = 500;
    auto hits = c.Search(r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok()) continue;
    if (std::none_of(hits->begin(), hits->end(),
                     [&want = p.id](const ScoredPoint& h) { return h.id == want; })) {
      missing.push_back(id);
    }
  }
  return missing;
}

std::vector<uint64_t> MissingAfterReplaceAndDelete(bool reopen) {
  testing::TempDir dir;
  CollectionSchema schema;
  schema.vectors = {{"v", 8, Metric::kL2, StorageType::kFloat32}};
  schema.vectors[0].index.kind = IndexKind::kHnsw;
  schema.vectors[0].index.m = 8;
  schema.vectors[0].index.ef_construction = 32;
  DbOptions options;
  options.sync = SyncPolicy::kNever;  // durability is not what this test is about
  std::map<uint64_t, Point> live;
  std::vector<Point> first, second;
  for (uint64_t id = 0; id < 24; ++id) first.push_back(MakePoint(id, 1));
  for (uint64_t id = 16; id < 32; ++id) second.push_back(MakePoint(id, 2));
  for (const Point& p : first) live[p.id.num()] = p;
  for (const Point& p : second) live[p.id.num()] = p;
  std::vector<PointId> deleted;
  for (uint64_t id = 1; id <= 9; ++id) {
    deleted.push_back(id);
    live.erase(id);
  }
  {
    auto db = Db::Open(dir.path(), options);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return {};
    auto c = (*db)->CreateCollection("c", schema);
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return {};
    EXPECT_TRUE((*c)->Upsert(first).ok());
    EXPECT_TRUE((*c)->Flush().ok());
    EXPECT_TRUE((*c)->Upsert(second).ok());  // 8 ids of the segment again, 8 new ones
    EXPECT_TRUE((*c)->Delete(deleted).ok());
    if (!reopen) return Missing(**c, live);
  }
  auto db = Db::Open(dir.path(), options);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return {};
  auto c = (*db)->GetCollection("c");
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return {};
  return Missing(**c, live);
}

TEST(HnswReach, EveryLivePointIsFoundLiveAndAfterReplay) {
  for (int run = 0; run < 20; ++run) {
    for (bool reopen : {false, true}) {
      std::vector<uint64_t> missing = MissingAfterReplaceAndDelete(reopen);
      ASSERT_TRUE(missing.empty()) << "run " << run << (reopen ? ", reopened" : ", live")
                                   << ": point " << missing[0] << " is found by no search";
    }
  }
}

}  // namespace
}  // namespace mosaic
