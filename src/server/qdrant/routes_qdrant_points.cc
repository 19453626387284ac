// Qdrant points: upsert (list and batch forms), retrieve, delete (ids or filter), payload set /
// overwrite / delete / clear, vector update / delete, batched updates, scroll, count.
#include "server/qdrant/qdrant_routes.h"
#include "wire/json_reader.h"
#include "wire/point_codec.h"
#include "wire/qdrant_codec.h"

namespace mosaic::server::qdrant {

namespace {

namespace codec = wire::qdrant;

const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

// The points a write applies to: {"points": [ids]} or {"filter": {...}}.
Result<std::vector<PointId>> Selected(const Collection& c, const Json& body) {
  const Json* points = Field(body, "points");
  const Json* filter = Field(body, "filter");
  if ((points == nullptr) == (filter == nullptr))
    return Status::InvalidArgument("expected either \"points\" (a list of ids) or \"filter\"");
  if (points) return codec::IdsFromJson(*points, "points");
  MOSAIC_ASSIGN_OR_RETURN(auto f, codec::FilterFromJson(filter, "filter"));
  ScrollRequest sr;
  sr.filter = std::move(f);
  sr.limit = 10000;
  sr.with_payload = false;
  sr.with_vectors = false;
  std::vector<PointId> ids;
  for (;;) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c.Scroll(sr));
    for (auto& p : page.points)
      ids.push_back(std::move(p.id));
    if (!page.next_offset) break;
    sr.offset = page.next_offset;
  }
  return ids;
}

Status CheckPoints(const CollectionSchema& schema, const std::vector<Point>& points) {
  for (size_t i = 0; i < points.size(); ++i)
    if (Status s = schema.CheckPoint(points[i]); !s.ok())
      return s.WithContext("point " + points[i].id.ToString());
  return Status::OK();
}

Result<std::set<PointId>> Existing(const Collection& c, const std::vector<PointId>& ids) {
  MOSAIC_ASSIGN_OR_RETURN(auto got, c.Get(ids, false, false));
  std::set<PointId> out;
  for (auto& p : got)
    out.insert(std::move(p.id));
  return out;
}

Status Upsert(Collection& c, const Json& body) {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Point> points, codec::PointsFromJson(body, c.schema()));
  MOSAIC_RETURN_IF_ERROR(CheckPoints(c.schema(), points));
  if (Field(body, "update_filter"))
    return Status::InvalidArgument("update_filter: an upsert filter is not supported by Mosaic");
  if (const Json* mode = Field(body, "update_mode"); mode && *mode != "upsert") {
    if (*mode != "insert_only" && *mode != "update_only")
      return Status::InvalidArgument(
          "update_mode: expected \"upsert\", \"insert_only\" or \"update_only\", got " +
          wire::Shown(*mode));
    std::vector<PointId> ids;
    for (const auto& p : points)
      ids.push_back(p.id);
    MOSAIC_ASSIGN_OR_RETURN(auto existing, Existing(c, ids));
    const bool keep_existing = *mode == "update_only";
    std::erase_if(points, [&](const Point& p) { return existing.count(p.id) != keep_existing; });
  }
  if (points.empty()) return Status::OK();
  return c.Upsert(points);
}

Status DeletePoints(Collection& c, const Json& body) {
  if (Field(body, "filter") && !Field(body, "points")) {
    MOSAIC_ASSIGN_OR_RETURN(auto f, codec::FilterFromJson(Field(body, "filter"), "filter"));
    return c.DeleteByFilter(*f).status();
  }
  MOSAIC_ASSIGN_OR_RETURN(auto ids, Selected(c, body));
  return c.Delete(ids).status();
}

// The object at a dotted path of `payload`, made (replacing a non-object) when missing.
Json& ObjectAt(Json& payload, const std::string& path) {
  Json* at = &payload;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    Json& next = (*at)[path.substr(start, dot - start)];
    if (!next.is_object()) next = Json::object();
    at = &next;
    start = dot + 1;
  }
  return *at;
}

