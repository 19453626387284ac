#include "storage/log_writer.h"

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/log_format.h"

namespace mosaic::storage {

Result<std::unique_ptr<LogWriter>> LogWriter::Create(Env* env, const std::string& path) {
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  std::string header(kLogMagic, sizeof(kLogMagic));
  PutFixed32(&header, kLogVersion);
  PutFixed32(&header, 0);
  MOSAIC_RETURN_IF_ERROR(file->Append(header));
  MOSAIC_RETURN_IF_ERROR(file->Sync());
  return std::unique_ptr<LogWriter>(
      new LogWriter(env, path, std::move(file), header.size(), kLogVersion));
}

Result<std::unique_ptr<LogWriter>> LogWriter::Reopen(Env* env, const std::string& path,
                                                     uint64_t valid_size, uint32_t version) {
  if (version != kLogVersion && version != kLogVersion1)
    return Status::InvalidArgument(path + ": cannot append to WAL version " +
                                   std::to_string(version));
  MOSAIC_ASSIGN_OR_RETURN(uint64_t actual, env->GetFileSize(path));
  if (actual > valid_size) MOSAIC_RETURN_IF_ERROR(env->TruncateFile(path, valid_size));
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewAppendableFile(path));
  return std::unique_ptr<LogWriter>(
      new LogWriter(env, path, std::move(file), valid_size, version));
}

std::string LogWriter::RecordHeader(uint8_t type, std::string_view payload) const {
  std::string h;
  if (version_ == kLogVersion1) {
    uint32_t crc = crc32c::Extend(0, reinterpret_cast<const char*>(&type), 1);
    PutFixed32(&h, crc32c::Mask(crc32c::Extend(crc, payload.data(), payload.size())));
    PutFixed32(&h, static_cast<uint32_t>(payload.size()));
    h.push_back(static_cast<char>(type));
    return h;
  }
  PutFixed32(&h, 0);  // the header CRC, filled in below
  PutFixed32(&h, static_cast<uint32_t>(payload.size()));
  h.push_back(static_cast<char>(type));
  PutFixed32(&h, crc32c::Mask(crc32c::Value(payload)));
  EncodeFixed32(h.data(), crc32c::Mask(crc32c::Value(h.data() + 4, h.size() - 4)));
  return h;
}

Status LogWriter::AddRecord(uint8_t type, std::string_view payload) {
  if (!broken_.ok()) return broken_;
  if (type == 0) return Status::InvalidArgument("WAL record type 0 is reserved");
  if (payload.size() > kMaxLogRecordSize)
    return Status::InvalidArgument("write of " + std::to_string(payload.size()) +
                                   " bytes exceeds the WAL record limit of " +
                                   std::to_string(kMaxLogRecordSize) + " bytes; split the batch");
  const std::string header = RecordHeader(type, payload);
  std::lock_guard<std::mutex> l(mu_);
  if (!broken_.ok()) return broken_;
  uint64_t before = size_;
  Status s = file_->Append(header);
  if (s.ok()) s = file_->Append(payload);
  if (!s.ok()) {
    Status r = Rollback(before);
    if (!r.ok()) broken_ = Status::IOError("write-ahead log " + path_ +
                                           " is unusable after a failed write (" + s.message() +
                                           "; rollback: " + r.message() + "); reopen the database");
    return s;
  }
  size_ = file_->Size();
  return Status::OK();
}

Status LogWriter::Sync() {
  std::lock_guard<std::mutex> l(mu_);
  if (closed_) return Status::OK();
  if (!broken_.ok()) return broken_;
  Status s = file_->Sync();
  if (!s.ok()) {
    // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the
    // last good sync can be trusted, so no further write is accepted until the log is reopened.
    broken_ = Status::IOError("write-ahead log " + path_ + " failed to sync (" + s.message() +
                              "); reopen the database");
  }
  return s;
}

Status LogWriter::DiscardFrom(uint64_t size, bool* synced) {
  *synced = false;
  std::lock_guard<std::mutex> l(mu_);
  if (closed_) return Status::OK();
  if (size > size_.load()) return Status::InvalidArgument("cannot cut " + path_ + " past its end");
  MOSAIC_RETURN_IF_ERROR(Rollback(size));
  *synced = file_->Sync().ok();
  return Status::OK();
}

Status LogWriter::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  return file_->Close();
}

Status LogWriter::Rollback(uint64_t size) {
  file_->Close().ok();  // the append already failed; the truncate below is what matters
  MOSAIC_RETURN_IF_ERROR(env_->TruncateFile(path_, size));
  MOSAIC_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path_));
  size_ = size;
  return Status::OK();
}

}  // namespace mosaic::storage
