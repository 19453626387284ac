// HttpFileServer: a small real HTTP/1.1 server on 127.0.0.1 for download tests. It serves the
// files under a root folder (GET, one request per connection), answers Range requests with 206,
// and can misbehave on demand: cut the connection after N body bytes (an interrupted download)
// or ignore Range and send the whole file with 200. It records every request it sees.
// Runs its own thread; the public methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mosaic::testing {

class HttpFileServer {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::string range;  // the Range header's value, "" if none
  };

  /// Listens on 127.0.0.1 on a free port and serves files under `root`.
  explicit HttpFileServer(std::string root);
  ~HttpFileServer();
  HttpFileServer(const HttpFileServer&) = delete;
  HttpFileServer& operator=(const HttpFileServer&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string base_url() const;
  /// base_url() + path (path starts with '/').
  std::string url(const std::string& path) const { return base_url() + path; }

  /// The next response closes the connection after `bytes` body bytes (-1: off).
  void CutNextResponseAfter(int64_t bytes) { cut_after_ = bytes; }
  /// Answer Range requests with the whole file and 200, like servers without range support.
  void IgnoreRange(bool on) { ignore_range_ = on; }

  std::vector<Request> requests() const;

  /// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed), for
  /// connection-refused tests.
  static int ClosedPort();

 private:
  void Serve();
  void Handle(int fd);

  std::string root_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int64_t> cut_after_{-1};
  std::atomic<bool> ignore_range_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace mosaic::testing
