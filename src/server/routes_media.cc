// Media by point id (never by a client's path): a point's thumbnail, and the original file of
// the point's file, with HTTP range requests (a video seeks to a shot's start).
#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/base64.h"
#include "server/errors.h"
#include "server/routes.h"
#include "wire/point_codec.h"

namespace mosaic::server {

namespace {

constexpr uint64_t kMaxRangeBytes = 8ull << 20;   // per 206 answer to an open-ended range
constexpr uint64_t kMaxWholeBytes = 512ull << 20;  // larger files are served by ranges only

Result<Point> GetPoint(const Collection& c, const PointId& id) {
  std::vector<PointId> ids{id};
  MOSAIC_ASSIGN_OR_RETURN(auto got, c.Get(ids, true, false));
  if (got.empty())
    return Status::NotFound("point " + id.ToString() + " does not exist in '" + c.name() + "'");
  return std::move(got.front());
}

// The point, or (for children such as faces, chunks and speech) its parent, that has `field`.
Result<Point> WithField(const Collection& c, const PointId& id, const char* field) {
  MOSAIC_ASSIGN_OR_RETURN(Point p, GetPoint(c, id));
  for (int depth = 0; depth < 3; ++depth) {
    if (p.payload.contains(field)) return p;
    const Json* parent = p.payload.contains("parent") ? &p.payload["parent"] : nullptr;
    if (!parent) parent = p.payload.contains("file_id") ? &p.payload["file_id"] : nullptr;
    if (!parent) break;
    auto pid = PointId::FromJson(*parent);
    if (!pid.ok() || pid.value() == p.id) break;
    MOSAIC_ASSIGN_OR_RETURN(p, GetPoint(c, pid.value()));
  }
  return Status::NotFound("point " + id.ToString() + " has no " + field);
}

// Parses "bytes=a-b", "bytes=a-", "bytes=-n" against `size`; false when unsatisfiable.
bool ParseRange(const std::string& h, uint64_t size, uint64_t* begin, uint64_t* end) {
  if (!h.starts_with("bytes=") || h.find(',') != std::string::npos || size == 0) return false;
  std::string spec = h.substr(6);
  size_t dash = spec.find('-');
  if (dash == std::string::npos) return false;
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  try {
    if (a.empty()) {
      uint64_t n = std::stoull(b);
      if (n == 0) return false;
      *begin = n >= size ? 0 : size - n;
      *end = size - 1;
    } else {
      *begin = std::stoull(a);
      *end = b.empty() ? std::min(size - 1, *begin + kMaxRangeBytes - 1)
                       : std::min(size - 1, static_cast<uint64_t>(std::stoull(b)));
    }
  } catch (const std::exception&) {
    return false;
  }
  return *begin <= *end && *begin < size;
}

// Whether `path` lies under the media root: payloads are writable by API clients, so a path
// in one is trusted only there.
bool UnderMediaRoot(const ServerContext& ctx, const std::string& path) {
  if (ctx.options().media_root.empty()) return false;
  char root[PATH_MAX], full[PATH_MAX];
  if (!::realpath(ctx.options().media_root.c_str(), root) || !::realpath(path.c_str(), full))
    return false;
  std::string r(root), f(full);
  return f.starts_with(r == "/" ? r : r + "/");
}

Response ServeFile(const std::string& path, const std::string& mime, const Request& req) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return ErrorResponse(Status::NotFound("the original file is no longer on the server"));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrorResponse(Status::IOError("cannot read the original file"));
  std::string range = req.Header("range");
  uint64_t begin = 0, end = size ? size - 1 : 0;
  Response res;
  res.content_type = mime.empty() ? "application/octet-stream" : mime;
  res.headers.emplace_back("Accept-Ranges", "bytes");
  if (!range.empty()) {
    if (!ParseRange(range, size, &begin, &end)) {
      Response bad = ErrorResponse(
          Status::InvalidArgument("range '" + range + "' is not satisfiable for " +
                                  std::to_string(size) + " bytes"), 416);
      bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    res.status = 206;
    res.headers.emplace_back("Content-Range", "bytes " + std::to_string(begin) + "-" +
                                                  std::to_string(end) + "/" + std::to_string(size));
  } else if (size > kMaxWholeBytes) {
    begin = 0;
    end = kMaxRangeBytes - 1;
    res.status = 206;
    res.headers.emplace_back("Content-Range", "bytes 0-" + std::to_string(end) + "/" +
                                                  std::to_string(size));
  }
  uint64_t n = size ? end - begin + 1 : 0;
  res.body.resize(n);
  in.seekg(static_cast<std::streamoff>(begin));
  in.read(res.body.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n)
    return ErrorResponse(Status::IOError("the original file changed while it was read"));
  return res;
}

}  // namespace

void AddMediaRoutes(Router& r, ServerContext& ctx) {
  r.Add("GET", "/v1/collections/{c}/points/{id}/thumbnail", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto p = WithField(*c.value(), wire::PointIdFromText(req.Param("id")), "thumbnail");
    if (!p.ok()) return ErrorResponse(p.status());
    const Json& t = p.value().payload["thumbnail"];
    if (!t.is_object() || !t.contains("data") || !t["data"].is_string())
      return ErrorResponse(Status::NotFound("point " + req.Param("id") + " has no thumbnail"));
    auto bytes = Base64Decode(t["data"].get<std::string>());
    if (!bytes.ok()) return ErrorResponse(Status::Corruption("the stored thumbnail is not base64"));
    std::string mime = t.value("mime", std::string("image/jpeg"));
    Response res = Response::Bytes(mime, std::move(bytes.value()));
    res.headers.emplace_back("Cache-Control", "max-age=300");
    return res;
  });

  r.Add("GET", "/v1/collections/{c}/points/{id}/media", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto p = WithField(*c.value(), wire::PointIdFromText(req.Param("id")), "mime");
    if (!p.ok()) return ErrorResponse(p.status());
    const Json& payload = p.value().payload;
    if (!payload.contains("file") || !payload["file"].is_object() ||
        !payload["file"].contains("path") || !payload["file"]["path"].is_string())
      return ErrorResponse(Status::NotFound("point " + req.Param("id") + " has no original file"));
    std::string path = payload["file"]["path"].get<std::string>();
    if (!UnderMediaRoot(ctx, path))
      return ErrorResponse(Status::PermissionDenied(
          "the original of point " + req.Param("id") +
          " is outside the media root (start the server with --media-root over it)"));
    return ServeFile(path,
                     payload["mime"].is_string() ? payload["mime"].get<std::string>() : "", req);
  });
}

}  // namespace mosaic::server
