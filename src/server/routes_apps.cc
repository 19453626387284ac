// Applications (native API): recommend, classify, cluster, dedup, people, passages and ask, the
// libraries of src/query over the codecs of wire/apps_codec.h that the CLI shares.
//
// Classify and cluster are open to the read key unless the request writes ("write_field", or
// cluster's "centroids"): then the handler asks for the admin key, since the route's access is
// fixed before the body is read. Requests that change the people of a collection, and cluster
// runs that write, run one at a time per collection (query/people.h and query/cluster.h do not
// guard against concurrent runs); the people listings wait for a run in progress.
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "query/classify.h"
#include "query/cluster.h"
#include "query/dedup.h"
#include "query/passages.h"
#include "query/people.h"
#include "query/qa.h"
#include "query/recommend.h"
#include "server/auth.h"
#include "server/errors.h"
#include "server/routes.h"
#include "wire/apps_codec.h"
#include "wire/json_reader.h"
#include "wire/query_codec.h"

namespace mosaic::server {
namespace {

// One mutex per collection name, made on first use.
class CollectionLocks {
 public:
  std::shared_ptr<std::mutex> For(const std::string& collection) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& m = locks_[collection];
    if (!m) m = std::make_shared<std::mutex>();
    return m;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;  // guarded by mu_
};

// The collection named in the path and the request's body.
struct Call {
  std::shared_ptr<Collection> collection;
  Json body;
};

Result<Call> Begin(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(auto c, ctx.GetCollection(req.Param("c")));
  MOSAIC_ASSIGN_OR_RETURN(Json body, req.JsonBody());
  return Call{std::move(c), std::move(body)};
}

// A request on a read route that asks to write: the admin key's (or anyone's without keys).
// The caller got past the route's read check, so a failure here is the read key's 403.
Status RequireWrite(ServerContext& ctx, const Request& req, const std::string& why) {
  Auth auth(ctx.options().read_key, ctx.options().admin_key);
  int http_status = 0;
  Status s = auth.Check(req, Access::kWrite, &http_status);
  if (s.ok()) return s;
  return Status::PermissionDenied(s.message() + " with " + why +
                                  " (that writes; the admin key may)");
}


// A failure that may come from a missing model names the models' problem too.
Status WithModels(const Status& s, const std::shared_ptr<query::InputEncoder>& encoder,
                  const Status& why) {
  if (s.ok() || encoder || why.ok()) return s;
  return s.WithContext("(the collection's models: " + why.message() + ")");
}

Response Reply(const Result<Json>& r) {
  return r.ok() ? Response::Json(r.value()) : ErrorResponse(r.status());
}

Result<Json> Recommend(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  wire::QueryCodecOptions opts;
  opts.allow_paths = false;  // a client names no file on the server
  MOSAIC_ASSIGN_OR_RETURN(query::RecommendRequest q,
                          wire::RecommendRequestFromJson(call.body, opts));
  Status why;
  auto encoder = ctx.EncoderOrNone(call.collection, &why);
  auto res = query::Recommend(*call.collection, encoder.get(), q);
  if (!res.ok()) return WithModels(res.status(), encoder, why);
  return wire::QueryResponseToJson(res.value());
}

// NotFound naming the ids that are not in the collection.
Status CheckIdsExist(const Collection& c, const std::vector<PointId>& ids) {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Point> found, c.Get(ids, false, false));
  if (found.size() == ids.size()) return Status::OK();
  std::set<PointId> have;
  for (const Point& p : found)
    have.insert(p.id);
  std::string missing;
  for (const PointId& id : ids)
    if (!have.count(id)) missing += (missing.empty() ? "" : ", ") + id.ToString();
  return Status::NotFound("ids: no point " + missing + " in collection '" + c.name() + "'");
}

Result<Json> Classify(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  MOSAIC_ASSIGN_OR_RETURN(wire::ClassifyRequest q, wire::ClassifyRequestFromJson(call.body));
  if (!q.run.write_field.empty()) MOSAIC_RETURN_IF_ERROR(RequireWrite(ctx, req, "\"write_field\""));
  Collection& c = *call.collection;
  if (!q.ids.empty()) MOSAIC_RETURN_IF_ERROR(CheckIdsExist(c, q.ids));

  Json out;
  std::vector<query::Prediction> predictions;
  if (q.zero_shot) {
    MOSAIC_ASSIGN_OR_RETURN(auto encoder, ctx.Encoder(call.collection));
    MOSAIC_ASSIGN_OR_RETURN(query::ZeroShotClassifier z,
                            query::ZeroShotClassifier::Create(c, *encoder, q.zero_shot_options));
    out = {{"method", "zero-shot"}, {"using", z.using_vector()}};
    MOSAIC_ASSIGN_OR_RETURN(
        predictions, query::ClassifyPoints(c, z.using_vector(), q.run,
                                           [&](const std::vector<std::vector<float>>& vectors)
                                               -> Result<std::vector<query::Prediction>> {
                                             std::vector<query::Prediction> got;
                                             for (const auto& v : vectors)
                                               got.push_back(z.Predict(v));
                                             return got;
                                           }));
  } else {
    MOSAIC_ASSIGN_OR_RETURN(query::KnnClassifier knn, query::KnnClassifier::Fit(c, q.knn));
    out = wire::KnnClassifierToJson(knn);
    MOSAIC_ASSIGN_OR_RETURN(
        predictions, query::ClassifyPoints(c, q.knn.using_vector, q.run,
                                           [&](const std::vector<std::vector<float>>& vectors) {
                                             return knn.PredictBatch(vectors);
                                           }));
  }
  out["classified"] = predictions.size();
  out["predictions"] = Json::array();
  for (size_t i = 0; i < predictions.size() && i < q.limit; ++i)
    out["predictions"].push_back(wire::PredictionToJson(predictions[i]));
  out["written"] = q.run.write_field.empty() ? Json(nullptr) : Json(q.run.write_field);
  return out;
}

Result<Json> Cluster(ServerContext& ctx, CollectionLocks& locks, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  MOSAIC_ASSIGN_OR_RETURN(wire::ClusterRequest q, wire::ClusterRequestFromJson(call.body));
  const query::ClusterOptions& o = q.options;
  const bool writes = !o.write_field.empty() || o.write_centroids;
  if (writes)
    MOSAIC_RETURN_IF_ERROR(
        RequireWrite(ctx, req, o.write_field.empty() ? "\"centroids\"" : "\"write_field\""));
  std::shared_ptr<std::mutex> mu;
  std::unique_lock<std::mutex> lock;
  if (writes) {
    mu = locks.For(call.collection->name());
    lock = std::unique_lock<std::mutex>(*mu);
  }
  MOSAIC_ASSIGN_OR_RETURN(query::ClusterResult r,
                          query::ClusterCollection(ctx.db(), call.collection->name(), o));
  return wire::ClusterResultToJson(r, o, q.sample);
}

Result<Json> Dedup(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  MOSAIC_ASSIGN_OR_RETURN(query::DedupOptions o, wire::DedupOptionsFromJson(call.body));
  MOSAIC_ASSIGN_OR_RETURN(query::DedupResult r, query::FindDuplicates(*call.collection, o));
  return wire::DedupResultToJson(r, o);
}

Result<Json> Passages(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  MOSAIC_ASSIGN_OR_RETURN(query::PassageRequest q, wire::PassageRequestFromJson(call.body));
  Status why;
  auto encoder = ctx.EncoderOrNone(call.collection, &why);
  auto found = query::FindPassages(*call.collection, encoder.get(), q);
  if (!found.ok()) return WithModels(found.status(), encoder, why);
  Json documents = Json::array();
  for (const query::DocumentPassages& d : found.value())
    documents.push_back(wire::DocumentPassagesToJson(d));
  return Json{{"documents", std::move(documents)}};
}

Result<Json> Ask(ServerContext& ctx, const Request& req) {
  MOSAIC_ASSIGN_OR_RETURN(Call call, Begin(ctx, req));
  MOSAIC_ASSIGN_OR_RETURN(query::AskRequest q, wire::AskRequestFromJson(call.body));
  Status why;
  auto encoder = ctx.EncoderOrNone(call.collection, &why);
  auto answers = query::Ask(*call.collection, encoder.get(), q);
  if (!answers.ok()) return WithModels(answers.status(), encoder, why);
  Json out = Json::array();
  for (const query::Answer& a : answers.value())
    out.push_back(wire::AnswerToJson(a));
  return Json{{"answers", std::move(out)}};
}

// Runs `op` on the collection's People under the collection's lock.
template <typename Op>
Result<Json> WithPeople(ServerContext& ctx, CollectionLocks& locks, const Request& req, Op op) {
  MOSAIC_ASSIGN_OR_RETURN(auto c, ctx.GetCollection(req.Param("c")));
  auto mu = locks.For(c->name());
  std::lock_guard<std::mutex> lock(*mu);
  MOSAIC_ASSIGN_OR_RETURN(query::People people, query::People::Open(*c));
  return op(people);
}

}  // namespace

