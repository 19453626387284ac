// FaultEnv: an Env wrapper for crash and fault-injection tests (after LevelDB's
// fault_injection_test). It remembers how much of each file was synced, so a "crash" can drop
// everything unsynced, and it can fail syncs (of files or of directories, also only after a
// given rename), fail writes with a full disk, or tear a write (write only part of it, then
// fail). It can also hold a thread inside one chosen call until the test lets it go (to provoke a
// race at an exact point), and it counts file and directory syncs. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "mosaic/env.h"

namespace mosaic::testing {

class FaultEnv final : public Env {
 public:
  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // Failure switches; each applies to files whose path contains `path_filter` (all if empty).
  void SetPathFilter(std::string f) {
    std::lock_guard<std::mutex> l(mu_);
    path_filter_ = std::move(f);
  }
  void FailSyncs(bool on) { fail_sync_ = on; }
  // Appends fail with ResourceExhausted once this many more bytes have been written (-1: off);
  // the append that crosses the limit writes the bytes up to it (a torn write).
  void SetWriteBudget(int64_t bytes) { write_budget_ = bytes; }
  void FailRenames(bool on) { fail_rename_ = on; }
  // Directory fsyncs fail (of directories matching the path filter) while on.
  void FailSyncDirs(bool on) { fail_sync_dir_ = on; }
  // Directory fsyncs start failing, as FailSyncDirs(true), once a rename whose target contains
  // `target` has succeeded: the rename happened, but whether it is durable is unknown.
  void FailSyncDirsAfterRenameTo(std::string target) {
    std::lock_guard<std::mutex> l(mu_);
    sync_dir_trigger_ = std::move(target);
  }

  // Blocking. The calls an operation can be held in: creating a file, appending to it, syncing
  // it, syncing a directory.
  enum class Op { kCreate, kAppend, kSync, kSyncDir };
  // The next call of `op` on a path containing `substr`, after `skip` such calls, waits inside
  // the call until Unblock(). One block at a time.
  void BlockAt(Op op, std::string substr, int skip = 0);
  // Waits until a thread is held by BlockAt; false if none came within 60 s (a guard against a
  // hang, for a test that then fails, not a timing assertion).
  bool WaitUntilBlocked();
  // Lets the held thread (or, if none came yet, the next one) go, and clears the block.
  void Unblock();

  // Successful syncs of files, and calls of SyncDir, whose path contains `substr`.
  uint64_t SyncCount(const std::string& substr) { return CountOf(sync_counts_, substr); }
  uint64_t SyncDirCount(const std::string& substr) { return CountOf(sync_dir_counts_, substr); }

  // Simulates a machine crash: every file written through this Env loses what was not synced.
  Status DropUnsyncedData();
  // Bytes written through this Env and not yet synced, over all files.
  uint64_t UnsyncedBytes();

  bool Matches(const std::string& path);
  void RecordSynced(const std::string& path, uint64_t size);
  void RecordWritten(const std::string& path, uint64_t size);
  Status ChargeWrite(const std::string& path, size_t n, size_t* allowed);
  bool fail_sync() const { return fail_sync_; }
  // Holds the calling thread here if a BlockAt matches (`op` on `path`).
  void MaybeBlock(Op op, const std::string& path);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  Result<std::unique_ptr<FileView>> OpenFileView(const std::string& p, bool map) override {
    return base_->OpenFileView(p, map);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override { return base_->GetChildren(d); }
  Status CreateDirIfMissing(const std::string& d) override { return base_->CreateDirIfMissing(d); }
  Status RemoveFile(const std::string& p) override;
  Status RemoveDirRecursively(const std::string& d) override { return base_->RemoveDirRecursively(d); }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& p, uint64_t size) override;
  Status SyncDir(const std::string& d) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override { return base_->LockFile(p); }

 private:
  struct FileState {
    uint64_t synced = 0;
    uint64_t size = 0;
  };
  uint64_t CountOf(const std::map<std::string, uint64_t>& counts, const std::string& substr);

  Env* base_;
  std::mutex mu_;
  std::string path_filter_;
  std::map<std::string, FileState> files_;
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> fail_rename_{false};
  std::atomic<bool> fail_sync_dir_{false};
  std::string sync_dir_trigger_;  // guarded by mu_
  std::map<std::string, uint64_t> sync_counts_;      // by path; guarded by mu_
  std::map<std::string, uint64_t> sync_dir_counts_;  // guarded by mu_
  // The block: armed_ while BlockAt waits for its call; held_ while a thread waits inside it.
  std::condition_variable block_cv_;
  bool armed_ = false;  // guarded by mu_
  bool held_ = false;   // guarded by mu_
  Op block_op_ = Op::kCreate;
  std::string block_substr_;
  int block_skip_ = 0;
  uint64_t block_generation_ = 0;  // guarded by mu_; bumped by Unblock
  std::atomic<int64_t> write_budget_{-1};
};

// A fresh empty directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace mosaic::testing
