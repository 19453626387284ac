// PayloadIndexParts: indexes kept per segment answer as one index over all the slots would.
#include "index/filter/payload_index_parts.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "mosaic/filter.h"

namespace mosaic::index {
namespace {

const std::map<std::string, PayloadIndexType> kDefs = {{"kw", PayloadIndexType::kKeyword},
                                                       {"i", PayloadIndexType::kInteger},
                                                       {"f", PayloadIndexType::kFloat},
                                                       {"d", PayloadIndexType::kDatetime},
                                                       {"t", PayloadIndexType::kText}};

Json RandomPayload(std::mt19937& rng) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  static const char* kWords[] = {"harbor", "storm", "lighthouse", "quiet", "keeper",
                                 "signal", "rock",  "tide",       "lamp",  "night"};
  Json p = Json::object();
  if (pick(10) < 9) p["kw"] = "k" + std::to_string(pick(20));
  if (pick(10) == 0) p["kw"] = 7;  // a value the keyword index does not key: an other
  const int r = pick(10);
  if (r < 7)
    p["i"] = pick(101) - 50;
  else if (r < 8)
    p["i"] = pick(101) - 50 + 0.5;  // unkeyed in an integer index
  else if (r < 9)
    p["i"] = Json::array({pick(10), pick(10) + 20});
  if (pick(2) == 0) p["f"] = (pick(1000) - 500) / 7.0;
  if (pick(3) == 0)
    p["d"] = "2024-0" + std::to_string(1 + pick(9)) + "-1" + std::to_string(pick(10));
  std::string text;
  for (int w = pick(8); w > 0; --w)
    text += std::string(kWords[pick(10)]) + " ";
  if (!text.empty()) p["t"] = text;
  return p;
}

class PayloadIndexPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i)
      payloads_.push_back(RandomPayload(rng));
    whole_ = *PayloadIndexParts::NewSet(kDefs);
    for (uint32_t slot = 0; slot < payloads_.size(); ++slot)
      whole_->Insert(slot, payloads_[slot]);
    // Parts from slots 0, 1000 (empty: a segment whose points were all deleted), 1000, 2300.
    one_.parts().push_back({0, whole_});
    for (uint32_t first : {0u, 1000u, 1000u, 2300u})
      parts_.parts().push_back({first, *PayloadIndexParts::NewSet(kDefs)});
    // The last part's points in two steps, as new points are (tokenized before the lock).
    for (uint32_t slot = 0; slot < payloads_.size(); ++slot) {
      if (slot < 2300)
        parts_.Insert(slot, payloads_[slot]);
      else
        parts_.Insert(slot, payloads_[slot], parts_.Prepare(payloads_[slot]));
    }
    // A point erased and one changed, through the parts.
    parts_.Erase(1500, payloads_[1500]);
    whole_->Erase(1500, payloads_[1500]);
    payloads_[2400]["kw"] = "k3";
    parts_.Erase(2400, payloads_[2400]);
    whole_->Erase(2400, payloads_[2400]);
  }

  std::vector<Json> payloads_;
  std::shared_ptr<PayloadIndexSet> whole_;
  PayloadIndexParts one_, parts_;
};

TEST_F(PayloadIndexPartsTest, CandidatesAndOthersAreThoseOfOneIndex) {
  auto id_to_slot = [](const PointId& id) -> std::optional<uint32_t> {
    return static_cast<uint32_t>(id.num());
  };
  for (
      const char* json :
      {R"({"must": [{"key": "kw", "match": {"value": "k3"}}]})",
       R"({"must": [{"key": "i", "range": {"gte": -5, "lt": 12}}]})",
       R"({"must": [{"key": "f", "range": {"gt": 3.5}}]})",
       R"({"must": [{"key": "t", "match": {"text": "storm keeper"}}]})",
       R"({"should": [{"key": "kw", "match": {"any": ["k1", "k2"]}}, {"has_id": [5, 1200, 2999]}]})",
       R"({"must": [{"key": "d", "range": {"gte": "2024-03-01T00:00:00Z"}}]})"}) {
    auto f = Filter::FromJson(Json::parse(json));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    bool exact_one = false, exact_parts = false;
    auto want = one_.Candidates(f->root(), id_to_slot, &exact_one);
    auto got = parts_.Candidates(f->root(), id_to_slot, &exact_parts);
    ASSERT_TRUE(want.has_value()) << json;
    ASSERT_TRUE(got.has_value()) << json;
    EXPECT_EQ(*got, *want) << json;
    EXPECT_EQ(exact_parts, exact_one) << json;
  }
  for (const char* field : {"kw", "i", "f", "d"}) {
    ASSERT_TRUE(one_.Others(field).has_value());
    EXPECT_EQ(parts_.Others(field), one_.Others(field)) << field;
  }
  EXPECT_FALSE(parts_.Others("t").has_value());
  EXPECT_FALSE(parts_.Others("nope").has_value());
}

