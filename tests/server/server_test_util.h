// A real server on a loopback port over a temporary database, for the server tests; the client
// is util/http_client.h.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "mosaic/json.h"
#include "server/server.h"
#include "util/http_client.h"

namespace mosaic::testing {

// A server over `db_dir` on a free loopback port; shut down (gracefully) when destroyed.
class TestServer {
 public:
  explicit TestServer(const std::string& db_dir, server::ServerOptions options = {}) {
    options.db_path = db_dir;
    options.http.host = "127.0.0.1";
    options.http.port = 0;
    options.log_requests = false;
    auto s = server::Server::Start(std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) server_ = std::move(s.value());
  }
  ~TestServer() {
    if (server_) server_->Shutdown(std::chrono::seconds(5));
  }
  bool ok() const { return server_ != nullptr; }
  uint16_t port() const { return server_->port(); }
  server::Server& server() { return *server_; }

  HttpResult Get(const std::string& t) { return client_().Get(t); }
  HttpResult Post(const std::string& t, const std::string& body) { return client_().Post(t, body); }
  HttpResult Post(const std::string& t, const char* body) { return client_().Post(t, body); }
  HttpResult Post(const std::string& t, const Json& body) { return client_().Post(t, body.dump()); }
  HttpResult Put(const std::string& t, const Json& body) { return client_().Put(t, body.dump()); }
  HttpResult Delete(const std::string& t) { return client_().Delete(t); }
  HttpResult Send(const std::string& m, const std::string& t, const std::string& body = "",
                  const std::map<std::string, std::string>& h = {}) {
    return client_().Send(m, t, body, h);
  }

 private:
  HttpClient& client_() {
    if (!client_ptr_) client_ptr_ = std::make_unique<HttpClient>(port());
    return *client_ptr_;
  }
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<HttpClient> client_ptr_;
};

}  // namespace mosaic::testing
