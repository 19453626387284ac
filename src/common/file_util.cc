#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mosaic {

namespace {

template <typename Bytes>
Status ReadInto(const std::string& path, Bytes* out, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    return Status::ResourceExhausted(path + ": " + std::to_string(size) + " bytes, over the limit of " +
                                     std::to_string(max_bytes));
  }
  out->resize(static_cast<size_t>(size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      ::close(fd);
      return Status::IOError(path + ": read failed after " + std::to_string(done) + " of " +
                             std::to_string(out->size()) + " bytes" +
                             (err != 0 ? std::string(": ") + std::strerror(err) : ""));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::OK();
}

}  // namespace

Status ReadWholeFile(const std::string& path, std::string* out, uint64_t max_bytes) {
  return ReadInto(path, out, max_bytes);
}

Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* out, uint64_t max_bytes) {
  return ReadInto(path, out, max_bytes);
}

}  // namespace mosaic
