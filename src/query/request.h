// The query request model, after Qdrant's universal query: a request is a tree of prefetches,
// each a search of its own (vector, full-text, tags, recommend) with its own filter and limit,
// and a final stage over their candidates (fusion, re-scoring by a vector, recommend, order by a
// field), then shaping (score threshold, autocut, group by, MMR, offset/limit pages, facets,
// explain). An AutoQuery is Mosaic's multimodal query: the planner expands it into one prefetch
// per signal the collection has (docs/query.md). Plain values; see docs/query.md for the JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/filter.h"
#include "query/input.h"

namespace mosaic::query {

enum class FusionMethod : uint8_t { kRrf, kDbsf };
enum class RecommendStrategy : uint8_t { kAverageVector, kBestScore };

// Nearest neighbours in the `using` vector of one input, or of a weighted mix of inputs combined
// in that vector space (each input's vector normalized, then summed with its weight).
struct NearestQuery {
  std::vector<Input> inputs;
};

// BM25 over text-indexed payload fields ("title^0.5" weighs a field).
struct TextQuery {
  std::string query;
  std::vector<std::string> fields;
  float k1 = 1.2f;
  float b = 0.75f;
};

// Object tags: points whose tag terms match the query's words (BM25 over `field`), ranked by the
// detector's confidence in the matched tags (`scores_field`: {"dog": 0.93, "canine": 0.93}; empty:
// BM25's order).
struct TagsQuery {
  std::string query;
  std::string field = "tag_terms";
  std::string scores_field = "tag_scores";
};

// Qdrant's recommend: average_vector searches avg(positive) + (avg(positive) - avg(negative));
// best_score scores each candidate by its best similarity to a positive, or minus its best to a
// negative when that is higher.
struct RecommendQuery {
  std::vector<Input> positive;
  std::vector<Input> negative;
  RecommendStrategy strategy = RecommendStrategy::kAverageVector;
};

// Fuses the prefetches' ranked lists. RRF: sum of weight / (k + rank), rank from 1; DBSF: each
// list's scores normalized by mean +- 3 standard deviations, times weight, summed. A negative
// weight turns a list into evidence against its hits.
struct FusionQuery {
  FusionMethod method = FusionMethod::kRrf;
  float k = 60;  // RRF only
};

// The candidates (or, without prefetches, the filtered collection) in a payload field's order.
struct OrderByQuery {
  OrderBy order_by;
};

// Every signal the collection has for these inputs, fused: vectors per vector space (inputs in
// the same space combined, as NearestQuery), BM25 over the text fields and tags for texts. With
// understanding on, dates, kinds and quoted phrases in texts become filters (docs/query.md).
struct AutoQuery {
  std::vector<Input> inputs;
};

using Query = std::variant<std::monostate, NearestQuery, TextQuery, TagsQuery, RecommendQuery,
                           FusionQuery, OrderByQuery, AutoQuery>;
const char* QueryKindName(const Query& q);  // "none", "nearest", "text", "tags", ...

struct SearchParams {
  size_t ef = 0;       // HNSW beam width (0: the vector's default)
  bool exact = false;  // exact search even where a graph exists
};

struct Prefetch {
  std::vector<Prefetch> prefetch;  // nested prefetches feed this one's query
  Query query;
  std::string using_vector;  // vector name for nearest/recommend ("" : the only or first vector)
  std::optional<Filter> filter;  // ANDed with the request's filter
  std::optional<float> score_threshold;
  // Candidates this prefetch passes up; absent: as many as its parent needs (which grows with the
  // request's offset).
  std::optional<size_t> limit;
  SearchParams params;
  std::string name;  // the signal's name in explain (default: from the query, e.g. "clip")
  float weight = 1;  // in the parent's fusion
};

struct GroupBy {
  std::string key;        // payload field; points without it are left out
  size_t group_size = 1;  // hits per group; the request's limit counts groups
};

// Maximal marginal relevance over the ranked candidates: each next hit maximizes
// (1 - diversity) * relevance - diversity * (its highest similarity to a hit already chosen),
// similarity by cosine of the `using_vector` vectors, relevance the rank score scaled to 0..1.
struct Mmr {
  float diversity = 0.5f;
  std::string using_vector;  // "" : the request's using, else the first vector
  size_t candidates = 0;     // candidates considered (0: the engine's base depth), doubled for
                             // each deeper level of pages
};

// Cuts the ranked list at its first large drop in score (Weaviate's autocut): `jumps` is how many
// groups of close scores to keep.
struct Autocut {
  size_t jumps = 1;
};

struct FacetSpec {
  std::string key;
  size_t limit = 10;
  FacetBucket bucket = FacetBucket::kValue;
};

// Where the next page of an ordered listing (order by a field, or no query at all) starts.
struct Cursor {
  Json order_value;  // null for id order
  PointId id;
};

struct QueryRequest {
  std::vector<Prefetch> prefetch;
  Query query;
  std::string using_vector;
  std::optional<Filter> filter;  // applies to every prefetch
  std::optional<float> score_threshold;
  size_t limit = 10;
  size_t offset = 0;             // pages never repeat or skip a hit, also over HNSW (docs/query.md)
  std::optional<Cursor> cursor;  // ordered listings: continue after the previous page
  SearchParams params;
  bool with_payload = true;
  bool with_vectors = false;
  // A one-line excerpt per hit (with payload), the passage's sentence that matched the query's
  // words when there are any; finding it tokenizes the hits' text.
  bool snippet = true;
  std::optional<GroupBy> group_by;
  std::optional<Mmr> mmr;
  std::optional<Autocut> autocut;
  std::vector<FacetSpec> facets;  // counted over the points matching the filter
  bool explain = false;
  bool understand = true;  // query understanding of AutoQuery texts
};

// Whether answering `r` runs a model: an input to encode (text for a vector, image, video or
// audio) anywhere in its query or prefetches. Points, raw vectors, BM25, tags, fusion and ordering
// do not. The server runs requests without models on its I/O threads (docs/server.md).
bool NeedsEncoder(const QueryRequest& r);

}  // namespace mosaic::query
