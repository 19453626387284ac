// Collection operations through the public API, each checked against an in-test model of what
// the collection should hold.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mosaic/db.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

using testing::TempDir;

CollectionSchema TwoVectors() {
  CollectionSchema s;
  s.vectors = {{"img", 4, Metric::kL2, StorageType::kFloat32},
               {"txt", 3, Metric::kCosine, StorageType::kFloat32}};
  return s;
}

Point MakePoint(uint64_t id, float x) {
  Point p;
  p.id = id;
  p.vectors["img"] = {x, x + 1, x + 2, x + 3};
  p.vectors["txt"] = {1, x, 0};
  p.payload = {{"n", id}, {"color", id % 2 ? "red" : "blue"}};
  return p;
}

class CollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto c = db_->CreateCollection("c", TwoVectors());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    c_ = *c;
  }
  void Reopen() {
    c_.reset();
    db_.reset();
    auto db = Db::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    c_ = *db_->GetCollection("c");
  }
  TempDir dir_;
  std::unique_ptr<Db> db_;
  std::shared_ptr<Collection> c_;
};

TEST_F(CollectionTest, UpsertGetCountDelete) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 10; ++i) pts.push_back(MakePoint(i, float(i)));
  ASSERT_TRUE(c_->Upsert(pts).ok());
  EXPECT_EQ(*c_->Count(), 10u);
  std::vector<PointId> ids = {3, 99, 7};
  auto got = c_->Get(ids);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);  // 99 is missing
  EXPECT_EQ((*got)[0].id, PointId(3));
  EXPECT_EQ((*got)[0].payload["color"], "red");
  EXPECT_EQ((*got)[0].vectors["img"], (std::vector<float>{3, 4, 5, 6}));
  // Cosine vectors are stored normalized.
  float norm = std::hypot((*got)[0].vectors["txt"][0], (*got)[0].vectors["txt"][1]);
  EXPECT_NEAR(norm, 1.0f, 1e-6);

  std::vector<PointId> del = {3, 4, 1000};
  EXPECT_EQ(*c_->Delete(del), 2u);
  EXPECT_EQ(*c_->Count(), 8u);
  EXPECT_TRUE(c_->Get(std::vector<PointId>{3})->empty());
}

TEST_F(CollectionTest, UpsertReplacesAndSearchSeesLatest) {
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{MakePoint(1, 0), MakePoint(2, 10)}).ok());
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{MakePoint(1, 20)}).ok());
  EXPECT_EQ(*c_->Count(), 2u);
  SearchRequest r;
  r.vector_name = "img";
  r.vector = {20, 21, 22, 23};
  r.limit = 5;
  auto hits = c_->Search(r);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, PointId(1));
  EXPECT_FLOAT_EQ((*hits)[0].score, 0.0f);
  EXPECT_FLOAT_EQ((*hits)[1].score, 20.0f);  // euclidean distance from (10..13)
}

TEST_F(CollectionTest, ReplaceDeletesAndUpsertsAtomicallyAndSurvivesReplay) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 6; ++i) pts.push_back(MakePoint(i, float(i)));
  ASSERT_TRUE(c_->Upsert(pts).ok());
  // Replace points 0..3 by 2 (new content), 10 and 11; 4, 5 stay; 77 does not exist.
  std::vector<PointId> remove = {uint64_t{0}, 1, 2, 3, 77};
  std::vector<Point> add = {MakePoint(2, 50), MakePoint(10, 60), MakePoint(11, 70)};
  ASSERT_TRUE(c_->Replace(remove, add).ok());
  auto check = [&] {
    EXPECT_EQ(*c_->Count(), 5u);
    auto got = c_->Get(std::vector<PointId>{uint64_t{0}, 1, 2, 3, 4, 5, 10, 11});
    ASSERT_TRUE(got.ok());
    std::vector<PointId> ids;
    for (const auto& p : *got) ids.push_back(p.id);
    EXPECT_EQ(ids, (std::vector<PointId>{2, 4, 5, 10, 11}));
    EXPECT_EQ((*got)[0].vectors["img"], (std::vector<float>{50, 51, 52, 53}));
    SearchRequest r;
    r.vector_name = "img";
    r.vector = {0, 1, 2, 3};  // exactly the removed point 0
    r.limit = 1;
    auto hits = c_->Search(r);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ((*hits)[0].id, PointId(4));
  };
  check();
  Reopen();  // replayed from the log
  check();
  ASSERT_TRUE(c_->Flush().ok());
  Reopen();  // read from the segment
  check();
  // An invalid point rejects the whole replace: nothing is deleted.
  Point bad = MakePoint(20, 1);
  bad.vectors["img"] = {1, 2};
  std::vector<PointId> remove2 = {4, 5};
  EXPECT_EQ(c_->Replace(remove2, std::vector<Point>{bad}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*c_->Count(), 5u);
}

