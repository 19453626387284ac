#include "server/router.h"

#include "wire/json_parse.h"

#include <algorithm>
#include <cctype>

namespace mosaic::server {

namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }
bool IsRest(const std::string& seg) { return IsParam(seg) && seg[1] == '*'; }

// How well `pattern` matches `path`: -1 for no match, else a score where literal segments
// count more than parameters, so /points/count wins over /points/{id}.
int MatchScore(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
               std::map<std::string, std::string>* params) {
  int score = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& seg = pattern[i];
    if (IsRest(seg)) {
      std::string rest;
      for (size_t k = i; k < path.size(); ++k) rest += (k > i ? "/" : "") + path[k];
      if (params) (*params)[seg.substr(2, seg.size() - 3)] = rest;
      return score;
    }
    if (i >= path.size()) return -1;
    if (IsParam(seg)) {
      if (params) (*params)[seg.substr(1, seg.size() - 2)] = path[i];
    } else if (seg == path[i]) {
      score += 1 << (16 - std::min<size_t>(i, 15));
    } else {
      return -1;
    }
  }
  return pattern.size() == path.size() ? score : -1;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i)
      same = k[i] == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return "";
}

std::string Request::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

Result<Json> Request::JsonBody() const {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  return wire::ParseJson(body);
}

Response Response::Json(int status, const mosaic::Json& j) {
  Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, mosaic::Json::error_handler_t::replace);
  return r;
}

Response Response::Defer() {
  Response r;
  r.defer = true;
  return r;
}

Response Response::Bytes(std::string content_type, std::string body) {
  Response r;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

void Router::Add(std::string method, std::string pattern, Access access, Handler handler,
                 Cost cost) {
  Route r;
  r.segments = Split(pattern);
  r.info = infos_.size();
  r.handler = std::move(handler);
  infos_.push_back({std::move(method), std::move(pattern), access, cost});
  routes_.push_back(std::move(r));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string> segs = Split(path);
  int best = -1;
  for (const Route& r : routes_) {
    int score = MatchScore(r.segments, segs, nullptr);
    if (score < 0) continue;
    m.path_known = true;
    if (infos_[r.info].method != method || score <= best) continue;
    best = score;
    m.handler = &r.handler;
    m.info = &infos_[r.info];
  }
  if (m.handler) {
    const Route& r = routes_[static_cast<size_t>(m.info - infos_.data())];
    MatchScore(r.segments, segs, &m.params);
  }
  return m;
}

}  // namespace mosaic::server
