// Server: `mosaic serve` as a library. Opens the database, builds the route table (routes.h) and
// serves it over HttpServer. Every request goes through Dispatch: route match, API key check,
// the handler (exceptions become 500s naming them), metrics, one log line with the request id.
//
//   auto server = server::Server::Start(options).value();
//   ... server->port() ...
//   server->Shutdown(std::chrono::seconds(10));  // finishes requests in flight, flushes
#pragma once

#include <chrono>
#include <memory>

#include "mosaic/status.h"
#include "server/auth.h"
#include "server/context.h"
#include "server/http.h"
#include "server/router.h"

namespace mosaic::server {

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();

  uint16_t port() const { return http_->port(); }
  const Router& router() const { return router_; }
  ServerContext& context() { return *ctx_; }

  // Stops accepting; requests in flight finish for up to `grace`; ingest jobs are cancelled;
  // collections are flushed. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

  Response Dispatch(Request& req);

 private:
  Server() = default;
  Response Error(const Request& req, const Status& s, int http_status) const;

  std::unique_ptr<ServerContext> ctx_;
  Router router_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<HttpServer> http_;
  bool shut_down_ = false;
};

// The routes of the whole server (for the OpenAPI check), without starting it.
Router AllRoutes(ServerContext& ctx);

}  // namespace mosaic::server
