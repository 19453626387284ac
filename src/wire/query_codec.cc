#include "wire/query_codec.h"

#include <cmath>

#include "common/base64.h"
#include "wire/json_reader.h"
#include "wire/point_codec.h"

namespace mosaic::wire {
namespace {

using query::Input;
using query::InputKind;

constexpr size_t kMaxLimit = 1'000'000;
// Prefetches nest at most this deep (a request is a tree, not a program).
constexpr int kMaxDepth = 8;

// One input or a list of them. An array of numbers is one vector, unless `examples` (recommend's
// positive and negative: lists of examples, where a number is a point id, as in Qdrant).
Result<std::vector<Input>> InputsFromJson(const Json& j, const std::string& where,
                                          const QueryCodecOptions& o, bool examples = false) {
  std::vector<Input> inputs;
  if (j.is_array() && !j.empty() && (examples || !j[0].is_number())) {
    for (size_t i = 0; i < j.size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(Input in,
                              InputFromJson(j[i], where + "[" + std::to_string(i) + "]", o));
      inputs.push_back(std::move(in));
    }
    return inputs;
  }
  MOSAIC_ASSIGN_OR_RETURN(Input in, InputFromJson(j, where, o));
  inputs.push_back(std::move(in));
  return inputs;
}

// {"a red car": 1.0, "./photo.jpg": 0.6, "night": -0.3}
Result<std::vector<Input>> MixFromJson(const Json& j, const std::string& where,
                                       const QueryCodecOptions& o) {
  if (!j.is_object() || j.empty())
    return Status::InvalidArgument(where + ": expected an object of input -> weight, got " +
                                   Shown(j));
  std::vector<Input> inputs;
  for (const auto& [key, weight] : j.items()) {
    if (!weight.is_number() || !std::isfinite(weight.get<double>()) || weight.get<double>() == 0)
      return Status::InvalidArgument(where + "." + key + ": expected a non-zero weight, got " +
                                     Shown(weight));
    Input in = Input::Text(key);
    if (o.resolver) {
      MOSAIC_ASSIGN_OR_RETURN(in, o.resolver(key));
    }
    in.weight = weight.get<float>();
    inputs.push_back(std::move(in));
  }
  return inputs;
}

Result<std::optional<query::Mmr>> MmrFromJson(const Json& j, const std::string& where) {
  JsonReader m(j, where);
  MOSAIC_RETURN_IF_ERROR(m.Expect({"diversity", "candidates_limit", "using"}));
  query::Mmr value;
  MOSAIC_ASSIGN_OR_RETURN(auto d, m.Number("diversity"));
  MOSAIC_ASSIGN_OR_RETURN(auto c, m.Size("candidates_limit", kMaxLimit));
  MOSAIC_ASSIGN_OR_RETURN(auto u, m.String("using"));
  value.diversity = static_cast<float>(d.value_or(0.5));
  value.candidates = c.value_or(0);
  value.using_vector = u.value_or("");
  return std::optional<query::Mmr>(value);
}

Result<query::FusionMethod> FusionFromName(const Json& j, const std::string& where) {
  if (j == "rrf") return query::FusionMethod::kRrf;
  if (j == "dbsf") return query::FusionMethod::kDbsf;
  return Status::InvalidArgument(where + ": unknown fusion " + Shown(j) +
                                 " (expected \"rrf\" or \"dbsf\")");
}

Result<OrderBy> OrderByFromJson(const Json& j, const std::string& where) {
  OrderBy ob;
  if (j.is_string()) {
    ob.key = j.get<std::string>();
  } else {
    JsonReader r(j, where);
    MOSAIC_RETURN_IF_ERROR(r.Expect({"key", "direction"}));
    MOSAIC_ASSIGN_OR_RETURN(auto key, r.String("key"));
    MOSAIC_ASSIGN_OR_RETURN(auto dir, r.String("direction"));
    if (!key || key->empty())
      return Status::InvalidArgument(where + ".key: expected a payload key");
    ob.key = *key;
    if (dir && *dir != "asc" && *dir != "desc")
      return Status::InvalidArgument(where + ".direction: expected \"asc\" or \"desc\", got \"" +
                                     *dir + "\"");
    ob.descending = dir && *dir == "desc";
  }
  if (ob.key.empty()) return Status::InvalidArgument(where + ": expected a payload key");
  return ob;
}

Result<query::SearchParams> ParamsFromJson(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  MOSAIC_RETURN_IF_ERROR(r.Expect({"hnsw_ef", "ef", "exact"}));
  query::SearchParams p;
  MOSAIC_ASSIGN_OR_RETURN(auto ef, r.Size("hnsw_ef", 100000));
  MOSAIC_ASSIGN_OR_RETURN(auto ef2, r.Size("ef", 100000));
  MOSAIC_ASSIGN_OR_RETURN(auto exact, r.Bool("exact"));
  p.ef = ef ? *ef : ef2.value_or(0);
  p.exact = exact.value_or(false);
  return p;
}

// The query of a request or prefetch; may set `mmr` ({"nearest": ..., "mmr": {...}}).
Result<query::Query> QueryFromJson(const Json& j, const std::string& where,
                                   const QueryCodecOptions& o, std::optional<query::Mmr>* mmr) {
  if (j.is_null()) return query::Query();
  if (j.is_string()) return query::Query(query::AutoQuery{{Input::Text(j.get<std::string>())}});
  if (!j.is_object() || j.empty())
    return Status::InvalidArgument(
        where + ": expected a text or an object such as {\"nearest\": ...}, got " + Shown(j));
  const std::string kind = j.begin().key();
  const std::string at = where + "." + kind;
  if (j.contains("nearest")) {
    JsonReader r(j, where);
    MOSAIC_RETURN_IF_ERROR(r.Expect({"nearest", "mmr"}));
    MOSAIC_ASSIGN_OR_RETURN(auto inputs, InputsFromJson(j["nearest"], where + ".nearest", o));
    if (r.Has("mmr")) {
      MOSAIC_ASSIGN_OR_RETURN(*mmr, MmrFromJson(j["mmr"], where + ".mmr"));
    }
    return query::Query(query::NearestQuery{std::move(inputs)});
  }
  if (j.size() != 1)
    return Status::InvalidArgument(where + ": expected one query kind, got " + Shown(j));
  const Json& v = j.begin().value();
  if (kind == "auto") {
    MOSAIC_ASSIGN_OR_RETURN(auto inputs, InputsFromJson(v, at, o));
    return query::Query(query::AutoQuery{std::move(inputs)});
  }
  if (kind == "mix") {
    MOSAIC_ASSIGN_OR_RETURN(auto inputs, MixFromJson(v, at, o));
    return query::Query(query::AutoQuery{std::move(inputs)});
  }
  if (kind == "bm25") {
    JsonReader r(v, at);
    MOSAIC_RETURN_IF_ERROR(r.Expect({"query", "fields", "k1", "b"}));
    query::TextQuery t;
    MOSAIC_ASSIGN_OR_RETURN(auto q, r.String("query"));
    if (!q) return Status::InvalidArgument(at + ".query: missing");
    t.query = *q;
    if (!r.Has("fields") || !v["fields"].is_array() || v["fields"].empty())
      return Status::InvalidArgument(at +
                                     ".fields: expected a non-empty array of text-indexed fields");
    for (const Json& f : v["fields"]) {
      if (!f.is_string())
        return Status::InvalidArgument(at + ".fields: expected strings, got " + Shown(f));
      t.fields.push_back(f.get<std::string>());
    }
    MOSAIC_ASSIGN_OR_RETURN(auto k1, r.Number("k1"));
    MOSAIC_ASSIGN_OR_RETURN(auto b, r.Number("b"));
    if (k1) t.k1 = static_cast<float>(*k1);
    if (b) t.b = static_cast<float>(*b);
    return query::Query(std::move(t));
  }
  if (kind == "tags") {
    query::TagsQuery t;
    if (v.is_string()) {
      t.query = v.get<std::string>();
    } else {
      JsonReader r(v, at);
      MOSAIC_RETURN_IF_ERROR(r.Expect({"query", "field", "scores_field"}));
      MOSAIC_ASSIGN_OR_RETURN(auto q, r.String("query"));
      MOSAIC_ASSIGN_OR_RETURN(auto f, r.String("field"));
      MOSAIC_ASSIGN_OR_RETURN(auto s, r.String("scores_field"));
      if (!q) return Status::InvalidArgument(at + ".query: missing");
      t.query = *q;
      if (f) t.field = *f;
      if (s) t.scores_field = *s;
    }
    return query::Query(std::move(t));
  }
  if (kind == "recommend") {
    JsonReader r(v, at);
    MOSAIC_RETURN_IF_ERROR(r.Expect({"positive", "negative", "strategy"}));
    query::RecommendQuery rq;
    if (r.Has("positive")) {
      MOSAIC_ASSIGN_OR_RETURN(rq.positive,
                              InputsFromJson(v["positive"], at + ".positive", o, true));
    }
    if (r.Has("negative")) {
      MOSAIC_ASSIGN_OR_RETURN(rq.negative,
                              InputsFromJson(v["negative"], at + ".negative", o, true));
    }
    MOSAIC_ASSIGN_OR_RETURN(auto s, r.String("strategy"));
    if (s && *s == "best_score") {
      rq.strategy = query::RecommendStrategy::kBestScore;
    } else if (s && *s != "average_vector") {
      return Status::InvalidArgument(
          at + ".strategy: expected \"average_vector\" or \"best_score\", got \"" + *s + "\"");
    }
    return query::Query(std::move(rq));
  }
  if (kind == "fusion") {
    MOSAIC_ASSIGN_OR_RETURN(auto m, FusionFromName(v, at));
    return query::Query(query::FusionQuery{m, 60});
  }
  if (kind == "rrf" || kind == "dbsf") {
    query::FusionQuery f{kind == "rrf" ? query::FusionMethod::kRrf : query::FusionMethod::kDbsf,
                         60};
    if (!v.is_null() && !(v.is_object() && v.empty())) {
      JsonReader r(v, at);
      MOSAIC_RETURN_IF_ERROR(r.Expect({"k"}));
      MOSAIC_ASSIGN_OR_RETURN(auto k, r.Number("k"));
      if (k) f.k = static_cast<float>(*k);
    }
    return query::Query(f);
  }
  if (kind == "order_by") {
    MOSAIC_ASSIGN_OR_RETURN(OrderBy ob, OrderByFromJson(v, at));
    return query::Query(query::OrderByQuery{ob});
  }
  return Status::InvalidArgument(
      where + ": unknown query kind \"" + kind +
      "\" (expected nearest, auto, mix, bm25, tags, recommend, fusion, rrf, dbsf or order_by)");
}

Result<std::optional<Filter>> FilterField(const Json& j, const char* key,
                                          const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<Filter>();
  auto f = Filter::FromJson(j[key]);
  if (!f.ok()) return f.status().WithContext(where.empty() ? key : where + "." + key);
  return std::optional<Filter>(std::move(f).value());
}

Result<query::Prefetch> PrefetchFromJson(const Json& j, const std::string& where,
                                         const QueryCodecOptions& o, int depth) {
  if (depth > kMaxDepth)
    return Status::InvalidArgument(where + ": prefetches nest deeper than " +
                                   std::to_string(kMaxDepth));
  JsonReader r(j, where);
  MOSAIC_RETURN_IF_ERROR(r.Expect({"prefetch", "query", "using", "filter", "score_threshold",
                                   "limit", "params", "name", "weight"}));
  query::Prefetch p;
  if (r.Has("prefetch")) {
    const Json& list = j["prefetch"].is_array() ? j["prefetch"] : Json::array({j["prefetch"]});
    for (size_t i = 0; i < list.size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(
          query::Prefetch c,
          PrefetchFromJson(list[i], where + ".prefetch[" + std::to_string(i) + "]", o, depth + 1));
      p.prefetch.push_back(std::move(c));
    }
  }
  std::optional<query::Mmr> mmr;
  if (r.Has("query")) {
    MOSAIC_ASSIGN_OR_RETURN(p.query, QueryFromJson(j["query"], where + ".query", o, &mmr));
  }
  if (mmr)
    return Status::InvalidArgument(
        where + ".query.mmr: mmr applies to the request's query, not to a prefetch");
  MOSAIC_ASSIGN_OR_RETURN(auto u, r.String("using"));
  p.using_vector = u.value_or("");
  MOSAIC_ASSIGN_OR_RETURN(p.filter, FilterField(j, "filter", where));
  MOSAIC_ASSIGN_OR_RETURN(auto th, r.Number("score_threshold"));
  if (th) p.score_threshold = static_cast<float>(*th);
  MOSAIC_ASSIGN_OR_RETURN(p.limit, r.Size("limit", kMaxLimit));
  if (p.limit && *p.limit == 0)
    return Status::InvalidArgument(where + ".limit: expected at least 1");
  if (r.Has("params")) {
    MOSAIC_ASSIGN_OR_RETURN(p.params, ParamsFromJson(j["params"], where + ".params"));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto name, r.String("name"));
  p.name = name.value_or("");
  MOSAIC_ASSIGN_OR_RETURN(auto w, r.Number("weight"));
  p.weight = static_cast<float>(w.value_or(1.0));
  return p;
}

Result<FacetBucket> BucketFromName(const std::string& s, const std::string& where) {
  if (s == "value") return FacetBucket::kValue;
  if (s == "year") return FacetBucket::kYear;
  if (s == "month") return FacetBucket::kMonth;
  if (s == "day") return FacetBucket::kDay;
  return Status::InvalidArgument(
      where + ": expected \"value\", \"year\", \"month\" or \"day\", got \"" + s + "\"");
}

}  // namespace

Result<Input> InputFromJson(const Json& j, const std::string& where, const QueryCodecOptions& o) {
  if (j.is_string()) return Input::Text(j.get<std::string>());
  if (j.is_number_unsigned()) return Input::Point(PointId(j.get<uint64_t>()));
  if (j.is_array()) {
    MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorFromJson(j, where));
    return Input::Vector(std::move(v));
  }
  JsonReader r(j, where);
  MOSAIC_RETURN_IF_ERROR(r.Expect({"text", "image", "video", "audio", "image_base64",
                                   "video_base64", "audio_base64", "id", "vector", "weight"}));
  Input in;
  int kinds = 0;
  for (const auto& [key, value] : j.items()) {
    if (key == "weight") continue;
    ++kinds;
    const std::string at = where + "." + key;
    if (key == "text") {
      if (!value.is_string())
        return Status::InvalidArgument(at + ": expected a string, got " + Shown(value));
      in = Input::Text(value.get<std::string>());
    } else if (key == "id") {
      MOSAIC_ASSIGN_OR_RETURN(PointId id, PointId::FromJson(value));
      in = Input::Point(std::move(id));
    } else if (key == "vector") {
      MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorFromJson(value, at));
      in = Input::Vector(std::move(v));
    } else {
      const bool upload = key.ends_with("_base64");
      const std::string base = upload ? key.substr(0, key.size() - 7) : key;
      in.kind = base == "image"   ? InputKind::kImage
                : base == "video" ? InputKind::kVideo
                                  : InputKind::kAudio;
      if (!value.is_string() || value.get_ref<const std::string&>().empty())
        return Status::InvalidArgument(at + ": expected a " +
                                       std::string(upload ? "base64 string" : "file path") +
                                       ", got " + Shown(value));
      if (upload) {
        auto bytes = Base64Decode(value.get<std::string>());
        if (!bytes.ok()) return bytes.status().WithContext(at);
        in.bytes = std::move(bytes).value();
      } else {
        if (!o.allow_paths)
          return Status::InvalidArgument(at + ": files are not read here; send the content as " +
                                         key + "_base64");
        in.path = value.get<std::string>();
      }
    }
  }
  if (kinds != 1)
    return Status::InvalidArgument(
        where + ": expected exactly one of text, image, video, audio, id, vector; got " + Shown(j));
  MOSAIC_ASSIGN_OR_RETURN(auto w, r.Number("weight"));
  if (w) {
    if (*w == 0) return Status::InvalidArgument(where + ".weight: must not be 0");
    in.weight = static_cast<float>(*w);
  }
  return in;
}

