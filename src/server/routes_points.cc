// Points (native API): upsert (vectors, or a text or image embedded server-side), get, delete,
// payload set/overwrite/delete, count, scroll.
#include "common/base64.h"
#include "server/errors.h"
#include "server/routes.h"
#include "wire/json_reader.h"
#include "wire/point_codec.h"

namespace mosaic::server {

namespace {

#define MOSAIC_TRY_RESPONSE(expr)                          \
  do {                                                     \
    if (Status _s = (expr); !_s.ok()) return ErrorResponse(_s); \
  } while (0)

Status Prefixed(const std::string& where, const Status& s) { return s.WithContext(where); }

Result<std::optional<Filter>> FilterField(const wire::JsonReader& in) {
  if (!in.Has("filter") || in.At("filter").is_null()) return std::optional<Filter>();
  auto f = Filter::FromJson(in.At("filter"));
  if (!f.ok()) return Prefixed(in.Path("filter"), f.status());
  return std::optional<Filter>(std::move(f.value()));
}

Result<std::vector<PointId>> IdsField(const wire::JsonReader& in) {
  const std::string where = in.Path("ids");
  if (!in.Has("ids") || !in.At("ids").is_array())
    return Status::InvalidArgument(where + ": expected an array of ids, got " +
                                   (in.Has("ids") ? wire::Shown(in.At("ids")) : "nothing"));
  std::vector<PointId> ids;
  for (size_t i = 0; i < in.At("ids").size(); ++i) {
    auto id = PointId::FromJson(in.At("ids")[i]);
    if (!id.ok()) return Prefixed(where + "[" + std::to_string(i) + "]", id.status());
    ids.push_back(std::move(id.value()));
  }
  return ids;
}

// A point of an upsert: the codec's shape, or "text" / "image_base64" instead of vectors.
Result<Point> UpsertPoint(ServerContext& ctx, const std::shared_ptr<Collection>& c, Json j,
                          const std::string& where) {
  std::optional<query::Input> input;
  if (j.is_object() && (j.contains("text") || j.contains("image_base64"))) {
    if (j.contains("vector") || j.contains("vectors"))
      return Status::InvalidArgument(where + ": give vectors or a text/image to embed, not both");
    if (j.contains("text")) {
      if (!j["text"].is_string())
        return Status::InvalidArgument(where + ".text: expected a string, got " + wire::Shown(j["text"]));
      input = query::Input::Text(j["text"].get<std::string>());
      j.erase("text");
    } else {
      if (!j["image_base64"].is_string())
        return Status::InvalidArgument(where + ".image_base64: expected a string");
      auto bytes = Base64Decode(j["image_base64"].get<std::string>());
      if (!bytes.ok()) return Prefixed(where + ".image_base64", bytes.status());
      query::Input in;
      in.kind = query::InputKind::kImage;
      in.bytes = std::move(bytes.value());
      input = std::move(in);
      j.erase("image_base64");
    }
  }
  auto p = wire::PointFromJson(j, c->schema().vectors.front().name);
  if (!p.ok()) return Prefixed(where, p.status());
  if (input) {
    MOSAIC_ASSIGN_OR_RETURN(auto encoder, ctx.Encoder(c));
    auto encoded = encoder->Encode(*input);
    if (!encoded.ok()) return Prefixed(where, encoded.status());
    if (encoded.value().vectors.empty())
      return Status::InvalidArgument(where + ": the collection has no model for a " +
                                     query::InputKindName(input->kind));
    p.value().vectors = std::move(encoded.value().vectors);
  }
  if (Status s = c->schema().CheckPoint(p.value()); !s.ok()) return Prefixed(where, s);
  return p;
}

Json PointsToJson(const std::vector<Point>& points) {
  Json out = Json::array();
  for (const Point& p : points) out.push_back(wire::PointToJson(p));
  return out;
}

}  // namespace

void AddPointRoutes(Router& r, ServerContext& ctx) {
  r.Add("PUT", "/v1/collections/{c}/points", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"points"}));
    if (!in.Has("points") || !in.At("points").is_array() || in.At("points").empty())
      return ErrorResponse(Status::InvalidArgument("points: expected a non-empty array of points"));
    std::vector<Point> points;
    const Json& arr = in.At("points");
    for (size_t i = 0; i < arr.size(); ++i) {
      auto p = UpsertPoint(ctx, c.value(), arr[i], "points[" + std::to_string(i) + "]");
      if (!p.ok()) return ErrorResponse(p.status());
      points.push_back(std::move(p.value()));
    }
    MOSAIC_TRY_RESPONSE(c.value()->Upsert(points));
    return Response::Json({{"upserted", points.size()}});
  });

  r.Add("GET", "/v1/collections/{c}/points/{id}", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    PointId id = wire::PointIdFromText(req.Param("id"));
    std::vector<PointId> ids{id};
    auto got = c.value()->Get(ids, true, req.Query("with_vector") == "true");
    if (!got.ok()) return ErrorResponse(got.status());
    if (got.value().empty())
      return ErrorResponse(Status::NotFound("point " + id.ToString() + " does not exist in '" +
                                            req.Param("c") + "'"));
    return Response::Json(wire::PointToJson(got.value().front()));
  }, Cost::kQuick);

  r.Add("POST", "/v1/collections/{c}/points/get", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"ids", "with_payload", "with_vector"}));
    auto ids = IdsField(in);
    if (!ids.ok()) return ErrorResponse(ids.status());
    auto wp = in.Bool("with_payload");
    auto wv = in.Bool("with_vector");
    if (!wp.ok()) return ErrorResponse(wp.status());
    if (!wv.ok()) return ErrorResponse(wv.status());
    auto got = c.value()->Get(ids.value(), wp.value().value_or(true), wv.value().value_or(false));
    if (!got.ok()) return ErrorResponse(got.status());
    return Response::Json({{"points", PointsToJson(got.value())}});
  }, Cost::kQuick);

  r.Add("POST", "/v1/collections/{c}/points/delete", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"ids", "filter"}));
    if (in.Has("ids") == in.Has("filter"))
      return ErrorResponse(Status::InvalidArgument("give either \"ids\" or \"filter\""));
    Result<uint64_t> n = uint64_t{0};
    if (in.Has("ids")) {
      auto ids = IdsField(in);
      if (!ids.ok()) return ErrorResponse(ids.status());
      n = c.value()->Delete(ids.value());
    } else {
      auto f = FilterField(in);
      if (!f.ok()) return ErrorResponse(f.status());
      n = c.value()->DeleteByFilter(*f.value());
    }
    if (!n.ok()) return ErrorResponse(n.status());
    return Response::Json({{"deleted", n.value()}});
  });

  r.Add("POST", "/v1/collections/{c}/points/payload", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"ids", "payload", "overwrite"}));
    auto ids = IdsField(in);
    if (!ids.ok()) return ErrorResponse(ids.status());
    if (!in.Has("payload") || !in.At("payload").is_object())
      return ErrorResponse(Status::InvalidArgument(
          "payload: expected an object, got " +
          (in.Has("payload") ? wire::Shown(in.At("payload")) : std::string("nothing"))));
    auto overwrite = in.Bool("overwrite");
    if (!overwrite.ok()) return ErrorResponse(overwrite.status());
    Status s = overwrite.value().value_or(false)
                   ? c.value()->OverwritePayload(ids.value(), in.At("payload"))
                   : c.value()->SetPayload(ids.value(), in.At("payload"));
    MOSAIC_TRY_RESPONSE(s);
    return Response::Json({{"updated", ids.value().size()}});
  });

  r.Add("POST", "/v1/collections/{c}/points/payload/delete", Access::kWrite, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"ids", "keys"}));
    auto ids = IdsField(in);
    if (!ids.ok()) return ErrorResponse(ids.status());
    std::vector<std::string> keys;
    if (in.Has("keys") && in.At("keys").is_array())
      for (const Json& k : in.At("keys"))
        if (k.is_string()) keys.push_back(k.get<std::string>());
    if (keys.empty() || keys.size() != in.At("keys").size())
      return ErrorResponse(Status::InvalidArgument(
          "keys: expected a non-empty array of strings, got " +
          (in.Has("keys") ? wire::Shown(in.At("keys")) : std::string("nothing"))));
    MOSAIC_TRY_RESPONSE(c.value()->DeletePayloadKeys(ids.value(), keys));
    return Response::Json({{"updated", ids.value().size()}});
  });

  r.Add("POST", "/v1/collections/{c}/points/count", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect({"filter"}));
    auto f = FilterField(in);
    if (!f.ok()) return ErrorResponse(f.status());
    auto n = c.value()->Count(f.value() ? &*f.value() : nullptr);
    if (!n.ok()) return ErrorResponse(n.status());
    return Response::Json({{"count", n.value()}});
  });

  r.Add("POST", "/v1/collections/{c}/points/scroll", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    MOSAIC_TRY_RESPONSE(in.Expect(
        {"filter", "limit", "offset", "order_by", "order_value", "with_payload", "with_vector"}));
    ScrollRequest sr;
    auto f = FilterField(in);
    if (!f.ok()) return ErrorResponse(f.status());
    sr.filter = std::move(f.value());
    auto limit = in.Size("limit", 10000);
    if (!limit.ok()) return ErrorResponse(limit.status());
    sr.limit = limit.value().value_or(10);
    if (in.Has("offset") && !in.At("offset").is_null()) {
      auto id = PointId::FromJson(in.At("offset"));
      if (!id.ok()) return ErrorResponse(Prefixed("offset", id.status()));
      sr.offset = id.value();
    }
    if (in.Has("order_by")) {
      const Json& o = in.At("order_by");
      OrderBy ob;
      if (o.is_string()) {
        ob.key = o.get<std::string>();
      } else {
        wire::JsonReader oin(o, "order_by");
        MOSAIC_TRY_RESPONSE(oin.Expect({"key", "direction"}));
        auto key = oin.String("key");
        auto dir = oin.String("direction");
        if (!key.ok()) return ErrorResponse(key.status());
        if (!dir.ok()) return ErrorResponse(dir.status());
        if (!key.value()) return ErrorResponse(Status::InvalidArgument("order_by.key: required"));
        ob.key = *key.value();
        std::string d = dir.value().value_or("asc");
        if (d != "asc" && d != "desc")
          return ErrorResponse(Status::InvalidArgument(
              "order_by.direction: expected \"asc\" or \"desc\", got \"" + d + "\""));
        ob.descending = d == "desc";
      }
      sr.order_by = ob;
    }
    if (in.Has("order_value")) sr.order_value = in.At("order_value");
    auto wp = in.Bool("with_payload");
    auto wv = in.Bool("with_vector");
    if (!wp.ok()) return ErrorResponse(wp.status());
    if (!wv.ok()) return ErrorResponse(wv.status());
    sr.with_payload = wp.value().value_or(true);
    sr.with_vectors = wv.value().value_or(false);
    auto page = c.value()->Scroll(sr);
    if (!page.ok()) return ErrorResponse(page.status());
    Json out = {{"points", PointsToJson(page.value().points)},
                {"next_offset", page.value().next_offset ? page.value().next_offset->ToJson()
                                                         : Json(nullptr)}};
    if (page.value().next_order_value) out["next_order_value"] = *page.value().next_order_value;
    return Response::Json(out);
  });
}

}  // namespace mosaic::server