// Reads, changes and writes back each point's payload (for paths below the top level).
Status RewritePayloads(Collection& c, const std::vector<PointId>& ids,
                       const std::function<void(Json&)>& change) {
  MOSAIC_ASSIGN_OR_RETURN(auto points, c.Get(ids, true, false));
  for (auto& p : points) {
    if (!p.payload.is_object()) p.payload = Json::object();
    change(p.payload);
    std::vector<PointId> one{p.id};
    MOSAIC_RETURN_IF_ERROR(c.OverwritePayload(one, p.payload));
  }
  return Status::OK();
}

Status SetPayload(Collection& c, const Json& body, bool overwrite) {
  const Json* payload = Field(body, "payload");
  if (payload == nullptr || !payload->is_object())
    return Status::InvalidArgument("payload: expected an object, got " +
                                   (payload ? wire::Shown(*payload) : std::string("nothing")));
  MOSAIC_ASSIGN_OR_RETURN(auto ids, Selected(c, body));
  wire::JsonReader in(body, "");
  MOSAIC_ASSIGN_OR_RETURN(auto key, in.String("key"));
  if (key && !key->empty()) {
    return RewritePayloads(c, ids, [&](Json& p) {
      Json& at = ObjectAt(p, *key);
      if (overwrite) at = Json::object();
      for (const auto& [k, v] : payload->items())
        at[k] = v;
    });
  }
  return overwrite ? c.OverwritePayload(ids, *payload) : c.SetPayload(ids, *payload);
}

Status DeletePayload(Collection& c, const Json& body) {
  const Json* keys_json = Field(body, "keys");
  std::vector<std::string> keys, paths;
  if (keys_json && keys_json->is_array())
    for (const Json& k : *keys_json)
      if (k.is_string())
        (k.get_ref<const std::string&>().find('.') == std::string::npos ? keys : paths)
            .push_back(k.get<std::string>());
  if (!keys_json || !keys_json->is_array() || keys.size() + paths.size() != keys_json->size())
    return Status::InvalidArgument("keys: expected an array of payload keys, got " +
                                   (keys_json ? wire::Shown(*keys_json) : std::string("nothing")));
  MOSAIC_ASSIGN_OR_RETURN(auto ids, Selected(c, body));
  if (!keys.empty()) MOSAIC_RETURN_IF_ERROR(c.DeletePayloadKeys(ids, keys));
  if (paths.empty()) return Status::OK();
  return RewritePayloads(c, ids, [&](Json& p) {
    for (const auto& path : paths) {
      size_t dot = path.rfind('.');
      Json* parent = &p;
      size_t start = 0;
      while (parent && start < dot) {
        size_t next = path.find('.', start);
        auto it =
            parent->is_object() ? parent->find(path.substr(start, next - start)) : parent->end();
        parent = parent->is_object() && it != parent->end() ? &*it : nullptr;
        start = next + 1;
      }
      if (parent && parent->is_object()) parent->erase(path.substr(dot + 1));
    }
  });
}

Status ClearPayload(Collection& c, const Json& body) {
  MOSAIC_ASSIGN_OR_RETURN(auto ids, Selected(c, body));
  return c.OverwritePayload(ids, Json::object());
}

Status UpdateVectors(Collection& c, const Json& body) {
  const Json* points = Field(body, "points");
  if (points == nullptr || !points->is_array())
    return Status::InvalidArgument("points: expected an array of {\"id\", \"vector\"}");
  std::vector<PointId> ids;
  std::vector<std::map<std::string, std::vector<float>>> updates;
  for (size_t i = 0; i < points->size(); ++i) {
    const Json& pj = (*points)[i];
    const std::string where = "points[" + std::to_string(i) + "]";
    const Json* id = Field(pj, "id");
    const Json* vector = Field(pj, "vector");
    if (id == nullptr || vector == nullptr)
      return Status::InvalidArgument(where + ": expected {\"id\", \"vector\"}, got " +
                                     wire::Shown(pj));
    MOSAIC_ASSIGN_OR_RETURN(PointId pid, codec::IdFromJson(*id, where + ".id"));
    MOSAIC_ASSIGN_OR_RETURN(auto v,
                            codec::VectorStructFromJson(*vector, c.schema(), where + ".vector"));
    ids.push_back(std::move(pid));
    updates.push_back(std::move(v));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto got, c.Get(ids, true, true));
  std::map<PointId, Point> by_id;
  for (auto& p : got)
    by_id.emplace(p.id, std::move(p));
  std::vector<Point> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = by_id.find(ids[i]);
    if (it == by_id.end())
      return Status::NotFound("No point with id " + ids[i].ToString() + " found");
    for (auto& [name, v] : updates[i])
      it->second.vectors[name] = std::move(v);
  }
  for (auto& [id, p] : by_id)
    out.push_back(std::move(p));
  MOSAIC_RETURN_IF_ERROR(CheckPoints(c.schema(), out));
  return c.Upsert(out);
}

