// PayloadStore: payloads read on demand from segments, held once changed, renumbered by a merge.
#include "collection/payload_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "index/slot_io.h"
#include "util/fault_env.h"

namespace mosaic::collection {
namespace {

using testing::TempDir;

Json PayloadOf(const std::string& tag, size_t i) { return {{"tag", tag}, {"i", i}}; }

// A segment of `n` points whose payloads are PayloadOf(tag, i), opened in memory or mapped.
std::shared_ptr<const storage::Segment> MakeSegment(const std::string& path,
                                                    const std::string& tag, size_t n, bool map) {
  std::vector<PointId> ids;
  std::vector<Json> payloads;
  for (size_t i = 0; i < n; ++i) {
    ids.emplace_back(uint64_t{i});
    payloads.push_back(PayloadOf(tag, i));
  }
  const std::vector<float> row(4, 1.0f);
  storage::SegmentContents c;
  c.num_points = n;
  c.dims = {4};
  c.id = [&](size_t i) -> const PointId& { return ids[i]; };
  c.payload = [&](size_t i) -> const Json& { return payloads[i]; };
  c.vector = [&](size_t, size_t) { return row.data(); };
  EXPECT_TRUE(storage::WriteSegment(Env::Default(), path, c).ok());
  auto seg = storage::Segment::Open(Env::Default(), path, map);
  EXPECT_TRUE(seg.ok()) << seg.status().ToString();
  return std::move(seg).value();
}

// Payloads appended, sealed by a flush, then merged away while the next growing run goes on.
TEST(PayloadStore, AMergeReplacesASealedGrowingRunAndKeepsTheNextOne) {
  TempDir dir;
  PayloadStore store;
  for (size_t i = 0; i < 4; ++i) store.Append(PayloadOf("g", i));  // slots 0..3
  store.SealGrowing();
  store.Append(PayloadOf("next", 0));  // slots 4, 5: a run of their own
  store.Append(PayloadOf("next", 1));
  store.Set(4, PayloadOf("changed", 4));
  // Slots 1 and 3 kept, as the merged segment's points 0 and 1.
  const SlotMap map(0, 4, 6, {index::kDroppedSlot, 0, index::kDroppedSlot, 1});  // 4, 5 -> 2, 3
  PayloadStore after = store.Merged(0, 4, map, MakeSegment(dir / "m.seg", "m", 2, true), 2,
                                    Bitset(4));
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after.Copy(0), PayloadOf("m", 0));
  EXPECT_EQ(after.Copy(1), PayloadOf("m", 1));
  EXPECT_EQ(after.Copy(2), PayloadOf("changed", 4));
  EXPECT_EQ(after.Copy(3), PayloadOf("next", 1));
  EXPECT_EQ(store.Copy(1), PayloadOf("g", 1));  // the store merged from, as it was
  after.Append(PayloadOf("next", 2));           // the growing run goes on
  EXPECT_EQ(after.size(), 5u);
  EXPECT_EQ(after.Copy(4), PayloadOf("next", 2));
  after.Set(0, PayloadOf("changed", 0));  // held in the merged run from now on
  EXPECT_EQ(after.Copy(0), PayloadOf("changed", 0));
  EXPECT_EQ(after.Copy(1), PayloadOf("m", 1));
}

// A flush sealed slots 2..4 and wrote them to a segment (as "s"); slot 3 changed after it was
// written and stays held; the others are read from the segment and their held copies freed.
TEST(PayloadStore, ASealedRunReadsTheSegmentItWasWrittenTo) {
  TempDir dir;
  PayloadStore store;
  store.AppendSegment(MakeSegment(dir / "a.seg", "a", 2, false), 2);  // slots 0, 1
  for (size_t i = 0; i < 3; ++i) store.Append(PayloadOf("held", i));  // slots 2..4
  store.SealGrowing();
  store.Append(PayloadOf("next", 0));  // slot 5
  Bitset keep(5);
  keep.Set(3);
  EXPECT_EQ(store.SegmentBytes(false), std::filesystem::file_size(dir / "a.seg"));
  auto freed = store.UseSegment(2, 3, MakeSegment(dir / "s.seg", "s", 3, true), keep);
  ASSERT_NE(freed, nullptr);
  EXPECT_EQ(freed->size(), 3u);
  EXPECT_EQ(store.SegmentBytes(true), std::filesystem::file_size(dir / "s.seg"));
  EXPECT_EQ(store.Copy(1), PayloadOf("a", 1));
  EXPECT_EQ(store.Copy(2), PayloadOf("s", 0));
  EXPECT_EQ(store.Copy(3), PayloadOf("held", 1));
  EXPECT_EQ(store.Copy(4), PayloadOf("s", 2));
  EXPECT_EQ(store.Copy(5), PayloadOf("next", 0));
  store.Append(PayloadOf("next", 1));  // the growing run goes on
  EXPECT_EQ(store.Copy(6), PayloadOf("next", 1));
  store.Set(4, PayloadOf("changed", 4));
  EXPECT_EQ(store.Copy(4), PayloadOf("changed", 4));
  EXPECT_EQ(store.Copy(2), PayloadOf("s", 0));
  // Not a sealed run's start or size: nothing changes.
  EXPECT_EQ(store.UseSegment(3, 2, MakeSegment(dir / "t.seg", "t", 2, true), Bitset(7)), nullptr);
  EXPECT_EQ(store.Copy(3), PayloadOf("held", 1));
}

TEST(PayloadStore, ReadsFromSegmentsHoldsWhatChangedAndFollowsAMerge) {
  TempDir dir;
  PayloadStore store;
  store.AppendSegment(MakeSegment(dir / "a.seg", "a", 5, false), 5);  // slots 0..4
  store.AppendSegment(MakeSegment(dir / "b.seg", "b", 3, true), 3);   // slots 5..7
  store.AppendSegment(nullptr, 2);                                    // lost: slots 8, 9
  store.Append(PayloadOf("grown", 0));                                // slot 10
  ASSERT_EQ(store.size(), 11u);
  Json scratch;
  EXPECT_EQ(store.Get(3, &scratch), PayloadOf("a", 3));
  EXPECT_EQ(store.Copy(6), PayloadOf("b", 1));
  EXPECT_TRUE(store.Copy(8).is_null());
  EXPECT_EQ(store.Copy(10), PayloadOf("grown", 0));
  store.Set(6, PayloadOf("changed", 6));
  EXPECT_EQ(store.Copy(6), PayloadOf("changed", 6));
  EXPECT_EQ(store.SegmentBytes(false),
            std::filesystem::file_size(dir / "a.seg") + std::filesystem::file_size(dir / "b.seg"));
  EXPECT_EQ(store.SegmentBytes(true), std::filesystem::file_size(dir / "b.seg"));

  // Merge slots [5, 10) (b's and the lost ones) into m: slots 7 and 8 dropped, so m holds what
  // were slots 5, 6, 9 as its points 0, 1, 2; slot 10 moves to 8. Slot 6 (now 6) changed again
  // during the merge and stays held; m's copy of it is older.
  const SlotMap map(5, 10, 11, {5, 6, index::kDroppedSlot, index::kDroppedSlot, 7});  // 10 -> 8
  std::vector<PointId> ids = {PointId(uint64_t{5}), PointId(uint64_t{6}), PointId(uint64_t{9})};
  std::vector<Json> merged = {PayloadOf("m", 0), PayloadOf("stale", 1), PayloadOf("m", 2)};
  const std::vector<float> row(4, 1.0f);
  storage::SegmentContents c;
  c.num_points = 3;
  c.dims = {4};
  c.id = [&](size_t i) -> const PointId& { return ids[i]; };
  c.payload = [&](size_t i) -> const Json& { return merged[i]; };
  c.vector = [&](size_t, size_t) { return row.data(); };
  ASSERT_TRUE(storage::WriteSegment(Env::Default(), dir / "m.seg", c).ok());
  std::shared_ptr<const storage::Segment> m =
      std::move(storage::Segment::Open(Env::Default(), dir / "m.seg", true)).value();
  Bitset held(9);
  held.Set(6);
  const PayloadStore before = std::move(store);
  store = before.Merged(5, 10, map, m, 3, held);
  ASSERT_EQ(store.size(), 9u);
  // The store merged from is left as it was (searches read it until the switch).
  ASSERT_EQ(before.size(), 11u);
  EXPECT_EQ(before.Copy(6), PayloadOf("changed", 6));
  EXPECT_EQ(store.Copy(0), PayloadOf("a", 0));
  EXPECT_EQ(store.Copy(4), PayloadOf("a", 4));
  EXPECT_EQ(store.Copy(5), PayloadOf("m", 0));
  EXPECT_EQ(store.Copy(6), PayloadOf("changed", 6));
  EXPECT_EQ(store.Copy(7), PayloadOf("m", 2));
  EXPECT_EQ(store.Copy(8), PayloadOf("grown", 0));
  EXPECT_EQ(store.SegmentBytes(true), std::filesystem::file_size(dir / "m.seg"));
  EXPECT_TRUE(store.CheckReadable().ok());

  // The mapped merged segment truncated underneath: its payloads read as zeros, and the store
  // says so, naming the file.
  ASSERT_EQ(::truncate((dir / "m.seg").c_str(), 0), 0);
  store.Copy(7);
  const Status readable = store.CheckReadable();
  EXPECT_TRUE(readable.IsIOError()) << readable.ToString();
  EXPECT_NE(readable.message().find("m.seg"), std::string::npos);
}

}  // namespace
}  // namespace mosaic::collection
