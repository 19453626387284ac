// Qdrant's service endpoints: the greeting at / (which clients read to check the version),
// Kubernetes health checks, telemetry basics, cluster status (a single node).
#include "server/qdrant/qdrant_routes.h"
#include "wire/qdrant_codec.h"

namespace mosaic::server::qdrant {

void AddServiceRoutes(Router& r, ServerContext& ctx) {
  // A browser is sent to the web UI; a client gets Qdrant's greeting, not in an envelope.
  r.Add("GET", "/", Access::kPublic, [](Request& req) {
    if (req.Header("accept").find("text/html") != std::string::npos) {
      Response res = Response::Bytes("text/plain; charset=utf-8", "");
      res.status = 302;
      res.headers.emplace_back("Location", "/ui/");
      return res;
    }
    return Response::Json(Json{{"title", "qdrant - vector search engine"},
                               {"version", wire::qdrant::kCompatibleVersion},
                               {"commit", nullptr}});
  }, Cost::kQuick);

  auto text = [](const char* body) {
    return [body](Request&) { return Response::Bytes("text/plain; charset=utf-8", body); };
  };
  r.Add("GET", "/healthz", Access::kPublic, text("healthz check passed"), Cost::kQuick);
  r.Add("GET", "/livez", Access::kPublic, text("healthz check passed"), Cost::kQuick);
  r.Add("GET", "/readyz", Access::kPublic, text("all shards are ready"), Cost::kQuick);

  Add(r, "GET", "/telemetry", Access::kRead, [&ctx](Request&) -> Result<Json> {
    return Json{{"id", "mosaic"},
                {"app", {{"name", "qdrant"}, {"version", wire::qdrant::kCompatibleVersion}}},
                {"collections", {{"number_of_collections", ctx.db().ListCollections().size()}}}};
  });

  Add(r, "GET", "/cluster", Access::kRead, [](Request&) -> Result<Json> {
    return Json{{"status", "disabled"}};
  });
}

}  // namespace mosaic::server::qdrant
