#include "wire/qdrant_codec.h"

#include <cctype>
#include <cmath>
#include <functional>

#include "wire/json_reader.h"
#include "wire/point_codec.h"

namespace mosaic::wire::qdrant {
namespace {

constexpr size_t kMaxLimit = 1'000'000;
constexpr int kMaxDepth = 8;
constexpr size_t kMaxMinShouldCombinations = 1024;
// Qdrant's defaults for what a create request leaves out.
constexpr uint32_t kDefaultM = 16;
constexpr uint32_t kDefaultEfConstruct = 100;
constexpr size_t kDefaultPrefetchLimit = 10;
constexpr float kDefaultRrfK = 2;

// The value at `key`, or nullptr when absent or null (Qdrant's clients send null for "not set").
const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string At(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

std::string Index(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

Status Unsupported(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what + " is not supported by Mosaic");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Metric> DistanceFromJson(const Json& j, const std::string& where) {
  if (!j.is_string())
    return Status::InvalidArgument(where + ": expected \"Cosine\", \"Euclid\" or \"Dot\", got " +
                                   Shown(j));
  const std::string& s = j.get_ref<const std::string&>();
  if (s == "Cosine" || s == "cosine") return Metric::kCosine;
  if (s == "Euclid" || s == "euclid") return Metric::kL2;
  if (s == "Dot" || s == "dot") return Metric::kInnerProduct;
  if (s == "Manhattan" || s == "manhattan")
    return Status::InvalidArgument(where +
                                   ": distance Manhattan is not supported by Mosaic (it has "
                                   "Cosine, Euclid and Dot)");
  return Status::InvalidArgument(where + ": unknown distance \"" + s +
                                 "\" (expected Cosine, Euclid or Dot)");
}

const char* DistanceName(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return "Cosine";
    case Metric::kL2:
      return "Euclid";
    case Metric::kInnerProduct:
      return "Dot";
  }
  return "?";
}

// Applies an hnsw_config (diff) to an index spec: m 0 is no graph (a flat index).
Status ApplyHnswConfig(const Json* j, const std::string& where, IndexSpec* spec) {
  if (j == nullptr) return Status::OK();
  JsonReader r(*j, where);
  if (!j->is_object())
    return Status::InvalidArgument(where + ": expected an object, got " + Shown(*j));
  MOSAIC_ASSIGN_OR_RETURN(auto m, r.Size("m", 256));
  MOSAIC_ASSIGN_OR_RETURN(auto ef, r.Size("ef_construct", 10000));
  if (m) {
    spec->m = static_cast<uint32_t>(*m);
    spec->kind = *m == 0 ? IndexKind::kFlat : IndexKind::kHnsw;
  }
  if (ef) {
    if (*ef == 0)
      return Status::InvalidArgument(At(where, "ef_construct") + ": expected at least 1");
    spec->ef_construction = static_cast<uint32_t>(*ef);
    // Qdrant searches with ef_construct as the beam width unless a request says otherwise.
    spec->ef_search = static_cast<uint32_t>(*ef);
  }
  return Status::OK();
}

// Scalar int8 quantization becomes the graph's sq8 codes; product and binary quantization are
// accepted and left out (they trade recall for memory; exact float vectors only gain recall).
Status ApplyQuantization(const Json* j, const std::string& where, IndexSpec* spec) {
  if (j == nullptr) return Status::OK();
  if (!j->is_object())
    return Status::InvalidArgument(where + ": expected an object, got " + Shown(*j));
  if (const Json* s = Field(*j, "scalar")) {
    const Json* type = Field(*s, "type");
    if (type && *type != "int8")
      return Status::InvalidArgument(At(where, "scalar.type") + ": expected \"int8\", got " +
                                     Shown(*type));
    spec->sq8 = true;
  }
  return Status::OK();
}

Result<VectorSpec> VectorParamsFromJson(const Json& j, const std::string& name,
                                        const std::string& where, const IndexSpec& collection) {
  if (!j.is_object())
    return Status::InvalidArgument(where + ": expected {\"size\", \"distance\"}, got " + Shown(j));
  JsonReader r(j, where);
  VectorSpec v;
  v.name = name;
  MOSAIC_ASSIGN_OR_RETURN(auto size, r.Size("size", 65536));
  if (!size || *size == 0)
    return Status::InvalidArgument(At(where, "size") + ": expected a vector size from 1 to 65536");
  v.dim = static_cast<uint32_t>(*size);
  const Json* distance = Field(j, "distance");
  if (distance == nullptr) return Status::InvalidArgument(At(where, "distance") + ": missing");
  MOSAIC_ASSIGN_OR_RETURN(v.metric, DistanceFromJson(*distance, At(where, "distance")));
  if (const Json* d = Field(j, "datatype"); d && *d != "float32")
    return Status::InvalidArgument(At(where, "datatype") + ": Mosaic stores float32 vectors, got " +
                                   Shown(*d));
  if (Field(j, "multivector_config")) return Unsupported(where, "a multivector");
  v.index = collection;
  MOSAIC_RETURN_IF_ERROR(
      ApplyHnswConfig(Field(j, "hnsw_config"), At(where, "hnsw_config"), &v.index));
  MOSAIC_RETURN_IF_ERROR(ApplyQuantization(Field(j, "quantization_config"),
                                           At(where, "quantization_config"), &v.index));
  return v;
}

Json HnswConfigToJson(const IndexSpec& spec) {
  const bool graph = spec.kind == IndexKind::kHnsw;
  return {{"m", graph ? spec.m : 0},
          {"ef_construct", spec.ef_construction},
          {"full_scan_threshold", 10000},
          {"max_indexing_threads", 0},
          {"on_disk", false}};
}

// Sets `value` at a dotted path of `out`, making objects on the way.
void SetPath(Json& out, const std::string& path, const Json& value) {
  Json* at = &out;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object()) *at = Json::object();
    if (dot == std::string::npos) {
      (*at)[part] = value;
      return;
    }
    at = &(*at)[part];
    start = dot + 1;
  }
}

const Json* GetPath(const Json& j, const std::string& path) {
  const Json* at = &j;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    if (dot == std::string::npos) return &*it;
    at = &*it;
    start = dot + 1;
  }
}

void ErasePath(Json& j, const std::string& path) {
  size_t dot = path.rfind('.');
  Json* parent = &j;
  if (dot != std::string::npos) {
    const Json* p = GetPath(j, path.substr(0, dot));
    if (p == nullptr) return;
    parent = const_cast<Json*>(p);
  }
  if (parent->is_object()) parent->erase(dot == std::string::npos ? path : path.substr(dot + 1));
}

Result<std::vector<std::string>> StringList(const Json& j, const std::string& where) {
  if (!j.is_array())
    return Status::InvalidArgument(where + ": expected an array of strings, got " + Shown(j));
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string())
      return Status::InvalidArgument(Index(where, i) + ": expected a string, got " + Shown(j[i]));
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

// --- filters ---

Result<Json> TranslateFilter(const Json& j, const std::string& where, int depth);

Result<Json> TranslateIdList(const Json& j, const std::string& where) {
  MOSAIC_ASSIGN_OR_RETURN(auto ids, IdsFromJson(j, where));
  Json out = Json::array();
  for (const auto& id : ids)
    out.push_back(id.ToJson());
  return out;
}

