#include "query/recommend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "common/civil_date.h"
#include "query/filters.h"
#include "query/vector_math.h"

namespace mosaic::query {
namespace {

// "2026-05-01", "2026-05-01T12:30:00Z" (UTC; an offset is not read) -> unix seconds.
std::optional<int64_t> ParseIsoTime(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if (n != 3 && n != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
}

}  // namespace

Result<std::vector<Interaction>> ParseHistory(const std::string& text) {
  std::vector<Interaction> out;
  std::istringstream in(text);
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("history line " + std::to_string(number) + ": " + why + ": '" +
                                     line.substr(0, 120) + "'");
    };
    Json j = Json::parse(line, nullptr, false);
    Interaction it;
    if (j.is_discarded()) {
      // A bare id that is not JSON: a string id ("a7f3").
      std::string word = line.substr(first);
      word.erase(word.find_last_not_of(" \t\r") + 1);
      if (word.find_first_of(" \t{}[]\",") != std::string::npos) return bad("not JSON");
      it.id = PointId(word);
    } else if (j.is_object()) {
      if (!j.contains("id")) return bad("no \"id\"");
      auto id = PointId::FromJson(j["id"]);
      if (!id.ok()) return bad(id.status().message());
      it.id = std::move(id).value();
      if (j.contains("time")) {
        const Json& t = j["time"];
        if (t.is_number()) {
          it.time = t.get<int64_t>();
        } else if (auto parsed =
                       t.is_string() ? ParseIsoTime(t.get<std::string>()) : std::nullopt) {
          it.time = *parsed;
        } else {
          return bad("\"time\" is neither unix seconds nor an ISO 8601 date");
        }
      }
      if (j.contains("weight")) {
        if (!j["weight"].is_number()) return bad("\"weight\" is not a number");
        it.weight = j["weight"].get<float>();
        if (!std::isfinite(it.weight) || it.weight == 0)
          return bad("\"weight\" must be finite and non-zero");
      }
    } else {
      auto id = PointId::FromJson(j);
      if (!id.ok()) return bad(id.status().message());
      it.id = std::move(id).value();
    }
    out.push_back(std::move(it));
  }
  return out;
}

Result<std::vector<float>> ProfileVector(const Collection& collection, const VectorSpec& vector,
                                         const std::vector<Interaction>& history,
                                         double half_life_s, Json* info) {
  if (history.empty()) return Status::InvalidArgument("the history is empty");
  if (!(half_life_s >= 0) || !std::isfinite(half_life_s))
    return Status::InvalidArgument("the half-life must be a number of seconds >= 0, got " +
                                   std::to_string(half_life_s));
  std::vector<PointId> ids;
  for (const Interaction& it : history)
    ids.push_back(it.id);
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Point> points,
                          collection.Get(ids, /*with_payload=*/false, /*with_vectors=*/true));
  std::map<PointId, const std::vector<float>*> vec;
  for (const Point& p : points) {
    auto v = p.vectors.find(vector.name);
    if (v != p.vectors.end()) vec[p.id] = &v->second;
  }
  int64_t newest = 0;
  for (const Interaction& it : history)
    newest = std::max(newest, it.time);

  std::vector<double> pos(vector.dim, 0.0), neg(vector.dim, 0.0);
  double pos_w = 0, neg_w = 0;
  Json skipped = Json::array();
  for (const Interaction& it : history) {
    auto v = vec.find(it.id);
    if (v == vec.end()) {
      skipped.push_back(it.id.ToJson());
      continue;
    }
    const double age = static_cast<double>(newest - it.time);
    const double decay = half_life_s > 0 ? std::exp2(-age / half_life_s) : 1.0;
    const double w = std::abs(it.weight) * decay;
    std::vector<float> x = vector.metric == Metric::kL2 ? *v->second : Normalized(*v->second);
    auto& acc = it.weight > 0 ? pos : neg;
    for (size_t d = 0; d < x.size(); ++d)
      acc[d] += w * x[d];
    (it.weight > 0 ? pos_w : neg_w) += w;
  }
  if (info != nullptr) {
    (*info)["interactions"] = history.size();
    (*info)["skipped"] = skipped;
  }
  if (pos_w == 0)
    return Status::NotFound("no liked point of the history has vector '" + vector.name + "' (" +
                            std::to_string(skipped.size()) + " of " +
                            std::to_string(history.size()) + " are gone or lack it)");
  std::vector<float> out(vector.dim);
  for (size_t d = 0; d < vector.dim; ++d) {
    const double p = pos[d] / pos_w;
    out[d] = static_cast<float>(neg_w > 0 ? 2 * p - neg[d] / neg_w : p);
  }
  return out;
}

