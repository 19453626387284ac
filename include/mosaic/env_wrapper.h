// EnvWrapper: an Env that forwards every call to another (LevelDB's EnvWrapper), for Envs that
// change a few calls (count syncs, never map, inject faults) and pass the rest through.
// As thread-safe as the Env it wraps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mosaic/env.h"

namespace mosaic {

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return target_->NewWritableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return target_->NewAppendableFile(p);
  }
  Result<std::string> ReadFile(const std::string& p) override { return target_->ReadFile(p); }
  Result<std::unique_ptr<FileView>> OpenFileView(const std::string& p, bool map) override {
    return target_->OpenFileView(p, map);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return target_->GetFileSize(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return target_->GetChildren(d);
  }
  Status CreateDirIfMissing(const std::string& d) override {
    return target_->CreateDirIfMissing(d);
  }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RemoveDirRecursively(const std::string& d) override {
    return target_->RemoveDirRecursively(d);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status TruncateFile(const std::string& p, uint64_t size) override {
    return target_->TruncateFile(p, size);
  }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return target_->LockFile(p);
  }

 private:
  Env* const target_;
};

}  // namespace mosaic
