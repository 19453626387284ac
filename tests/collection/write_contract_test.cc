// The write contract (docs/reliability.md, "What a returned error means"; issue 14 item 4): a
// write that returns an error is not visible after a reopen, and a flush that writes trigger and
// that fails is reported (Info, metrics) and, when it keeps failing, refuses writes until it works.
#include <gtest/gtest.h>

#include <vector>

#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::FaultEnv;
using testing::PointModel;
using testing::TempDir;

CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", 8, Metric::kL2, StorageType::kFloat32, {}}};
  return s;
}

std::vector<Point> Batch(uint64_t first, uint64_t n) {
  std::vector<Point> pts;
  for (uint64_t id = first; id < first + n; ++id) {
    Point p;
    p.id = id;
    p.vectors["v"].assign(8, static_cast<float>(id));
    p.payload = {{"id", id}};
    pts.push_back(p);
  }
  return pts;
}

void Add(const std::vector<Point>& pts, PointModel* m) {
  for (const Point& p : pts) (*m)[p.id] = {p.payload, p.vectors.at("v")};
}

PointModel Reopened(const std::string& path) {
  auto db = Db::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return {};
  return testing::ScrollAll(**(*db)->GetCollection("c"));
}

// An fsync of the log that fails: the write is reported not made, and a reopen does not replay
// it (it used to: the record had reached the file, only its sync had failed).
TEST(WriteContract, AWriteWhoseLogSyncFailedIsNotReplayed) {
  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  opt.env = &env;
  PointModel model;
  {
    auto db = *Db::Open(dir.path(), opt);
    auto c = *db->CreateCollection("c", Schema());
    auto first = Batch(0, 5);
    ASSERT_TRUE(c->Upsert(first).ok());
    Add(first, &model);
    env.SetPathFilter("wal-");
    env.FailSyncs(true);
    Status s = c->Upsert(Batch(100, 3));
    ASSERT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.message().find("the write was not made"), std::string::npos) << s.ToString();
    EXPECT_EQ(testing::ScrollAll(*c), model);
    env.FailSyncs(false);
    // The log refuses writes until the database is reopened (the kernel may have dropped pages).
    EXPECT_FALSE(c->Upsert(Batch(200, 1)).ok());
  }
  EXPECT_EQ(Reopened(dir.path()), model);
}

// Flushes that writes trigger and that fail: the writes are durable, Info reports the failure,
// a third failure in a row makes writes refuse (the log would grow without bound), and once the
// disk takes the segment again the next write flushes and goes through.
TEST(WriteContract, FailingTriggeredFlushesAreReportedThenRefuseWrites) {
  TempDir dir;
  FaultEnv env;
  DbOptions opt;
  opt.env = &env;
  opt.wal_flush_bytes = 64;  // every write triggers a flush
  PointModel model;
  {
    auto db = *Db::Open(dir.path(), opt);
    auto c = *db->CreateCollection("c", Schema());
    env.SetPathFilter(".seg");
    env.SetWriteBudget(0);  // segment files cannot be written
    uint64_t next = 0;
    for (int i = 0; i < 3; ++i) {
      auto b = Batch(next, 4);
      next += 4;
      Status s = c->Upsert(b);
      ASSERT_TRUE(s.ok()) << "write " << i << ": " << s.ToString();
      Add(b, &model);
      EXPECT_NE(c->Info().background_error, "") << "after write " << i;
    }
    Status refused = c->Upsert(Batch(next, 4));
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("refuses writes"), std::string::npos) << refused.ToString();
    EXPECT_EQ(testing::ScrollAll(*c), model);
    env.SetWriteBudget(-1);
    auto b = Batch(next, 4);
    ASSERT_TRUE(c->Upsert(b).ok());
    Add(b, &model);
    EXPECT_EQ(c->Info().background_error, "");
    EXPECT_GT(c->Info().segment_bytes, 0u);
  }
  EXPECT_EQ(Reopened(dir.path()), model);
}

}  // namespace
}  // namespace mosaic
