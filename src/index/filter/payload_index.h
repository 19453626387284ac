// PayloadIndexSet: secondary indexes over payload fields (keyword, integer, float, datetime) that
// turn a selective filter into a short candidate list instead of a full scan, and full-text
// (text) indexes that rank points by BM25. Slots are the
// collection's internal point numbers. Not synchronized: the owning collection guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/filter/filter_node.h"
#include "index/filter/text_index.h"
#include "mosaic/collection.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::index {

class PayloadIndexSet {
 public:
  PayloadIndexSet();
  ~PayloadIndexSet();

  // Adds an empty index on `field` (dotted path); the caller then Inserts existing points.
  Status Create(const std::string& field, PayloadIndexType type);
  Status Drop(const std::string& field);
  std::map<std::string, PayloadIndexType> List() const;

  // Indexes / unindexes every indexed field of this payload for `slot`. Erase must be given the
  // payload the slot was inserted with (to update a point: Erase the old, Insert the new).
  void Insert(uint32_t slot, const Json& payload);
  void Erase(uint32_t slot, const Json& payload);

  // A sorted, duplicate-free superset of the slots that can match `filter`, derived from indexed
  // conditions (and has_id via `id_to_slot`) in its must clauses, nested ones included, and in
  // should clauses whose every condition is indexed; nullopt when no index applies and the caller
  // must scan. The caller still evaluates the filter on each candidate. See docs/filters.md.
  std::optional<std::vector<uint32_t>> Candidates(
      const FilterNode& filter,
      const std::function<std::optional<uint32_t>(const PointId&)>& id_to_slot) const;

  // Adds to `scores` `weight` times the BM25 score (index/filter/text_index.h) of every slot
  // matching a term of `query` in the text-indexed `field`. InvalidArgument naming the field when
  // it has no text index.
  Status ScoreText(const std::string& field, std::string_view query, float k1, float b, float weight,
                   ScoreAccumulator* scores) const;

  size_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mosaic::index
