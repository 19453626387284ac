// Delta files: round trip, and damage of every byte or length reported, never loaded.
#include <gtest/gtest.h>

#include "storage/segment_delta.h"
#include "util/fault_env.h"

namespace mosaic::storage {
namespace {

using testing::TempDir;

SegmentDelta MakeDelta() {
  SegmentDelta d;
  d.manifest = {{"format_version", 2}, {"generation", 9}, {"segments", {{{"gen", 4}, {"slots", 130}}}}};
  d.dead.Resize(130);
  for (size_t slot : {0, 1, 64, 127, 129}) d.dead.Set(slot);
  d.payloads = {{2, {{"a", 1}}}, {70, {{"b", {"x", 2.5}}}}, {128, Json::object()}};
  return d;
}

TEST(SegmentDelta, RoundTrip) {
  TempDir dir;
  const std::string path = dir.path() + "/d.del";
  const SegmentDelta d = MakeDelta();
  ASSERT_TRUE(WriteDelta(Env::Default(), path, d).ok());
  auto got = ReadDelta(Env::Default(), path);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->manifest, d.manifest);
  EXPECT_EQ(got->payloads, d.payloads);
  ASSERT_EQ(got->dead.size(), 130u);
  for (size_t i = 0; i < 130; ++i) EXPECT_EQ(got->dead.Test(i), d.dead.Test(i)) << i;
}

TEST(SegmentDelta, EveryFlippedByteAndEveryTruncationIsReported) {
  TempDir dir;
  const std::string path = dir.path() + "/d.del";
  ASSERT_TRUE(WriteDelta(Env::Default(), path, MakeDelta()).ok());
  const std::string good = *Env::Default()->ReadFile(path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    auto got = DecodeDelta(bad, path);
    ASSERT_FALSE(got.ok()) << "byte " << i;
    EXPECT_NE(got.status().message().find(path), std::string::npos) << got.status().ToString();
  }
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(DecodeDelta(std::string_view(good).substr(0, n), path).ok()) << "length " << n;
}

TEST(SegmentDelta, PayloadsOutOfOrderOrPastTheSlotsAreCorruption) {
  TempDir dir;
  const std::string path = dir.path() + "/d.del";
  for (auto payloads : {std::vector<std::pair<uint32_t, Json>>{{5, Json::object()}, {3, Json::object()}},
                        std::vector<std::pair<uint32_t, Json>>{{130, Json::object()}}}) {
    SegmentDelta d = MakeDelta();
    d.payloads = payloads;
    ASSERT_TRUE(WriteDelta(Env::Default(), path, d).ok());
    auto got = ReadDelta(Env::Default(), path);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_NE(got.status().message().find("out of order or past the end"), std::string::npos);
  }
}

}  // namespace
}  // namespace mosaic::storage
