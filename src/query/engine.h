// QueryEngine: answers a QueryRequest over one collection (docs/query.md). It plans the request
// (planner.h), runs the plan (executor.h) and shapes the result: a ranked list that pages never
// disturb, autocut, MMR, group by, the page itself with payloads, explain (signals and evidence),
// ordered-listing cursors and facets.
//
// Pages: the list behind a query's pages is built in levels. Level 0 runs the plan with every
// node giving its top `base_depth` candidates; while the list is too short for the page asked,
// the next level runs it again at twice that depth and appends the candidates not yet listed.
// The list depends on the query and base_depth only, never on limit or offset, so every page is
// a slice of the same list and pages never repeat or skip a hit, also over HNSW (a deeper search
// may find a better point: it is placed after those earlier levels listed, not among them).
//
// Thread-safety: Query may run concurrently if the InputEncoder may (the collection is).
#pragma once

#include "mosaic/collection.h"
#include "query/input.h"
#include "query/planner.h"
#include "query/request.h"
#include "query/response.h"

namespace mosaic::query {

class QueryEngine {
 public:
  QueryEngine(const Collection& collection, InputEncoder* encoder = nullptr,
              EngineOptions options = {})
      : c_(collection), encoder_(encoder), options_(std::move(options)) {}

  Result<QueryResponse> Query(const QueryRequest& request) const;

  const EngineOptions& options() const { return options_; }

 private:
  const Collection& c_;
  InputEncoder* encoder_;
  EngineOptions options_;
};

// The value at a dotted payload path ("file.folder"), or null.
Json PayloadValue(const Json& payload, const std::string& path);

}  // namespace mosaic::query
