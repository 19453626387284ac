// Helpers shared by the libFuzzer targets of tests/fuzz (docs/fuzzing.md).
//
// Loaders that take a path get the input through a scratch file (in /dev/shm when there is one,
// so no run touches a disk). Loaders that map a file get it through HeapMapEnv, which reads the
// file into a heap block of exactly its size: an over-read past the end of a mapped file hits no
// guard page when the size is not a page multiple, so under plain mmap ASan would miss it.
// Single-threaded, like libFuzzer's runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mosaic/env.h"

namespace mosaic::fuzz {

// A directory private to this process, removed at exit: /dev/shm/mosaic-fuzz-<pid>, or under
// $TMPDIR (else /tmp) when /dev/shm is missing.
const std::string& ScratchDir();

// Writes `data` to ScratchDir()/<name> (replacing it) and returns the path. Aborts on an I/O
// error: a harness that cannot write its input tests nothing.
std::string WriteScratchFile(const std::string& name, std::string_view data);

// Env::Default() with MapFile reading the whole file into the heap (see above).
class HeapMapEnv final : public Env {
 public:
  static HeapMapEnv* Get();

  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return base_->NewWritableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return base_->NewAppendableFile(p);
  }
  Result<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return base_->GetChildren(d);
  }
  Status CreateDirIfMissing(const std::string& d) override { return base_->CreateDirIfMissing(d); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RemoveDirRecursively(const std::string& d) override {
    return base_->RemoveDirRecursively(d);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status TruncateFile(const std::string& p, uint64_t size) override {
    return base_->TruncateFile(p, size);
  }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }

 private:
  Env* base_ = Env::Default();
};

}  // namespace mosaic::fuzz
