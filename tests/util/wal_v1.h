// A write-ahead log in format version 1 (docs/wal_format.md), written byte by byte as builds
// before version 2 wrote it, for the tests that old logs still open.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mosaic::testing {

// The whole file: header, then one record per (type, payload).
std::string Version1Wal(const std::vector<std::pair<uint8_t, std::string>>& records);

}  // namespace mosaic::testing
