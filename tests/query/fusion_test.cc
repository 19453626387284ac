// Rank fusion against rankings computed by hand.
#include "query/fusion.h"

#include <gtest/gtest.h>

namespace mosaic::query {
namespace {

Ranked List(std::vector<std::pair<uint64_t, float>> items, bool higher_is_better = true) {
  Ranked r;
  r.higher_is_better = higher_is_better;
  for (auto [id, score] : items)
    r.items.push_back({PointId(id), score, {}});
  return r;
}

std::vector<uint64_t> Ids(const Ranked& r) {
  std::vector<uint64_t> ids;
  for (const auto& c : r.items)
    ids.push_back(c.id.num());
  return ids;
}

TEST(Rrf, MatchesHandComputedScores) {
  // a: 1, 2, 3     b: 3, 4, 1     k = 60
  // 1: 1/61 + 1/63 = 0.032266   3: 1/63 + 1/61 = 0.032266 (tie, id order)   2: 1/62   4: 1/62
  Ranked a = List({{1, 0.9f}, {2, 0.8f}, {3, 0.7f}});
  Ranked b = List({{3, 12}, {4, 11}, {1, 10}});
  std::vector<FusionInput> in = {{&a, 1, 10}, {&b, 1, 11}};
  Ranked f = FuseRrf(in, 60);
  EXPECT_EQ(Ids(f), (std::vector<uint64_t>{1, 3, 2, 4}));
  EXPECT_NEAR(f.items[0].score, 1.0 / 61 + 1.0 / 63, 1e-7);
  EXPECT_NEAR(f.items[2].score, 1.0 / 62, 1e-7);
  EXPECT_TRUE(f.higher_is_better);
}

TEST(Rrf, WeightsAndRanksFromOne) {
  // With k = 0 the top of a list scores weight / 1. a (weight 2): 5, 6; b (weight 1): 6, 7.
  // 5: 2/1 = 2   6: 2/2 + 1/1 = 2 (tie: id order)   7: 1/2
  Ranked a = List({{5, 1}, {6, 1}});
  Ranked b = List({{6, 1}, {7, 1}});
  std::vector<FusionInput> in = {{&a, 2, 0}, {&b, 1, 1}};
  Ranked f = FuseRrf(in, 0);
  EXPECT_EQ(Ids(f), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_FLOAT_EQ(f.items[0].score, 2.0f);
  EXPECT_FLOAT_EQ(f.items[1].score, 2.0f);
  EXPECT_FLOAT_EQ(f.items[2].score, 0.5f);
}

TEST(Rrf, NegativeListPushesDownAndFindsNothingOnItsOwn) {
  // want: 1, 2, 3; avoid (weight -1): 1, 9. k = 1:
  // 1: 1/2 - 1/2 = 0   2: 1/3   3: 1/4   9: only avoided -> not a result
  Ranked want = List({{1, 1}, {2, 1}, {3, 1}});
  Ranked avoid = List({{1, 1}, {9, 1}});
  std::vector<FusionInput> in = {{&want, 1, 0}, {&avoid, -1, 1}};
  Ranked f = FuseRrf(in, 1);
  EXPECT_EQ(Ids(f), (std::vector<uint64_t>{2, 3, 1}));
  EXPECT_FLOAT_EQ(f.items[2].score, 0.0f);
}

TEST(Rrf, RecordsEachListsContribution) {
  Ranked a = List({{1, 1}, {2, 1}});
  Ranked b = List({{2, 1}});
  a.items[0].ranks.push_back({7, 1, 1, 0});
  a.items[1].ranks.push_back({7, 2, 1, 0});
  b.items[0].ranks.push_back({8, 1, 1, 0});
  std::vector<FusionInput> in = {{&a, 1, 7}, {&b, 1, 8}};
  Ranked f = FuseRrf(in, 60);
  ASSERT_EQ(f.items[0].id, PointId(2));
  ASSERT_EQ(f.items[0].ranks.size(), 2u);
  for (const NodeRank& r : f.items[0].ranks)
    EXPECT_NEAR(r.contribution, r.node == 7 ? 1.0 / 62 : 1.0 / 61, 1e-7);
}

TEST(Rrf, CompleteOnlyWhenEveryListIs) {
  Ranked a = List({{1, 1}});
  Ranked b = List({{2, 1}});
  a.complete = true;
  std::vector<FusionInput> in = {{&a, 1, 0}, {&b, 1, 1}};
  EXPECT_FALSE(FuseRrf(in, 60).complete);
  b.complete = true;
  EXPECT_TRUE(FuseRrf(in, 60).complete);
}

TEST(Dbsf, MatchesHandComputedScores) {
  // a: scores 3, 2, 1 -> mean 2, sample sd 1 -> [-1, 5] -> (s + 1) / 6: 4/6, 3/6, 2/6
  // b (distances, smaller better): 1, 3 -> negated -1, -3: mean -2, sd sqrt(2)
  //   lo = -2 - 3 sqrt2, range 6 sqrt2: id 20 (-1): (1 + 3 sqrt2) / (6 sqrt2), id 1 (-3): (3 sqrt2
  //   - 1) / (6 sqrt2)
  Ranked a = List({{1, 3}, {2, 2}, {3, 1}});
  Ranked b = List({{20, 1}, {1, 3}}, /*higher_is_better=*/false);
  std::vector<FusionInput> in = {{&a, 1, 0}, {&b, 1, 1}};
  Ranked f = FuseDbsf(in);
  const double s2 = std::sqrt(2.0);
  const double b20 = (1 + 3 * s2) / (6 * s2), b1 = (3 * s2 - 1) / (6 * s2);
  std::map<uint64_t, double> want = {{1, 4.0 / 6 + b1}, {2, 3.0 / 6}, {3, 2.0 / 6}, {20, b20}};
  ASSERT_EQ(f.items.size(), 4u);
  for (const auto& c : f.items)
    EXPECT_NEAR(c.score, want[c.id.num()], 1e-6) << c.id.ToString();
  EXPECT_EQ(Ids(f), (std::vector<uint64_t>{1, 20, 2, 3}));
}

TEST(Dbsf, SingleItemAndFlatListsScoreHalf) {
  Ranked one = List({{1, 42}});
  Ranked flat = List({{2, 5}, {3, 5}});
  std::vector<FusionInput> in = {{&one, 2, 0}, {&flat, 1, 1}};
  Ranked f = FuseDbsf(in);
  std::map<uint64_t, float> got;
  for (const auto& c : f.items)
    got[c.id.num()] = c.score;
  EXPECT_FLOAT_EQ(got[1], 1.0f);
  EXPECT_FLOAT_EQ(got[2], 0.5f);
  EXPECT_FLOAT_EQ(got[3], 0.5f);
}

}  // namespace
}  // namespace mosaic::query