// {"key", "match": {"text_any": "a b"}}: a should of one text match per word that has terms.
Result<Json> TextAny(const std::string& key, const Json& text, const std::string& where) {
  if (!text.is_string())
    return Status::InvalidArgument(where + ": expected a string of words, got " + Shown(text));
  Json should = Json::array();
  const std::string& s = text.get_ref<const std::string&>();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])))
      ++j;
    if (j > i) {
      Json cond = {{"key", key}, {"match", {{"text", s.substr(i, j - i)}}}};
      // A stopword alone has no terms: it is left out, as the index leaves it out.
      if (Filter::FromJson(Json{{"must", Json::array({cond})}}).ok()) should.push_back(cond);
    }
    i = j;
  }
  if (should.empty())
    return Status::InvalidArgument(where + ": has no words to search for, got " + Shown(text));
  return Json{{"should", should}};
}

// Conditions of a nested filter that keep their meaning when each is matched against any element
// of the array (Mosaic's "key[]." paths): plain field conditions (match, range), and nested ones.
Result<Json> NestedCondition(const Json& c, const std::string& prefix, const std::string& where,
                             int depth);

Result<Json> NestedFilter(const Json& f, const std::string& prefix, const std::string& where,
                          int depth) {
  if (depth > 64) return Status::InvalidArgument(where + ": nested deeper than 64 levels");
  if (!f.is_object())
    return Status::InvalidArgument(where + ": expected a filter object, got " + Shown(f));
  auto list = [](const Json* c) {
    if (c == nullptr) return Json::array();
    return c->is_array() ? *c : Json::array({*c});
  };
  const Json must = list(Field(f, "must"));
  const Json should = list(Field(f, "should"));
  if (Field(f, "must_not") && !list(Field(f, "must_not")).empty())
    return Unsupported(where, "must_not inside a nested filter");
  if (Field(f, "min_should")) return Unsupported(where, "min_should inside a nested filter");
  if (must.size() > 1 || (must.size() == 1 && !should.empty()))
    return Unsupported(where,
                       "a nested filter with several conditions (each would match any element, "
                       "not all one element)");
  if (must.size() == 1) return NestedCondition(must[0], prefix, At(where, "must[0]"), depth + 1);
  Json out = Json::array();
  for (size_t i = 0; i < should.size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(
        Json c, NestedCondition(should[i], prefix, Index(At(where, "should"), i), depth + 1));
    out.push_back(std::move(c));
  }
  if (out.empty()) return Status::InvalidArgument(where + ": a nested filter needs a condition");
  return Json{{"should", out}};
}

Result<Json> NestedCondition(const Json& c, const std::string& prefix, const std::string& where,
                             int depth) {
  if (const Json* n = Field(c, "nested")) {
    const Json* key = Field(*n, "key");
    const Json* filter = Field(*n, "filter");
    if (!key || !key->is_string() || !filter)
      return Status::InvalidArgument(where + ".nested: expected {\"key\", \"filter\"}, got " +
                                     Shown(*n));
    std::string k = key->get<std::string>();
    if (k.ends_with("[]")) k.resize(k.size() - 2);
    return NestedFilter(*filter, prefix + k + "[].", At(where, "nested.filter"), depth);
  }
  if (Field(c, "must") || Field(c, "should")) return NestedFilter(c, prefix, where, depth);
  const Json* key = Field(c, "key");
  if (key == nullptr || !key->is_string() || !(Field(c, "match") || Field(c, "range")) ||
      Field(c, "is_empty") || Field(c, "is_null"))
    return Unsupported(where, "this condition inside a nested filter (only match and range are)");
  Json out = Json::object();
  for (const auto& [k, v] : c.items())
    if (!v.is_null()) out[k] = v;
  out["key"] = prefix + key->get<std::string>();
  if (const Json* m = Field(out, "match"); m && Field(*m, "text_any"))
    return TextAny(out["key"].get<std::string>(), *Field(*m, "text_any"),
                   At(where, "match.text_any"));
  return out;
}

// One condition of a clause.
Result<Json> TranslateCondition(const Json& c, const std::string& where, int depth) {
  if (!c.is_object())
    return Status::InvalidArgument(where + ": expected a condition object, got " + Shown(c));
  if (const Json* key = Field(c, "key")) {
    if (Field(c, "geo_bounding_box") || Field(c, "geo_radius") || Field(c, "geo_polygon"))
      return Unsupported(where, "a geo condition");
    if (Field(c, "values_count")) return Unsupported(where, "values_count");
    Json out = Json::object();
    for (const auto& [k, v] : c.items())
      if (!v.is_null() && k != "is_empty" && k != "is_null") out[k] = v;
    for (const char* flag : {"is_empty", "is_null"}) {
      const Json* f = Field(c, flag);
      if (f == nullptr) continue;
      if (!f->is_boolean())
        return Status::InvalidArgument(At(where, flag) + ": expected true or false, got " +
                                       Shown(*f));
      if (out.size() > 1)
        return Status::InvalidArgument(where + ": a condition takes one of match, range, " + flag);
      Json cond = {{flag, {{"key", *key}}}};
      return f->get<bool>() ? cond : Json{{"must_not", Json::array({cond})}};
    }
    if (const Json* m = Field(out, "match"); m && Field(*m, "text_any")) {
      if (!key->is_string())
        return Status::InvalidArgument(At(where, "key") + ": expected a string, got " +
                                       Shown(*key));
      return TextAny(key->get<std::string>(), *Field(*m, "text_any"), At(where, "match.text_any"));
    }
    return out;
  }
  if (const Json* ids = Field(c, "has_id")) {
    MOSAIC_ASSIGN_OR_RETURN(Json list, TranslateIdList(*ids, At(where, "has_id")));
    return Json{{"has_id", list}};
  }
  if (Field(c, "has_vector")) return Unsupported(where, "has_vector");
  if (const Json* n = Field(c, "nested")) {
    const Json* key = Field(*n, "key");
    const Json* filter = Field(*n, "filter");
    if (!key || !key->is_string() || !filter)
      return Status::InvalidArgument(At(where, "nested") +
                                     ": expected {\"key\", \"filter\"}, got " + Shown(*n));
    std::string k = key->get<std::string>();
    if (k.ends_with("[]")) k.resize(k.size() - 2);
    return NestedFilter(*filter, k + "[].", At(where, "nested.filter"), depth + 1);
  }
  if (Field(c, "is_empty") || Field(c, "is_null")) {
    Json out = Json::object();
    for (const auto& [k, v] : c.items())
      if (!v.is_null()) out[k] = v;
    return out;
  }
  // Anything else is a filter (a nested clause set).
  return TranslateFilter(c, where, depth + 1);
}

Result<Json> TranslateClause(const Json& j, const std::string& where, int depth) {
  Json out = Json::array();
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(Json c, TranslateCondition(j[i], Index(where, i), depth));
      out.push_back(std::move(c));
    }
  } else {
    MOSAIC_ASSIGN_OR_RETURN(Json c, TranslateCondition(j, where, depth));
    out.push_back(std::move(c));
  }
  return out;
}

