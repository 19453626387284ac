// IdIndex: point id -> slot, renumbered by a merge without copying the id map.
#include "collection/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "util/test_scale.h"

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
  const SlotMap map(1, 3, 6, {kDropped, kDropped});  // 3, 4, 5 -> 1, 2, 3
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

// Past one chunk of keys: a merge near the end shares the chunks it does not renumber, and
// moving an id in the copy (which shares the ids, not the slots) leaves the original as it was.
TEST(IdIndex, ARenumberedCopySharesWhatItDoesNotChange) {
  constexpr uint32_t kPoints = 3 * KeySlots::kChunk + 100;
  IdIndex index;
  for (uint32_t i = 0; i < kPoints; ++i) index.Set(PointId{uint64_t{i}}, i);
  // A merge of the last 1000 slots dropping every other one.
  const uint32_t a = kPoints - 1000;
  std::vector<uint32_t> run(1000, UINT32_MAX);
  for (uint32_t i = 0; i < 1000; i += 2) run[i] = a + i / 2;
  IdIndex renumbered = index.Renumbered(SlotMap(a, kPoints, kPoints, run));
  const size_t shared_bytes = index.MemoryBytes();
  EXPECT_EQ(renumbered.Find(PointId{uint64_t{a + 2}}), std::optional<uint32_t>{a + 1});
  EXPECT_EQ(renumbered.Find(PointId{uint64_t{5}}), std::optional<uint32_t>{5});
  // Writes to the copy in a shared chunk and in its own.
  EXPECT_EQ(renumbered.Set(PointId{uint64_t{5}}, 7), std::optional<uint32_t>{5});
  EXPECT_EQ(renumbered.Set(PointId{uint64_t{a + 4}}, 9), std::optional<uint32_t>{a + 2});
  EXPECT_EQ(index.Find(PointId{uint64_t{5}}), std::optional<uint32_t>{5});
  EXPECT_EQ(index.Find(PointId{uint64_t{a + 4}}), std::optional<uint32_t>{a + 4});
  EXPECT_EQ(index.MemoryBytes(), shared_bytes);
  for (uint32_t i = 0; i < kPoints; i += 997) {
    ASSERT_EQ(index.Find(PointId{uint64_t{i}}), std::optional<uint32_t>{i}) << i;
    if (i != 5 && i < a) {
      ASSERT_EQ(renumbered.Find(PointId{uint64_t{i}}), std::optional<uint32_t>{i}) << i;
    }
  }
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
      index = index.Renumbered(SlotMap(0, next_slot, next_slot, map));
      for (auto& [i, slot] : model) slot = map[slot];
      next_slot = to;
    }
    ASSERT_EQ(index.size(), model.size());
  }
  std::vector<std::pair<PointId, uint32_t>> want(model.begin(), model.end());
  EXPECT_EQ(Entries(index), want);
}

// Enough numeric ids for many leaves: random sets and erases (in waves that empty whole ranges),
// string ids beside them, against a std::map; order, lookups and LowerBound agree throughout.
TEST(IdIndex, ManyLeavesAgreeWithAMapThroughInsertsAndErases) {
  std::mt19937_64 rng(11);
  IdIndex index;
  std::map<PointId, uint32_t> model;
  uint32_t slot = 0;
  auto check = [&](int wave) {
    ASSERT_EQ(index.size(), model.size()) << "wave " << wave;
    std::vector<std::pair<PointId, uint32_t>> want(model.begin(), model.end());
    ASSERT_EQ(Entries(index), want) << "wave " << wave;
    for (int q = 0; q < 2000; ++q) {
      const PointId probe = q % 10 == 0 ? PointId{"s" + std::to_string(rng() % 300)}
                                        : PointId{uint64_t{rng() % 220'000}};
      auto want_it = model.lower_bound(probe);
      auto got = index.LowerBound(probe);
      if (want_it == model.end()) {
        ASSERT_TRUE(got == index.end()) << probe.ToString();
      } else {
        ASSERT_FALSE(got == index.end()) << probe.ToString();
        ASSERT_EQ(got.id(), want_it->first) << probe.ToString();
        ASSERT_EQ(got.slot(), want_it->second);
      }
      auto found = model.find(probe);
      ASSERT_EQ(index.Find(probe),
                found == model.end() ? std::nullopt : std::optional<uint32_t>{found->second});
    }
  };
  const int waves = static_cast<int>(testing::Scaled(6, 3));
  for (int wave = 0; wave < waves; ++wave) {
    // Inserts (and moves) at random, mostly numbers.
    for (int i = 0; i < 60'000; ++i) {
      const PointId id = i % 50 == 0 ? PointId{"s" + std::to_string(rng() % 300)}
                                     : PointId{uint64_t{rng() % 200'000}};
      auto it = model.find(id);
      ASSERT_EQ(index.Set(id, slot),
                it == model.end() ? std::nullopt : std::optional<uint32_t>{it->second});
      model[id] = slot++;
    }
    check(wave);
    // Erases: a whole range (leaves emptied and dropped), then scattered ones.
    const uint64_t from = rng() % 150'000;
    for (uint64_t id = from; id < from + 40'000; ++id) {
      auto it = model.find(PointId{id});
      ASSERT_EQ(index.Erase(PointId{id}),
                it == model.end() ? std::nullopt : std::optional<uint32_t>{it->second});
      if (it != model.end()) model.erase(it);
    }
    for (int i = 0; i < 20'000; ++i) {
      const PointId id{uint64_t{rng() % 200'000}};
      auto it = model.find(id);
      ASSERT_EQ(index.Erase(id),
                it == model.end() ? std::nullopt : std::optional<uint32_t>{it->second});
      if (it != model.end()) model.erase(it);
    }
    check(wave);
  }
  // Ids past the end at every step (below them nothing moves) and beneath the first.
  for (uint64_t id = 300'000; id < 310'000; ++id) {
    index.Set(PointId{id}, slot);
    model[PointId{id}] = slot++;
  }
  index.Set(PointId{uint64_t{0}}, slot);
  model[PointId{uint64_t{0}}] = slot++;
  check(waves);
}

// Ascending ids, the usual load, fill their leaves: far less than a map's node per point.
TEST(IdIndex, AscendingIdsTakeAboutTwelveBytesEach) {
  IdIndex index;
  constexpr uint32_t kPoints = 1'000'000;
  for (uint32_t i = 0; i < kPoints; ++i) index.Set(PointId{uint64_t{i} * 3}, i);
  // 12 bytes per pair in full leaves, plus the key -> slot array's 4.
  EXPECT_LT(static_cast<double>(index.MemoryBytes()) / kPoints, 17.0);
  EXPECT_EQ(index.Find(PointId{uint64_t{2'999'997}}), std::optional<uint32_t>{999'999});
  EXPECT_EQ(index.Find(PointId{uint64_t{2'999'998}}), std::nullopt);
}

}  // namespace
}  // namespace mosaic::collection
