// SlotIds: the id of every slot, in sealed runs that a merge replaces without copying the rest.
#include "collection/slot_ids.h"

#include <gtest/gtest.h>

#include <random>

namespace mosaic::collection {
namespace {

std::vector<PointId> All(const SlotIds& ids) {
  std::vector<PointId> out;
  for (size_t slot = 0; slot < ids.size(); ++slot) out.push_back(ids[slot]);
  return out;
}

TEST(SlotIds, RunsSealedGrowingAndAMerge) {
  SlotIds ids;
  ids.AppendRun({1, 2, 3});     // a segment read at open: slots 0-2
  ids.AppendRun({"a", "b"});    // 3-4
  ids.push_back(10);            // growing: 5-6
  ids.push_back(11);
  EXPECT_EQ(ids.size(), 7u);
  const SlotIds::Run sealed = ids.SealGrowing();  // a flush takes 5-6
  EXPECT_EQ(*sealed, (std::vector<PointId>{10, 11}));
  ids.push_back(12);  // the next growing run: slot 7
  EXPECT_EQ(All(ids), (std::vector<PointId>{1, 2, 3, "a", "b", 10, 11, 12}));

  // Merging slots [3, 7) keeps "b" and 11: the slots after move down by two.
  auto merged = std::make_shared<const std::vector<PointId>>(std::vector<PointId>{"b", 11});
  SlotIds after = ids.Merged(3, 7, merged);
  EXPECT_EQ(All(after), (std::vector<PointId>{1, 2, 3, "b", 11, 12}));
  EXPECT_EQ(All(ids), (std::vector<PointId>{1, 2, 3, "a", "b", 10, 11, 12}));  // unchanged
  after.push_back(13);
  EXPECT_EQ(after[6], PointId{13});
  EXPECT_EQ(ids.size(), 8u);

  // A merge that keeps nothing.
  SlotIds emptied = after.Merged(0, 3, std::make_shared<const std::vector<PointId>>());
  EXPECT_EQ(All(emptied), (std::vector<PointId>{"b", 11, 12, 13}));
}

// Random appends, seals and merges of whole runs against a plain vector.
TEST(SlotIds, AgreesWithAVectorThroughSealsAndMerges) {
  std::mt19937 rng(11);
  SlotIds ids;
  std::vector<PointId> model;
  std::vector<uint32_t> bounds = {0};  // run boundaries of the sealed slots, ascending
  uint64_t next_id = 0;
  for (int step = 0; step < 3000; ++step) {
    const int what = static_cast<int>(rng() % 10);
    if (what < 6) {
      ids.push_back(next_id);
      model.emplace_back(next_id++);
    } else if (what < 8) {
      const SlotIds::Run run = ids.SealGrowing();
      const uint32_t sealed = bounds.back() + static_cast<uint32_t>(run->size());
      if (sealed > bounds.back()) bounds.push_back(sealed);
    } else if (bounds.size() > 2) {
      // Runs [i, j) merged, keeping every other id.
      const size_t i = rng() % (bounds.size() - 1);
      const size_t j = i + 1 + rng() % (bounds.size() - 1 - i);
      const uint32_t a = bounds[i], b = bounds[j];
      auto kept = std::make_shared<std::vector<PointId>>();
      for (uint32_t slot = a; slot < b; slot += 2) kept->push_back(model[slot]);
      SlotIds merged = ids.Merged(a, b, kept);
      ASSERT_EQ(All(ids), model) << "step " << step;  // the original is left as it was
      ids = std::move(merged);
      model.erase(model.begin() + a, model.begin() + b);
      model.insert(model.begin() + a, kept->begin(), kept->end());
      const uint32_t shift = (b - a) - static_cast<uint32_t>(kept->size());
      bounds.erase(bounds.begin() + i + 1, bounds.begin() + j + 1);
      if (!kept->empty()) bounds.insert(bounds.begin() + i + 1, a + static_cast<uint32_t>(kept->size()));
      for (size_t k = i + (kept->empty() ? 1 : 2); k < bounds.size(); ++k) bounds[k] -= shift;
    }
    ASSERT_EQ(ids.size(), model.size());
  }
  EXPECT_EQ(All(ids), model);
}

}  // namespace
}  // namespace mosaic::collection