// min_should: a should over every subset of min_count conditions, each a must.
Result<Json> MinShould(const Json& j, const std::string& where, int depth) {
  const Json* conditions = Field(j, "conditions");
  if (conditions == nullptr || !conditions->is_array())
    return Status::InvalidArgument(At(where, "conditions") + ": expected an array of conditions");
  JsonReader r(j, where);
  MOSAIC_ASSIGN_OR_RETURN(auto min_count, r.Size("min_count", 1u << 20));
  if (!min_count) return Status::InvalidArgument(At(where, "min_count") + ": missing");
  MOSAIC_ASSIGN_OR_RETURN(Json conds, TranslateClause(*conditions, At(where, "conditions"), depth));
  const size_t n = conds.size();
  const size_t k = *min_count;
  if (k == 0) return Json();                          // no constraint
  if (k > n) return Json{{"has_id", Json::array()}};  // nothing can match
  // C(n, k), stopping once over the cap.
  double combinations = 1;
  for (size_t i = 0; i < k; ++i)
    combinations = combinations * static_cast<double>(n - i) / (i + 1);
  if (combinations > kMaxMinShouldCombinations)
    return Status::InvalidArgument(
        where + ": min_count " + std::to_string(k) + " of " + std::to_string(n) +
        " conditions makes " + std::to_string(static_cast<uint64_t>(combinations)) +
        " combinations; Mosaic expands at most " + std::to_string(kMaxMinShouldCombinations));
  if (k == 1) return Json{{"should", conds}};
  Json should = Json::array();
  std::vector<size_t> pick(k);
  for (size_t i = 0; i < k; ++i)
    pick[i] = i;
  for (;;) {
    Json must = Json::array();
    for (size_t i : pick)
      must.push_back(conds[i]);
    should.push_back({{"must", must}});
    size_t i = k;
    while (i > 0 && pick[i - 1] == n - k + i - 1)
      --i;
    if (i == 0) break;
    ++pick[i - 1];
    for (size_t m = i; m < k; ++m)
      pick[m] = pick[m - 1] + 1;
  }
  return Json{{"should", should}};
}

Result<Json> TranslateFilter(const Json& j, const std::string& where, int depth) {
  if (depth > 64) return Status::InvalidArgument(where + ": filters nest deeper than 64 levels");
  if (!j.is_object())
    return Status::InvalidArgument(
        where + ": expected a filter object such as {\"must\": [...]}, got " + Shown(j));
  Json out = Json::object();
  for (const char* clause : {"must", "should", "must_not"}) {
    const Json* c = Field(j, clause);
    if (c == nullptr) continue;
    MOSAIC_ASSIGN_OR_RETURN(out[clause], TranslateClause(*c, At(where, clause), depth));
  }
  if (const Json* m = Field(j, "min_should")) {
    MOSAIC_ASSIGN_OR_RETURN(Json cond, MinShould(*m, At(where, "min_should"), depth));
    if (!cond.is_null()) {
      if (!out.contains("must")) out["must"] = Json::array();
      out["must"].push_back(std::move(cond));
    }
  }
  return out;
}

// a AND b, either possibly null (no filter).
Json AndFilters(Json a, Json b) {
  auto empty = [](const Json& f) { return f.is_null() || (f.is_object() && f.empty()); };
  if (empty(a)) return b;
  if (empty(b)) return a;
  return Json{{"must", Json::array({std::move(a), std::move(b)})}};
}

Result<std::optional<Filter>> MakeFilter(const Json& mosaic_json, const std::string& where) {
  if (mosaic_json.is_null()) return std::optional<Filter>();
  auto f = Filter::FromJson(mosaic_json);
  if (!f.ok()) return f.status().WithContext(where);
  return std::optional<Filter>(std::move(f).value());
}

// --- requests ---

Result<query::SearchParams> ParamsFromJson(const Json* j, const std::string& where) {
  query::SearchParams p;
  if (j == nullptr) return p;
  if (!j->is_object())
    return Status::InvalidArgument(where + ": expected an object, got " + Shown(*j));
  JsonReader r(*j, where);
  MOSAIC_ASSIGN_OR_RETURN(auto ef, r.Size("hnsw_ef", 100000));
  MOSAIC_ASSIGN_OR_RETURN(auto exact, r.Bool("exact"));
  p.ef = ef.value_or(0);
  p.exact = exact.value_or(false);
  return p;
}

Result<std::vector<float>> DenseVector(const Json& j, const std::string& where) {
  if (j.is_array() && !j.empty() && j[0].is_array()) return Unsupported(where, "a multivector");
  if (j.is_object() && j.contains("indices")) return Unsupported(where, "a sparse vector");
  if (j.is_object() && j.contains("model"))
    return Unsupported(where, "inference (a document, image or object with a model); send vectors");
  MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorFromJson(j, where));
  if (v.empty()) return Status::InvalidArgument(where + ": the vector is empty");
  return v;
}

// A VectorInput or RecommendExample: a vector, or a point id.
Result<query::Input> VectorInput(const Json& j, const std::string& where) {
  if (j.is_number() || j.is_string()) {
    MOSAIC_ASSIGN_OR_RETURN(PointId id, IdFromJson(j, where));
    return query::Input::Point(std::move(id));
  }
  MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, DenseVector(j, where));
  return query::Input::Vector(std::move(v));
}

Result<std::vector<query::Input>> VectorInputs(const Json* j, const std::string& where) {
  std::vector<query::Input> out;
  if (j == nullptr) return out;
  if (!j->is_array())
    return Status::InvalidArgument(where + ": expected an array of point ids or vectors, got " +
                                   Shown(*j));
  for (size_t i = 0; i < j->size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(query::Input in, VectorInput((*j)[i], Index(where, i)));
    out.push_back(std::move(in));
  }
  return out;
}

Result<query::RecommendStrategy> StrategyFromJson(const Json* j, const std::string& where) {
  if (j == nullptr || *j == "average_vector") return query::RecommendStrategy::kAverageVector;
  if (*j == "best_score") return query::RecommendStrategy::kBestScore;
  if (*j == "sum_scores") return Unsupported(where, "strategy sum_scores");
  return Status::InvalidArgument(where + ": expected \"average_vector\" or \"best_score\", got " +
                                 Shown(*j));
}

Result<OrderBy> OrderByFromJson(const Json& j, const std::string& where,
                                std::optional<Json>* start_from) {
  OrderBy ob;
  if (j.is_string()) {
    ob.key = j.get<std::string>();
  } else if (j.is_object()) {
    JsonReader r(j, where);
    MOSAIC_ASSIGN_OR_RETURN(auto key, r.String("key"));
    MOSAIC_ASSIGN_OR_RETURN(auto dir, r.String("direction"));
    if (key) ob.key = *key;
    if (dir && *dir != "asc" && *dir != "desc")
      return Status::InvalidArgument(At(where, "direction") +
                                     ": expected \"asc\" or \"desc\", got \"" + *dir + "\"");
    ob.descending = dir && *dir == "desc";
    if (const Json* s = Field(j, "start_from")) {
      if (!s->is_number() && !s->is_string())
        return Status::InvalidArgument(At(where, "start_from") +
                                       ": expected a number or a datetime, got " + Shown(*s));
      *start_from = *s;
    }
  } else {
    return Status::InvalidArgument(where + ": expected a key or {\"key\", \"direction\"}, got " +
                                   Shown(j));
  }
  if (ob.key.empty()) return Status::InvalidArgument(where + ": expected a payload key");
  return ob;
}

