#include "mosaic/types.h"

#include <cmath>
#include <functional>
#include <set>

#include "mosaic/collection.h"

namespace mosaic {

const char* MetricName(Metric m) {
  switch (m) {
    case Metric::kL2: return "l2";
    case Metric::kCosine: return "cosine";
    case Metric::kInnerProduct: return "ip";
  }
  return "?";
}

Result<Metric> ParseMetric(std::string_view s) {
  if (s == "l2" || s == "euclid" || s == "euclidean") return Metric::kL2;
  if (s == "cosine" || s == "cos") return Metric::kCosine;
  if (s == "ip" || s == "dot" || s == "inner_product") return Metric::kInnerProduct;
  return Status::InvalidArgument("unknown metric '" + std::string(s) +
                                 "' (expected l2, cosine or ip)");
}

const char* IndexKindName(IndexKind k) { return k == IndexKind::kHnsw ? "hnsw" : "flat"; }

const char* StorageTypeName(StorageType t) { return t == StorageType::kFloat32 ? "f32" : "?"; }

Result<StorageType> ParseStorageType(std::string_view s) {
  if (s == "f32" || s == "float32") return StorageType::kFloat32;
  return Status::InvalidArgument("unknown storage type '" + std::string(s) + "' (expected f32)");
}

const char* PayloadIndexTypeName(PayloadIndexType t) {
  switch (t) {
    case PayloadIndexType::kKeyword: return "keyword";
    case PayloadIndexType::kInteger: return "integer";
    case PayloadIndexType::kFloat: return "float";
    case PayloadIndexType::kDatetime: return "datetime";
    case PayloadIndexType::kText: return "text";
  }
  return "?";
}

Result<PayloadIndexType> ParsePayloadIndexType(std::string_view s) {
  if (s == "keyword") return PayloadIndexType::kKeyword;
  if (s == "integer") return PayloadIndexType::kInteger;
  if (s == "float") return PayloadIndexType::kFloat;
  if (s == "datetime") return PayloadIndexType::kDatetime;
  if (s == "text") return PayloadIndexType::kText;
  return Status::InvalidArgument("unknown payload index type '" + std::string(s) +
                                 "' (expected keyword, integer, float, datetime or text)");
}

const VectorSpec* CollectionSchema::Find(std::string_view name) const {
  for (const auto& v : vectors)
    if (v.name == name) return &v;
  return nullptr;
}

Status CollectionSchema::Validate() const {
  if (vectors.empty()) return Status::InvalidArgument("schema has no vectors");
  std::set<std::string> seen;
  for (const auto& v : vectors) {
    if (v.name.empty() || v.name.size() > 64)
      return Status::InvalidArgument("vector name '" + v.name + "' must have 1-64 characters");
    for (char c : v.name)
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
        return Status::InvalidArgument("vector name '" + v.name +
                                       "' may only contain letters, digits, '_' and '-'");
    if (!seen.insert(v.name).second)
      return Status::InvalidArgument("vector name '" + v.name + "' appears twice in the schema");
    if (v.dim == 0 || v.dim > 65536)
      return Status::InvalidArgument("vector '" + v.name + "' has dimension " +
                                     std::to_string(v.dim) + " (expected 1..65536)");
    if (v.index.kind == IndexKind::kHnsw &&
        (v.index.m < 2 || v.index.m > 256 || v.index.ef_construction < 1 ||
         v.index.ef_construction > 10000 || v.index.ef_search < 1 || v.index.ef_search > 10000))
      return Status::InvalidArgument("vector '" + v.name + "': hnsw needs m in 2..256 and " +
                                     "ef_construction, ef in 1..10000, got m " +
                                     std::to_string(v.index.m) + ", ef_construction " +
                                     std::to_string(v.index.ef_construction) + ", ef " +
                                     std::to_string(v.index.ef_search));
  }
  return Status::OK();
}

Status CollectionSchema::CheckPoint(const Point& p) const {
  if (!p.id.is_num() && p.id.str().empty())
    return Status::InvalidArgument("id must not be an empty string");
  for (const auto& [name, values] : p.vectors) {
    const VectorSpec* spec = Find(name);
    if (spec == nullptr) {
      std::string names;
      for (const auto& v : vectors)
        names += (names.empty() ? "" : ", ") + v.name;
      return Status::InvalidArgument("unknown vector '" + name + "'; the schema has: " + names);
    }
    if (values.size() != spec->dim)
      return Status::InvalidArgument("vector '" + name + "' has " + std::to_string(values.size()) +
                                     " dims, expected " + std::to_string(spec->dim));
    // In double: a float sum of squares can overflow to Inf or underflow to 0 for finite,
    // non-zero vectors.
    double norm_sqr = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i]))
        return Status::InvalidArgument("vector '" + name + "' has " +
                                       (std::isnan(values[i]) ? "NaN" : "Inf") + " at index " +
                                       std::to_string(i));
      norm_sqr += static_cast<double>(values[i]) * values[i];
    }
    if (spec->metric == Metric::kCosine && !(norm_sqr > 0))
      return Status::InvalidArgument("vector '" + name +
                                     "' has zero norm; the cosine metric needs a non-zero vector");
  }
  if (!p.payload.is_null() && !p.payload.is_object())
    return Status::InvalidArgument("payload must be a JSON object, got " +
                                   std::string(p.payload.type_name()));
  return Status::OK();
}

