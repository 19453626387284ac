#include "server/server.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include "server/errors.h"
#include "server/routes.h"

namespace mosaic::server {

Router AllRoutes(ServerContext& ctx) {
  Router r;
  AddSystemRoutes(r, ctx);
  AddCollectionRoutes(r, ctx);
  AddPointRoutes(r, ctx);
  AddMediaRoutes(r, ctx);
  AddQueryRoutes(r, ctx);
  AddAppRoutes(r, ctx);
  AddIngestRoutes(r, ctx);
  AddUiRoutes(r);
  AddQdrantRoutes(r, ctx);
  return r;
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  std::unique_ptr<Server> s(new Server());
  MOSAIC_ASSIGN_OR_RETURN(auto db, Db::Open(options.db_path, options.db));
  s->auth_ = std::make_unique<Auth>(options.read_key, options.admin_key);
  HttpOptions http = options.http;
  s->ctx_ = std::make_unique<ServerContext>(std::move(db), std::move(options));
  s->router_ = AllRoutes(*s->ctx_);
  Server* self = s.get();
  MOSAIC_ASSIGN_OR_RETURN(
      s->http_,
      HttpServer::Start(
          http, [self](Request& req) { return self->Dispatch(req); },
          [self](const Request& req, const Status& st, int code) {
            Response res = self->Error(req, st, code);
            if (self->ctx_->options().log_requests)
              std::fprintf(stderr, "req=%s %s %s -> %d (%s)\n", req.request_id.c_str(),
                           req.method.c_str(), req.path.c_str(), code, st.message().c_str());
            return res;
          }));
  return s;
}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_ || !http_) return;
  shut_down_ = true;
  for (auto& job : ctx_->Jobs())
    if (job->ingestor) job->ingestor->Cancel();
  http_->Shutdown(grace);
  ctx_->FlushAll();
}

Response Server::Error(const Request& req, const Status& s, int http_status) const {
  Response res = ErrorResponse(s, http_status);
  // Outside the native API, clients may be Qdrant's: give its error shape too.
  if (!req.path.starts_with("/v1/")) {
    Json j = Json::parse(res.body);
    j["status"] = {{"error", s.message()}};
    j["time"] = 0;
    res.body = j.dump();
  }
  return res;
}

Response Server::Dispatch(Request& req) {
  auto start = std::chrono::steady_clock::now();
  Router::Match m = router_.Find(req.method, req.path);
  std::string route = m.info ? m.info->pattern : "(unmatched)";
  Response res;
  int code = 0;
  if (!m.handler) {
    if (m.path_known)
      res = Error(req, Status::InvalidArgument("method " + req.method + " is not allowed on " + req.path), 405);
    else
      res = Error(req, Status::NotFound("no route for " + req.method + " " + req.path), 404);
  } else if (Status st = auth_->Check(req, m.info->access, &code); !st.ok()) {
    res = Error(req, st, code);
  } else if (req.on_io_thread && m.info->cost != Cost::kQuick) {
    return Response::Defer();
  } else {
    req.params = std::move(m.params);
    try {
      res = (*m.handler)(req);
    } catch (const std::exception& e) {
      res = Error(req, Status::Internal(std::string("unexpected error: ") + e.what()), 500);
    }
    if (res.defer) return res;  // measured when it runs on the worker
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx_->metrics().Observe(req.method, route, res.status, seconds);
  if (ctx_->options().log_requests) {
    std::string what;
    if (res.status >= 400 && res.body.size() < 600) what = " " + res.body;
    std::fprintf(stderr, "req=%s %s %s -> %d %.1f ms%s\n", req.request_id.c_str(),
                 req.method.c_str(), req.path.c_str(), res.status, seconds * 1e3, what.c_str());
  }
  return res;
}

}  // namespace mosaic::server
