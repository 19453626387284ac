// The HTTP/1.1 server core, over Boost.Beast and Asio (why: docs/server.md). I/O threads (one per
// core) run every connection asynchronously, so idle keep-alive connections and slow clients hold
// no thread. A complete request for a quick route (router.h, Cost) is answered on the I/O thread
// that read it; the rest go to a pool of worker threads, so a slow handler (a model encoding a
// video clip) blocks no connection but its own. Limits: header and body sizes (413
// with a JSON error above them), a read timeout per request, an idle timeout between requests.
// Shutdown stops accepting, closes idle connections, lets requests in flight finish and answer
// (up to a grace period), then stops the threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mosaic/status.h"
#include "server/router.h"

namespace mosaic::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6333;  // 0: any free port (tests)
  int io_threads = 0;  // 0: one per hardware thread
  int workers = 0;  // 0: one per hardware thread, at least 2
  size_t max_body_bytes = 64u << 20;
  size_t max_header_bytes = 64u << 10;
  std::chrono::seconds read_timeout{30};  // from a request's first byte to its last
  std::chrono::seconds idle_timeout{60};  // a keep-alive connection with no request
};

// Called for every complete request, first on the I/O thread with request.on_io_thread set, then,
// if it answers Response::Defer(), again on a worker thread; must not throw.
using Dispatch = std::function<Response(Request&)>;
// Called for requests refused before dispatch (too large, malformed), to shape the error.
using ErrorDispatch = std::function<Response(const Request&, const Status&, int http_status)>;

class HttpServer {
 public:
  // Binds and starts serving; the port is bound when this returns (port() tells which).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Dispatch dispatch,
                                                   ErrorDispatch on_error);
  ~HttpServer();

  uint16_t port() const;
  // Stops accepting and finishes: requests in flight are answered (each connection then
  // closes) for up to `grace`; then every connection is closed. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until Shutdown has finished.
  void Wait();

  size_t open_connections() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "%20" and "+" (in query strings) decoded; InvalidArgument for a broken escape.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// What the connection does with a parsed request before routing: the target's path,
// percent-decoded (kept raw when an escape is broken, so routing answers 404), and its query
// parameters (a broken or empty key is dropped); header names lower-cased.
void ParseTarget(std::string_view target, Request* req);
void AddHeader(std::string_view name, std::string_view value, Request* req);

}  // namespace mosaic::server