// Qdrant returns only points that have a value to order by (its order_by reads a range index);
// start_from bounds the values.
Json OrderByFilter(const OrderBy& ob, const std::optional<Json>& start_from) {
  Json f = {{"must_not", Json::array({{{"is_empty", {{"key", ob.key}}}}})}};
  if (start_from)
    f["must"] =
        Json::array({{{"key", ob.key}, {"range", {{ob.descending ? "lte" : "gte", *start_from}}}}});
  return f;
}

struct QueryParts {
  query::Query query;
  Json extra_filter;  // null: none
  std::optional<query::Mmr> mmr;
};

Result<QueryParts> QueryFromJson(const Json* j, const std::string& where) {
  QueryParts out;
  if (j == nullptr) return out;
  const Json& q = *j;
  auto nearest = [&](const Json& input, const std::string& at) -> Result<query::Query> {
    MOSAIC_ASSIGN_OR_RETURN(query::Input in, VectorInput(input, at));
    return query::Query(query::NearestQuery{{std::move(in)}});
  };
  if (q.is_array() || q.is_number() || q.is_string()) {
    MOSAIC_ASSIGN_OR_RETURN(out.query, nearest(q, where));
    return out;
  }
  if (!q.is_object())
    return Status::InvalidArgument(
        where + ": expected a vector, a point id or a query object, got " + Shown(q));
  if (q.contains("indices")) return Unsupported(where, "a sparse vector");
  if (q.contains("model"))
    return Unsupported(where, "inference (a document, image or object with a model); send vectors");
  if (const Json* n = Field(q, "nearest")) {
    MOSAIC_ASSIGN_OR_RETURN(out.query, nearest(*n, At(where, "nearest")));
    if (const Json* m = Field(q, "mmr")) {
      JsonReader r(*m, At(where, "mmr"));
      MOSAIC_ASSIGN_OR_RETURN(auto diversity, r.Number("diversity"));
      MOSAIC_ASSIGN_OR_RETURN(auto candidates, r.Size("candidates_limit", kMaxLimit));
      query::Mmr mmr;
      mmr.diversity = static_cast<float>(diversity.value_or(0.5));
      if (mmr.diversity < 0 || mmr.diversity > 1)
        return Status::InvalidArgument(At(where, "mmr.diversity") + ": expected 0..1, got " +
                                       Shown((*m)["diversity"]));
      mmr.candidates = candidates.value_or(0);
      out.mmr = mmr;
    }
    return out;
  }
  if (const Json* rec = Field(q, "recommend")) {
    const std::string at = At(where, "recommend");
    query::RecommendQuery rq;
    MOSAIC_ASSIGN_OR_RETURN(rq.positive, VectorInputs(Field(*rec, "positive"), At(at, "positive")));
    MOSAIC_ASSIGN_OR_RETURN(rq.negative, VectorInputs(Field(*rec, "negative"), At(at, "negative")));
    MOSAIC_ASSIGN_OR_RETURN(rq.strategy,
                            StrategyFromJson(Field(*rec, "strategy"), At(at, "strategy")));
    out.query = std::move(rq);
    return out;
  }
  if (const Json* f = Field(q, "fusion")) {
    // Qdrant's RRF gives 1 / (k + position) with positions from 0; Mosaic's 1 / (k' + rank) with
    // ranks from 1: the same for k' = k - 1.
    if (*f == "rrf") {
      out.query = query::FusionQuery{query::FusionMethod::kRrf, kDefaultRrfK - 1};
    } else if (*f == "dbsf") {
      out.query = query::FusionQuery{query::FusionMethod::kDbsf, 0};
    } else {
      return Status::InvalidArgument(At(where, "fusion") + ": expected \"rrf\" or \"dbsf\", got " +
                                     Shown(*f));
    }
    return out;
  }
  if (q.contains("rrf")) {
    const Json& rrf = q["rrf"];
    float k = kDefaultRrfK;
    if (!rrf.is_null()) {
      JsonReader r(rrf, At(where, "rrf"));
      MOSAIC_ASSIGN_OR_RETURN(auto kk, r.Size("k", 1u << 20));
      if (kk) {
        if (*kk == 0) return Status::InvalidArgument(At(where, "rrf.k") + ": expected at least 1");
        k = static_cast<float>(*kk);
      }
      if (const Json* w = Field(rrf, "weights")) {
        if (!w->is_array())
          return Status::InvalidArgument(At(where, "rrf.weights") +
                                         ": expected an array of numbers");
        for (const Json& x : *w)
          if (!x.is_number() || x.get<double>() != 1.0)
            return Unsupported(At(where, "rrf.weights"), "weights other than 1");
      }
    }
    out.query = query::FusionQuery{query::FusionMethod::kRrf, k - 1};
    return out;
  }
  if (const Json* o = Field(q, "order_by")) {
    std::optional<Json> start_from;
    MOSAIC_ASSIGN_OR_RETURN(OrderBy ob, OrderByFromJson(*o, At(where, "order_by"), &start_from));
    out.extra_filter = OrderByFilter(ob, start_from);
    out.query = query::OrderByQuery{ob};
    return out;
  }
  for (const char* kind : {"discover", "context", "formula", "sample", "relevance_feedback"})
    if (q.contains(kind)) return Unsupported(where, std::string("the ") + kind + " query");
  return Status::InvalidArgument(where + ": unknown query " + Shown(q) +
                                 " (expected a vector, a point id, nearest, recommend, fusion, "
                                 "rrf or order_by)");
}

Result<query::Prefetch> PrefetchFromJson(const Json& j, const std::string& where,
                                         const CollectionSchema& schema, int depth);

