// Collections, payload indexes and snapshots (native API).
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "server/errors.h"
#include "server/routes.h"
#include "wire/json_reader.h"

namespace mosaic::server {

namespace {

namespace fs = std::filesystem;

std::string SnapshotsDir(ServerContext& ctx) {
  return ctx.options().snapshots_dir.empty() ? ctx.options().db_path + "/snapshots"
                                             : ctx.options().snapshots_dir;
}

// Snapshot file names are made by the server: [A-Za-z0-9_.-], no leading dot.
bool PlainFileName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s[0] == '.') return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

}  // namespace

void AddCollectionRoutes(Router& r, ServerContext& ctx) {
  r.Add("GET", "/v1/collections", Access::kRead, [&ctx](Request&) {
    Json list = Json::array();
    for (const std::string& name : ctx.db().ListCollections())
      if (auto c = ctx.db().GetCollection(name); c.ok()) list.push_back(c.value()->Info().ToJson());
    // Collections that failed to open are listed with why; any call on one answers 500 naming it.
    for (const auto& [name, why] : ctx.db().DamagedCollections())
      list.push_back({{"name", name}, {"damaged", why.ToString()}});
    return Response::Json({{"collections", list}});
  });

  r.Add("POST", "/v1/collections", Access::kWrite, [&ctx](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    if (Status s = in.Expect({"name", "schema"}); !s.ok()) return ErrorResponse(s);
    auto name = in.String("name");
    if (!name.ok()) return ErrorResponse(name.status());
    if (!name.value()) return ErrorResponse(Status::InvalidArgument("name: required"));
    if (!in.Has("schema")) return ErrorResponse(Status::InvalidArgument("schema: required"));
    auto schema = CollectionSchema::FromJson(in.At("schema"));
    if (!schema.ok())
      return ErrorResponse(Status::InvalidArgument("schema: " + schema.status().message()));
    auto c = ctx.db().CreateCollection(*name.value(), schema.value());
    if (!c.ok()) return ErrorResponse(c.status());
    return Response::Json(201, c.value()->Info().ToJson());
  });

  r.Add("GET", "/v1/collections/{c}", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    return Response::Json(c.value()->Info().ToJson());
  });

  r.Add("DELETE", "/v1/collections/{c}", Access::kWrite, [&ctx](Request& req) {
    const std::string& name = req.Param("c");
    if (auto c = ctx.GetCollection(name); !c.ok()) return ErrorResponse(c.status());
    ctx.ForgetEncoder(name);
    if (Status s = ctx.db().DropCollection(name); !s.ok()) return ErrorResponse(s);
    return Response::Json({{"deleted", true}});
  });

  r.Add("GET", "/v1/collections/{c}/indexes", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    Json idx = Json::object();
    for (const auto& [field, type] : c.value()->PayloadIndexes())
      idx[field] = PayloadIndexTypeName(type);
    return Response::Json({{"indexes", idx}});
  });

  r.Add("PUT", "/v1/collections/{c}/indexes/{field}", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    if (Status s = in.Expect({"type"}); !s.ok()) return ErrorResponse(s);
    auto type_name = in.String("type");
    if (!type_name.ok()) return ErrorResponse(type_name.status());
    if (!type_name.value()) return ErrorResponse(Status::InvalidArgument("type: required"));
    auto type = ParsePayloadIndexType(*type_name.value());
    if (!type.ok()) return ErrorResponse(Status::InvalidArgument("type: " + type.status().message()));
    if (Status s = c.value()->CreatePayloadIndex(req.Param("field"), type.value()); !s.ok())
      return ErrorResponse(s);
    return Response::Json({{"field", req.Param("field")}, {"type", *type_name.value()}});
  });

  r.Add("DELETE", "/v1/collections/{c}/indexes/{field}", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    if (Status s = c.value()->DropPayloadIndex(req.Param("field")); !s.ok()) return ErrorResponse(s);
    return Response::Json({{"deleted", true}});
  });

  r.Add("POST", "/v1/collections/{c}/snapshots", Access::kWrite, [&ctx](Request& req) {
    const std::string& name = req.Param("c");
    if (auto c = ctx.GetCollection(name); !c.ok()) return ErrorResponse(c.status());
    std::error_code ec;
    fs::create_directories(SnapshotsDir(ctx), ec);
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::string file = name + "-" + std::to_string(now) + ".snapshot";
    std::string path = SnapshotsDir(ctx) + "/" + file;
    if (Status s = ctx.db().CreateSnapshot(name, path); !s.ok()) return ErrorResponse(s);
    return Response::Json(201, {{"name", file}, {"size", fs::file_size(path, ec)}});
  });

  r.Add("GET", "/v1/collections/{c}/snapshots", Access::kRead, [&ctx](Request& req) {
    const std::string prefix = req.Param("c") + "-";
    Json list = Json::array();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(SnapshotsDir(ctx), ec)) {
      std::string f = e.path().filename().string();
      if (f.starts_with(prefix) && f.ends_with(".snapshot"))
        list.push_back({{"name", f}, {"size", e.file_size(ec)}});
    }
    return Response::Json({{"snapshots", list}});
  });

  // Restores a snapshot the server made (by file name, never a client path) as `name`.
  r.Add("POST", "/v1/snapshots/restore", Access::kWrite, [&ctx](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    if (Status s = in.Expect({"snapshot", "name"}); !s.ok()) return ErrorResponse(s);
    auto file = in.String("snapshot");
    auto name = in.String("name");
    if (!file.ok()) return ErrorResponse(file.status());
    if (!name.ok()) return ErrorResponse(name.status());
    if (!file.value() || !name.value())
      return ErrorResponse(Status::InvalidArgument("snapshot and name are required"));
    if (!PlainFileName(*file.value()))
      return ErrorResponse(Status::InvalidArgument("snapshot: '" + *file.value() +
                                                   "' is not a snapshot file name"));
    auto c = ctx.db().RestoreSnapshot(SnapshotsDir(ctx) + "/" + *file.value(), *name.value());
    if (!c.ok()) return ErrorResponse(c.status());
    return Response::Json(201, c.value()->Info().ToJson());
  });
}

}  // namespace mosaic::server
