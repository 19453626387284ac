// LogReader reads the records of a write-ahead log held in memory, telling a torn tail (the
// last record partly written when the process or machine died: safe to drop, as it was never
// acknowledged) from corruption (a damaged record with valid data after it: reported).
// Not synchronized.
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
  // Corruption status: a damaged record in the middle of the log.
  Result<Outcome> Next(uint8_t* type, std::string_view* payload);

  // Offset just past the last good record.
  uint64_t valid_end() const { return pos_; }

 private:
  bool RestIsZero(size_t from) const;

  std::string_view data_;
  std::string name_;
  size_t pos_ = 0;
};

}  // namespace mosaic::storage
