// Resumable, verified HTTP(S) downloads of model files (libcurl).
//
// DownloadFile writes into `dest + ".part"`, so an interrupted download leaves only the .part
// file; the next call continues it with an HTTP Range request (a server that ignores Range and
// answers 200 makes it start over). The finished file is checked against the expected SHA-256
// and only then renamed to `dest`: `dest` either does not exist or is complete and verified.
// Redirects are followed. Failures to reach the server or HTTP errors are Unavailable and name
// the URL and curl's reason. Thread-safe: each call uses its own curl handle.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "embed/registry/sha256.h"
#include "mosaic/status.h"

namespace mosaic::embed {

struct DownloadOptions {
  long connect_timeout_seconds = 30;
  /// A transfer slower than 1 KiB/s for this long is aborted (and retried).
  long stall_timeout_seconds = 60;
  /// Further attempts after a transient failure (connection refused or reset, timeout, cut
  /// transfer, HTTP 5xx / 408 / 429); each resumes what the previous one wrote.
  int retries = 2;
  /// Wait before retry k (1-based) is k * this many seconds.
  double retry_backoff_seconds = 0.5;
  /// Appended to connection failures, e.g. a hint for offline machines.
  std::string offline_hint;
};

/// Called with bytes of the file present so far (including a resumed prefix) and the total
/// size (0 while unknown).
using DownloadProgress = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;

/// Downloads `url` to `dest_path` (see the header comment). `expected_sha256` may be empty: then
/// nothing is checked. The hash of the file is stored in `*sha256_out` when given.
/// Corruption: the file's hash differs (the .part file is deleted, `dest_path` not created).
Status DownloadFile(const std::string& url, const std::string& dest_path,
                    const std::string& expected_sha256, const DownloadProgress& progress = nullptr,
                    const DownloadOptions& options = {}, std::string* sha256_out = nullptr);

}  // namespace mosaic::embed
