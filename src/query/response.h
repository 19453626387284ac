// What a query returns: hits (or groups of hits), facet counts, the cursor of the next page, and
// with explain, per hit the signals that matched and the evidence in its payload. Plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/json.h"
#include "query/request.h"

namespace mosaic::query {

// One signal's view of a hit: its rank (from 1) and score in that signal's list, and what it
// added to the fused score. A signal in which the hit did not rank has rank 0.
struct SignalMatch {
  std::string signal;
  size_t rank = 0;
  float score = 0;
  float contribution = 0;
};

struct Hit {
  PointId id;
  float score = 0;  // the final stage's score (fused, similarity, BM25, ...); larger is better
                    // except for a plain l2 nearest search (a distance)
  std::optional<Json> payload;
  std::map<std::string, std::vector<float>> vectors;
  std::optional<Json> order_value;  // ordered by a field: the value it sorted by
  std::string snippet;              // a one-line excerpt for display (with payload)
  // With explain: the signals behind the hit and the evidence in its payload (the OCR line, the
  // words with their times, the tags with confidence, the sentence with the query terms
  // highlighted, the shot's time range; docs/query.md).
  std::vector<SignalMatch> signals;
  Json evidence;
};

struct HitGroup {
  Json key;
  std::vector<Hit> hits;
};

struct QueryResponse {
  std::vector<Hit> hits;                                  // without group_by
  std::vector<HitGroup> groups;                           // with group_by
  std::map<std::string, std::vector<FacetCount>> facets;  // by facet key
  std::optional<Cursor> next_cursor;                      // ordered listings with more to come
  bool scored = true;  // false for listings: hits carry no score (0)
  // With explain or understanding: what was understood from the query's text and the plan run
  // ({"understood": [...], "plan": {...}}).
  Json explain = Json::object();
};

}  // namespace mosaic::query