Status DeleteVectors(Collection& c, const Json& body) {
  const Json* names_json = Field(body, "vector");
  if (names_json == nullptr || !names_json->is_array())
    return Status::InvalidArgument("vector: expected an array of vector names");
  std::vector<std::string> names;
  for (const Json& n : *names_json) {
    if (!n.is_string())
      return Status::InvalidArgument("vector: expected names, got " + wire::Shown(n));
    MOSAIC_ASSIGN_OR_RETURN(std::string name, codec::VectorName(c.schema(), n.get<std::string>()));
    names.push_back(std::move(name));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto ids, Selected(c, body));
  MOSAIC_ASSIGN_OR_RETURN(auto points, c.Get(ids, true, true));
  for (auto& p : points)
    for (const auto& n : names)
      p.vectors.erase(n);
  if (points.empty()) return Status::OK();
  return c.Upsert(points);
}

// Runs a write and answers Qdrant's UpdateResult.
using Write = std::function<Status(Collection&, const Json&)>;

Handler WriteRoute(ServerContext& ctx, Write write) {
  return [&ctx, write = std::move(write)](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    if (!body.is_object())
      return Status::InvalidArgument("expected a JSON object, got " + wire::Shown(body));
    MOSAIC_RETURN_IF_ERROR(write(*c, body));
    return UpdateResult();
  };
}

// /points/batch: each operation is applied in order; the first failure stops the batch.
Result<Json> Batch(Collection& c, const Json& body) {
  const Json* ops = Field(body, "operations");
  if (ops == nullptr || !ops->is_array())
    return Status::InvalidArgument("operations: expected an array of operations");
  static const std::map<std::string, Write> kOps = {
      {"upsert", Upsert},
      {"delete", DeletePoints},
      {"set_payload", [](Collection& c, const Json& b) { return SetPayload(c, b, false); }},
      {"overwrite_payload", [](Collection& c, const Json& b) { return SetPayload(c, b, true); }},
      {"delete_payload", DeletePayload},
      {"clear_payload", ClearPayload},
      {"update_vectors", UpdateVectors},
      {"delete_vectors", DeleteVectors},
  };
  Json results = Json::array();
  for (size_t i = 0; i < ops->size(); ++i) {
    const Json& op = (*ops)[i];
    const std::string where = "operations[" + std::to_string(i) + "]";
    if (!op.is_object() || op.size() != 1 || !kOps.count(op.begin().key()))
      return Status::InvalidArgument(where +
                                     ": expected one of upsert, delete, set_payload, "
                                     "overwrite_payload, delete_payload, clear_payload, "
                                     "update_vectors, delete_vectors, got " +
                                     wire::Shown(op));
    if (Status s = kOps.at(op.begin().key())(c, op.begin().value()); !s.ok())
      return s.WithContext(where);
    results.push_back(UpdateResult());
  }
  return results;
}

PointId IdFromPath(const std::string& s) {
  if (auto uuid = codec::NormalizeUuid(s)) return PointId(*uuid);
  return wire::PointIdFromText(s);
}

}  // namespace

