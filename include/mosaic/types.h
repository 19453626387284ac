// Value types of the public API: metrics, vector specs, schemas, point ids, points and hits.
// All are plain values with no synchronization of their own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic {

// Values are stored on disk: never renumber.
enum class Metric : uint8_t { kL2 = 0, kCosine = 1, kInnerProduct = 2 };
enum class StorageType : uint8_t { kFloat32 = 0 };

const char* MetricName(Metric m);             // "l2", "cosine", "ip"
Result<Metric> ParseMetric(std::string_view);  // accepts l2|euclid|cosine|ip|dot|inner_product
const char* StorageTypeName(StorageType t);   // "f32"
Result<StorageType> ParseStorageType(std::string_view);

// Whether a larger score is a better match for this metric (cosine, ip) or a smaller one (l2).
inline bool HigherIsBetter(Metric m) { return m != Metric::kL2; }

// How a named vector is indexed. Stored in collection.json: never renumber.
enum class IndexKind : uint8_t { kFlat = 0, kHnsw = 1 };
const char* IndexKindName(IndexKind k);  // "flat", "hnsw"

struct IndexSpec {
  IndexKind kind = IndexKind::kFlat;
  // HNSW: links per node (2m on the bottom layer), build beam width, default search beam width.
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  // Walk the graph on 8-bit codes (0.25x the memory traffic of f32), re-scoring the final beam
  // with the f32 vectors. The codec is trained on all points when the graph is built with at
  // least 1000 of them (at the first flush or compaction past that size); before, f32 is used.
  bool sq8 = false;
};

struct VectorSpec {
  std::string name;
  uint32_t dim = 0;
  Metric metric = Metric::kL2;
  StorageType storage = StorageType::kFloat32;
  IndexSpec index;
};

// Parses {"type": "flat"} or {"type": "hnsw", "m": 16, "ef_construction": 200, "ef": 64}.
Result<IndexSpec> IndexSpecFromJson(const Json& j);

struct Point;

struct CollectionSchema {
  std::vector<VectorSpec> vectors;  // at least one; names unique

  const VectorSpec* Find(std::string_view name) const;
  Status Validate() const;
  // Whether `p` can be stored under this schema: a non-empty string id, known vector names,
  // the right dimensions, finite values, a non-zero norm for cosine vectors, an object (or null)
  // payload. The message names the vector and the value; Collection::Upsert adds the point.
  Status CheckPoint(const Point& p) const;
  Json ToJson() const;
  static Result<CollectionSchema> FromJson(const Json& j);
};

// A point's user id: an unsigned 64-bit integer or a string (UUIDs are strings).
// Ordering: all integers (numerically) before all strings (bytewise); scroll follows this order.
class PointId {
 public:
  PointId() : v_(uint64_t{0}) {}
  PointId(uint64_t n) : v_(n) {}            // NOLINT
  PointId(std::string s) : v_(std::move(s)) {}  // NOLINT
  PointId(const char* s) : v_(std::string(s)) {}  // NOLINT

  bool is_num() const { return std::holds_alternative<uint64_t>(v_); }
  uint64_t num() const { return std::get<uint64_t>(v_); }
  const std::string& str() const { return std::get<std::string>(v_); }

  std::string ToString() const;  // 42 or "abc" (quoted)
  Json ToJson() const;
  // Accepts a JSON unsigned integer or string; anything else is InvalidArgument.
  static Result<PointId> FromJson(const Json& j);

  friend bool operator==(const PointId&, const PointId&) = default;
  friend auto operator<=>(const PointId& a, const PointId& b) { return a.v_ <=> b.v_; }

 private:
  std::variant<uint64_t, std::string> v_;
};

struct PointIdHash {
  size_t operator()(const PointId& id) const;
};

struct Point {
  PointId id;
  std::map<std::string, std::vector<float>> vectors;  // by vector name
  Json payload = Json::object();
};

struct ScoredPoint {
  PointId id;
  // Euclidean distance for l2 (smaller is better); similarity for cosine and ip (larger is better).
  float score = 0;
  std::optional<Json> payload;
  std::map<std::string, std::vector<float>> vectors;
};

}  // namespace mosaic
