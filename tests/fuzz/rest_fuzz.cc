// Fuzzes what the server reads from a client before a handler runs (docs/server.md): the bytes of
// one HTTP/1.1 request go through Boost.Beast's parser with the server's limits, the target is
// split and percent-decoded as src/server/http.cc does it, the method and path are routed over
// the real route table (server::AllRoutes, over an empty database), the API key is checked, and
// the body is read as JSON.
#include <boost/beast/http.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "mosaic/db.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/server.h"

namespace {

namespace http = boost::beast::http;
namespace server = mosaic::server;

struct Routes {
  std::unique_ptr<server::ServerContext> ctx;
  server::Router router;
  server::Auth auth{"read-key", "admin-key"};
};

Routes& Table() {
  static Routes* r = [] {
    auto* routes = new Routes;
    const std::string dir = mosaic::fuzz::ScratchDir() + "/db";
    auto db = mosaic::Db::Open(dir);
    if (!db.ok()) std::abort();
    server::ServerOptions options;
    options.db_path = dir;
    routes->ctx = std::make_unique<server::ServerContext>(std::move(db).value(), options);
    routes->router = server::AllRoutes(*routes->ctx);
    return routes;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Routes& routes = Table();
  const server::HttpOptions limits;
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto msg = parser.release();

  // The same steps as the connection in src/server/http.cc.
  server::Request req;
  req.method = std::string(msg.method_string());
  server::ParseTarget(std::string_view(msg.target().data(), msg.target().size()), &req);
  for (const auto& field : msg)
    server::AddHeader({field.name_string().data(), field.name_string().size()},
                      {field.value().data(), field.value().size()}, &req);
  req.body = std::move(msg.body());

  server::Router::Match m = routes.router.Find(req.method, req.path);
  if (m.info != nullptr) {
    int code = 0;
    routes.auth.Check(req, m.info->access, &code).ok();
  }
  server::CookieValue(req.Header("cookie"), "mosaic_api_key");
  req.JsonBody().ok();
  return 0;
}
