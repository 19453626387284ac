// API keys: a read-only key (searches, reads) and an admin key (everything), sent as
// "api-key: K" (Qdrant's header), "Authorization: Bearer K", or the cookie mosaic_api_key (the
// web UI sets it, for what cannot send headers: images, videos, event streams). Keys are compared in constant
// time and never logged. With no key configured every caller is admin; the server then refuses
// to listen on anything but a loopback address (cmd_serve).
#pragma once

#include <string>
#include <string_view>

#include "mosaic/status.h"
#include "server/router.h"

namespace mosaic::server {

class Auth {
 public:
  Auth(std::string read_key, std::string admin_key)
      : read_key_(std::move(read_key)), admin_key_(std::move(admin_key)) {}

  bool enabled() const { return !read_key_.empty() || !admin_key_.empty(); }
  // OK, or PermissionDenied (with the HTTP status 401 for a missing or unknown key, 403 for a
  // read-only key on a write route).
  Status Check(const Request& req, Access access, int* http_status) const;

 private:
  std::string read_key_;
  std::string admin_key_;
};

// The value of cookie `name` in a Cookie header, percent-decoded, or "".
std::string CookieValue(std::string_view cookies, std::string_view name);

// Equal strings, in time that depends only on the lengths.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace mosaic::server