void AddAppRoutes(Router& r, ServerContext& ctx) {
  auto locks = std::make_shared<CollectionLocks>();

  r.Add("POST", "/v1/collections/{c}/recommend", Access::kRead,
        [&ctx](Request& req) { return Reply(Recommend(ctx, req)); });
  r.Add("POST", "/v1/collections/{c}/classify", Access::kRead,
        [&ctx](Request& req) { return Reply(Classify(ctx, req)); });
  r.Add("POST", "/v1/collections/{c}/cluster", Access::kRead,
        [&ctx, locks](Request& req) { return Reply(Cluster(ctx, *locks, req)); });
  r.Add("POST", "/v1/collections/{c}/dedup", Access::kRead,
        [&ctx](Request& req) { return Reply(Dedup(ctx, req)); });
  r.Add("POST", "/v1/collections/{c}/passages", Access::kRead,
        [&ctx](Request& req) { return Reply(Passages(ctx, req)); });
  r.Add("POST", "/v1/collections/{c}/ask", Access::kRead,
        [&ctx](Request& req) { return Reply(Ask(ctx, req)); });

  r.Add("GET", "/v1/collections/{c}/people", Access::kRead, [&ctx, locks](Request& req) {
    return Reply(WithPeople(ctx, *locks, req, [](query::People& people) -> Result<Json> {
      size_t unassigned = 0;
      MOSAIC_ASSIGN_OR_RETURN(auto list, people.List(&unassigned));
      Json out = Json::array();
      for (const query::PersonSummary& p : list)
        out.push_back(wire::PersonSummaryToJson(p));
      return Json{{"people", std::move(out)}, {"unassigned_faces", unassigned}};
    }));
  });
  r.Add("POST", "/v1/collections/{c}/people/cluster", Access::kWrite, [&ctx, locks](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    auto options = wire::PeopleClusterOptionsFromJson(body.value());
    if (!options.ok()) return ErrorResponse(options.status());
    return Reply(WithPeople(ctx, *locks, req, [&](query::People& people) -> Result<Json> {
      MOSAIC_ASSIGN_OR_RETURN(query::ClusterReport report, people.Cluster(options.value()));
      Json out = wire::PeopleClusterReportToJson(report);
      out["threshold"] = options.value().threshold;
      return out;
    }));
  });
  r.Add("POST", "/v1/collections/{c}/people/{person}/name", Access::kWrite,
        [&ctx, locks](Request& req) {
          auto body = req.JsonBody();
          if (!body.ok()) return ErrorResponse(body.status());
          wire::JsonReader in(body.value(), "");
          if (Status s = in.Expect({"name"}); !s.ok()) return ErrorResponse(s);
          auto name = in.String("name");
          if (!name.ok()) return ErrorResponse(name.status());
          if (!name.value()) return ErrorResponse(Status::InvalidArgument("name: required"));
          const std::string person = req.Param("person");
          return Reply(WithPeople(ctx, *locks, req, [&](query::People& people) -> Result<Json> {
            MOSAIC_RETURN_IF_ERROR(people.Name(person, *name.value()));
            return Json{{"id", person}, {"name", *name.value()}};
          }));
        });
  r.Add("GET", "/v1/collections/{c}/people/{person}/faces", Access::kRead,
        [&ctx, locks](Request& req) {
          const std::string person = req.Param("person");
          return Reply(WithPeople(ctx, *locks, req, [&](query::People& people) -> Result<Json> {
            MOSAIC_ASSIGN_OR_RETURN(auto faces, people.Show(person));
            Json out = Json::array();
            for (const query::PersonFace& f : faces)
              out.push_back(wire::PersonFaceToJson(f));
            return Json{{"person", person}, {"faces", std::move(out)}};
          }));
        });
}

}  // namespace mosaic::server