Result<QueryResponse> Recommend(const Collection& collection, InputEncoder* encoder,
                                const RecommendRequest& r, const EngineOptions& options) {
  if (r.positive.empty() && r.history.empty())
    return Status::InvalidArgument("recommend needs positive examples or a history");
  if (r.limit == 0) return Status::InvalidArgument("recommend: limit must be at least 1");
  const CollectionSchema& schema = collection.schema();

  // The vector: the one asked, else the first one the first example point has.
  std::string using_vector = r.using_vector;
  if (!using_vector.empty() && schema.Find(using_vector) == nullptr)
    return Status::InvalidArgument("collection '" + collection.name() + "' has no vector named '" +
                                   using_vector + "'; it has: " + VectorNames(schema));
  if (using_vector.empty()) {
    std::optional<PointId> first;
    if (!r.history.empty()) first = r.history.front().id;
    for (const Input& in : r.positive)
      if (!first && in.kind == InputKind::kPoint) first = in.id;
    if (first) {
      std::vector<PointId> one = {*first};
      MOSAIC_ASSIGN_OR_RETURN(auto got, collection.Get(one, false, true));
      if (got.empty())
        return Status::NotFound("point " + first->ToString() + " is not in collection '" +
                                collection.name() + "'");
      for (const VectorSpec& v : schema.vectors)
        if (got[0].vectors.count(v.name)) {
          using_vector = v.name;
          break;
        }
    }
    if (using_vector.empty()) using_vector = schema.vectors[0].name;
  }
  const VectorSpec& spec = *schema.Find(using_vector);

  RecommendQuery q;
  q.strategy = r.strategy;
  q.positive = r.positive;
  q.negative = r.negative;
  Json profile_info = Json::object();
  if (!r.history.empty()) {
    MOSAIC_ASSIGN_OR_RETURN(
        std::vector<float> profile,
        ProfileVector(collection, spec, r.history, r.half_life_s, &profile_info));
    q.positive.push_back(Input::Vector(std::move(profile)));
  }

  QueryRequest request;
  request.query = std::move(q);
  request.using_vector = using_vector;
  request.filter = r.filter;
  if (r.exclude_seen && !r.history.empty()) {
    std::vector<PointId> seen;
    for (const Interaction& it : r.history)
      seen.push_back(it.id);
    MOSAIC_ASSIGN_OR_RETURN(request.filter, ExcludeIds(request.filter, seen));
  }
  request.limit = r.limit;
  request.offset = r.offset;
  request.explain = r.explain;
  request.snippet = false;
  QueryEngine engine(collection, encoder, options);
  MOSAIC_ASSIGN_OR_RETURN(QueryResponse resp, engine.Query(request));
  resp.explain["recommend"] = {
      {"using", using_vector},
      {"strategy", r.strategy == RecommendStrategy::kBestScore ? "best_score" : "average_vector"}};
  if (!r.history.empty()) {
    profile_info["half_life_s"] = r.half_life_s;
    resp.explain["recommend"]["history"] = std::move(profile_info);
  }
  return resp;
}

}  // namespace mosaic::query
