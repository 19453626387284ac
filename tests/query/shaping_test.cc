// Autocut, MMR and group-by on hand-made lists.
#include "query/shaping.h"

#include <gtest/gtest.h>

namespace mosaic::query {
namespace {

TEST(Autocut, CutsAtTheFirstLargeDrop) {
  std::vector<float> s = {0.90f, 0.89f, 0.88f, 0.40f, 0.39f, 0.38f, 0.37f, 0.36f};
  EXPECT_EQ(AutocutLength(s, 1), 3u);
  // The second jump: none as large after the first, the list runs on to its end.
  std::vector<float> two = {0.9f, 0.89f, 0.5f, 0.49f, 0.1f, 0.09f, 0.08f};
  EXPECT_EQ(AutocutLength(two, 1), 2u);
  EXPECT_EQ(AutocutLength(two, 2), 4u);
}

TEST(Autocut, ADropAtTheEnd) {
  std::vector<float> s = {1.0f, 0.99f, 0.98f, 0.2f};
  EXPECT_EQ(AutocutLength(s, 1), 3u);
  std::vector<float> first = {6.0f, 2.1f, 2.0f, 1.9f, 1.8f, 1.5f};
  EXPECT_EQ(AutocutLength(first, 1), 1u);
}

TEST(Autocut, DistancesRunTheOtherWay) {
  std::vector<float> d = {0.1f, 0.11f, 0.12f, 0.9f, 0.91f, 0.92f};
  EXPECT_EQ(AutocutLength(d, 1), 3u);
}

TEST(Autocut, KeepsEverythingWithoutAJump) {
  std::vector<float> even = {5, 4, 3, 2, 1};
  EXPECT_EQ(AutocutLength(even, 1), 5u);
  std::vector<float> same = {1, 1, 1};
  EXPECT_EQ(AutocutLength(same, 1), 3u);
  std::vector<float> two = {1, 0};
  EXPECT_EQ(AutocutLength(two, 1), 2u);
}

TEST(Mmr, DiversityZeroKeepsRelevanceOrder) {
  Ranked r;
  for (uint64_t i = 0; i < 4; ++i)
    r.items.push_back({PointId(i), 1.0f - 0.1f * i, {}});
  std::vector<std::vector<float>> v = {{1, 0}, {1, 0}, {0, 1}, {1, 1}};
  auto order = MmrOrder(r, 0.0f, 4, [&](size_t i) { return &v[i]; });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(Mmr, PicksTheDifferentOneSecond) {
  // Relevance scaled: 1, 2/3, 1/3, 0. Diversity 0.5. After picking 0 ([1,0]):
  //   1 ([1,0], sim 1): 0.5 * 2/3 - 0.5 * 1 = -1/6
  //   2 ([0,1], sim 0): 0.5 * 1/3 - 0 = 1/6          <- picked
  //   3 ([1,1], sim 0.707): 0 - 0.354
  // then 1: 1/3 - 0.5 = -1/6 vs 3: -0.354 -> 1, then 3.
  Ranked r;
  for (uint64_t i = 0; i < 4; ++i)
    r.items.push_back({PointId(i), 4.0f - i, {}});
  std::vector<std::vector<float>> v = {{1, 0}, {1, 0}, {0, 1}, {1, 1}};
  auto order = MmrOrder(r, 0.5f, 4, [&](size_t i) { return &v[i]; });
  EXPECT_EQ(order, (std::vector<size_t>{0, 2, 1, 3}));
}

TEST(Mmr, CandidateWithoutVectorIsSimilarToNothing) {
  Ranked r;
  for (uint64_t i = 0; i < 3; ++i)
    r.items.push_back({PointId(i), 3.0f - i, {}});
  std::vector<std::vector<float>> v = {{1, 0}, {1, 0}, {}};
  auto order = MmrOrder(r, 0.9f, 3, [&](size_t i) { return v[i].empty() ? nullptr : &v[i]; });
  EXPECT_EQ(order, (std::vector<size_t>{0, 2, 1}));
}

TEST(GroupHits, FirstSeenOrderSizesAndArrays) {
  std::vector<Json> keys = {"a", "b", "a", Json::array({"b", "c"}), Json(), "a", "d", 7};
  auto groups = GroupHits(
      keys.size(), [&](size_t i) { return keys[i]; }, 2, 3);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].key, "a");
  EXPECT_EQ(groups[0].members, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(groups[1].key, "b");
  EXPECT_EQ(groups[1].members, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(groups[2].key, "c");
  EXPECT_EQ(groups[2].members, (std::vector<size_t>{3}));
}

TEST(GroupHits, OnlyBegunGroupsGrowOnceEnoughExist) {
  std::vector<Json> keys = {"a", "b", "c", "a", "b"};
  auto groups = GroupHits(
      keys.size(), [&](size_t i) { return keys[i]; }, 2, 2);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].members, (std::vector<size_t>{0, 3}));
  EXPECT_EQ(groups[1].members, (std::vector<size_t>{1, 4}));
}

}  // namespace
}  // namespace mosaic::query