Result<std::vector<query::Prefetch>> PrefetchesFromJson(const Json* j, const std::string& where,
                                                        const CollectionSchema& schema, int depth) {
  std::vector<query::Prefetch> out;
  if (j == nullptr) return out;
  if (depth > kMaxDepth)
    return Status::InvalidArgument(where + ": prefetches nest deeper than " +
                                   std::to_string(kMaxDepth));
  if (j->is_array()) {
    for (size_t i = 0; i < j->size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(query::Prefetch p,
                              PrefetchFromJson((*j)[i], Index(where, i), schema, depth));
      out.push_back(std::move(p));
    }
  } else {
    MOSAIC_ASSIGN_OR_RETURN(query::Prefetch p, PrefetchFromJson(*j, where, schema, depth));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::string> UsingFromJson(const Json& j, const std::string& where,
                                  const CollectionSchema& schema) {
  JsonReader r(j, where);
  MOSAIC_ASSIGN_OR_RETURN(auto name, r.String("using"));
  auto v = VectorName(schema, name.value_or(""));
  if (!v.ok()) return v.status().WithContext(At(where, "using"));
  return v;
}

Status NoLookupFrom(const Json& j, const std::string& where) {
  if (Field(j, "lookup_from")) return Unsupported(At(where, "lookup_from"), "lookup_from");
  return Status::OK();
}

Result<query::Prefetch> PrefetchFromJson(const Json& j, const std::string& where,
                                         const CollectionSchema& schema, int depth) {
  if (!j.is_object())
    return Status::InvalidArgument(where + ": expected an object, got " + Shown(j));
  MOSAIC_RETURN_IF_ERROR(NoLookupFrom(j, where));
  JsonReader r(j, where);
  query::Prefetch p;
  MOSAIC_ASSIGN_OR_RETURN(p.prefetch, PrefetchesFromJson(Field(j, "prefetch"),
                                                         At(where, "prefetch"), schema, depth + 1));
  MOSAIC_ASSIGN_OR_RETURN(QueryParts q, QueryFromJson(Field(j, "query"), At(where, "query")));
  if (q.mmr) return Unsupported(At(where, "query.mmr"), "mmr in a prefetch");
  p.query = std::move(q.query);
  MOSAIC_ASSIGN_OR_RETURN(p.using_vector, UsingFromJson(j, where, schema));
  Json filter;
  if (const Json* f = Field(j, "filter")) {
    MOSAIC_ASSIGN_OR_RETURN(filter, FilterToMosaicJson(*f, At(where, "filter")));
  }
  MOSAIC_ASSIGN_OR_RETURN(p.filter,
                          MakeFilter(AndFilters(filter, q.extra_filter), At(where, "filter")));
  MOSAIC_ASSIGN_OR_RETURN(p.params, ParamsFromJson(Field(j, "params"), At(where, "params")));
  MOSAIC_ASSIGN_OR_RETURN(auto th, r.Number("score_threshold"));
  if (th) p.score_threshold = static_cast<float>(*th);
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", kMaxLimit));
  p.limit = limit.value_or(kDefaultPrefetchLimit);
  if (*p.limit == 0) return Status::InvalidArgument(At(where, "limit") + ": expected at least 1");
  return p;
}

// The parts every read shares: filter, params, score_threshold, limit, offset, with_*.
Status CommonFromJson(const Json& j, const CollectionSchema& schema, bool payload_default,
                      ReadRequest* out, const Json& extra_filter = Json()) {
  JsonReader r(j, "");
  query::QueryRequest& q = out->request;
  q.snippet = false;
  q.understand = false;
  Json filter;
  if (const Json* f = Field(j, "filter")) {
    MOSAIC_ASSIGN_OR_RETURN(filter, FilterToMosaicJson(*f, "filter"));
  }
  MOSAIC_ASSIGN_OR_RETURN(q.filter, MakeFilter(AndFilters(filter, extra_filter), "filter"));
  MOSAIC_ASSIGN_OR_RETURN(q.params, ParamsFromJson(Field(j, "params"), "params"));
  MOSAIC_ASSIGN_OR_RETURN(auto th, r.Number("score_threshold"));
  if (th) q.score_threshold = static_cast<float>(*th);
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", kMaxLimit));
  q.limit = limit.value_or(10);
  if (q.limit == 0) return Status::InvalidArgument("limit: expected at least 1");
  MOSAIC_ASSIGN_OR_RETURN(auto offset, r.Size("offset", kMaxLimit));
  q.offset = offset.value_or(0);
  MOSAIC_ASSIGN_OR_RETURN(
      out->output.payload,
      PayloadSelectorFromJson(Field(j, "with_payload"), payload_default, "with_payload"));
  const Json* wv = Field(j, "with_vector");
  if (wv == nullptr) wv = Field(j, "with_vectors");
  MOSAIC_ASSIGN_OR_RETURN(out->output.vectors, VectorSelectorFromJson(wv, schema, "with_vector"));
  q.with_payload = out->output.payload.any();
  q.with_vectors = out->output.vectors.any;
  return Status::OK();
}

// group_by / group_size of the groups endpoints; limit then counts groups.
Status GroupFromJson(const Json& j, size_t default_size, ReadRequest* out) {
  JsonReader r(j, "");
  MOSAIC_ASSIGN_OR_RETURN(auto key, r.String("group_by"));
  if (!key) return Status::OK();
  if (key->empty()) return Status::InvalidArgument("group_by: expected a payload key");
  MOSAIC_ASSIGN_OR_RETURN(auto size, r.Size("group_size", kMaxLimit));
  query::GroupBy g;
  g.key = *key;
  g.group_size = size.value_or(default_size);
  if (g.group_size == 0) return Status::InvalidArgument("group_size: expected at least 1");
  out->request.group_by = g;
  if (Field(j, "with_lookup")) return Unsupported("with_lookup", "with_lookup");
  return Status::OK();
}

}  // namespace

// --- ids ---

std::optional<std::string> NormalizeUuid(std::string_view s) {
  if (s.starts_with("urn:uuid:")) s.remove_prefix(9);
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  std::string hex;
  if (s.size() == 36) {
    for (size_t i = 0; i < s.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (s[i] == '-')) return std::nullopt;
      if (!dash) hex += s[i];
    }
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    const int v = HexValue(hex[i]);
    if (v < 0) return std::nullopt;
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += "0123456789abcdef"[v];
  }
  return out;
}

Result<PointId> IdFromJson(const Json& j, const std::string& where, IdUse use) {
  if (j.is_number_unsigned()) return PointId(j.get<uint64_t>());
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return PointId(j.get<uint64_t>());
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (auto uuid = NormalizeUuid(s)) return PointId(*uuid);
    if (use == IdUse::kLookup && !s.empty()) return PointId(s);
  }
  return Status::InvalidArgument(
      where + ": expected a point id (an unsigned integer or a UUID), got " + Shown(j));
}

Json IdToJson(const PointId& id) {
  return id.ToJson();
}

Result<std::vector<PointId>> IdsFromJson(const Json& j, const std::string& where, IdUse use) {
  if (!j.is_array())
    return Status::InvalidArgument(where + ": expected an array of point ids, got " + Shown(j));
  std::vector<PointId> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(PointId id, IdFromJson(j[i], Index(where, i), use));
    ids.push_back(std::move(id));
  }
  return ids;
}

// --- collections ---

Result<CollectionSchema> CreateCollectionFromJson(const Json& j) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a collection config object, got " + Shown(j));
  if (const Json* sv = Field(j, "sparse_vectors"); sv && !sv->empty())
    return Unsupported("sparse_vectors", "a sparse vector");
  IndexSpec collection;
  collection.kind = IndexKind::kHnsw;
  collection.m = kDefaultM;
  collection.ef_construction = kDefaultEfConstruct;
  collection.ef_search = kDefaultEfConstruct;
  MOSAIC_RETURN_IF_ERROR(ApplyHnswConfig(Field(j, "hnsw_config"), "hnsw_config", &collection));
  MOSAIC_RETURN_IF_ERROR(
      ApplyQuantization(Field(j, "quantization_config"), "quantization_config", &collection));
  const Json* vectors = Field(j, "vectors");
  if (vectors == nullptr || !vectors->is_object() || vectors->empty())
    return Status::InvalidArgument(
        "vectors: expected {\"size\", \"distance\"} or {name: {\"size\", \"distance\"}}; a Mosaic "
        "collection needs at least one dense vector");
  CollectionSchema schema;
  if (vectors->contains("size") || vectors->contains("distance")) {
    MOSAIC_ASSIGN_OR_RETURN(VectorSpec v,
                            VectorParamsFromJson(*vectors, kUnnamedVector, "vectors", collection));
    schema.vectors.push_back(std::move(v));
  } else {
    for (const auto& [name, params] : vectors->items()) {
      MOSAIC_ASSIGN_OR_RETURN(VectorSpec v,
                              VectorParamsFromJson(params, name, "vectors." + name, collection));
      schema.vectors.push_back(std::move(v));
    }
  }
  if (Status s = schema.Validate(); !s.ok()) return s.WithContext("vectors");
  return schema;
}

