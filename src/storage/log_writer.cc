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
  return std::unique_ptr<LogWriter>(new LogWriter(env, path, std::move(file), header.size()));
}

Result<std::unique_ptr<LogWriter>> LogWriter::Reopen(Env* env, const std::string& path,
                                                     uint64_t valid_size) {
  MOSAIC_ASSIGN_OR_RETURN(uint64_t actual, env->GetFileSize(path));
  if (actual > valid_size) MOSAIC_RETURN_IF_ERROR(env->TruncateFile(path, valid_size));
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewAppendableFile(path));
  return std::unique_ptr<LogWriter>(new LogWriter(env, path, std::move(file), valid_size));
}

Status LogWriter::AddRecord(uint8_t type, std::string_view payload) {
  if (!broken_.ok()) return broken_;
  if (payload.size() > kMaxLogRecordSize)
    return Status::InvalidArgument("write of " + std::to_string(payload.size()) +
                                   " bytes exceeds the WAL record limit of " +
                                   std::to_string(kMaxLogRecordSize) + " bytes; split the batch");
  char header[kLogRecordHeaderSize];
  uint32_t crc = crc32c::Extend(0, reinterpret_cast<const char*>(&type), 1);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  EncodeFixed32(header, crc32c::Mask(crc));
  EncodeFixed32(header + 4, static_cast<uint32_t>(payload.size()));
  header[8] = static_cast<char>(type);

  uint64_t before = size_;
  Status s = file_->Append(std::string_view(header, sizeof(header)));
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

Status LogWriter::Close() { return file_->Close(); }

Status LogWriter::Rollback(uint64_t size) {
  file_->Close().ok();  // the append already failed; the truncate below is what matters
  MOSAIC_RETURN_IF_ERROR(env_->TruncateFile(path_, size));
  MOSAIC_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path_));
  size_ = size;
  return Status::OK();
}

}  // namespace mosaic::storage