Result<IndexSpec> IndexSpecFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    return Status::InvalidArgument("index spec needs a string 'type' (flat or hnsw), got " +
                                   j.dump());
  IndexSpec spec;
  const std::string& type = j["type"].get_ref<const std::string&>();
  if (type == "flat") return spec;
  if (type != "hnsw")
    return Status::InvalidArgument("unknown index type '" + type + "' (expected flat or hnsw)");
  spec.kind = IndexKind::kHnsw;
  for (const auto& [key, value] : j.items()) {
    if (key == "type") continue;
    if (key == "quantization") {
      if (!value.is_string() || (value != "sq8" && value != "none"))
        return Status::InvalidArgument("hnsw quantization must be \"none\" or \"sq8\", got " +
                                       value.dump());
      spec.sq8 = value == "sq8";
      continue;
    }
    uint32_t* field = key == "m" ? &spec.m
                      : key == "ef_construction" ? &spec.ef_construction
                      : key == "ef" ? &spec.ef_search
                                    : nullptr;
    if (field == nullptr)
      return Status::InvalidArgument("unknown hnsw parameter '" + key +
                                     "' (expected m, ef_construction, ef, quantization)");
    if (!value.is_number_unsigned())
      return Status::InvalidArgument("hnsw parameter '" + key +
                                     "' must be a positive integer, got " + value.dump());
    *field = value.get<uint32_t>();
  }
  return spec;
}

Json CollectionSchema::ToJson() const {
  Json arr = Json::array();
  for (const auto& v : vectors) {
    Json index = {{"type", IndexKindName(v.index.kind)}};
    if (v.index.kind == IndexKind::kHnsw) {
      index["m"] = v.index.m;
      index["ef_construction"] = v.index.ef_construction;
      index["ef"] = v.index.ef_search;
      index["quantization"] = v.index.sq8 ? "sq8" : "none";
    }
    arr.push_back({{"name", v.name},
                   {"dim", v.dim},
                   {"metric", MetricName(v.metric)},
                   {"storage", StorageTypeName(v.storage)},
                   {"index", index}});
  }
  return Json{{"vectors", arr}};
}

Result<CollectionSchema> CollectionSchema::FromJson(const Json& j) {
  if (!j.is_object() || !j.contains("vectors") || !j["vectors"].is_array())
    return Status::InvalidArgument("schema must be an object with a 'vectors' array, got " +
                                   j.dump());
  CollectionSchema s;
  for (const auto& v : j["vectors"]) {
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string() || !v.contains("dim") ||
        !v["dim"].is_number_unsigned())
      return Status::InvalidArgument("vector spec needs a string 'name' and unsigned 'dim', got " +
                                     v.dump());
    VectorSpec spec;
    spec.name = v["name"].get<std::string>();
    spec.dim = v["dim"].get<uint32_t>();
    if (v.contains("metric")) {
      if (!v["metric"].is_string())
        return Status::InvalidArgument("metric must be a string, got " + v["metric"].dump());
      MOSAIC_ASSIGN_OR_RETURN(spec.metric, ParseMetric(v["metric"].get<std::string>()));
    }
    if (v.contains("storage")) {
      if (!v["storage"].is_string())
        return Status::InvalidArgument("storage must be a string, got " + v["storage"].dump());
      MOSAIC_ASSIGN_OR_RETURN(spec.storage, ParseStorageType(v["storage"].get<std::string>()));
    }
    if (v.contains("index")) {
      MOSAIC_ASSIGN_OR_RETURN(spec.index, IndexSpecFromJson(v["index"]));
    }
    s.vectors.push_back(std::move(spec));
  }
  MOSAIC_RETURN_IF_ERROR(s.Validate());
  return s;
}

std::string PointId::ToString() const {
  return is_num() ? std::to_string(num()) : "\"" + str() + "\"";
}

Json PointId::ToJson() const { return is_num() ? Json(num()) : Json(str()); }

Result<PointId> PointId::FromJson(const Json& j) {
  if (j.is_number_unsigned()) return PointId(j.get<uint64_t>());
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return PointId(j.get<uint64_t>());
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.empty()) return Status::InvalidArgument("point id must not be an empty string");
    return PointId(s);
  }
  return Status::InvalidArgument("point id must be an unsigned integer or a string, got " +
                                 j.dump());
}

size_t PointIdHash::operator()(const PointId& id) const {
  return id.is_num() ? std::hash<uint64_t>()(id.num()) : std::hash<std::string>()(id.str());
}

}  // namespace mosaic
