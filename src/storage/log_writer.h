// LogWriter appends records to a write-ahead log file. Not synchronized: the collection's write
// lock serializes callers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mosaic/env.h"
#include "mosaic/status.h"

namespace mosaic::storage {

class LogWriter {
 public:
  // Creates a new log file at `path` (with its file header) and syncs it.
  static Result<std::unique_ptr<LogWriter>> Create(Env* env, const std::string& path);
  // Opens an existing log for appending after `valid_size` bytes; anything beyond (a torn tail)
  // is truncated away first.
  static Result<std::unique_ptr<LogWriter>> Reopen(Env* env, const std::string& path,
                                                   uint64_t valid_size);

  // Appends one record. On failure the file is truncated back to its size before the call, so
  // the log never holds a partial record followed by later ones; if even that fails, the writer
  // refuses all further appends.
  Status AddRecord(uint8_t type, std::string_view payload);
  Status Sync();
  Status Close();

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  LogWriter(Env* env, std::string path, std::unique_ptr<WritableFile> file, uint64_t size)
      : env_(env), path_(std::move(path)), file_(std::move(file)), size_(size) {}
  Status Rollback(uint64_t size);

  Env* env_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t size_;
  Status broken_;  // non-OK once a failed append could not be rolled back
};

}  // namespace mosaic::storage
