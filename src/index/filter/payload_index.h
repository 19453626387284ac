// PayloadIndexSet: secondary indexes over payload fields (keyword, integer, float, datetime) that
// turn a selective filter into a short candidate list instead of a full scan, and give ordering
// and facet counts from their keys; plus the full-text (text) indexes, whose BM25 retrieval lives
// in index/text/bm25_index.h and which bound full-text filter conditions. Slots are the
// collection's internal point numbers. Not synchronized: the owning collection guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/filter/filter_node.h"
#include "index/slot_io.h"
#include "index/text/bm25_index.h"
#include "mosaic/collection.h"
#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::index {

class PayloadIndexSet {
 public:
  PayloadIndexSet();
  ~PayloadIndexSet();
  PayloadIndexSet(PayloadIndexSet&&) noexcept;
  PayloadIndexSet& operator=(PayloadIndexSet&&) noexcept;

  // Adds an empty index on `field` (dotted path); the caller then Inserts existing points.
  Status Create(const std::string& field, PayloadIndexType type);
  Status Drop(const std::string& field);
  std::map<std::string, PayloadIndexType> List() const;

  // Indexes / unindexes every indexed field of this payload for `slot`. Erase must be given the
  // payload the slot was inserted with (to update a point: Erase the old, Insert the new).
  void Insert(uint32_t slot, const Json& payload);
  void Erase(uint32_t slot, const Json& payload);
  // Insert in two steps: Prepare does what reads nothing of the indexes (tokenizing the text
  // fields), so it may run without the owner's lock, and Insert with its result does the rest.
  // The definitions must not change in between.
  using Prepared = std::vector<std::vector<std::string>>;  // per field, in the set's order
  Prepared Prepare(const Json& payload) const;
  void Insert(uint32_t slot, const Json& payload, const Prepared& prepared);
  // Adds the indexes of `from`'s slots that `map` keeps, renumbered, after every slot indexed
  // here (fields this set lacks, or holds with another type, are skipped).
  Status AppendFrom(const PayloadIndexSet& from, const ExportMap& map);
  // Moves the indexes of `from` on fields this set has none on into this set.
  void TakeFields(PayloadIndexSet* from);
  // Insert for the named fields only (those a Load did not bring).
  void InsertFields(std::span<const std::string> fields, uint32_t slot, const Json& payload);

  // Persistence of the indexes of a segment's slots (docs/segment_format.md, "Index files").
  // Save writes the slots `map` keeps, renumbered, to `path` atomically; `slots` is the
  // segment's size. Load adds those of such a file, renumbered by `map`, after every slot
  // indexed here, and returns the fields it brought: a field this set has and the file lacks (or
  // holds of another type, or from a tokenizer of another version) is not, and the caller
  // Inserts its values. On an error, *partial says whether this set was changed (a file that
  // passed its checksum failed a check part way): it must then be rebuilt from the payloads.
  Status Save(Env* env, const std::string& path, uint32_t slots, const ExportMap& map) const;
  // The bytes Save writes (to write them later, outside the lock that guards this set).
  std::string Serialize(uint32_t slots, const ExportMap& map) const;
  Result<std::vector<std::string>> Load(Env* env, const std::string& path, uint32_t slots,
                                        const ImportMap& map, bool* partial);

  // A sorted, duplicate-free superset of the slots that can match `filter`, derived from indexed
  // conditions (and has_id via `id_to_slot`) in its must clauses, nested ones included, and in
  // should clauses whose every condition is indexed; nullopt when no index applies and the caller
  // must scan. The caller evaluates the filter on each candidate, unless `exact` (when given) is
  // set: then the candidates are exactly the slots whose payloads match (keyword matches,
  // integer matches and ranges, has_id, and must/should combinations of them), but still
  // include removed slots still indexed. See docs/filters.md.
  std::optional<std::vector<uint32_t>> Candidates(
      const FilterNode& filter,
      const std::function<std::optional<uint32_t>(const PointId&)>& id_to_slot,
      bool* exact = nullptr) const;

  // The BM25 index of a text-indexed field; nullptr when `field` has no text index.
  const Bm25Index* Text(const std::string& field) const;

  // Ordering and facets read an index's keys instead of the payloads. A key stands for its
  // values except at the slots Others() lists: those hold a value at the field (a number, string
  // or boolean) that the index does not key, such as a string or 2.5 in an integer field, so the
  // caller reads their payloads instead and leaves them out of what the keys say.
  //
  // Those slots for a keyword, integer, float or datetime index on `field`; nullptr otherwise.
  const std::vector<uint32_t>* Others(const std::string& field) const;
  // With an integer, float or datetime index on `field`: calls `group` with the slots of each
  // key, in key order (descending when asked), until it returns false, starting where a value not
  // before the order value `from` can be (nullptr: at the first key). A slot comes once per key it
  // holds. Keys follow the order of their values (index/filter/order_value.h), but one float key
  // may stand for several values. false when `field` has no such index.
  bool WalkKeys(const std::string& field, bool descending, const Json* from,
                const std::function<bool(const std::vector<uint32_t>&)>& group) const;
  // WalkKeys over `sets` (each over slots of its own: sets[k]'s slot s is offsets[k] + s,
  // offsets ascending), a key held by several coming once with their slots joined. false when
  // `field` has no such index in every set.
  static bool WalkKeysAcross(std::span<const PayloadIndexSet* const> sets,
                             std::span<const uint32_t> offsets, const std::string& field,
                             bool descending, const Json* from,
                             const std::function<bool(const std::vector<uint32_t>&)>& group);
  // With a keyword or integer index on `field` and bucket kValue, or a datetime index and a
  // datetime bucket: calls `fn` once per value as FacetCounter names it (a string, an integer, a
  // bucket label) with its slots, sorted and without duplicates. false otherwise.
  bool ForEachFacetValue(
      const std::string& field, FacetBucket bucket,
      const std::function<void(const Json&, const std::vector<uint32_t>&)>& fn) const;

  size_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mosaic::index
