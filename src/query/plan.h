// A planned query: the request's prefetch tree with every input resolved (texts, media and point
// ids turned into vectors), AutoQuery expanded into its signals, and filters merged, ready for
// the Executor. Each node has an id (its place in explain) and a name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/json.h"
#include "query/request.h"

namespace mosaic::query {

enum class NodeKind : uint8_t {
  kListing,    // the filtered collection in id order or order_by's (no query, no prefetch)
  kPass,       // no query: its one child's list, or its children fused by RRF
  kNearest,    // vector search; with children, their candidates re-scored by the vector
  kText,       // BM25
  kTags,       // object tags by detector confidence
  kBestScore,  // recommend best_score over a candidate pool
  kFusion,     // RRF or DBSF of the children
  kOrderBy,    // children's candidates in a payload field's order
};
const char* NodeKindName(NodeKind k);

struct PlanNode {
  uint32_t id = 0;
  std::string name;
  NodeKind kind = NodeKind::kPass;
  std::vector<PlanNode> children;

  std::string vector_name;  // kNearest, kBestScore
  Metric metric = Metric::kCosine;
  std::vector<float> vector;                             // kNearest
  std::vector<std::vector<float>> positives, negatives;  // kBestScore
  TextQuery text;                                        // kText
  TagsQuery tags;                                        // kTags
  FusionQuery fusion;                                    // kFusion
  std::optional<OrderBy> order_by;                       // kOrderBy, kListing
  std::optional<Cursor> cursor;                          // kListing: start there

  std::optional<Filter> filter;  // everything that restricts this node (request's included)
  std::optional<float> score_threshold;
  std::optional<size_t> limit;
  SearchParams params;
  float weight = 1;
  Json inputs = Json::array();  // what the node searches with, for explain

  // {"id", "name", "kind", "weight", "inputs", "children": [...]} for explain.
  Json Describe() const;
};

}  // namespace mosaic::query