Result<query::QueryRequest> QueryRequestFromJson(const Json& j, const QueryCodecOptions& o) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(
      r.Expect({"prefetch", "query", "using", "filter", "score_threshold", "limit", "offset",
                "cursor", "params", "with_payload", "with_vector", "with_vectors", "snippet", "group_by",
                "group_size", "mmr", "autocut", "facets", "explain", "understand"}));
  query::QueryRequest q;
  if (r.Has("prefetch")) {
    const Json& list = j["prefetch"].is_array() ? j["prefetch"] : Json::array({j["prefetch"]});
    for (size_t i = 0; i < list.size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(
          query::Prefetch p,
          PrefetchFromJson(list[i], "prefetch[" + std::to_string(i) + "]", o, 1));
      q.prefetch.push_back(std::move(p));
    }
  }
  if (r.Has("query")) {
    MOSAIC_ASSIGN_OR_RETURN(q.query, QueryFromJson(j["query"], "query", o, &q.mmr));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto u, r.String("using"));
  q.using_vector = u.value_or("");
  MOSAIC_ASSIGN_OR_RETURN(q.filter, FilterField(j, "filter", ""));
  MOSAIC_ASSIGN_OR_RETURN(auto th, r.Number("score_threshold"));
  if (th) q.score_threshold = static_cast<float>(*th);
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", kMaxLimit));
  MOSAIC_ASSIGN_OR_RETURN(auto offset, r.Size("offset", kMaxLimit));
  q.limit = limit.value_or(10);
  q.offset = offset.value_or(0);
  if (q.limit == 0) return Status::InvalidArgument("limit: expected at least 1");
  if (r.Has("cursor") && !j["cursor"].is_null()) {
    JsonReader c(j["cursor"], "cursor");
    MOSAIC_RETURN_IF_ERROR(c.Expect({"order_value", "id"}));
    if (!c.Has("id")) return Status::InvalidArgument("cursor.id: missing");
    query::Cursor cur;
    MOSAIC_ASSIGN_OR_RETURN(cur.id, PointId::FromJson(j["cursor"]["id"]));
    cur.order_value = j["cursor"].value("order_value", Json());
    q.cursor = std::move(cur);
  }
  if (r.Has("params")) {
    MOSAIC_ASSIGN_OR_RETURN(q.params, ParamsFromJson(j["params"], "params"));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto wp, r.Bool("with_payload"));
  MOSAIC_ASSIGN_OR_RETURN(auto wv1, r.Bool("with_vector"));
  MOSAIC_ASSIGN_OR_RETURN(auto wv2, r.Bool("with_vectors"));
  q.with_payload = wp.value_or(true);
  MOSAIC_ASSIGN_OR_RETURN(auto snippet, r.Bool("snippet"));
  q.snippet = snippet.value_or(true);
  q.with_vectors = wv1.value_or(false) || wv2.value_or(false);
  MOSAIC_ASSIGN_OR_RETURN(auto gb, r.String("group_by"));
  MOSAIC_ASSIGN_OR_RETURN(auto gs, r.Size("group_size", 1000));
  if (gb)
    q.group_by = query::GroupBy{*gb, gs.value_or(1)};
  else if (gs)
    return Status::InvalidArgument("group_size: given without group_by");
  if (r.Has("mmr")) {
    if (q.mmr) return Status::InvalidArgument("mmr: given twice (in query and at the top level)");
    MOSAIC_ASSIGN_OR_RETURN(q.mmr, MmrFromJson(j["mmr"], "mmr"));
  }
  if (r.Has("autocut") && !j["autocut"].is_null()) {
    const Json& a = j["autocut"];
    if (a.is_boolean()) {
      if (a.get<bool>()) q.autocut = query::Autocut{1};
    } else if (a.is_number_unsigned() && a.get<uint64_t>() >= 1 && a.get<uint64_t>() <= 100) {
      q.autocut = query::Autocut{static_cast<size_t>(a.get<uint64_t>())};
    } else {
      return Status::InvalidArgument(
          "autocut: expected true or a number of jumps from 1 to 100, got " + Shown(a));
    }
  }
  if (r.Has("facets")) {
    const Json& list = j["facets"].is_array() ? j["facets"] : Json::array({j["facets"]});
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = "facets[" + std::to_string(i) + "]";
      query::FacetSpec f;
      if (list[i].is_string()) {
        f.key = list[i].get<std::string>();
      } else {
        JsonReader fr(list[i], at);
        MOSAIC_RETURN_IF_ERROR(fr.Expect({"key", "limit", "bucket"}));
        MOSAIC_ASSIGN_OR_RETURN(auto key, fr.String("key"));
        MOSAIC_ASSIGN_OR_RETURN(auto lim, fr.Size("limit", 10000));
        MOSAIC_ASSIGN_OR_RETURN(auto bucket, fr.String("bucket"));
        f.key = key.value_or("");
        f.limit = lim.value_or(10);
        if (bucket) {
          MOSAIC_ASSIGN_OR_RETURN(f.bucket, BucketFromName(*bucket, at + ".bucket"));
        }
      }
      if (f.key.empty()) return Status::InvalidArgument(at + ": expected a payload key");
      q.facets.push_back(std::move(f));
    }
  }
  MOSAIC_ASSIGN_OR_RETURN(auto ex, r.Bool("explain"));
  MOSAIC_ASSIGN_OR_RETURN(auto un, r.Bool("understand"));
  q.explain = ex.value_or(false);
  q.understand = un.value_or(true);
  return q;
}

