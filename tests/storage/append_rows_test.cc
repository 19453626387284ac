#include "storage/append_rows.h"

#include <gtest/gtest.h>

#include <vector>

namespace mosaic::storage {
namespace {

TEST(AppendRows, RowsKeepTheirAddressesAndValuesAcrossGrowth) {
  AppendRows rows(3);
  std::vector<const float*> addresses;
  for (int i = 0; i < 10000; ++i) {
    float r[3] = {float(i), float(i) + 0.5f, -float(i)};
    rows.Append(i % 7 == 0 ? nullptr : r);
    addresses.push_back(rows.Row(i));
  }
  ASSERT_EQ(rows.rows(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(rows.Row(i), addresses[i]) << i;  // never moved
    float want = i % 7 == 0 ? 0.0f : float(i);
    ASSERT_EQ(rows.Row(i)[0], want) << i;
    ASSERT_EQ(rows.Row(i)[2], -want) << i;
  }
}

TEST(AppendRows, BlocksCoverEveryRowOnceInOrder) {
  AppendRows rows(2);
  for (int i = 0; i < 1000; ++i) {
    float r[2] = {float(i), 0};
    rows.Append(r);
  }
  size_t next = 0, blocks = 0;
  rows.ForEachBlock([&](const float* data, size_t first, size_t n) {
    EXPECT_EQ(first, next);
    for (size_t j = 0; j < n; ++j) EXPECT_EQ(data[j * 2], float(first + j));
    next += n;
    ++blocks;
  });
  EXPECT_EQ(next, 1000u);
  EXPECT_EQ(blocks, 5u);  // 64 + 128 + 256 + 512 + 40 of 1024
  EXPECT_GE(rows.MemoryBytes(), 1000u * 2 * sizeof(float));
  AppendRows empty(5);
  empty.ForEachBlock([&](const float*, size_t, size_t) { FAIL(); });
}

}  // namespace
}  // namespace mosaic::storage
