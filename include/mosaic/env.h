// Env: the seam through which all of Mosaic's file I/O goes (after LevelDB's Env). The default
// implementation uses POSIX calls; tests wrap it to inject faults (torn writes, failed fsync, full
// disk, lost unsynced data). Implementations must be safe for concurrent use by multiple threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"

namespace mosaic {

// A file opened for appending. Not synchronized: one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  virtual uint64_t Size() const = 0;
};

// A read-only view of a whole file (Env::OpenFileView), either read into memory or memory-mapped.
// A mapped view reads its pages from the page cache on demand, and the kernel may evict and
// re-read them; if a page cannot be read (the file truncated from outside, a disk error), it reads
// as zeros instead of killing the process with SIGBUS, and CheckReadable() says so from then on.
// Safe to read from many threads.
class FileView {
 public:
  virtual ~FileView() = default;
  virtual std::string_view data() const = 0;
  virtual bool mapped() const = 0;
  // OK, or IOError naming the file if any of its pages could not be read since it was opened:
  // whatever was computed from data() may then hold zeros in place of the file's bytes.
  virtual Status CheckReadable() const = 0;
};

// Held while a database directory is open; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never deleted.
  static Env* Default();

  // Creates or truncates `path`.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // The whole file, read into memory.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // The whole file as a view: mapped if `map` (and the Env can), else read with ReadFile. A view
  // of a file that is later renamed or removed stays valid.
  virtual Result<std::unique_ptr<FileView>> OpenFileView(const std::string& path, bool map);

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RemoveDirRecursively(const std::string& dir) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes directory entries (creates, renames, removes) in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Exclusive advisory lock; fails with Unavailable if another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Writes `data` to `path` so that a crash leaves either the old or the new content:
// write to path.tmp, sync, rename over path, sync the directory. When it fails, `*renamed` (if
// given) tells whether the rename was done: if so, `path` already holds the new content but a
// crash may still bring the old one back (the directory fsync failed), so the write is "maybe
// done" and neither content may be relied on being gone.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data,
                           bool* renamed = nullptr);

// Takes the bytes of a file in pieces; an error stops the writer that calls it.
using ByteSink = std::function<Status(std::string_view)>;

// As above, with the content handed piece by piece by `write` to the sink it is given, so that a
// large file is never held whole in memory. An error from `write` fails the write like one of
// the file's.
Status WriteFileAtomically(Env* env, const std::string& path,
                           const std::function<Status(const ByteSink&)>& write,
                           bool* renamed = nullptr);

}  // namespace mosaic
