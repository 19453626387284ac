#include "embed/registry/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace mosaic::embed {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State shared with curl's callbacks during one request.
struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  Sha256* hash = nullptr;
  const DownloadProgress* progress = nullptr;
  uint64_t offset = 0;  // bytes of the .part file before this request's body
  uint64_t written = 0;
  bool first_write = true;
  bool range_mismatch = false;
  int64_t content_range_start = -1;  // from the final response's Content-Range
  Status error;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  // A new status line starts a new response (after a redirect): forget earlier headers.
  if (line.rfind("HTTP/", 0) == 0) t->content_range_start = -1;
  constexpr char kName[] = "content-range:";
  if (line.size() > sizeof(kName) && strncasecmp(line.c_str(), kName, sizeof(kName) - 1) == 0) {
    auto bytes = line.find("bytes", sizeof(kName) - 1);
    if (bytes != std::string::npos) {
      size_t p = line.find_first_of("0123456789", bytes);
      if (p != std::string::npos)
        t->content_range_start = std::strtoll(line.c_str() + p, nullptr, 10);
    }
  }
  return size * n;
}

Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::IOError(std::string("write failed: ") + std::strerror(errno));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->first_write) {
    t->first_write = false;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (t->offset > 0 && code == 200) {
      // The server ignored our Range header and sends the whole file: start over.
      if (::ftruncate(t->fd, 0) != 0) {
        t->error = Status::IOError(std::string("cannot truncate partial download: ") +
                                   std::strerror(errno));
        return 0;
      }
      t->offset = 0;
      t->hash->Reset();
    } else if (t->offset > 0 && code == 206 &&
               t->content_range_start != static_cast<int64_t>(t->offset)) {
      t->range_mismatch = true;
      return 0;
    }
  }
  Status s = WriteAll(t->fd, data, len);
  if (!s.ok()) {
    t->error = s;
    return 0;
  }
  t->hash->Update(data, len);
  t->written += len;
  return len;
}

int OnProgress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (*t->progress) {
    uint64_t total = dltotal > 0 ? t->offset + static_cast<uint64_t>(dltotal) : 0;
    (*t->progress)(t->offset + static_cast<uint64_t>(dlnow), total);
  }
  return 0;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

Status SyncDirOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + dir + ": " + std::strerror(errno));
  ::fsync(fd);
  ::close(fd);
  return Status::OK();
}

// The outcome of one request.
struct Attempt {
  Status status;
  bool transient = false;       // worth another attempt
  bool range_rejected = false;  // HTTP 416: the .part file does not fit the remote file
};

bool IsConnectionError(CURLcode rc) {
  return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
         rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
         rc == CURLE_SSL_CONNECT_ERROR;
}

Attempt RunRequest(const std::string& url, const std::string& part, Sha256& hash,
                   const DownloadProgress& progress, const DownloadOptions& options) {
  Attempt result;
  Transfer t;
  t.hash = &hash;
  t.progress = &progress;
  t.offset = FileSize(part);
  hash.Reset();
  if (t.offset > 0) {
    Status s = HashFileInto(part, hash);
    if (!s.ok()) return {s, false, false};
  }
  t.fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (t.fd < 0) return {Status::IOError("cannot create " + part + ": " + std::strerror(errno))};

  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    ::close(t.fd);
    return {Status::Internal("curl_easy_init failed")};
  }
  t.curl = curl;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string range = std::to_string(t.offset) + "-";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "mosaic-model-registry/1");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  // CURLOPT_RANGE rather than CURLOPT_RESUME_FROM: the latter fails outright when the server
  // answers 200; we would rather restart the download.
  if (t.offset > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());

  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  if (::fsync(t.fd) != 0 && rc == CURLE_OK)
    t.error = Status::IOError("cannot sync " + part + ": " + std::strerror(errno));
  ::close(t.fd);

  const std::string prefix = "cannot download " + url + ": ";
  if (!t.error.ok()) return {t.error.WithContext(part)};
  if (t.range_mismatch) {
    result.status = Status::Unavailable(prefix + "server resumed at the wrong offset");
    result.range_rejected = true;
    return result;
  }
  if (rc == CURLE_OK) return result;
  if (rc == CURLE_HTTP_RETURNED_ERROR) {
    result.status = Status::Unavailable(prefix + "server answered HTTP " + std::to_string(code));
    result.range_rejected = code == 416 && t.offset > 0;
    result.transient = code >= 500 || code == 408 || code == 429;
    return result;
  }
  std::string reason = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '.'))
    reason.pop_back();
  if (IsConnectionError(rc) && !options.offline_hint.empty())
    reason += " (" + options.offline_hint + ")";
  result.status = Status::Unavailable(prefix + reason);
  result.transient = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
                     rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
                     rc == CURLE_GOT_NOTHING;
  return result;
}

}  // namespace

Status DownloadFile(const std::string& url, const std::string& dest_path,
                    const std::string& expected_sha256, const DownloadProgress& progress,
                    const DownloadOptions& options, std::string* sha256_out) {
  InitCurlOnce();
  if (!expected_sha256.empty() && !IsSha256Hex(expected_sha256))
    return Status::InvalidArgument("expected sha256 '" + expected_sha256 +
                                   "' is not 64 lowercase hex digits");
  std::error_code ec;
  auto parent = std::filesystem::path(dest_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::IOError("cannot create " + parent.string() + ": " + ec.message());

  const std::string part = dest_path + ".part";
  Sha256 hash;
  bool restarted_after_416 = false;
  std::string complete_digest;  // set when a leftover .part file turned out to be complete
  Status last;
  for (int attempt = 0; attempt <= options.retries; ++attempt) {
    if (attempt > 0)
      std::this_thread::sleep_for(
          std::chrono::duration<double>(options.retry_backoff_seconds * attempt));
    Attempt a = RunRequest(url, part, hash, progress, options);
    if (a.range_rejected) {
      // The .part file may already be complete (a crash between download and rename).
      if (!expected_sha256.empty()) {
        auto have = Sha256File(part);
        if (have.ok() && *have == expected_sha256) {
          complete_digest = *have;
          last = Status::OK();
          break;
        }
      }
      ::unlink(part.c_str());
      if (!restarted_after_416) {
        restarted_after_416 = true;
        --attempt;  // starting from scratch is not a failed attempt
        continue;
      }
    }
    last = a.status;
    if (last.ok() || !a.transient) break;
  }
  if (!last.ok()) {
    // Keep what was received for the next call to resume, but not an empty file.
    if (FileSize(part) == 0) ::unlink(part.c_str());
    return last;
  }

  const std::string got = complete_digest.empty() ? hash.HexDigest() : complete_digest;
  if (!expected_sha256.empty() && got != expected_sha256) {
    ::unlink(part.c_str());
    return Status::Corruption("downloaded " + url + " has sha256 " + got + ", expected " +
                              expected_sha256);
  }
  if (::rename(part.c_str(), dest_path.c_str()) != 0)
    return Status::IOError("cannot rename " + part + " to " + dest_path + ": " +
                           std::strerror(errno));
  MOSAIC_RETURN_IF_ERROR(SyncDirOf(dest_path));
  if (sha256_out != nullptr) *sha256_out = got;
  return Status::OK();
}

}  // namespace mosaic::embed
