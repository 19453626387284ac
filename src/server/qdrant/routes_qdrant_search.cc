// Qdrant reads through the query engine: search, recommend and query (each with /batch and
// /groups), and facet counts.
#include "query/engine.h"
#include "server/qdrant/qdrant_routes.h"
#include "wire/qdrant_codec.h"

namespace mosaic::server::qdrant {

namespace {

namespace codec = wire::qdrant;

// Qdrant searches exactly while a collection's vectors are under full_scan_threshold (10000 KB,
// "1 KB = 1 vector of size 256"): small collections get exact results, as Qdrant's users expect.
constexpr uint64_t kFullScanThresholdBytes = 10000 * 1024;

void SetExact(std::vector<query::Prefetch>& prefetch) {
  for (auto& p : prefetch) {
    p.params.exact = true;
    SetExact(p.prefetch);
  }
}

Result<query::QueryResponse> Run(const Collection& c, query::QueryRequest& request) {
  uint32_t dim = 0;
  for (const auto& v : c.schema().vectors)
    dim = std::max(dim, v.dim);
  MOSAIC_ASSIGN_OR_RETURN(uint64_t points, c.Count());
  if (points * dim * sizeof(float) < kFullScanThresholdBytes) {
    request.params.exact = true;
    SetExact(request.prefetch);
  }
  query::QueryEngine engine(c, nullptr);
  return engine.Query(request);
}

using Parse = Result<codec::ReadRequest> (*)(const Json&, const CollectionSchema&);
enum class Shape : uint8_t { kHits, kPoints, kGroups };

Result<Json> Answer(const Collection& c, const Json& body, Parse parse, Shape shape) {
  MOSAIC_ASSIGN_OR_RETURN(codec::ReadRequest read, parse(body, c.schema()));
  if (shape == Shape::kGroups && !read.request.group_by)
    return Status::InvalidArgument("group_by: missing");
  if (shape != Shape::kGroups) read.request.group_by.reset();
  MOSAIC_ASSIGN_OR_RETURN(query::QueryResponse res, Run(c, read.request));
  switch (shape) {
    case Shape::kHits:
      return codec::HitsToJson(res.hits, c.schema(), read.output);
    case Shape::kPoints:
      return Json{{"points", codec::HitsToJson(res.hits, c.schema(), read.output)}};
    case Shape::kGroups:
      return codec::GroupsToJson(res.groups, c.schema(), read.output);
  }
  return Json();
}

Handler Single(ServerContext& ctx, Parse parse, Shape shape) {
  return [&ctx, parse, shape](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    return Answer(*c, body, parse, shape);
  };
}

// {"searches": [request, ...]} -> [answer, ...]; the first failure fails the batch, naming it.
Handler Batch(ServerContext& ctx, Parse parse, Shape shape) {
  return [&ctx, parse, shape](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    if (!body.is_object() || !body.contains("searches") || !body["searches"].is_array())
      return Status::InvalidArgument("searches: expected an array of requests");
    Json out = Json::array();
    for (size_t i = 0; i < body["searches"].size(); ++i) {
      auto one = Answer(*c, body["searches"][i], parse, shape);
      if (!one.ok()) return one.status().WithContext("searches[" + std::to_string(i) + "]");
      out.push_back(std::move(one).value());
    }
    return out;
  };
}

}  // namespace

void AddSearchRoutes(Router& r, ServerContext& ctx) {
  const std::string base = "/collections/{c}/points/";
  struct Endpoint {
    const char* name;
    Parse parse;
    Shape shape;
  };
  for (const Endpoint& e : {Endpoint{"search", codec::SearchRequestFromJson, Shape::kHits},
                            Endpoint{"recommend", codec::RecommendRequestFromJson, Shape::kHits},
                            Endpoint{"query", codec::QueryRequestFromJson, Shape::kPoints}}) {
    // No models run here (Qdrant's queries carry vectors and ids): on the I/O thread.
    Add(r, "POST", (base + e.name).c_str(), Access::kRead, Single(ctx, e.parse, e.shape),
        Cost::kQuick);
    Add(r, "POST", (base + e.name + "/batch").c_str(), Access::kRead, Batch(ctx, e.parse, e.shape),
        Cost::kQuick);
    Add(r, "POST", (base + e.name + "/groups").c_str(), Access::kRead,
        Single(ctx, e.parse, Shape::kGroups), Cost::kQuick);
  }

  Add(r, "POST", "/collections/{c}/facet", Access::kRead, [&ctx](Request& req) -> Result<Json> {
    MOSAIC_ASSIGN_OR_RETURN(auto c, FindCollection(ctx, req.Param("c")));
    MOSAIC_ASSIGN_OR_RETURN(Json body, Body(req));
    MOSAIC_ASSIGN_OR_RETURN(FacetRequest fr, codec::FacetRequestFromJson(body));
    MOSAIC_ASSIGN_OR_RETURN(auto counts, c->Facet(fr));
    Json hits = Json::array();
    for (const auto& fc : counts)
      hits.push_back({{"value", fc.value}, {"count", fc.count}});
    return Json{{"hits", hits}};
  });
}

}  // namespace mosaic::server::qdrant
