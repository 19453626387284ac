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
  if (version != kLogVersion && version != kLogVersion1)
    return Status::Corruption(name_ + ": unsupported WAL version " + std::to_string(version) +
                              " (this build reads 1 to " + std::to_string(kLogVersion) + ")");
  version_ = version;
  pos_ = kLogFileHeaderSize;
  return Status::OK();
}

bool LogReader::RestIsZero(size_t from) const {
  for (size_t i = from; i < data_.size(); ++i)
    if (data_[i] != 0) return false;
  return true;
}

const char* LogReader::CheckRecord(size_t pos, uint32_t* length) const {
  const size_t left = data_.size() - pos;
  if (left < kLogRecordHeaderSize) return "incomplete record header";
  const char* h = data_.data() + pos;
  if (crc32c::Unmask(DecodeFixed32(h)) != crc32c::Value(h + 4, kLogRecordHeaderSize - 4))
    return "header checksum mismatch";
  *length = DecodeFixed32(h + 4);
  if (h[8] == 0 || *length > kMaxLogRecordSize) return "impossible type or length";
  if (*length > left - kLogRecordHeaderSize) return "length runs past the end of the file";
  if (crc32c::Unmask(DecodeFixed32(h + 9)) != crc32c::Value(h + kLogRecordHeaderSize, *length))
    return "payload checksum mismatch";
  return nullptr;
}

Result<LogReader::Outcome> LogReader::Next(uint8_t* type, std::string_view* payload) {
  if (version_ == kLogVersion1) return NextV1(type, payload);
  if (pos_ == data_.size()) return Outcome::kEof;
  uint32_t length = 0;
  const char* damage = CheckRecord(pos_, &length);
  if (damage == nullptr) {
    *type = static_cast<uint8_t>(data_[pos_ + 8]);
    *payload = data_.substr(pos_ + kLogRecordHeaderSize, length);
    record_offset_ = pos_;
    pos_ += kLogRecordHeaderSize + length;
    return Outcome::kRecord;
  }
  // Only the last append can be torn, so a whole record anywhere after this one means the damage
  // hit acknowledged data. The header CRC makes each probe cheap (9 bytes).
  for (size_t p = pos_ + 1; p + kLogRecordHeaderSize <= data_.size(); ++p) {
    uint32_t later_length;
    if (CheckRecord(p, &later_length) == nullptr)
      return Status::Corruption(name_ + ": damaged record at offset " + std::to_string(pos_) +
                                " (" + damage + ") followed by a valid record at offset " +
                                std::to_string(p) + "; acknowledged writes would be lost");
  }
  return Outcome::kTornTail;
}

uint64_t LogReader::CountWholeRecordsAfter(uint64_t from) const {
  if (version_ != kLogVersion) return 0;
  uint64_t count = 0;
  for (size_t p = from + 1; p + kLogRecordHeaderSize <= data_.size();) {
    uint32_t length;
    if (CheckRecord(p, &length) == nullptr) {
      ++count;
      p += kLogRecordHeaderSize + length;
    } else {
      ++p;
    }
  }
  return count;
}

// Version 1 cannot tell a damaged length from a torn append (the length is outside its CRC):
// its rule, kept for reading old logs, is that a length running past the end is a torn tail.
Result<LogReader::Outcome> LogReader::NextV1(uint8_t* type, std::string_view* payload) {
  size_t left = data_.size() - pos_;
  if (left == 0) return Outcome::kEof;
  if (left < kLogRecordHeaderSizeV1) return Outcome::kTornTail;
  const char* h = data_.data() + pos_;
  uint32_t masked = DecodeFixed32(h);
  uint32_t length = DecodeFixed32(h + 4);
  if (length > left - kLogRecordHeaderSizeV1) {
    if (length <= kMaxLogRecordSize || RestIsZero(pos_)) return Outcome::kTornTail;
    return Status::Corruption(name_ + ": record at offset " + std::to_string(pos_) +
                              " has impossible length " + std::to_string(length));
  }
  uint32_t actual = crc32c::Extend(0, h + 8, 1 + static_cast<size_t>(length));
  size_t end = pos_ + kLogRecordHeaderSizeV1 + length;
  if (crc32c::Unmask(masked) != actual) {
    // A damaged last record, or a zero-filled tail, is an unfinished append.
    if (end == data_.size() || RestIsZero(pos_)) return Outcome::kTornTail;
    return Status::Corruption(name_ + ": checksum mismatch in record at offset " +
                              std::to_string(pos_) + " (" + std::to_string(length) +
                              " bytes) followed by " + std::to_string(data_.size() - end) +
                              " more bytes");
  }
  *type = static_cast<uint8_t>(h[8]);
  *payload = std::string_view(h + kLogRecordHeaderSizeV1, length);
  record_offset_ = pos_;
  pos_ = end;
  return Outcome::kRecord;
}

}  // namespace mosaic::storage