void AddPointRoutes(Router& r, ServerContext& ctx) {
  Add(r, "PUT", "/collections/{c}/points", Access::kWrite, WriteRoute(ctx, Upsert));
  Add(r, "POST", "/collections/{c}/points/delete", Access::kWrite, WriteRoute(ctx, DeletePoints));
  Add(r, "POST", "/collections/{c}/points/payload", Access::kWrite,
      WriteRoute(ctx, [](Collection& c, const Json& b) { return SetPayload(c, b, false); }));
  Add(r, "PUT", "/collections/{c}/points/payload", Access::kWrite,
      WriteRoute(ctx, [](Collection& c, const Json& b) { return SetPayload(c, b, true); }));
  Add(r, "POST", "/collections/{c}/points/payload/delete", Access::kWrite,
      WriteRoute(ctx, DeletePayload));
  Add(r, "POST", "/collections/{c}/points/payload/clear", Access::kWrite,
      WriteRoute(ctx, ClearPayload));
  Add(r, "PUT", "/collections/{c}/points/vectors", Access::kWrite, WriteRoute(ctx, UpdateVectors));
  Add(r, "POST", "/collections/{c}/points/vectors/delete", Access::kWrite,
      WriteRoute(ctx, DeleteVectors));

  Add(r, "POST", "/collections/{c}/points/batch", Access::kWrite,
      [&ctx](Request& req) -> Result<Json> {
        MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
        MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
        return Batch(*c, body);
      });

  Add(r, "POST", "/collections/{c}/points", Access::kRead, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    const Json* ids_json = Field(body, "ids");
    if (ids_json == nullptr) return Status::InvalidArgument("ids: missing");
    MOSAIC_ASSIGN_OR_RETURN(auto ids, codec::IdsFromJson(*ids_json, "ids"));
    codec::OutputSpec out;
    MOSAIC_ASSIGN_OR_RETURN(out.payload, codec::PayloadSelectorFromJson(Field(body, "with_payload"),
                                                                        true, "with_payload"));
    const Json* wv =
        Field(body, "with_vector") ? Field(body, "with_vector") : Field(body, "with_vectors");
    MOSAIC_ASSIGN_OR_RETURN(out.vectors,
                            codec::VectorSelectorFromJson(wv, c->schema(), "with_vector"));
    MOSAIC_ASSIGN_OR_RETURN(auto points, c->Get(ids, out.payload.any(), out.vectors.any));
    Json list = Json::array();
    for (const auto& p : points)
      list.push_back(codec::RecordToJson(p, c->schema(), out));
    return list;
  }, Cost::kQuick);

  Add(r, "GET", "/collections/{c}/points/{id}", Access::kRead,
      [&ctx](Request& req) -> Result<Json> {
        MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
        std::vector<PointId> ids{IdFromPath(req.Param("id"))};
        MOSAIC_ASSIGN_OR_RETURN(auto points, c->Get(ids, true, true));
        if (points.empty())
          return Status::NotFound("No point with id " + req.Param("id") + " found");
        codec::OutputSpec out;
        out.vectors.any = true;
        return codec::RecordToJson(points[0], c->schema(), out);
      }, Cost::kQuick);

  Add(r, "POST", "/collections/{c}/points/scroll", Access::kRead,
      [&ctx](Request& req) -> Result<Json> {
        MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
        MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
        MOSAIC_ASSIGN_OR_RETURN(codec::ScrollSpec spec,
                                codec::ScrollRequestFromJson(body, c->schema()));
        const auto& order_by = spec.request.order_by;
        if (order_by) spec.request.with_payload = true;  // for the order values
        MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c->Scroll(spec.request));
        Json list = Json::array();
        for (const auto& p : page.points) {
          std::optional<Json> value;
          if (order_by) value = OrderValue(p.payload, *order_by);
          list.push_back(codec::RecordToJson(p, c->schema(), spec.output, value));
        }
        // Qdrant pages an ordered scroll by start_from: it gives no next offset.
        Json next = page.next_offset && !order_by ? codec::IdToJson(*page.next_offset) : Json();
        return Json{{"points", list}, {"next_page_offset", next}};
      });

  Add(r, "POST", "/collections/{c}/points/count", Access::kRead,
      [&ctx](Request& req) -> Result<Json> {
        MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
        MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
        MOSAIC_ASSIGN_OR_RETURN(auto f, codec::FilterFromJson(Field(body, "filter"), "filter"));
        MOSAIC_ASSIGN_OR_RETURN(uint64_t n, c->Count(f ? &*f : nullptr));
        return Json{{"count", n}};
      });
}

}  // namespace mosaic::server::qdrant
