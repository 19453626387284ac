// LogReader reads the records of a write-ahead log held in memory, telling a torn tail (the
// last append left partial when the process or machine died: safe to drop, as it was never
// acknowledged) from corruption (damage with a whole record after it: reported, never dropped).
// Reads format versions 1 and 2 (docs/wal_format.md). Not synchronized.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mosaic/status.h"

namespace mosaic::storage {

class LogReader {
 public:
  enum class Outcome { kRecord, kEof, kTornTail };

  // `data` is the whole file; `name` is used in error messages.
  LogReader(std::string_view data, std::string name) : data_(data), name_(std::move(name)) {}

  // Checks the file header.
  Status ReadHeader();
  // kRecord: *type/*payload are set (payload points into `data`). kEof: clean end.
  // kTornTail: the rest of the file from valid_end() is a partial last record.
  // Corruption status (naming the file and the offset): a damaged record in the middle of the log.
  Result<Outcome> Next(uint8_t* type, std::string_view* payload);

  // The log's format version (after ReadHeader).
  uint32_t version() const { return version_; }
  // Offset just past the last good record.
  uint64_t valid_end() const { return pos_; }
  // Offset of the record Next last returned.
  uint64_t record_offset() const { return record_offset_; }
  // How many whole records lie after offset `from` (found by the same search that tells damage
  // from a torn tail), for reporting what a salvage drops. Version 1 cannot tell: 0.
  uint64_t CountWholeRecordsAfter(uint64_t from) const;

 private:
  Result<Outcome> NextV1(uint8_t* type, std::string_view* payload);
  // Why the bytes at `pos` are not a whole version-2 record, or nullptr if they are one (then
  // *length is its payload's length).
  const char* CheckRecord(size_t pos, uint32_t* length) const;
  bool RestIsZero(size_t from) const;

  std::string_view data_;
  std::string name_;
  uint32_t version_ = 0;
  size_t pos_ = 0;
  size_t record_offset_ = 0;
};

}  // namespace mosaic::storage
