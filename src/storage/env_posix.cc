// The default Env: POSIX files, whole-file reads into memory or guarded mappings (file_view.cc),
// flock for the database lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "mosaic/env.h"
#include "storage/file_view.h"

namespace mosaic {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(msg);
  return Status::IOError(msg);
}

// Opens `path` and reports its size; the caller owns the descriptor.
Result<int> OpenWithSize(const std::string& path, int flags, uint64_t* size) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return PosixError("stat " + path, err);
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

// A file written whole (NewWritableFile: segments, graphs, indexes) writes behind: every
// kWriteBehindBytes appended, writeback of them is started and that of the piece before them
// awaited (sync_file_range), so that at most two pieces per file are dirty or in flight. A large
// file written at once otherwise leaves up to gigabytes dirty for the kernel to write out at a
// time of its choosing, and an fsync of the log (each acknowledged write's) may then queue behind
// them. Advisory: errors show at Sync.
class PosixWritableFile final : public WritableFile {
 public:
  static constexpr uint64_t kWriteBehindBytes = 8 << 20;

  PosixWritableFile(std::string path, int fd, uint64_t size, bool write_behind)
      : path_(std::move(path)), fd_(fd), size_(size), started_(size), waited_(size),
        write_behind_(write_behind) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    if (write_behind_ && size_ - started_ >= kWriteBehindBytes) WriteBehind();
    return Status::OK();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync " + path_, errno);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return PosixError("close " + path_, errno);
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }

 private:
  void WriteBehind() {
    ::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(size_ - started_),
                      SYNC_FILE_RANGE_WRITE);
    if (started_ > waited_)
      ::sync_file_range(fd_, static_cast<off_t>(waited_), static_cast<off_t>(started_ - waited_),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
    waited_ = started_;
    started_ = size_;
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  uint64_t started_;  // writeback started up to here
  uint64_t waited_;   // and awaited up to here
  bool write_behind_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open " + path, errno);
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, 0, /*write_behind=*/true));
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    uint64_t size;
    MOSAIC_ASSIGN_OR_RETURN(int fd, OpenWithSize(path, O_WRONLY | O_CREAT | O_APPEND, &size));
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, size, /*write_behind=*/false));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    uint64_t size;
    MOSAIC_ASSIGN_OR_RETURN(int fd, OpenWithSize(path, O_RDONLY, &size));
    // Sized by the stat, so a large file is read once with no reallocation; a file that has
    // grown since is read on to its end in chunks, one that has shrunk is what is there.
    std::string out(static_cast<size_t>(size), '\0');
    size_t done = 0;
    char chunk[1 << 16];
    for (;;) {
      const bool sized = done < out.size();
      char* dst = sized ? out.data() + done : chunk;
      const size_t want = sized ? out.size() - done : sizeof(chunk);
      ssize_t n = ::pread(fd, dst, want, static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return PosixError("read " + path, err);
      }
      if (n == 0) break;
      if (!sized) out.append(chunk, static_cast<size_t>(n));
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<FileView>> OpenFileView(const std::string& path, bool map) override {
    uint64_t size;
    MOSAIC_ASSIGN_OR_RETURN(int fd, OpenWithSize(path, O_RDONLY, &size));
    auto view = map ? storage::MapFileView(fd, path, size) : storage::ReadFileView(fd, path, size);
    ::close(fd);  // a mapping keeps the file open itself
    if (view.ok() && *view == nullptr) return Env::OpenFileView(path, false);
    return view;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir " + dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    return names;
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return PosixError("mkdir " + dir, errno);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink " + path, errno);
    return Status::OK();
  }

  Status RemoveDirRecursively(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return Status::IOError("remove " + dir + ": " + ec.message());
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return PosixError("rename " + from + " to " + to, errno);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
      return PosixError("truncate " + path, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync " + dir, err);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open " + path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return Status::Unavailable("database is locked by another process (" + path + ")");
      return PosixError("flock " + path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data,
                           bool* renamed) {
  return WriteFileAtomically(
      env, path, [&](const ByteSink& sink) { return sink(data); }, renamed);
}

Status WriteFileAtomically(Env* env, const std::string& path,
                           const std::function<Status(const ByteSink&)>& write, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  std::string tmp = path + ".tmp";
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  Status s = write([&](std::string_view piece) { return file->Append(piece); });
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    env->RemoveFile(tmp).ok();  // best effort; `path` still holds the old content
    return s;
  }
  if (renamed != nullptr) *renamed = true;
  std::string dir = std::filesystem::path(path).parent_path().string();
  return env->SyncDir(dir.empty() ? "." : dir);
}

}  // namespace mosaic
