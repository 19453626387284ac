// Executor: runs a planned query tree against a collection through its public API. Each node
// asks the collection (Search, SearchText, Scroll, Get) or combines its children's lists; how
// many candidates a node produces is its limit, or what its parent needs, times the depth scale
// the engine is at (pages deeper than the first run the tree again at a larger scale).
// Not thread-safe: one executor per query (it caches the payloads it fetched).
#pragma once

#include <span>
#include <unordered_map>

#include "mosaic/collection.h"
#include "query/plan.h"
#include "query/ranked.h"

namespace mosaic::query {

class Executor {
 public:
  // `explain`: record each candidate's rank in every node (Candidate::ranks), which costs an
  // allocation per candidate and node; without it ranks stay empty.
  Executor(const Collection& collection, bool explain) : c_(collection), explain_(explain) {}

  // The ranked list of `node` when its parent needs `need` candidates, at depth `scale` (1, 2,
  // 4, ...: a node's own limit is multiplied by it).
  Result<Ranked> Run(const PlanNode& node, size_t need, size_t scale);

  // Payloads of `ids`, fetched once per query and kept (ids that no longer exist are absent).
  Status FetchPayloads(std::span<const PointId> ids);
  const Json* Payload(const PointId& id) const;

  // Vectors named `name` of `ids`, fetched once per query and kept.
  Status FetchVectors(std::span<const PointId> ids, const std::string& name);
  const std::vector<float>* Vector(const PointId& id, const std::string& name) const;

 private:
  Result<Ranked> RunNode(const PlanNode& node, size_t need, size_t scale);
  Result<Ranked> Nearest(const PlanNode& node, size_t need, const std::vector<Ranked>& children);
  Result<Ranked> Text(const PlanNode& node, size_t need, const std::vector<Ranked>& children);
  Result<Ranked> Tags(const PlanNode& node, size_t need);
  Result<Ranked> BestScore(const PlanNode& node, size_t need, std::vector<Ranked> children);
  Result<Ranked> OrderByField(const PlanNode& node, size_t need,
                              const std::vector<Ranked>& children);
  Result<Ranked> Listing(const PlanNode& node, size_t need);

  const Collection& c_;
  const bool explain_;
  std::unordered_map<PointId, Json, PointIdHash> payloads_;
  std::unordered_map<std::string, std::unordered_map<PointId, std::vector<float>, PointIdHash>>
      vectors_;
};

// The ids of the candidates of all lists, each once, in first-seen order.
std::vector<PointId> UnionIds(std::span<const Ranked> lists);

}  // namespace mosaic::query
