#include "common/crc32c.h"

#include <array>
#include <cstring>

namespace mosaic::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

constexpr std::array<std::array<uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
    t[0][i] = c;
  }
  for (int s = 1; s < 8; ++s)
    for (uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}
constexpr auto kTables = MakeTables();

uint32_t ExtendPortable(uint32_t crc, const char* p, size_t n) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, u, 8);
    w ^= crc;
    crc = kTables[7][w & 0xff] ^ kTables[6][(w >> 8) & 0xff] ^ kTables[5][(w >> 16) & 0xff] ^
          kTables[4][(w >> 24) & 0xff] ^ kTables[3][(w >> 32) & 0xff] ^
          kTables[2][(w >> 40) & 0xff] ^ kTables[1][(w >> 48) & 0xff] ^ kTables[0][w >> 56];
    u += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ kTables[0][(crc ^ *u++) & 0xff];
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t Sse42Serial(uint32_t crc, const char* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, static_cast<uint8_t>(*p++));
  return c32;
}

// Long inputs are cut into rounds of three blocks whose CRCs run side by side: the instruction
// takes three cycles to give its result but can start one a cycle, so one chain uses a third of
// the unit. A CRC register r followed by the block B satisfies crc(r, B) = shift(r) ^ crc(0, B),
// where shift is r followed by |B| zero bytes, a linear map kept as four byte tables.
constexpr size_t kBlock = 4096;

struct ShiftTables {
  uint32_t t[4][256];
  uint32_t operator()(uint32_t r) const {
    return t[0][r & 0xff] ^ t[1][(r >> 8) & 0xff] ^ t[2][(r >> 16) & 0xff] ^ t[3][r >> 24];
  }
};

const ShiftTables& BlockShift() {
  static const ShiftTables tables = [] {
    ShiftTables s{};
    static const char zeros[kBlock] = {};
    uint32_t bit[32];
    for (int j = 0; j < 32; ++j) bit[j] = Sse42Serial(uint32_t{1} << j, zeros, kBlock);
    for (int k = 0; k < 4; ++k)
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int j = 0; j < 8; ++j)
          if (b & (1u << j)) v ^= bit[8 * k + j];
        s.t[k][b] = v;
      }
    return s;
  }();
  return tables;
}

__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t crc, const char* p, size_t n) {
  if (n >= 3 * kBlock) {
    const ShiftTables& shift = BlockShift();
    uint64_t a = crc;
    while (n >= 3 * kBlock) {
      uint64_t b = 0, c = 0;
      for (size_t i = 0; i < kBlock; i += 8) {
        uint64_t wa, wb, wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, p + kBlock + i, 8);
        std::memcpy(&wc, p + 2 * kBlock + i, 8);
        a = __builtin_ia32_crc32di(a, wa);
        b = __builtin_ia32_crc32di(b, wb);
        c = __builtin_ia32_crc32di(c, wc);
      }
      a = shift(shift(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^
          static_cast<uint32_t>(c);
      p += 3 * kBlock;
      n -= 3 * kBlock;
    }
    crc = static_cast<uint32_t>(a);
  }
  return Sse42Serial(crc, p, n);
}

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);
ExtendFn Pick() { return __builtin_cpu_supports("sse4.2") ? ExtendSse42 : ExtendPortable; }

}  // namespace

uint32_t Extend(uint32_t init, const char* data, size_t n) {
  static const ExtendFn fn = Pick();
  return ~fn(~init, data, n);
}

}  // namespace mosaic::crc32c