TEST_F(PayloadIndexPartsTest, KeyWalksJoinThePartsInKeyOrder) {
  const std::vector<std::pair<std::string, Json>> walks = {
      {"i", Json()},    {"i", Json(3)}, {"f", Json()},
      {"f", Json(1.5)}, {"d", Json()},  {"d", Json("2024-05-01T00:00:00Z")}};
  for (const auto& walk_of : walks)
    for (bool descending : {false, true}) {
      const std::string& field = walk_of.first;
      const Json& cursor = walk_of.second;
      const Json* from = cursor.is_null() ? nullptr : &cursor;
      auto walk = [&](const PayloadIndexParts& p, size_t stop_after) {
        std::vector<std::vector<uint32_t>> groups;
        EXPECT_TRUE(p.WalkKeys(field, descending, from, [&](const std::vector<uint32_t>& g) {
          groups.push_back(g);
          return groups.size() < stop_after;
        }));
        return groups;
      };
      const auto all = walk(one_, SIZE_MAX);
      EXPECT_GT(all.size(), 5u) << field;
      EXPECT_EQ(walk(parts_, SIZE_MAX), all) << field << (descending ? " desc" : " asc");
      EXPECT_EQ(walk(parts_, 3), walk(one_, 3)) << field;  // stops when asked
    }
  EXPECT_FALSE(parts_.WalkKeys("kw", false, nullptr, [](const auto&) { return true; }));
}

TEST_F(PayloadIndexPartsTest, FacetCountsAndBm25ScoresAreThoseOfOneIndex) {
  for (const auto& facet : std::vector<std::pair<std::string, FacetBucket>>{
           {"kw", FacetBucket::kValue}, {"i", FacetBucket::kValue}, {"d", FacetBucket::kMonth}}) {
    const std::string& field = facet.first;
    const FacetBucket bucket = facet.second;
    auto count = [&](const PayloadIndexParts& p) {
      std::map<std::string, size_t> counts;
      EXPECT_TRUE(p.ForEachFacetValue(
          field, bucket,
          [&](const Json& v, const std::vector<uint32_t>& s) { counts[v.dump()] += s.size(); }));
      return counts;
    };
    const auto want = count(one_);
    EXPECT_GT(want.size(), 3u) << field;
    EXPECT_EQ(count(parts_), want) << field;
  }
  for (const char* query : {"storm", "quiet lighthouse keeper", "tide tide night", "absent"}) {
    ScoreAccumulator want(payloads_.size()), got(payloads_.size());
    ASSERT_TRUE(one_.ScoreText("t", query, 1.2f, 0.75f, 1.0f, &want));
    ASSERT_TRUE(parts_.ScoreText("t", query, 1.2f, 0.75f, 1.0f, &got));
    ASSERT_EQ(got.score.size(), want.score.size());
    for (size_t slot = 0; slot < want.score.size(); ++slot)
      EXPECT_FLOAT_EQ(got.score[slot], want.score[slot]) << query << " slot " << slot;
  }
  ScoreAccumulator unused;
  EXPECT_FALSE(parts_.ScoreText("kw", "k3", 1.2f, 0.75f, 1.0f, &unused));
}

}  // namespace
}  // namespace mosaic::index
