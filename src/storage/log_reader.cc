#include "storage/log_reader.h"

#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/log_format.h"

namespace mosaic::storage {

Status LogReader::ReadHeader() {
  if (data_.size() < kLogFileHeaderSize || std::memcmp(data_.data(), kLogMagic, 8) != 0)
    return Status::Corruption(name_ + ": not a Mosaic write-ahead log (bad magic or " +
                              std::to_string(data_.size()) + "-byte file)");
  uint32_t version = DecodeFixed32(data_.data() + 8);
  if (version != kLogVersion)
    return Status::Corruption(name_ + ": unsupported WAL version " + std::to_string(version) +
                              " (this build reads " + std::to_string(kLogVersion) + ")");
  pos_ = kLogFileHeaderSize;
  return Status::OK();
}

bool LogReader::RestIsZero(size_t from) const {
  for (size_t i = from; i < data_.size(); ++i)
    if (data_[i] != 0) return false;
  return true;
}

Result<LogReader::Outcome> LogReader::Next(uint8_t* type, std::string_view* payload) {
  size_t left = data_.size() - pos_;
  if (left == 0) return Outcome::kEof;
  if (left < kLogRecordHeaderSize) return Outcome::kTornTail;
  const char* h = data_.data() + pos_;
  uint32_t masked = DecodeFixed32(h);
  uint32_t length = DecodeFixed32(h + 4);
  if (length > left - kLogRecordHeaderSize) {
    // Runs past the end of the file: the append never completed, unless the length itself is
    // damaged, in which case it would be absurd.
    if (length <= kMaxLogRecordSize || RestIsZero(pos_)) return Outcome::kTornTail;
    return Status::Corruption(name_ + ": record at offset " + std::to_string(pos_) +
                              " has impossible length " + std::to_string(length));
  }
  uint32_t actual = crc32c::Extend(0, h + 8, 1 + static_cast<size_t>(length));
  size_t end = pos_ + kLogRecordHeaderSize + length;
  if (crc32c::Unmask(masked) != actual) {
    // A damaged last record, or a zero-filled tail, is an unfinished append. Anything else
    // means data that was once acknowledged is damaged.
    if (end == data_.size() || RestIsZero(pos_)) return Outcome::kTornTail;
    return Status::Corruption(name_ + ": checksum mismatch in record at offset " +
                              std::to_string(pos_) + " (" + std::to_string(length) +
                              " bytes) followed by " + std::to_string(data_.size() - end) +
                              " more bytes");
  }
  *type = static_cast<uint8_t>(h[8]);
  *payload = std::string_view(h + kLogRecordHeaderSize, length);
  pos_ = end;
  return Outcome::kRecord;
}

}  // namespace mosaic::storage
