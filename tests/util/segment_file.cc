#include "util/segment_file.h"

#include "common/coding.h"
#include "common/crc32c.h"

namespace mosaic::testing {
namespace {

constexpr size_t kFooterSize = 32;
constexpr size_t kTableEntrySize = 32;

// The table's offset and entry count, if the footer places it inside the file.
bool FindTable(std::string_view s, uint64_t* offset, uint64_t* count) {
  if (s.size() < kFooterSize) return false;
  const char* footer = s.data() + s.size() - kFooterSize;
  *offset = DecodeFixed64(footer);
  *count = DecodeFixed32(footer + 8);
  const uint64_t table_end = s.size() - kFooterSize;
  return *offset <= table_end && *count <= (table_end - *offset) / kTableEntrySize;
}

}  // namespace

std::string RecomputeSegmentChecksums(std::string_view segment) {
  std::string s(segment);
  uint64_t table_offset = 0, count = 0;
  if (!FindTable(s, &table_offset, &count)) return s;
  for (uint64_t i = 0; i < count; ++i) {
    char* e = s.data() + table_offset + i * kTableEntrySize;
    const uint64_t off = DecodeFixed64(e + 8), len = DecodeFixed64(e + 16);
    if (off > s.size() || len > s.size() - off) continue;
    EncodeFixed32(e + 24, crc32c::Mask(crc32c::Value(s.data() + off, len)));
  }
  const uint32_t table_crc = crc32c::Value(s.data() + table_offset, count * kTableEntrySize);
  EncodeFixed32(s.data() + s.size() - kFooterSize + 12, crc32c::Mask(table_crc));
  return s;
}

size_t SegmentTableEntry(std::string_view segment, uint32_t kind) {
  uint64_t table_offset = 0, count = 0;
  if (!FindTable(segment, &table_offset, &count)) return std::string::npos;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t e = table_offset + i * kTableEntrySize;
    if (DecodeFixed32(segment.data() + e) == kind) return e;
  }
  return std::string::npos;
}

}  // namespace mosaic::testing
