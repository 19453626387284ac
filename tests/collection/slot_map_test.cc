// SlotMap: a merge's renumbering as a rule, against the table of every slot it stands for.
#include "collection/slot_map.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "index/slot_io.h"

namespace mosaic::collection {
namespace {

TEST(SlotMap, RenumbersBitsetsAsTheFullTableDoes) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    const uint32_t end = 1 + rng() % 1000;
    const uint32_t a = rng() % end, b = a + rng() % (end - a + 1);
    // The run keeps a random subset of its slots, in order, from a on.
    std::vector<uint32_t> run(b - a, index::kDroppedSlot);
    uint32_t next = a;
    for (uint32_t& to : run)
      if (rng() % 3 != 0) to = next++;
    const SlotMap map(a, b, end, run);
    std::vector<uint32_t> table(end);
    for (uint32_t s = 0; s < end; ++s)
      table[s] = s < a ? s : s < b ? run[s - a] : s - (b - next);
    ASSERT_EQ(map.shift, b - next);
    for (uint32_t s = 0; s < end; ++s) ASSERT_EQ(map[s], table[s]) << "slot " << s;
    const uint32_t size = rng() % (end + 1);  // a bitset over fewer slots than the map
    Bitset bits(size);
    for (uint32_t s = 0; s < size; ++s)
      if (rng() % 2 == 0) bits.Set(s);
    for (bool with_run : {true, false}) {
      Bitset want(end - map.shift);
      bits.ForEach([&](size_t s) {
        if (table[s] != index::kDroppedSlot && (with_run || s < a || s >= b)) want.Set(table[s]);
      });
      const Bitset got = map.Apply(bits, with_run);
      ASSERT_EQ(got.size(), want.size());
      for (size_t s = 0; s < want.size(); ++s)
        ASSERT_EQ(got.Test(s), want.Test(s)) << "new slot " << s << ", run [" << a << ", " << b
                                             << ") of " << end << ", with_run " << with_run;
    }
  }
}

}  // namespace
}  // namespace mosaic::collection
