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

  // The same steps as the connection in src/server/http.cc, which keeps them inline; once they are
  // a function of their own, call it here instead.
  server::Request req;
  req.method = std::string(msg.method_string());
  std::string_view target(msg.target().data(), msg.target().size());
  const size_t q = target.find('?');
  auto path = server::PercentDecode(target.substr(0, q), false);
  req.path = path.ok() ? *path : std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    while (!qs.empty()) {
      const size_t amp = qs.find('&');
      std::string_view kv = qs.substr(0, amp);
      const size_t eq = kv.find('=');
      auto k = server::PercentDecode(kv.substr(0, eq), true);
      auto v = server::PercentDecode(eq == std::string_view::npos ? "" : kv.substr(eq + 1), true);
      if (k.ok() && v.ok() && !k->empty()) req.query[*k] = *v;
      if (amp == std::string_view::npos) break;
      qs.remove_prefix(amp + 1);
    }
  }
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(field.value()));
  }
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
