// Routing of HTTP requests to handlers. The server core (http.h) parses a request into a Request,
// the Router matches its method and path against patterns ("/v1/collections/{c}/points/{id}")
// and calls the handler, which returns a Response. Handlers know nothing of the HTTP library.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::server {

// Who may call a route: anyone (health, the UI's files), a read-only or admin key, or the admin
// key only. With no keys configured every caller is admin (the server then binds to loopback).
enum class Access { kPublic, kRead, kWrite };

// Where a route's handler runs. kWorker: on the worker pool (models, scans of a whole collection,
// writes that may wait for a disk). kQuick: on the connection's I/O thread, with no hand-off
// between threads (reads by id, vector searches, health); such a handler returns Response::Defer()
// when this request turns out to be heavy (a query with an image to encode), before doing
// anything, and is then called again on a worker.
enum class Cost { kWorker, kQuick };

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query string
  std::map<std::string, std::string> query;   // ?a=1&b=x, percent-decoded
  std::map<std::string, std::string> params;  // from the pattern's {names}
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string request_id;
  bool on_io_thread = false;  // set by the server core: a kQuick route runs inline (see Cost)

  // The header's value, or "" (names compared case-insensitively).
  std::string Header(std::string_view name) const;
  const std::string& Param(const std::string& name) const { return params.at(name); }
  // The query parameter, or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  // The body as JSON; InvalidArgument naming the parse error's position for bad JSON. An empty
  // body is an empty object.
  Result<Json> JsonBody() const;
};

// Streams a body in pieces (server-sent events): called again while it returns true; fills
// `chunk` (possibly empty) each time; the server waits `interval_ms` between calls.
struct Stream {
  std::function<bool(std::string& chunk)> next;
  int interval_ms = 250;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<Stream> stream;  // set: a chunked streaming body instead of `body`
  bool defer = false;  // run the request again on a worker thread (Cost); nothing else is set

  static Response Json(int status, const mosaic::Json& j);
  static Response Defer();
  static Response Json(const mosaic::Json& j) { return Json(200, j); }
  static Response Bytes(std::string content_type, std::string body);
};

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
  std::string method;
  std::string pattern;
  Access access = Access::kRead;
  Cost cost = Cost::kWorker;
};

class Router {
 public:
  // Patterns are literal segments and {name} segments (one whole segment each); a final "{*name}"
  // takes the rest of the path. Literal segments win over {name} ones at the same place.
  void Add(std::string method, std::string pattern, Access access, Handler handler,
           Cost cost = Cost::kWorker);

  struct Match {
    const Handler* handler = nullptr;
    const RouteInfo* info = nullptr;
    std::map<std::string, std::string> params;
    bool path_known = false;  // the path matched some route, not with this method (405)
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<RouteInfo>& routes() const { return infos_; }

 private:
  struct Route {
    std::vector<std::string> segments;
    size_t info = 0;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::vector<RouteInfo> infos_;
};

}  // namespace mosaic::server
