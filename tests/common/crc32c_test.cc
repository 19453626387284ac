// CRC32C against a bit-at-a-time reference computed here, over lengths and offsets that take the
// three-block path (and its rounds, remainders and unaligned starts) as well as the short one.
#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace mosaic::crc32c {
namespace {

uint32_t Reference(uint32_t init, const char* p, size_t n) {
  uint32_t c = ~init;
  for (size_t i = 0; i < n; ++i) {
    c ^= static_cast<uint8_t>(p[i]);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0x82f63b78u : 0);
  }
  return ~c;
}

TEST(Crc32c, KnownValues) {
  // RFC 3720 (iSCSI), B.4: 32 zero bytes, 32 bytes of 0xff.
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(Value("123456789", 9), 0xe3069283u);
}

TEST(Crc32c, LongInputsMatchTheBitwiseDefinition) {
  std::mt19937 rng(7);
  std::string data(200000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t offset : {0, 1, 3, 8, 13}) {
    for (size_t n : {0, 7, 4096, 12287, 12288, 12289, 24576 + 100, 50000, 199000 - 13}) {
      const char* p = data.data() + offset;
      EXPECT_EQ(Value(p, n), Reference(0, p, n)) << "offset " << offset << " length " << n;
      // Continued from the CRC of what came before, in two pieces.
      const size_t cut = n / 3;
      EXPECT_EQ(Extend(Value(p, cut), p + cut, n - cut), Value(p, n))
          << "offset " << offset << " length " << n;
    }
  }
}

}  // namespace
}  // namespace mosaic::crc32c
