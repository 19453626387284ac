// Write-ahead log format (documented in docs/wal_format.md; bump kLogVersion on any change).
//
// A log file is a 16-byte file header followed by records:
//   file header: magic "MOSWAL\0\0" (8) | version u32 | reserved u32
//   record:      masked crc32c u32 | length u32 | type u8 | payload (length bytes)
// The CRC covers the type byte and the payload. All integers are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mosaic::storage {

inline constexpr char kLogMagic[8] = {'M', 'O', 'S', 'W', 'A', 'L', 0, 0};
inline constexpr uint32_t kLogVersion = 1;
inline constexpr size_t kLogFileHeaderSize = 16;
inline constexpr size_t kLogRecordHeaderSize = 9;
// A record larger than this is rejected when written and treated as corruption when read.
inline constexpr uint32_t kMaxLogRecordSize = 1u << 30;

}  // namespace mosaic::storage