TEST_F(CollectionTest, StringIdsAndScrollOrder) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 25; ++i) pts.push_back(MakePoint(i, float(i)));
  Point s = MakePoint(0, 1);
  s.id = PointId("550e8400-e29b-41d4-a716-446655440000");
  pts.push_back(s);
  ASSERT_TRUE(c_->Upsert(pts).ok());
  std::vector<PointId> seen;
  ScrollRequest r;
  r.limit = 7;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = c_->Scroll(r);
    ASSERT_TRUE(page.ok());
    for (const auto& p : page->points) seen.push_back(p.id);
    if (!page->next_offset) break;
    r.offset = page->next_offset;
  }
  ASSERT_EQ(seen.size(), 26u);
  for (uint64_t i = 0; i < 25; ++i) EXPECT_EQ(seen[i], PointId(i));
  EXPECT_EQ(seen[25], PointId("550e8400-e29b-41d4-a716-446655440000"));
}

TEST_F(CollectionTest, ScrollWithFilter) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 30; ++i) pts.push_back(MakePoint(i, float(i)));
  ASSERT_TRUE(c_->Upsert(pts).ok());
  ScrollRequest r;
  r.limit = 4;
  r.filter = *Filter::Parse(R"({"must":[{"key":"color","match":{"value":"red"}}]})");
  size_t total = 0;
  for (;;) {
    auto page = c_->Scroll(r);
    ASSERT_TRUE(page.ok());
    for (const auto& p : page->points) {
      EXPECT_EQ(p.payload["color"], "red");
      ++total;
    }
    if (!page->next_offset) break;
    r.offset = page->next_offset;
  }
  EXPECT_EQ(total, 15u);
}

TEST_F(CollectionTest, PayloadUpdates) {
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{MakePoint(1, 0), MakePoint(2, 1)}).ok());
  std::vector<PointId> one = {1};
  ASSERT_TRUE(c_->SetPayload(one, {{"color", "green"}, {"size", 3}}).ok());
  auto p = c_->Get(one)->at(0).payload;
  EXPECT_EQ(p, Json({{"n", 1}, {"color", "green"}, {"size", 3}}));
  std::vector<std::string> keys = {"size", "n"};
  ASSERT_TRUE(c_->DeletePayloadKeys(one, keys).ok());
  EXPECT_EQ(c_->Get(one)->at(0).payload, Json({{"color", "green"}}));
  ASSERT_TRUE(c_->OverwritePayload(one, {{"only", true}}).ok());
  EXPECT_EQ(c_->Get(one)->at(0).payload, Json({{"only", true}}));
  Reopen();
  EXPECT_EQ(c_->Get(one)->at(0).payload, Json({{"only", true}}));
  // A missing id changes nothing.
  std::vector<PointId> both = {2, 77};
  Status s = c_->SetPayload(both, {{"x", 1}});
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("77"), std::string::npos);
  EXPECT_FALSE(c_->Get(std::vector<PointId>{2})->at(0).payload.contains("x"));
}

TEST_F(CollectionTest, DeleteByFilterAndCount) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 40; ++i) pts.push_back(MakePoint(i, float(i)));
  ASSERT_TRUE(c_->Upsert(pts).ok());
  auto f = *Filter::Parse(R"({"must":[{"key":"n","range":{"gte":10,"lt":20}}]})");
  EXPECT_EQ(*c_->Count(&f), 10u);
  EXPECT_EQ(*c_->DeleteByFilter(f), 10u);
  EXPECT_EQ(*c_->Count(&f), 0u);
  EXPECT_EQ(*c_->Count(), 30u);
  Reopen();
  EXPECT_EQ(*c_->Count(), 30u);
}

TEST_F(CollectionTest, PointsWithoutAVectorAreNotSearchedOnIt) {
  Point a = MakePoint(1, 0);
  Point b = MakePoint(2, 0);
  b.vectors.erase("img");
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{a, b}).ok());
  SearchRequest r;
  r.vector_name = "img";
  r.vector = {0, 1, 2, 3};
  auto hits = c_->Search(r);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, PointId(1));
  r.vector_name = "txt";
  r.vector = {1, 0, 0};
  EXPECT_EQ(c_->Search(r)->size(), 2u);
  ASSERT_TRUE(c_->Flush().ok());
  Reopen();
  r.vector_name = "img";
  r.vector = {0, 1, 2, 3};
  EXPECT_EQ(c_->Search(r)->size(), 1u);
}

}  // namespace
}  // namespace mosaic
