// Collection::SearchText through the public API: BM25 ranking over text-indexed payload fields,
// kept in step with upserts and deletes, filters and pages, and the same after a reopen (the
// index is rebuilt from the stored payloads).
#include <gtest/gtest.h>

#include "mosaic/db.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

using testing::TempDir;

CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", 2, Metric::kCosine, StorageType::kFloat32}};
  return s;
}

Point Doc(uint64_t id, const std::string& title, const std::string& body, const std::string& lang = "en") {
  Point p;
  p.id = id;
  p.vectors["v"] = {1, float(id)};
  p.payload = {{"title", title}, {"body", body}, {"lang", lang}};
  return p;
}

std::vector<uint64_t> Ids(const Result<std::vector<ScoredPoint>>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<uint64_t> ids;
  if (r.ok())
    for (const auto& p : *r) ids.push_back(p.id.num());
  return ids;
}

class TextSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    auto c = db_->CreateCollection("c", Schema());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    c_ = *c;
    std::vector<Point> docs = {
        Doc(1, "Cats and dogs", "A study of cats living with dogs in small flats."),
        Doc(2, "Dog training", "Training dogs takes patience; trained dogs obey."),
        Doc(3, "Cerebral white matter", "Diffusion tensor imaging of the newborn brain."),
        Doc(4, "Les chats", "Une étude des chats.", "fr"),
        Doc(5, "Brain imaging", "Imaging the brain of cats with MRI."),
    };
    ASSERT_TRUE(c_->Upsert(docs).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("title", PayloadIndexType::kText).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("body", PayloadIndexType::kText).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("lang", PayloadIndexType::kKeyword).ok());
  }
  void Open() {
    c_ = nullptr;
    db_.reset();
    auto db = Db::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    if (auto c = db_->GetCollection("c"); c.ok()) c_ = *c;
  }
  Result<std::vector<ScoredPoint>> Find(const std::string& q, std::vector<std::string> fields = {"title", "body"}) {
    TextSearchRequest r;
    r.fields = std::move(fields);
    r.query = q;
    return c_->SearchText(r);
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
  std::shared_ptr<Collection> c_;
};

TEST_F(TextSearchTest, RanksByBm25OverFields) {
  // Stems match across forms (dog/dogs, trained/training); only matching points come back.
  EXPECT_EQ(Ids(Find("dog training")), (std::vector<uint64_t>{2, 1}));
  auto brain = Find("brain imaging");
  EXPECT_EQ(Ids(brain), (std::vector<uint64_t>{5, 3}));  // 5 has both words in title and body
  EXPECT_GT((*brain)[0].score, (*brain)[1].score);
  EXPECT_EQ((*brain)[0].payload->at("title"), "Brain imaging");
  EXPECT_TRUE(Ids(Find("zebra")).empty());
  EXPECT_TRUE(Ids(Find("the of and")).empty());  // stopwords only
  // One field: "cats" is in 1's title but only in 5's body.
  EXPECT_EQ(Ids(Find("cats", {"title"})), (std::vector<uint64_t>{1}));
  // Scores add over fields.
  auto both = Find("cats");
  auto title = Find("cats", {"title"});
  auto body = Find("cats", {"body"});
  ASSERT_TRUE(both.ok() && title.ok() && body.ok());
  float t1 = 0, b1 = 0;
  for (const auto& p : *title) if (p.id.num() == 1) t1 = p.score;
  for (const auto& p : *body) if (p.id.num() == 1) b1 = p.score;
  for (const auto& p : *both) if (p.id.num() == 1) EXPECT_NEAR(p.score, t1 + b1, 1e-5);
  // Weighted: "title^0.25" counts a quarter of the title's score.
  auto weighted = Find("cats", {"title^0.25", "body"});
  ASSERT_TRUE(weighted.ok()) << weighted.status().ToString();
  for (const auto& p : *weighted) if (p.id.num() == 1) EXPECT_NEAR(p.score, 0.25f * t1 + b1, 1e-5);
  for (const char* bad : {"title^", "title^0", "title^-1", "title^x"}) {
    auto r = Find("cats", {bad});
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().ToString();
  }
}

TEST_F(TextSearchTest, FiltersPagesAndErrors) {
  TextSearchRequest r;
  r.fields = {"title", "body"};
  r.query = "cats chats";
  auto all = Ids(c_->SearchText(r));
  EXPECT_EQ(all.size(), 3u);  // 1, 4, 5
  r.filter = *Filter::FromJson(Json::parse(R"({"must": [{"key": "lang", "match": {"value": "fr"}}]})"));
  EXPECT_EQ(Ids(c_->SearchText(r)), (std::vector<uint64_t>{4}));
  r.filter.reset();
  r.limit = 2;
  auto page1 = Ids(c_->SearchText(r));
  r.offset = 2;
  auto page2 = Ids(c_->SearchText(r));
  ASSERT_EQ(page1.size(), 2u);
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_EQ((std::vector<uint64_t>{page1[0], page1[1], page2[0]}), all);
  r.offset = 0;
  r.with_payload = false;
  r.with_vectors = true;
  auto bare = c_->SearchText(r);
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE((*bare)[0].payload.has_value());
  EXPECT_EQ((*bare)[0].vectors.at("v").size(), 2u);

  auto no_index = Find("cats", {"lang"});
  ASSERT_FALSE(no_index.ok());
  EXPECT_TRUE(no_index.status().IsInvalidArgument());
  EXPECT_NE(no_index.status().message().find("'lang'"), std::string::npos) << no_index.status().ToString();
  EXPECT_TRUE(Find("cats", {}).status().IsInvalidArgument());
  r.b = 1.5f;
  EXPECT_TRUE(c_->SearchText(r).status().IsInvalidArgument());
}

TEST_F(TextSearchTest, FollowsWritesAndSurvivesReopen) {
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{Doc(6, "Zebra stripes", "Why zebras have stripes.")}).ok());
  EXPECT_EQ(Ids(Find("zebra")), (std::vector<uint64_t>{6}));
  ASSERT_TRUE(c_->Upsert(std::vector<Point>{Doc(2, "Horse riding", "Riding horses.")}).ok());  // replaced
  EXPECT_EQ(Ids(Find("dog training")), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Ids(Find("horse")), (std::vector<uint64_t>{2}));
  std::vector<PointId> gone = {PointId(uint64_t{1})};
  ASSERT_TRUE(c_->Delete(gone).ok());
  EXPECT_TRUE(Ids(Find("dogs")).empty());
  ASSERT_TRUE(c_->SetPayload(std::vector<PointId>{PointId(uint64_t{3})}, {{"title", "Zebra brains"}}).ok());
  EXPECT_EQ(Ids(Find("zebra", {"title"})), (std::vector<uint64_t>{3, 6}));  // a tie: by id

  auto before = Find("brain zebra imaging");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(c_->Flush().ok());
  Open();
  ASSERT_NE(c_, nullptr);
  auto after = Find("brain zebra imaging");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(Ids(after), Ids(before));
  for (size_t i = 0; i < after->size(); ++i) EXPECT_FLOAT_EQ((*after)[i].score, (*before)[i].score);
  EXPECT_EQ(c_->Info().payload_indexes.at("body"), PayloadIndexType::kText);
}

}  // namespace
}  // namespace mosaic
