// The web UI: web/'s files, embedded in the binary, under /ui/. A browser asking for / is sent
// there; Qdrant clients asking for / get Qdrant's greeting (qdrant/).
#include "server/routes.h"
#include "server/web_assets.h"

namespace mosaic::server {

namespace {

Response Asset(const std::string& rel) {
  for (const WebAsset& a : WebAssets()) {
    if (a.path != rel) continue;
    Response res = Response::Bytes(std::string(a.content_type), std::string(a.bytes));
    res.headers.emplace_back("Cache-Control", "no-cache");
    return res;
  }
  Response res = Response::Bytes("text/plain; charset=utf-8", "not found: /ui/" + rel + "\n");
  res.status = 404;
  return res;
}

}  // namespace

void AddUiRoutes(Router& r) {
  r.Add("GET", "/ui/{*file}", Access::kPublic, [](Request& req) {
    if (req.path == "/ui") {  // relative asset URLs need the slash
      Response res = Response::Bytes("text/plain; charset=utf-8", "");
      res.status = 302;
      res.headers.emplace_back("Location", "/ui/");
      return res;
    }
    std::string file = req.Param("file");
    return Asset(file.empty() ? "index.html" : file);
  });
}

}  // namespace mosaic::server
