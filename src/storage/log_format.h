// Write-ahead log format (documented in docs/wal_format.md; bump kLogVersion on any change).
//
// A log file is a 16-byte file header followed by records:
//   file header: magic "MOSWAL\0\0" (8) | version u32 | reserved u32
//   record, version 2:
//     masked header crc u32 | length u32 | type u8 | masked payload crc u32 | payload (length bytes)
//     The header CRC covers the 9 bytes after it (length, type, payload CRC), so a damaged length
//     is detected; the payload CRC covers the payload.
//   record, version 1 (read, and appended to until the log is replaced; never created):
//     masked crc u32 | length u32 | type u8 | payload; the CRC covers the type and the payload.
// Type 0 is never written. All integers are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mosaic::storage {

inline constexpr char kLogMagic[8] = {'M', 'O', 'S', 'W', 'A', 'L', 0, 0};
inline constexpr uint32_t kLogVersion = 2;  // of new logs
inline constexpr uint32_t kLogVersion1 = 1;
inline constexpr size_t kLogFileHeaderSize = 16;
inline constexpr size_t kLogRecordHeaderSize = 13;
inline constexpr size_t kLogRecordHeaderSizeV1 = 9;
// A record larger than this is rejected when written and treated as corruption when read.
inline constexpr uint32_t kMaxLogRecordSize = 1u << 30;

}  // namespace mosaic::storage
