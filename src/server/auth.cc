#include "server/auth.h"

#include "server/http.h"

namespace mosaic::server {

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  // Compare over the longer length so that a prefix costs as much as a wrong key.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string CookieValue(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    size_t semi = cookies.find(';');
    std::string_view part = cookies.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      auto v = PercentDecode(part.substr(name.size() + 1), false);
      return v.ok() ? v.value() : std::string();
    }
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return "";
}

Status Auth::Check(const Request& req, Access access, int* http_status) const {
  if (access == Access::kPublic || !enabled()) return Status::OK();
  std::string key = req.Header("api-key");
  if (key.empty()) {
    std::string h = req.Header("authorization");
    if (h.starts_with("Bearer ")) key = h.substr(7);
  }
  if (key.empty()) key = CookieValue(req.Header("cookie"), "mosaic_api_key");
  bool admin = !admin_key_.empty() && ConstantTimeEqual(key, admin_key_);
  bool reader = !read_key_.empty() && ConstantTimeEqual(key, read_key_);
  if (admin || (reader && access == Access::kRead)) return Status::OK();
  if (reader) {
    *http_status = 403;
    return Status::PermissionDenied("the read-only API key may not call " + req.method + " " +
                                    req.path);
  }
  *http_status = 401;
  return Status::PermissionDenied(key.empty() ? "an API key is required (header 'api-key')"
                                              : "the API key is not valid");
}

}  // namespace mosaic::server
