// CRC32C (Castagnoli), hardware-accelerated with SSE4.2 when the CPU has it (chosen at run time).
// Stored CRCs are masked (as in LevelDB) so that a CRC of data containing CRCs stays well-behaved.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mosaic::crc32c {

// CRC of data, continuing from `init` (the CRC of the preceding bytes; 0 to start).
uint32_t Extend(uint32_t init, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

constexpr uint32_t kMaskDelta = 0xa282ead8ul;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace mosaic::crc32c
