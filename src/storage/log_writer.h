// LogWriter appends records to a write-ahead log file, in the format version of the file (new
// files get the current one; see log_format.h). Thread-safe: one writer appends (the collection's
// write lock serializes writers) while another thread may Sync (the periodic syncer), holding a
// reference so the writer stays alive even after the collection has moved to a newer log.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mosaic/env.h"
#include "mosaic/status.h"

namespace mosaic::storage {

class LogWriter {
 public:
  // Creates a new log file at `path` (with its file header) and syncs it.
  static Result<std::unique_ptr<LogWriter>> Create(Env* env, const std::string& path);
  // Opens an existing log of format `version` (as its reader found) for appending after
  // `valid_size` bytes; anything beyond (a torn tail) is truncated away first.
  static Result<std::unique_ptr<LogWriter>> Reopen(Env* env, const std::string& path,
                                                   uint64_t valid_size, uint32_t version);

  // Appends one record. On failure the file is truncated back to its size before the call, so
  // the log never holds a partial record followed by later ones; if even that fails, the writer
  // refuses all further appends. `type` must not be 0.
  Status AddRecord(uint8_t type, std::string_view payload);
  // Appends wait while a Sync runs. After Close, Sync does nothing and returns OK: a log is closed
  // once its records are elsewhere (a newer segment) or no longer wanted (a dropped collection).
  Status Sync();
  // After a failed Sync: cuts the log back to `size` (where the record whose sync failed began),
  // so a reopen does not replay a write that was reported failed, and tries to sync the cut
  // (`*synced`: whether that worked; if not, a power loss may still bring the record back). The
  // log keeps refusing writes until it is reopened.
  Status DiscardFrom(uint64_t size, bool* synced);
  Status Close();

  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }

 private:
  LogWriter(Env* env, std::string path, std::unique_ptr<WritableFile> file, uint64_t size,
            uint32_t version)
      : env_(env), path_(std::move(path)), file_(std::move(file)), size_(size), version_(version) {}
  // The record header of `type` and `payload` in this log's version.
  std::string RecordHeader(uint8_t type, std::string_view payload) const;
  Status Rollback(uint64_t size);

  Env* env_;
  std::string path_;
  std::mutex mu_;  // serializes the calls that use file_
  std::unique_ptr<WritableFile> file_;  // guarded by mu_
  std::atomic<uint64_t> size_;
  const uint32_t version_;
  Status broken_;  // guarded by mu_; non-OK once a failed append could not be rolled back
  bool closed_ = false;  // guarded by mu_
};

}  // namespace mosaic::storage
