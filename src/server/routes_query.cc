// Queries (native API): everything the query engine takes (docs/query.md), and facets.
#include "query/engine.h"
#include "server/errors.h"
#include "server/routes.h"
#include "wire/json_reader.h"
#include "wire/query_codec.h"

namespace mosaic::server {

void AddQueryRoutes(Router& r, ServerContext& ctx) {
  r.Add("POST", "/v1/collections/{c}/query", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::QueryCodecOptions opts;
    opts.allow_paths = false;  // a client names no file on the server
    auto request = wire::QueryRequestFromJson(body.value(), opts);
    if (!request.ok()) return ErrorResponse(request.status());
    bool models = query::NeedsEncoder(request.value());
    if (models && req.on_io_thread) return Response::Defer();
    Status why;
    auto encoder = models ? ctx.EncoderOrNone(c.value(), &why) : nullptr;
    query::QueryEngine engine(*c.value(), encoder.get());
    auto res = engine.Query(request.value());
    if (!res.ok()) {
      if (!encoder && !why.ok())
        return ErrorResponse(res.status().WithContext("(the collection's models: " + why.message() + ")"));
      return ErrorResponse(res.status());
    }
    return Response::Json(wire::QueryResponseToJson(res.value()));
  }, Cost::kQuick);

  r.Add("POST", "/v1/collections/{c}/facet", Access::kRead, [&ctx](Request& req) {
    auto c = ctx.GetCollection(req.Param("c"));
    if (!c.ok()) return ErrorResponse(c.status());
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    if (Status s = in.Expect({"key", "filter", "limit", "bucket"}); !s.ok()) return ErrorResponse(s);
    FacetRequest fr;
    auto key = in.String("key");
    if (!key.ok()) return ErrorResponse(key.status());
    if (!key.value()) return ErrorResponse(Status::InvalidArgument("key: required"));
    fr.key = *key.value();
    auto limit = in.Size("limit", 100000);
    if (!limit.ok()) return ErrorResponse(limit.status());
    fr.limit = limit.value().value_or(10);
    if (in.Has("filter") && !in.At("filter").is_null()) {
      auto f = Filter::FromJson(in.At("filter"));
      if (!f.ok()) return ErrorResponse(f.status().WithContext("filter"));
      fr.filter = std::move(f.value());
    }
    auto bucket = in.String("bucket");
    if (!bucket.ok()) return ErrorResponse(bucket.status());
    if (bucket.value()) {
      const std::string& b = *bucket.value();
      if (b == "year") fr.bucket = FacetBucket::kYear;
      else if (b == "month") fr.bucket = FacetBucket::kMonth;
      else if (b == "day") fr.bucket = FacetBucket::kDay;
      else if (b != "value")
        return ErrorResponse(Status::InvalidArgument(
            "bucket: expected value, year, month or day, got \"" + b + "\""));
    }
    auto counts = c.value()->Facet(fr);
    if (!counts.ok()) return ErrorResponse(counts.status());
    Json values = Json::array();
    for (const auto& fc : counts.value()) values.push_back({{"value", fc.value}, {"count", fc.count}});
    return Response::Json({{"values", values}});
  });
}

}  // namespace mosaic::server
