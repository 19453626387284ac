// Bitset::CopyRange against a bit-by-bit copy, at every alignment of source and destination.
#include "common/bitset.h"

#include <gtest/gtest.h>

#include <random>

namespace mosaic {
namespace {

TEST(Bitset, CopyRangeMatchesABitByBitCopy) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t n = 1 + rng() % 700;
    Bitset src(n);
    for (size_t i = 0; i < n; ++i)
      if (rng() % 3 == 0) src.Set(i);
    const size_t m = 1 + rng() % 700;
    Bitset dst(m), want(m);
    for (size_t i = 0; i < m; ++i)
      if (rng() % 2 == 0) dst.Set(i), want.Set(i);
    const size_t from = rng() % n, to = rng() % m;
    const size_t count = rng() % (std::min(n - from, m - to) + 1);
    for (size_t i = 0; i < count; ++i) want.Assign(to + i, src.Test(from + i));
    dst.CopyRange(src, from, count, to);
    for (size_t i = 0; i < m; ++i)
      ASSERT_EQ(dst.Test(i), want.Test(i))
          << "bit " << i << " of a copy of " << count << " bits from " << from << " to " << to;
    ASSERT_EQ(dst.Count(), want.Count());  // nothing past the end
  }
}

}  // namespace
}  // namespace mosaic