Json HitToJson(const query::Hit& h) {
  Json j = {{"id", h.id.ToJson()}, {"score", h.score}};
  if (h.order_value) j["order_value"] = *h.order_value;
  if (!h.snippet.empty()) j["snippet"] = h.snippet;
  if (h.payload) j["payload"] = *h.payload;
  if (!h.vectors.empty()) j["vectors"] = h.vectors;
  if (!h.signals.empty() || !h.evidence.is_null()) {
    Json signals = Json::array();
    for (const query::SignalMatch& s : h.signals) {
      Json m = {{"signal", s.signal}, {"rank", s.rank}};
      if (s.rank > 0) {
        m["score"] = s.score;
        m["contribution"] = s.contribution;
      }
      signals.push_back(std::move(m));
    }
    j["explain"] = {{"signals", std::move(signals)},
                    {"evidence", h.evidence.is_null() ? Json::object() : h.evidence}};
  }
  return j;
}

Json QueryResponseToJson(const query::QueryResponse& r) {
  Json j = Json::object();
  if (!r.groups.empty() || r.hits.empty()) {
    Json groups = Json::array();
    for (const query::HitGroup& g : r.groups) {
      Json hits = Json::array();
      for (const query::Hit& h : g.hits)
        hits.push_back(HitToJson(h));
      groups.push_back({{"id", g.key}, {"hits", std::move(hits)}});
    }
    if (!r.groups.empty()) j["groups"] = std::move(groups);
  }
  if (r.groups.empty()) {
    Json points = Json::array();
    for (const query::Hit& h : r.hits)
      points.push_back(HitToJson(h));
    j["points"] = std::move(points);
  }
  if (!r.facets.empty()) {
    Json facets = Json::object();
    for (const auto& [key, counts] : r.facets) {
      Json list = Json::array();
      for (const FacetCount& c : counts)
        list.push_back({{"value", c.value}, {"count", c.count}});
      facets[key] = std::move(list);
    }
    j["facets"] = std::move(facets);
  }
  if (r.next_cursor)
    j["next_cursor"] = {{"order_value", r.next_cursor->order_value},
                        {"id", r.next_cursor->id.ToJson()}};
  if (!r.scored) j["scored"] = false;
  if (!r.explain.empty()) j["explain"] = r.explain;
  return j;
}

}  // namespace mosaic::wire