bool IsUnnamed(const CollectionSchema& schema) {
  return schema.vectors.size() == 1 && schema.vectors[0].name == kUnnamedVector;
}

Json VectorsConfigToJson(const CollectionSchema& schema) {
  auto params = [](const VectorSpec& v) {
    return Json{{"size", v.dim}, {"distance", DistanceName(v.metric)}};
  };
  if (IsUnnamed(schema)) return params(schema.vectors[0]);
  Json out = Json::object();
  for (const auto& v : schema.vectors) {
    Json p = params(v);
    if (v.index.kind != schema.vectors[0].index.kind || v.index.m != schema.vectors[0].index.m ||
        v.index.ef_construction != schema.vectors[0].index.ef_construction)
      p["hnsw_config"] = HnswConfigToJson(v.index);
    out[v.name] = std::move(p);
  }
  return out;
}

const char* PayloadSchemaTypeName(PayloadIndexType t) {
  return PayloadIndexTypeName(t);
}

Json CollectionInfoToJson(const CollectionInfo& info,
                          const std::map<std::string, uint64_t>& indexed_points) {
  const CollectionSchema& schema = info.schema;
  uint64_t graphs = 0;
  bool sq8 = false;
  for (const auto& v : schema.vectors) {
    graphs += v.index.kind == IndexKind::kHnsw ? 1 : 0;
    sq8 = sq8 || (v.index.kind == IndexKind::kHnsw && v.index.sq8);
  }
  Json payload_schema = Json::object();
  for (const auto& [field, type] : info.payload_indexes) {
    auto it = indexed_points.find(field);
    payload_schema[field] = {{"data_type", PayloadSchemaTypeName(type)},
                             {"points", it == indexed_points.end() ? 0 : it->second}};
  }
  Json quantization = sq8 ? Json{{"scalar", {{"type", "int8"}, {"always_ram", true}}}} : Json();
  return {{"status", "green"},
          {"optimizer_status", "ok"},
          {"indexed_vectors_count", info.points * graphs},
          {"points_count", info.points},
          {"segments_count", 1},
          {"config",
           {{"params",
             {{"vectors", VectorsConfigToJson(schema)},
              {"shard_number", 1},
              {"replication_factor", 1},
              {"write_consistency_factor", 1},
              {"on_disk_payload", true}}},
            {"hnsw_config", HnswConfigToJson(schema.vectors[0].index)},
            {"optimizer_config",
             {{"deleted_threshold", 0.2},
              {"vacuum_min_vector_number", 1000},
              {"default_segment_number", 0},
              {"max_segment_size", nullptr},
              {"memmap_threshold", nullptr},
              {"indexing_threshold", 10000},
              {"flush_interval_sec", 5},
              {"max_optimization_threads", nullptr}}},
            {"wal_config", {{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}}},
            {"quantization_config", quantization}}},
          {"payload_schema", payload_schema}};
}

Result<std::optional<PayloadIndexType>> FieldSchemaFromJson(const Json& j) {
  const Json* type = &j;
  if (j.is_object()) type = Field(j, "type");
  if (type == nullptr || !type->is_string())
    return Status::InvalidArgument(
        "field_schema: expected a type such as \"keyword\" or "
        "{\"type\": \"keyword\"}, got " +
        Shown(j));
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "bool") return std::optional<PayloadIndexType>();
  if (t == "uuid") return std::optional<PayloadIndexType>(PayloadIndexType::kKeyword);
  if (t == "geo") return Unsupported("field_schema", "a geo index");
  auto parsed = ParsePayloadIndexType(t);
  if (!parsed.ok())
    return Status::InvalidArgument(
        "field_schema: unknown type \"" + t +
        "\" (expected keyword, integer, float, bool, datetime, text or uuid)");
  return std::optional<PayloadIndexType>(parsed.value());
}

// --- vectors and points ---

Result<std::string> VectorName(const CollectionSchema& schema, const std::string& name) {
  if (!name.empty()) {
    if (schema.Find(name)) return name;
  } else {
    if (schema.Find(kUnnamedVector)) return std::string(kUnnamedVector);
    if (schema.vectors.size() == 1) return schema.vectors[0].name;
  }
  std::string names;
  for (const auto& v : schema.vectors)
    if (v.name != kUnnamedVector) names += (names.empty() ? "" : ", ") + v.name;
  if (name.empty())
    return Status::InvalidArgument("the collection has named vectors (" + names +
                                   "): say which one");
  return Status::InvalidArgument("Not existing vector name error: " + name +
                                 (names.empty() ? " (the collection's vector is unnamed)"
                                                : " (the collection has: " + names + ")"));
}

Result<std::map<std::string, std::vector<float>>> VectorStructFromJson(
    const Json& j, const CollectionSchema& schema, const std::string& where) {
  std::map<std::string, std::vector<float>> out;
  if (j.is_array()) {
    MOSAIC_ASSIGN_OR_RETURN(std::string name, VectorName(schema, ""));
    MOSAIC_ASSIGN_OR_RETURN(out[name], DenseVector(j, where));
    return out;
  }
  if (!j.is_object())
    return Status::InvalidArgument(where + ": expected a vector or {name: vector}, got " +
                                   Shown(j));
  if (j.contains("model"))
    return Unsupported(where, "inference (a document, image or object with a model); send vectors");
  for (const auto& [name, v] : j.items()) {
    auto mosaic_name = VectorName(schema, name);
    if (!mosaic_name.ok()) return mosaic_name.status().WithContext(where);
    MOSAIC_ASSIGN_OR_RETURN(out[mosaic_name.value()], DenseVector(v, where + "." + name));
  }
  return out;
}

