#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "document/document.h"

namespace mosaic::document {
namespace {

Result<std::string> ReadFileLimited(const std::string& path, uint64_t max_bytes) {
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
  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      ::close(fd);
      return Status::IOError(path + ": read failed after " + std::to_string(done) + " of " +
                             std::to_string(bytes.size()) + " bytes" +
                             (err != 0 ? std::string(": ") + std::strerror(err) : ""));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace

Result<Document> ParseDocument(std::string_view bytes, DocFormat format,
                               const DocumentOptions& options) {
  switch (format) {
    case DocFormat::kText: return ParseText(bytes, options);
    case DocFormat::kMarkdown: return ParseMarkdown(bytes, options);
    case DocFormat::kHtml: return ParseHtml(bytes, options);
    case DocFormat::kPdf: return ParsePdf(bytes, options);
  }
  return Status::InvalidArgument("unknown document format");
}

Result<Document> ReadDocument(const std::string& path, DocFormat format,
                              const DocumentOptions& options) {
  MOSAIC_ASSIGN_OR_RETURN(std::string bytes, ReadFileLimited(path, options.max_bytes));
  Result<Document> doc = ParseDocument(bytes, format, options);
  if (!doc.ok()) return doc.status().WithContext(path);
  return doc;
}

}  // namespace mosaic::document
