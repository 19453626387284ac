// AddQdrantRoutes and what the Qdrant route files share: the envelope, errors, collection lookup.
#include "server/qdrant/qdrant_routes.h"

#include <atomic>
#include <chrono>

#include "server/errors.h"
#include "server/routes.h"
#include "wire/qdrant_codec.h"

namespace mosaic::server {

namespace qdrant {

namespace {

std::atomic<uint64_t> next_operation_id{0};

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void Add(Router& r, const char* method, const char* pattern, Access access, Handler handler,
         Cost cost) {
  r.Add(method, pattern, access, [handler = std::move(handler)](Request& req) {
    const auto start = std::chrono::steady_clock::now();
    Result<Json> result = handler(req);
    if (!result.ok()) return ErrorResponse(result.status(), Seconds(start));
    return Response::Json(
        200,
        Json{{"result", std::move(result).value()}, {"status", "ok"}, {"time", Seconds(start)}});
  }, cost);
}

Response ErrorResponse(const Status& s, double seconds) {
  std::string prefix;
  switch (s.code()) {
    case StatusCode::kNotFound:
      prefix = "Not found: ";
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
      prefix = "Wrong input: ";
      break;
    case StatusCode::kPermissionDenied:
      prefix = "Forbidden: ";
      break;
    case StatusCode::kResourceExhausted:
      prefix = "Too many requests: ";
      break;
    case StatusCode::kUnavailable:
      prefix = "Service unavailable: ";
      break;
    default:
      prefix = "Service internal error: ";
      break;
  }
  // A Qdrant user never named the unnamed vector: messages about it say "vector".
  std::string message = s.message();
  const std::string unnamed = std::string("vector '") + wire::qdrant::kUnnamedVector + "'";
  for (size_t at; (at = message.find(unnamed)) != std::string::npos;)
    message.replace(at, unnamed.size(), "vector");
  return Response::Json(HttpStatusFor(s),
                        Json{{"status", {{"error", prefix + message}}}, {"time", seconds}});
}

Result<std::shared_ptr<Collection>> FindCollection(ServerContext& ctx, const std::string& name) {
  auto c = ctx.GetCollection(name);
  if (!c.ok() && c.status().IsNotFound())
    return Status::NotFound("Collection `" + name + "` doesn't exist!");
  return c;
}

Result<Json> Body(const Request& req) {
  return req.JsonBody();
}

Json UpdateResult() {
  return {{"operation_id", next_operation_id.fetch_add(1) + 1}, {"status", "completed"}};
}

}  // namespace qdrant

void AddQdrantRoutes(Router& r, ServerContext& ctx) {
  qdrant::AddServiceRoutes(r, ctx);
  qdrant::AddCollectionRoutes(r, ctx);
  qdrant::AddPointRoutes(r, ctx);
  qdrant::AddSearchRoutes(r, ctx);
}

}  // namespace mosaic::server
