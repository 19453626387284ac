// Qdrant collections: list, create, info, exists, delete, update (accepted: Mosaic tunes itself),
// payload field indexes, aliases (none).
#include "server/qdrant/qdrant_routes.h"
#include "wire/json_reader.h"
#include "wire/qdrant_codec.h"

namespace mosaic::server::qdrant {

namespace {

namespace codec = wire::qdrant;

// Points holding a value at each indexed field (payload_schema's "points").
std::map<std::string, uint64_t> IndexedPoints(const Collection& c,
                                              const std::map<std::string, PayloadIndexType>& idx) {
  std::map<std::string, uint64_t> out;
  for (const auto& [field, type] : idx) {
    auto f = Filter::FromJson(Json{{"must_not", Json::array({{{"is_empty", {{"key", field}}}}})}});
    if (!f.ok()) continue;
    if (auto n = c.Count(&f.value()); n.ok()) out[field] = n.value();
  }
  return out;
}

}  // namespace

void AddCollectionRoutes(Router& r, ServerContext& ctx) {
  Add(r, "GET", "/collections", Access::kRead, [&ctx](Request&) -> Result<Json> {
    Json list = Json::array();
    for (const std::string& name : ctx.db().ListCollections())
      list.push_back({{"name", name}});
    return Json{{"collections", list}};
  });

  Add(r, "PUT", "/collections/{c}", Access::kWrite, [&ctx](Request& req) -> Result<Json> {
    const std::string& name = req.Param("c");
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    MOSAIC_ASSIGN_OR_RETURN(CollectionSchema schema, codec::CreateCollectionFromJson(body));
    if (ctx.db().GetCollection(name).ok())
      return Status::AlreadyExists("Collection `" + name + "` already exists!");
    MOSAIC_RETURN_IF_ERROR(ctx.db().CreateCollection(name, schema).status());
    return Json(true);
  });

  Add(r, "GET", "/collections/{c}", Access::kRead, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    CollectionInfo info = c->Info();
    return codec::CollectionInfoToJson(info, IndexedPoints(*c, info.payload_indexes));
  });

  Add(r, "GET", "/collections/{c}/exists", Access::kRead, [&ctx](Request& req) -> Result<Json> {
    return Json{{"exists", ctx.db().GetCollection(req.Param("c")).ok()}};
  });

  Add(r, "DELETE", "/collections/{c}", Access::kWrite, [&ctx](Request& req) -> Result<Json> {
    const std::string& name = req.Param("c");
    if (!ctx.db().GetCollection(name).ok()) return Json(false);
    ctx.ForgetEncoder(name);
    MOSAIC_RETURN_IF_ERROR(ctx.db().DropCollection(name));
    return Json(true);
  });

  // Optimizer, HNSW and quantization updates: Mosaic builds and compacts by itself.
  Add(r, "PATCH", "/collections/{c}", Access::kWrite, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_RETURN_IF_ERROR(FindCollection(ctx, req.Param("c")).status());
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    if (!body.is_object())
      return Status::InvalidArgument("expected a collection update object, got " +
                                     wire::Shown(body));
    if (body.contains("sparse_vectors") && !body["sparse_vectors"].is_null())
      return Status::InvalidArgument("sparse_vectors: a sparse vector is not supported by Mosaic");
    return Json(true);
  });

  Add(r, "PUT", "/collections/{c}/index", Access::kWrite, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    wire::JsonReader in(body, "");
    MOSAIC_ASSIGN_OR_RETURN(auto field, in.String("field_name"));
    if (!field || field->empty())
      return Status::InvalidArgument("field_name: expected a payload key");
    if (!in.Has("field_schema") || in.At("field_schema").is_null())
      return Status::InvalidArgument("field_schema: missing");
    MOSAIC_ASSIGN_OR_RETURN(auto type, codec::FieldSchemaFromJson(in.At("field_schema")));
    if (type) {
      // Qdrant replaces an index of another type; Mosaic keeps one per field.
      auto existing = c->PayloadIndexes();
      if (auto it = existing.find(*field); it != existing.end() && it->second != *type)
        MOSAIC_RETURN_IF_ERROR(c->DropPayloadIndex(*field));
      MOSAIC_RETURN_IF_ERROR(c->CreatePayloadIndex(*field, *type));
    }
    return UpdateResult();
  });

  Add(r, "DELETE", "/collections/{c}/index/{field}", Access::kWrite,
      [&ctx](Request& req) -> Result<Json> {
        MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
        Status s = c->DropPayloadIndex(req.Param("field"));
        if (!s.ok() && !s.IsNotFound()) return s;
        return UpdateResult();
      });

  Add(r, "GET", "/collections/{c}/aliases", Access::kRead, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_RETURN_IF_ERROR(FindCollection(ctx, req.Param("c")).status());
    return Json{{"aliases", Json::array()}};
  });
  Add(r, "GET", "/aliases", Access::kRead, [](Request&) -> Result<Json> {
    return Json{{"aliases", Json::array()}};
  });
}

}  // namespace mosaic::server::qdrant