Result<std::vector<Point>> PointsFromJson(const Json& body, const CollectionSchema& schema) {
  const Json* points = Field(body, "points");
  const Json* batch = Field(body, "batch");
  if ((points == nullptr) == (batch == nullptr))
    return Status::InvalidArgument(
        "expected {\"points\": [...]} or {\"batch\": {\"ids\", \"vectors\"}}");
  std::vector<Point> out;
  auto payload = [](const Json* p, const std::string& where) -> Result<Json> {
    if (p == nullptr) return Json::object();
    if (!p->is_object())
      return Status::InvalidArgument(where + ": expected an object, got " + Shown(*p));
    return *p;
  };
  if (points) {
    if (!points->is_array())
      return Status::InvalidArgument("points: expected an array of points, got " + Shown(*points));
    for (size_t i = 0; i < points->size(); ++i) {
      const Json& pj = (*points)[i];
      const std::string where = Index("points", i);
      if (!pj.is_object())
        return Status::InvalidArgument(
            where + ": expected {\"id\", \"vector\", \"payload\"}, got " + Shown(pj));
      Point p;
      const Json* id = Field(pj, "id");
      if (id == nullptr) return Status::InvalidArgument(where + ".id: missing");
      MOSAIC_ASSIGN_OR_RETURN(p.id, IdFromJson(*id, where + ".id", IdUse::kNewPoint));
      const Json* v = Field(pj, "vector");
      if (v == nullptr) return Status::InvalidArgument(where + ".vector: missing");
      MOSAIC_ASSIGN_OR_RETURN(p.vectors, VectorStructFromJson(*v, schema, where + ".vector"));
      MOSAIC_ASSIGN_OR_RETURN(p.payload, payload(Field(pj, "payload"), where + ".payload"));
      out.push_back(std::move(p));
    }
    return out;
  }
  const Json* ids = Field(*batch, "ids");
  const Json* vectors = Field(*batch, "vectors");
  if (ids == nullptr) return Status::InvalidArgument("batch.ids: missing");
  if (vectors == nullptr) return Status::InvalidArgument("batch.vectors: missing");
  MOSAIC_ASSIGN_OR_RETURN(auto id_list, IdsFromJson(*ids, "batch.ids", IdUse::kNewPoint));
  out.resize(id_list.size());
  for (size_t i = 0; i < id_list.size(); ++i)
    out[i].id = std::move(id_list[i]);
  auto check_size = [&](const Json& list, const std::string& where) -> Status {
    if (!list.is_array() || list.size() != out.size())
      return Status::InvalidArgument(where + ": expected an array of " +
                                     std::to_string(out.size()) + " entries (one per id), got " +
                                     Shown(list));
    return Status::OK();
  };
  if (vectors->is_array()) {
    MOSAIC_RETURN_IF_ERROR(check_size(*vectors, "batch.vectors"));
    MOSAIC_ASSIGN_OR_RETURN(std::string name, VectorName(schema, ""));
    for (size_t i = 0; i < out.size(); ++i) {
      MOSAIC_ASSIGN_OR_RETURN(out[i].vectors[name],
                              DenseVector((*vectors)[i], Index("batch.vectors", i)));
    }
  } else if (vectors->is_object()) {
    for (const auto& [qname, list] : vectors->items()) {
      const std::string where = "batch.vectors." + qname;
      auto name = VectorName(schema, qname);
      if (!name.ok()) return name.status().WithContext("batch.vectors");
      MOSAIC_RETURN_IF_ERROR(check_size(list, where));
      for (size_t i = 0; i < out.size(); ++i) {
        MOSAIC_ASSIGN_OR_RETURN(out[i].vectors[name.value()],
                                DenseVector(list[i], Index(where, i)));
      }
    }
  } else {
    return Status::InvalidArgument(
        "batch.vectors: expected an array of vectors or {name: [...]}, got " + Shown(*vectors));
  }
  if (const Json* payloads = Field(*batch, "payloads")) {
    MOSAIC_RETURN_IF_ERROR(check_size(*payloads, "batch.payloads"));
    for (size_t i = 0; i < out.size(); ++i) {
      const Json& p = (*payloads)[i];
      MOSAIC_ASSIGN_OR_RETURN(out[i].payload,
                              payload(p.is_null() ? nullptr : &p, Index("batch.payloads", i)));
    }
  }
  return out;
}

// --- selectors ---

Result<PayloadSelector> PayloadSelectorFromJson(const Json* j, bool default_all,
                                                const std::string& where) {
  PayloadSelector s;
  if (j == nullptr) {
    s.kind = default_all ? PayloadSelector::Kind::kAll : PayloadSelector::Kind::kNone;
    return s;
  }
  if (j->is_boolean()) {
    s.kind = j->get<bool>() ? PayloadSelector::Kind::kAll : PayloadSelector::Kind::kNone;
    return s;
  }
  if (j->is_array()) {
    s.kind = PayloadSelector::Kind::kInclude;
    MOSAIC_ASSIGN_OR_RETURN(s.keys, StringList(*j, where));
    return s;
  }
  if (const Json* inc = Field(*j, "include")) {
    s.kind = PayloadSelector::Kind::kInclude;
    MOSAIC_ASSIGN_OR_RETURN(s.keys, StringList(*inc, where + ".include"));
    return s;
  }
  if (const Json* exc = Field(*j, "exclude")) {
    s.kind = PayloadSelector::Kind::kExclude;
    MOSAIC_ASSIGN_OR_RETURN(s.keys, StringList(*exc, where + ".exclude"));
    return s;
  }
  return Status::InvalidArgument(where +
                                 ": expected true, false, [keys], {\"include\": [...]} or "
                                 "{\"exclude\": [...]}, got " +
                                 Shown(*j));
}

Json SelectPayload(const Json& payload, const PayloadSelector& selector) {
  switch (selector.kind) {
    case PayloadSelector::Kind::kNone:
      return Json();
    case PayloadSelector::Kind::kAll:
      return payload.is_object() ? payload : Json::object();
    case PayloadSelector::Kind::kInclude: {
      Json out = Json::object();
      for (const auto& key : selector.keys)
        if (const Json* v = GetPath(payload, key)) SetPath(out, key, *v);
      return out;
    }
    case PayloadSelector::Kind::kExclude: {
      Json out = payload.is_object() ? payload : Json::object();
      for (const auto& key : selector.keys)
        ErasePath(out, key);
      return out;
    }
  }
  return Json();
}

Result<VectorSelector> VectorSelectorFromJson(const Json* j, const CollectionSchema& schema,
                                              const std::string& where) {
  VectorSelector s;
  if (j == nullptr) return s;
  if (j->is_boolean()) {
    s.any = j->get<bool>();
    return s;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto names, StringList(*j, where));
  s.any = true;
  s.names.emplace();
  for (const auto& n : names) {
    auto name = VectorName(schema, n);
    if (!name.ok()) return name.status().WithContext(where);
    s.names->insert(name.value());
  }
  return s;
}

Json VectorsToJson(const std::map<std::string, std::vector<float>>& vectors,
                   const CollectionSchema& schema, const VectorSelector& selector) {
  if (!selector.any) return Json();
  if (IsUnnamed(schema)) {
    auto it = vectors.find(kUnnamedVector);
    return it == vectors.end() ? Json() : Json(it->second);
  }
  Json out = Json::object();
  for (const auto& [name, v] : vectors)
    if (!selector.names || selector.names->count(name)) out[name] = v;
  return out;
}

Json RecordToJson(const Point& p, const CollectionSchema& schema, const OutputSpec& out,
                  const std::optional<Json>& order_value) {
  Json j = {{"id", IdToJson(p.id)}};
  if (out.payload.any()) j["payload"] = SelectPayload(p.payload, out.payload);
  if (Json v = VectorsToJson(p.vectors, schema, out.vectors); !v.is_null())
    j["vector"] = std::move(v);
  if (order_value && !order_value->is_null()) j["order_value"] = *order_value;
  return j;
}

Json ScoredPointToJson(const query::Hit& h, const CollectionSchema& schema, const OutputSpec& out) {
  Json j = {{"id", IdToJson(h.id)}, {"version", 0}, {"score", h.score}};
  if (out.payload.any())
    j["payload"] = SelectPayload(h.payload.value_or(Json::object()), out.payload);
  if (Json v = VectorsToJson(h.vectors, schema, out.vectors); !v.is_null())
    j["vector"] = std::move(v);
  if (h.order_value && !h.order_value->is_null()) j["order_value"] = *h.order_value;
  return j;
}

