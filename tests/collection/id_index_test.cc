// IdIndex: point id -> slot, renumbered by a merge without copying the id map.
#include "collection/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace mosaic::collection {
namespace {

// The (id, slot) pairs of `index` in its iteration order.
std::vector<std::pair<PointId, uint32_t>> Entries(const IdIndex& index) {
  std::vector<std::pair<PointId, uint32_t>> out;
  for (auto it = index.begin(); it != index.end(); ++it) out.emplace_back(it.id(), it.slot());
  return out;
}

TEST(IdIndex, SetFindEraseAndWalkInIdOrder) {
  IdIndex index;
  EXPECT_EQ(index.Set(PointId{"b"}, 3), std::nullopt);
  EXPECT_EQ(index.Set(PointId{7}, 0), std::nullopt);
  EXPECT_EQ(index.Set(PointId{"a"}, 5), std::nullopt);
  EXPECT_EQ(index.Set(PointId{"b"}, 9), std::optional<uint32_t>{3});  // moved: the old slot back
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find(PointId{"b"}), std::optional<uint32_t>{9});
  EXPECT_EQ(index.Find(PointId{8}), std::nullopt);
  EXPECT_TRUE(index.Contains(PointId{7}));
  // Numbers before strings (PointId's order), then by value.
  const std::vector<std::pair<PointId, uint32_t>> want = {{7, 0}, {"a", 5}, {"b", 9}};
  EXPECT_EQ(Entries(index), want);
  EXPECT_EQ(index.LowerBound(PointId{"a"}).slot(), 5u);
  EXPECT_EQ(index.LowerBound(PointId{"aa"}).id(), PointId{"b"});
  EXPECT_TRUE(index.LowerBound(PointId{"c"}) == index.end());

  EXPECT_EQ(index.Erase(PointId{7}), std::optional<uint32_t>{0});
  EXPECT_EQ(index.Erase(PointId{7}), std::nullopt);
  EXPECT_FALSE(index.Contains(PointId{7}));
  EXPECT_EQ(index.Set(PointId{1}, 12), std::nullopt);  // reuses the erased id's key
  EXPECT_EQ(index.Find(PointId{1}), std::optional<uint32_t>{12});
  EXPECT_EQ(index.Find(PointId{"a"}), std::optional<uint32_t>{5});
  EXPECT_EQ(index.size(), 3u);
}

TEST(IdIndex, RenumberedLeavesTheOriginalAsItWas) {
  IdIndex index;
  for (uint32_t i = 0; i < 6; ++i) index.Set(PointId{uint64_t{100 + i}}, i);
  index.Erase(PointId{102});
  // Slots 1 and 2 dropped (a merge of [1, 4) keeping 3), the rest moved down by two.
  const uint32_t kDropped = UINT32_MAX;
  const std::vector<uint32_t> map = {0, kDropped, kDropped, 1, 2, 3};
  index.Erase(PointId{101});
  IdIndex renumbered = index.Renumbered(map);
  const std::vector<std::pair<PointId, uint32_t>> before = {{100, 0}, {103, 3}, {104, 4}, {105, 5}};
  const std::vector<std::pair<PointId, uint32_t>> after = {{100, 0}, {103, 1}, {104, 2}, {105, 3}};
  EXPECT_EQ(Entries(index), before);  // what searches read until the switch
  EXPECT_EQ(Entries(renumbered), after);
  // The copy takes writes on from there.
  EXPECT_EQ(renumbered.Set(PointId{103}, 4), std::optional<uint32_t>{1});
  EXPECT_EQ(renumbered.Set(PointId{200}, 5), std::nullopt);
  EXPECT_EQ(renumbered.Find(PointId{200}), std::optional<uint32_t>{5});
  EXPECT_EQ(renumbered.size(), 5u);
}

// Random sets, erases and merges against a std::map of the same pairs.
TEST(IdIndex, AgreesWithAMapThroughWritesAndMerges) {
  std::mt19937 rng(7);
  IdIndex index;
  std::map<PointId, uint32_t> model;
  uint32_t next_slot = 0;
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t id = rng() % 500;
    const int what = static_cast<int>(rng() % 100);
    if (what < 60) {
      auto it = model.find(id);
      const std::optional<uint32_t> was =
          it == model.end() ? std::nullopt : std::optional<uint32_t>{it->second};
      ASSERT_EQ(index.Set(PointId{id}, next_slot), was) << "step " << step;
      model[id] = next_slot++;
    } else if (what < 95) {
      auto it = model.find(id);
      const std::optional<uint32_t> was =
          it == model.end() ? std::nullopt : std::optional<uint32_t>{it->second};
      ASSERT_EQ(index.Erase(PointId{id}), was) << "step " << step;
      if (it != model.end()) model.erase(it);
    } else {
      // A merge of every slot: the live ones keep their order, the dead ones go.
      std::vector<uint32_t> map(next_slot, UINT32_MAX);
      std::vector<bool> live(next_slot);
      for (const auto& [i, slot] : model) live[slot] = true;
      uint32_t to = 0;
      for (uint32_t slot = 0; slot < next_slot; ++slot)
        if (live[slot]) map[slot] = to++;
      index = index.Renumbered(map);
      for (auto& [i, slot] : model) slot = map[slot];
      next_slot = to;
    }
    ASSERT_EQ(index.size(), model.size());
  }
  std::vector<std::pair<PointId, uint32_t>> want(model.begin(), model.end());
  EXPECT_EQ(Entries(index), want);
}

}  // namespace
}  // namespace mosaic::collection
