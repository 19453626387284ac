// Qdrant's REST JSON <-> Mosaic types, for the Qdrant-compatible API (src/server/qdrant/):
// collection configs and infos, point ids (unsigned integers and UUIDs), points in the list and
// batch forms, payload and vector selectors, filters, and search / recommend / query requests
// (turned into query::QueryRequest for the query engine) and their results. The shapes follow
// Qdrant 1.x's OpenAPI (lib/api/src/rest/ in qdrant/qdrant); what Mosaic cannot do (sparse and
// multi-vectors, geo filters, discovery, formulas, ...) is an InvalidArgument naming it.
//
// Unknown keys are ignored, as Qdrant's own parser does (clients send fields of newer versions,
// and the Python client sends every field of a model, mostly null); a known key with a wrong
// value is an error naming its path. Null stands for "not set" everywhere.
//
// A Qdrant collection with one unnamed vector is a Mosaic collection whose only vector is named
// kUnnamedVector. Cosine vectors are stored normalized, as Qdrant does, so retrieved vectors
// and recommend averages agree with Qdrant's. Scores keep Mosaic's (and Qdrant's) meaning:
// similarity for Cosine and Dot, distance for Euclid.
//
// Stateless functions over values: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/filter.h"
#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"
#include "query/request.h"
#include "query/response.h"