Json HitsToJson(const std::vector<query::Hit>& hits, const CollectionSchema& schema,
                const OutputSpec& out) {
  Json a = Json::array();
  for (const auto& h : hits)
    a.push_back(ScoredPointToJson(h, schema, out));
  return a;
}

Json GroupsToJson(const std::vector<query::HitGroup>& groups, const CollectionSchema& schema,
                  const OutputSpec& out) {
  Json a = Json::array();
  for (const auto& g : groups)
    a.push_back({{"id", g.key}, {"hits", HitsToJson(g.hits, schema, out)}});
  return {{"groups", a}};
}

// --- filters ---

Result<Json> FilterToMosaicJson(const Json& j, const std::string& where) {
  return TranslateFilter(j, where, 0);
}

Result<std::optional<Filter>> FilterFromJson(const Json* j, const std::string& where) {
  if (j == nullptr || j->is_null()) return std::optional<Filter>();
  MOSAIC_ASSIGN_OR_RETURN(Json f, FilterToMosaicJson(*j, where));
  return MakeFilter(f, where);
}

// --- reads ---

Result<ReadRequest> SearchRequestFromJson(const Json& j, const CollectionSchema& schema) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a search request object, got " + Shown(j));
  ReadRequest out;
  const Json* vector = Field(j, "vector");
  if (vector == nullptr) return Status::InvalidArgument("vector: missing");
  std::string qname;
  const Json* values = vector;
  if (vector->is_object()) {
    JsonReader r(*vector, "vector");
    MOSAIC_ASSIGN_OR_RETURN(auto name, r.String("name"));
    qname = name.value_or("");
    values = Field(*vector, "vector");
    if (values == nullptr) return Status::InvalidArgument("vector.vector: missing");
  }
  auto name = VectorName(schema, qname);
  if (!name.ok()) return name.status().WithContext("vector");
  out.request.using_vector = name.value();
  MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, DenseVector(*values, "vector"));
  out.request.query = query::NearestQuery{{query::Input::Vector(std::move(v))}};
  MOSAIC_RETURN_IF_ERROR(CommonFromJson(j, schema, false, &out));
  MOSAIC_RETURN_IF_ERROR(GroupFromJson(j, 1, &out));
  return out;
}

Result<ReadRequest> RecommendRequestFromJson(const Json& j, const CollectionSchema& schema) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a recommend request object, got " + Shown(j));
  MOSAIC_RETURN_IF_ERROR(NoLookupFrom(j, ""));
  ReadRequest out;
  query::RecommendQuery rq;
  MOSAIC_ASSIGN_OR_RETURN(rq.positive, VectorInputs(Field(j, "positive"), "positive"));
  MOSAIC_ASSIGN_OR_RETURN(rq.negative, VectorInputs(Field(j, "negative"), "negative"));
  MOSAIC_ASSIGN_OR_RETURN(rq.strategy, StrategyFromJson(Field(j, "strategy"), "strategy"));
  if (rq.positive.empty())
    return Status::InvalidArgument("positive: expected at least one example");
  out.request.query = std::move(rq);
  MOSAIC_ASSIGN_OR_RETURN(out.request.using_vector, UsingFromJson(j, "", schema));
  MOSAIC_RETURN_IF_ERROR(CommonFromJson(j, schema, false, &out));
  MOSAIC_RETURN_IF_ERROR(GroupFromJson(j, 1, &out));
  return out;
}

Result<ReadRequest> QueryRequestFromJson(const Json& j, const CollectionSchema& schema) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a query request object, got " + Shown(j));
  MOSAIC_RETURN_IF_ERROR(NoLookupFrom(j, ""));
  ReadRequest out;
  MOSAIC_ASSIGN_OR_RETURN(out.request.prefetch,
                          PrefetchesFromJson(Field(j, "prefetch"), "prefetch", schema, 1));
  MOSAIC_ASSIGN_OR_RETURN(QueryParts q, QueryFromJson(Field(j, "query"), "query"));
  out.request.query = std::move(q.query);
  MOSAIC_ASSIGN_OR_RETURN(out.request.using_vector, UsingFromJson(j, "", schema));
  MOSAIC_RETURN_IF_ERROR(CommonFromJson(j, schema, false, &out, q.extra_filter));
  if (q.mmr) {
    q.mmr->using_vector = out.request.using_vector;
    // Qdrant re-ranks `candidates_limit` candidates, by default the request's limit.
    if (q.mmr->candidates == 0) q.mmr->candidates = out.request.limit;
    out.request.mmr = q.mmr;
  }
  MOSAIC_RETURN_IF_ERROR(GroupFromJson(j, 3, &out));
  return out;
}

Result<ScrollSpec> ScrollRequestFromJson(const Json& j, const CollectionSchema& schema) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a scroll request object, got " + Shown(j));
  ScrollSpec out;
  JsonReader r(j, "");
  if (const Json* o = Field(j, "offset")) {
    MOSAIC_ASSIGN_OR_RETURN(out.request.offset, IdFromJson(*o, "offset"));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", kMaxLimit));
  out.request.limit = limit.value_or(10);
  Json filter;
  if (const Json* f = Field(j, "filter")) {
    MOSAIC_ASSIGN_OR_RETURN(filter, FilterToMosaicJson(*f, "filter"));
  }
  if (const Json* o = Field(j, "order_by")) {
    std::optional<Json> start_from;
    MOSAIC_ASSIGN_OR_RETURN(OrderBy ob, OrderByFromJson(*o, "order_by", &start_from));
    filter = AndFilters(filter, OrderByFilter(ob, start_from));
    out.request.order_by = ob;
    // Qdrant pages an ordered scroll by start_from, never by offset.
    out.request.offset.reset();
  }
  MOSAIC_ASSIGN_OR_RETURN(out.request.filter, MakeFilter(filter, "filter"));
  MOSAIC_ASSIGN_OR_RETURN(out.output.payload,
                          PayloadSelectorFromJson(Field(j, "with_payload"), true, "with_payload"));
  const Json* wv = Field(j, "with_vector");
  if (wv == nullptr) wv = Field(j, "with_vectors");
  MOSAIC_ASSIGN_OR_RETURN(out.output.vectors, VectorSelectorFromJson(wv, schema, "with_vector"));
  out.request.with_payload = out.output.payload.any();
  out.request.with_vectors = out.output.vectors.any;
  return out;
}

Result<FacetRequest> FacetRequestFromJson(const Json& j) {
  if (!j.is_object())
    return Status::InvalidArgument("expected a facet request object, got " + Shown(j));
  JsonReader r(j, "");
  FacetRequest fr;
  MOSAIC_ASSIGN_OR_RETURN(auto key, r.String("key"));
  if (!key || key->empty()) return Status::InvalidArgument("key: expected a payload key");
  fr.key = *key;
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", kMaxLimit));
  fr.limit = limit.value_or(10);
  if (fr.limit == 0) return Status::InvalidArgument("limit: expected at least 1");
  MOSAIC_ASSIGN_OR_RETURN(fr.filter, FilterFromJson(Field(j, "filter"), "filter"));
  return fr;
}

}  // namespace mosaic::wire::qdrant
