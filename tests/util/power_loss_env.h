// PowerLossEnv: an Env for crash and fault sweeps (after LevelDB's fault-injection Env and
// SQLite's crash tests). It numbers every call made through it (file operations and the Append,
// Sync and Close of its files), so a test can
//   - crash the machine at call k: that call and every later one fail, as if the power went, and
//     PowerLoss() then puts the directory back the way a real power loss would leave it: data
//     appended and not fsynced is dropped, or left as garbage or as a hole of zeros; and creates,
//     renames and removes whose directory was not fsynced afterwards are undone;
//   - fail only call k (an I/O error the process survives: a failed open, read, lock, write,
//     fsync, rename, remove, truncate or directory fsync) and let the test go on.
// Removed files and directories are kept aside (hard links, renames into a stash directory) until
// their removal is durable, so it can be undone. Thread-safe; meant for one test database.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mosaic/env.h"

namespace mosaic::testing {

class PowerLossEnv final : public Env {
 public:
  // What a power loss leaves of data appended to a file after its last fsync.
  enum class Tail {
    kDropped,  // nothing: the file ends at its last synced size
    kGarbage,  // the file keeps its length, the unsynced bytes replaced by random ones
    kZeros,    // the file keeps its length, the unsynced bytes zero (a hole)
  };

  // `stash_dir`: where removed files wait until their removal is durable; created if missing, on
  // the same file system as the database (renames and hard links into it must work).
  explicit PowerLossEnv(std::string stash_dir, Env* base = Env::Default());

  // Calls made so far (the next call is number calls() + 1).
  uint64_t calls();
  // Call number `call` and every later one fail with IOError "simulated power loss".
  void CrashAt(uint64_t call);
  // Only call number `call` fails, with IOError "injected failure"; later calls work.
  void FailAt(uint64_t call);
  bool crashed();
  // What the failed or crashing call was, e.g. "RenameFile(/x/CURRENT.tmp -> /x/CURRENT)".
  std::string failed_call();

  // Puts the files back as a power loss at the crash leaves them (see the top), then lets calls
  // through again. The database must be closed first.
  Status PowerLoss(Tail tail, uint32_t seed = 1);

  // Counting and crash check for a call; public for the file wrapper.
  Status Enter(const std::string& what);
  void RecordWritten(const std::string& path, uint64_t size);
  void RecordSynced(const std::string& path, uint64_t size);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::unique_ptr<FileView>> OpenFileView(const std::string& path, bool map) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status CreateDirIfMissing(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDirRecursively(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  // A directory-entry change not yet made durable by a SyncDir of `dir`.
  struct EntryChange {
    enum Kind { kCreate, kRename, kRemove } kind;
    std::string dir;    // the directory whose fsync makes it durable
    std::string path;   // created, removed, or the rename's target
    std::string from;   // kRename: the source
    std::string stash;  // kRemove, or kRename over an existing file: the old entry, kept aside
  };
  struct FileState {
    uint64_t synced = 0;
    uint64_t size = 0;
  };

  std::string Stash(const std::string& path);  // hard-links or moves `path` aside; mu_ held
  // Moves the tracked states of `from` and everything under it, and the pending changes made
  // there, to `to`; mu_ held.
  void MoveStates(const std::string& from, const std::string& to);
  Status Undo(const EntryChange& c);  // mu_ held

  Env* base_;
  std::string stash_dir_;
  std::mutex mu_;
  uint64_t calls_ = 0;
  uint64_t crash_at_ = 0;  // 0: off
  uint64_t fail_at_ = 0;   // 0: off
  bool crashed_ = false;
  std::string failed_call_;
  uint64_t stashed_ = 0;
  std::map<std::string, FileState> files_;  // written through this Env since it was made
  std::vector<EntryChange> pending_;        // in the order they were made
};

}  // namespace mosaic::testing
