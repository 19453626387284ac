// IdIndex: point id -> slot, for CollectionImpl::State.
//
// A merge renumbers the slots after the run it merges (collection_merge.cc). The ids are kept in
// an ordered map (scrolls walk them in id order) to a key of their own, and the keys to slots in
// an array: renumbering maps the array and shares the map, so a merge's switch copies 4 bytes per
// point instead of a tree of ten million nodes (seconds, under the writer lock).
//
// Thread-safety: none; CollectionImpl guards a State with state_mu_. A Renumbered() copy shares
// the map with the original: only one of the two may change afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "mosaic/types.h"

namespace mosaic::collection {

class IdIndex {
 public:
  IdIndex() = default;
  IdIndex(IdIndex&&) = default;
  IdIndex& operator=(IdIndex&&) = default;
  IdIndex(const IdIndex&) = delete;  // a copy would share the map: Renumbered() says so
  IdIndex& operator=(const IdIndex&) = delete;

  size_t size() const { return keys_->size(); }
  bool Contains(const PointId& id) const { return keys_->count(id) != 0; }
  std::optional<uint32_t> Find(const PointId& id) const {
    auto it = keys_->find(id);
    if (it == keys_->end()) return std::nullopt;
    return slots_[it->second];
  }
  // Points `id` at `slot`; returns the slot it was at, if it was present.
  std::optional<uint32_t> Set(const PointId& id, uint32_t slot);
  // Removes `id`; returns the slot it was at, if it was present.
  std::optional<uint32_t> Erase(const PointId& id);
  // A copy with every slot s replaced by map[s] (map covers every slot held); it shares the id
  // map with this one.
  IdIndex Renumbered(std::span<const uint32_t> map) const;

  // Walks the ids in order.
  class Iterator {
   public:
    const PointId& id() const { return it_->first; }
    uint32_t slot() const { return (*slots_)[it_->second]; }
    Iterator& operator++() {
      ++it_;
      return *this;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.it_ == b.it_; }

   private:
    friend class IdIndex;
    Iterator(std::map<PointId, uint32_t>::const_iterator it, const std::vector<uint32_t>* slots)
        : it_(it), slots_(slots) {}
    std::map<PointId, uint32_t>::const_iterator it_;
    const std::vector<uint32_t>* slots_;
  };
  Iterator begin() const { return {keys_->begin(), &slots_}; }
  Iterator end() const { return {keys_->end(), &slots_}; }
  // The first id >= `id`.
  Iterator LowerBound(const PointId& id) const { return {keys_->lower_bound(id), &slots_}; }

 private:
  static constexpr uint32_t kFreeKey = UINT32_MAX;
  std::shared_ptr<std::map<PointId, uint32_t>> keys_ =
      std::make_shared<std::map<PointId, uint32_t>>();  // id -> key
  std::vector<uint32_t> slots_;                         // key -> slot, kFreeKey if unused
  std::vector<uint32_t> free_;                          // keys to reuse
};

}  // namespace mosaic::collection
