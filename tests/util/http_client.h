// A small blocking HTTP client (Boost.Beast) for tests that talk to a server on a loopback port
// (tests/server, tests/crash). Not thread-safe: one client per thread.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <string>

#include "mosaic/json.h"

namespace mosaic::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case
  Json json() const { return Json::parse(body); }
};

// One keep-alive connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}

  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    if (!stream_ && !Connect()) return Reset(HttpResult{});
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    boost::beast::error_code ec;
    http::write(*stream_, req, ec);
    HttpResult r;
    if (ec) return Reset(r);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    if (method == "HEAD") parser.skip(true);
    http::read(*stream_, buf, parser, ec);
    if (ec) return Reset(r);
    auto& res = parser.get();
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    if (!res.keep_alive()) stream_.reset();
    return r;
  }
  HttpResult Get(const std::string& t, const std::map<std::string, std::string>& h = {}) {
    return Send("GET", t, "", h);
  }
  HttpResult Post(const std::string& t, const std::string& body) { return Send("POST", t, body); }
  HttpResult Put(const std::string& t, const std::string& body) { return Send("PUT", t, body); }
  HttpResult Delete(const std::string& t) { return Send("DELETE", t); }

 private:
  bool Connect() {
    namespace net = boost::asio;
    stream_ = std::make_unique<boost::beast::tcp_stream>(ioc_);
    boost::beast::error_code ec;
    stream_->connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    return !ec;
  }
  HttpResult Reset(HttpResult r) {
    stream_.reset();
    r.status = -1;
    return r;
  }
  uint16_t port_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::beast::tcp_stream> stream_;
};

}  // namespace mosaic::testing
