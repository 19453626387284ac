// FieldIndex: the index of one payload field (keyword, integer, float, datetime or text), posting
// lists keyed by the values at the field's path; and Plan, a candidate set the filter planner
// sizes before computing it. Internal to index/filter: PayloadIndexSet (payload_index.h) holds
// one FieldIndex per indexed field. Not synchronized.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/coding.h"
#include "index/filter/conditions.h"
#include "index/filter/filter_node.h"
#include "index/filter/json_path.h"
#include "index/slot_io.h"
#include "index/text/bm25_index.h"
#include "mosaic/collection.h"
#include "mosaic/json.h"

namespace mosaic::index::fields {

// A sorted, duplicate-free list of slots: the posting list of one indexed value.
using SlotList = std::vector<uint32_t>;

// A candidate set not yet computed: cheap to size, so the planner can pick the most selective
// conditions and compute only those.
// `exact`: the slots `run` yields are exactly those satisfying the condition planned (liveness
// aside), so the caller need not evaluate it on them; `run` clears *exact when it settles for a
// superset after all (an intersection that skips a list too long to be worth intersecting).
struct Plan {
  size_t estimate = 0;  // an upper bound on how many slots `run` yields
  bool exact = false;
  std::function<SlotList(bool* exact)> run;
};

using GroupFn = std::function<bool(const SlotList&)>;
using FacetFn = std::function<void(const Json&, const SlotList&)>;

void AddSlot(SlotList* list, uint32_t slot);
void RemoveSlot(SlotList* list, uint32_t slot);
void SortUnique(SlotList* list);
// The plans' union; their intersection, computed from the most selective.
Plan UnionOfPlans(std::vector<Plan> plans);
Plan IntersectionOfPlans(std::vector<Plan> plans);

// One field's index: posting lists keyed by the values found at the field's path.
class FieldIndex {
 public:
  explicit FieldIndex(JsonPath path) : path_(std::move(path)) {}
  virtual ~FieldIndex() = default;

  virtual PayloadIndexType type() const = 0;
  virtual void Insert(uint32_t slot, const Json& payload) = 0;
  virtual void Erase(uint32_t slot, const Json& payload) = 0;
  // Insert in two steps for a text index: Terms (the tokenizer's work, which reads nothing of
  // the index, so it can run outside the owner's lock), then InsertTerms. Other indexes have
  // nothing to prepare: InsertTerms is Insert.
  virtual std::vector<std::string> Terms(const Json& payload) const { return {}; }
  virtual void InsertTerms(uint32_t slot, const Json& payload, std::span<const std::string>) {
    Insert(slot, payload);
  }
  // A superset of the slots satisfying the condition, or nullopt if this index cannot bound it
  // (a value type it does not index, or an except).
  virtual std::optional<Plan> PlanMatch(const MatchNode& match) const = 0;
  virtual std::optional<Plan> PlanRange(const RangeNode& range) const = 0;
  virtual std::optional<Plan> PlanText(const TextMatchNode&) const { return std::nullopt; }
  // See PayloadIndexSet: false when this index cannot.
  virtual bool WalkKeys(bool descending, const Json* from, const GroupFn& group) const {
    return false;
  }
  // WalkKeys over `parts`, indexes of this type (this one among them) each over slots of its
  // own: parts[k]'s slot s is offsets[k] + s, offsets ascending. A key held by several parts
  // comes once, with their slots joined.
  virtual bool WalkKeysAcross(std::span<const FieldIndex* const> parts,
                              std::span<const uint32_t> offsets, bool descending,
                              const Json* from, const GroupFn& group) const {
    return false;
  }
  virtual bool ForEachFacetValue(FacetBucket bucket, const FacetFn& fn) const { return false; }
  virtual size_t MemoryBytes() const = 0;
  // Persistence (PayloadIndexSet::Save/Load): the others, then a subclass's lists.
  virtual void Export(const ExportMap& map, std::string* out) const {
    PutSlotList(out, ExportSlots(others_, map));
  }
  virtual bool Import(Decoder* in, const ImportMap& map) { return GetSlotList(in, map, &others_); }

  // Nullptr for an index that keys no scalar values (text).
  virtual const SlotList* others() const { return &others_; }
  // The BM25 index of a text field; nullptr for the others.
  virtual const Bm25Index* text() const { return nullptr; }

 protected:
  // Every value at the path (arrays flattened), as conditions see them.
  template <typename Fn>
  void ForEachValue(const Json& payload, Fn&& fn) const {
    path_.AnyValue(payload, true, [&](const Json& v) {
      fn(v);
      return false;
    });
  }

  void UpdateOthers(uint32_t slot, bool other, bool insert) {
    if (!other) return;
    if (insert)
      AddSlot(&others_, slot);
    else
      RemoveSlot(&others_, slot);
  }

  JsonPath path_;
  // Slots holding a scalar value at the path that this index does not key.
  SlotList others_;
};

// The index of `type` over the values at `path`; nullptr if it cannot be made (a text index
// without its tokenizer).
std::unique_ptr<FieldIndex> MakeFieldIndex(JsonPath path, PayloadIndexType type);

}  // namespace mosaic::index::fields