namespace mosaic::wire::qdrant {

// The Mosaic name of a Qdrant collection's unnamed vector.
inline constexpr char kUnnamedVector[] = "_default";

// The Qdrant version the API reports (GET /): clients accept a server within one minor version.
inline constexpr char kCompatibleVersion[] = "1.18.0";

// --- Point ids ----------------------------------------------------------------------------------

// The canonical form of a UUID (lower-case, hyphenated) from any form Qdrant accepts (hyphenated,
// 32 hex digits, braced, urn:uuid:), or nullopt when `s` is not a UUID.
std::optional<std::string> NormalizeUuid(std::string_view s);

// How a string id is taken: new points must have UUIDs (as in Qdrant); a lookup also takes any
// other string verbatim, so points of collections made by the native API can be reached.
enum class IdUse : uint8_t { kNewPoint, kLookup };

// An unsigned integer (up to 2^64 - 1) or a UUID (normalized). `where` names it in messages.
Result<PointId> IdFromJson(const Json& j, const std::string& where, IdUse use = IdUse::kLookup);
Json IdToJson(const PointId& id);
// A JSON array of ids.
Result<std::vector<PointId>> IdsFromJson(const Json& j, const std::string& where,
                                         IdUse use = IdUse::kLookup);

// --- Collections ---------------------------------------------------------------------------------

// PUT /collections/{c}: {"vectors": {"size", "distance"} or {name: {...}}, "hnsw_config",
// "quantization_config", ...}. Distance Cosine, Euclid or Dot (Manhattan is an error naming it);
// HNSW with m > 0 (Qdrant's default m 16, ef_construct 100), a flat index for m = 0; scalar int8
// quantization becomes the graph's sq8 codes. Sparse vectors and multivectors are errors.
Result<CollectionSchema> CreateCollectionFromJson(const Json& j);

// Whether the schema is Qdrant's single unnamed vector.
bool IsUnnamed(const CollectionSchema& schema);

// {"size", "distance"} for an unnamed vector, else {name: {"size", "distance"}, ...}.
Json VectorsConfigToJson(const CollectionSchema& schema);

// The collection info (GET /collections/{c}): status green, the config with Qdrant's defaults
// for what Mosaic has no equivalent of, payload_schema with `indexed_points` per field.
Json CollectionInfoToJson(const CollectionInfo& info,
                          const std::map<std::string, uint64_t>& indexed_points);

// Qdrant's name of a payload index type.
const char* PayloadSchemaTypeName(PayloadIndexType t);

// The Mosaic index for a Qdrant field_schema ("keyword" or {"type": "keyword", ...}): keyword,
// integer, float, datetime and text as such, uuid as keyword; nullopt for bool, which Mosaic does
// not index (its filters are answered by evaluation, with the same results). geo is an error.
Result<std::optional<PayloadIndexType>> FieldSchemaFromJson(const Json& j);

// --- Vectors and points --------------------------------------------------------------------------

// The Mosaic vector for a Qdrant vector name: "" is the unnamed vector, or the only vector of a
// one-vector collection; InvalidArgument listing the names otherwise.
Result<std::string> VectorName(const CollectionSchema& schema, const std::string& name);

// A point's vectors: an array (the unnamed vector) or {name: array}.
Result<std::map<std::string, std::vector<float>>> VectorStructFromJson(
    const Json& j, const CollectionSchema& schema, const std::string& where);

// The points of an upsert body: {"points": [{"id", "vector", "payload"}, ...]} or
// {"batch": {"ids", "vectors", "payloads"}}. Shapes only: dimensions are
// CollectionSchema::CheckPoint's business.
Result<std::vector<Point>> PointsFromJson(const Json& body, const CollectionSchema& schema);

// --- Output selectors ----------------------------------------------------------------------------

// with_payload: true/false, ["a", "b.c"], {"include": [...]} or {"exclude": [...]}.
struct PayloadSelector {
  enum class Kind : uint8_t { kNone, kAll, kInclude, kExclude };
  Kind kind = Kind::kAll;
  std::vector<std::string> keys;  // dotted paths
  bool any() const { return kind != Kind::kNone; }
};
// `j` null or absent (nullptr): `default_all`.
Result<PayloadSelector> PayloadSelectorFromJson(const Json* j, bool default_all,
                                                const std::string& where);
Json SelectPayload(const Json& payload, const PayloadSelector& selector);

// with_vector: true/false or [names] (Mosaic names after VectorName).
struct VectorSelector {
  bool any = false;
  std::optional<std::set<std::string>> names;  // nullopt: all
};
Result<VectorSelector> VectorSelectorFromJson(const Json* j, const CollectionSchema& schema,
                                              const std::string& where);

struct OutputSpec {
  PayloadSelector payload;
  VectorSelector vectors;
};

// The point's vectors in Qdrant's shape (an array for an unnamed vector, else {name: array}), or
// null when none is selected.
Json VectorsToJson(const std::map<std::string, std::vector<float>>& vectors,
                   const CollectionSchema& schema, const VectorSelector& selector);

// Record (retrieve, scroll): {"id", "payload"?, "vector"?, "order_value"?}.
Json RecordToJson(const Point& p, const CollectionSchema& schema, const OutputSpec& out,
                  const std::optional<Json>& order_value = std::nullopt);
// ScoredPoint: {"id", "version", "score", "payload"?, "vector"?, "order_value"?}.
Json ScoredPointToJson(const query::Hit& h, const CollectionSchema& schema, const OutputSpec& out);

// --- Filters -------------------------------------------------------------------------------------

// A Qdrant filter as Mosaic filter JSON (docs/filters.md). Passed through: must / should /
// must_not, match value / any / except / text / phrase, range (numbers and datetimes), is_empty,
// is_null, has_id (UUIDs normalized). Translated: match text_any (a should of one text match per
// word), min_should (a should of every min_count-subset of the conditions, up to 1024 of them),
// {"key", "is_empty": true} and {"key", "is_null": true}, and nested (conditions under
// "key[]."), when it means the same: one must condition or any number of should conditions,
// since Mosaic matches each condition against any element, not all against one. Errors name
// what is not supported: geo conditions, values_count, has_vector, a nested filter with several
// must or any must_not conditions.
Result<Json> FilterToMosaicJson(const Json& j, const std::string& where);
// nullptr or null: no filter.
Result<std::optional<Filter>> FilterFromJson(const Json* j, const std::string& where);

// --- Reads ---------------------------------------------------------------------------------------

// A read request made into the engine's terms, and what the answer should show.
struct ReadRequest {
  query::QueryRequest request;
  OutputSpec output;
};

// POST .../points/search (and the group_by / group_size of .../search/groups).
Result<ReadRequest> SearchRequestFromJson(const Json& j, const CollectionSchema& schema);
// POST .../points/recommend (and .../recommend/groups). Strategies average_vector, best_score.
Result<ReadRequest> RecommendRequestFromJson(const Json& j, const CollectionSchema& schema);
// POST .../points/query (and .../query/groups): prefetch, nearest (vector or point id),
// recommend, fusion rrf / dbsf (Qdrant's 1 / (k + 0-based position), default k 2), order_by,
// filter, params, score_threshold, using, limit, offset, with_payload, with_vector, group_by.
Result<ReadRequest> QueryRequestFromJson(const Json& j, const CollectionSchema& schema);

// POST .../points/scroll: {"offset", "limit", "filter", "order_by", "with_payload", ...}.
struct ScrollSpec {
  ScrollRequest request;
  OutputSpec output;
};
Result<ScrollSpec> ScrollRequestFromJson(const Json& j, const CollectionSchema& schema);

// POST .../facet: {"key", "limit", "filter", "exact"}.
Result<FacetRequest> FacetRequestFromJson(const Json& j);

// [ScoredPoint, ...]
Json HitsToJson(const std::vector<query::Hit>& hits, const CollectionSchema& schema,
                const OutputSpec& out);
// {"groups": [{"id", "hits"}]}
Json GroupsToJson(const std::vector<query::HitGroup>& groups, const CollectionSchema& schema,
                  const OutputSpec& out);

}  // namespace mosaic::wire::qdrant
