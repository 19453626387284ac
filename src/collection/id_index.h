// IdIndex: point id -> slot, for CollectionImpl::State.
//
// A merge renumbers the slots after the run it merges (collection_merge.cc). The ids are kept in
// id order (scrolls walk them so) to a key of their own, and the keys to slots in an array:
// renumbering maps the array and shares the ids, so a merge's switch copies 4 bytes per point
// instead of ten million ids (seconds, under the writer lock).
//
// Numeric ids, the common case, are kept in sorted leaves of up to kLeaf (id, key) pairs found
// through an array of fences (each leaf's lowest possible id): 12 bytes per point in the full
// leaves ascending ids make, about 18 in the 2/3-full leaves of random ids (plus 4 for the
// key's slot), where a std::map node took about 96 (0.9 GB at 10M points). String ids, which sort after every
// number (PointId's order), stay in a std::map.
//
// Thread-safety: none; CollectionImpl guards a State with state_mu_. A Renumbered() copy shares
// the ids with the original: only one of the two may change afterwards.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collection/slot_map.h"
#include "mosaic/types.h"

namespace mosaic::collection {

// Numeric id -> key, in id order.
class NumericKeys {
 public:
  static constexpr uint32_t kLeaf = 512;
  struct Leaf {
    uint32_t n = 0;
    uint64_t ids[kLeaf];
    uint32_t keys[kLeaf];
  };
  // (leaf, position) of an entry or of where it would go; leaf == leaves() at the end.
  struct Pos {
    size_t leaf = 0;
    uint32_t at = 0;
  };

  size_t size() const { return size_; }
  size_t leaves() const { return leaves_.size(); }
  const Leaf& leaf(size_t i) const { return *leaves_[i]; }
  // The key of `id`, or null.
  const uint32_t* Find(uint64_t id) const;
  // The key of `id`, inserting `key` for it if absent (*inserted says which).
  uint32_t* Insert(uint64_t id, uint32_t key, bool* inserted);
  // Removes `id`; its key, if it was present.
  std::optional<uint32_t> Erase(uint64_t id);
  // The first entry >= id.
  Pos LowerBound(uint64_t id) const;
  // The entry after `p` (Pos{leaves(), 0} after the last).
  Pos Next(Pos p) const {
    if (++p.at >= leaves_[p.leaf]->n) p = {p.leaf + 1, 0};
    return p;
  }
  size_t MemoryBytes() const;

 private:
  // The leaf that holds `id` if anyone does (leaves_ is not empty).
  size_t LeafFor(uint64_t id) const;

  // Leaf i holds ids in [fences_[i], fences_[i + 1]); fences_[0] is never read. No leaf is empty.
  std::vector<uint64_t> fences_;
  std::vector<std::unique_ptr<Leaf>> leaves_;
  size_t size_ = 0;
};

// Key -> slot, in chunks that an IdIndex and its Renumbered() copies share until one of them
// writes to one (copy on write): a merge's switch copies only the chunks holding slots it
// renumbers. At ten million points copying every key's slot took 0.14-0.2 s of the switch.
class KeySlots {
 public:
  static constexpr size_t kChunkBits = 16;
  static constexpr size_t kChunk = size_t{1} << kChunkBits;

  size_t size() const { return size_; }
  uint32_t operator[](size_t key) const { return (*chunks_[key >> kChunkBits])[key & (kChunk - 1)]; }
  void Set(size_t key, uint32_t slot) { Own(key >> kChunkBits)[key & (kChunk - 1)] = slot; }
  void push_back(uint32_t slot) {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_shared<Chunk>());
    Set(size_++, slot);
  }
  // A copy sharing the chunks in which no slot other than `skip` is at or above `from`; in the
  // others each such slot s becomes fn(s).
  template <typename Fn>
  KeySlots Renumbered(uint32_t from, uint32_t skip, Fn&& fn) const {
    KeySlots out;
    out.size_ = size_;
    out.chunks_ = chunks_;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk& in = *chunks_[c];
      const size_t n = std::min(kChunk, size_ - c * kChunk);
      if (std::none_of(in.begin(), in.begin() + n,
                       [&](uint32_t s) { return s >= from && s != skip; }))
        continue;
      auto copy = std::make_shared<Chunk>(in);
      for (size_t k = 0; k < n; ++k)
        if ((*copy)[k] >= from && (*copy)[k] != skip) (*copy)[k] = fn((*copy)[k]);
      out.chunks_[c] = std::move(copy);
    }
    return out;
  }
  size_t MemoryBytes() const { return chunks_.size() * (sizeof(Chunk) + sizeof(chunks_[0])); }

 private:
  using Chunk = std::array<uint32_t, kChunk>;
  Chunk& Own(size_t c) {
    // Shared only with the copies of a switch; readers of those hold the state's lock.
    if (chunks_[c].use_count() > 1) chunks_[c] = std::make_shared<Chunk>(*chunks_[c]);
    return *chunks_[c];
  }
  std::vector<std::shared_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

class IdIndex {
 public:
  IdIndex() = default;
  IdIndex(IdIndex&&) = default;
  IdIndex& operator=(IdIndex&&) = default;
  IdIndex(const IdIndex&) = delete;  // a copy would share the ids: Renumbered() says so
  IdIndex& operator=(const IdIndex&) = delete;

  size_t size() const { return ids_->num.size() + ids_->str.size(); }
  bool Contains(const PointId& id) const { return FindKey(id) != nullptr; }
  std::optional<uint32_t> Find(const PointId& id) const {
    const uint32_t* key = FindKey(id);
    if (key == nullptr) return std::nullopt;
    return slots_[*key];
  }
  // Points `id` at `slot`; returns the slot it was at, if it was present.
  std::optional<uint32_t> Set(const PointId& id, uint32_t slot);
  // Removes `id`; returns the slot it was at, if it was present.
  std::optional<uint32_t> Erase(const PointId& id);
  // A copy with every slot s replaced by map[s] (map covers every slot held); it shares the ids
  // with this one.
  IdIndex Renumbered(const SlotMap& map) const;
  // Bytes held for the ids and keys (string ids: an estimate per map node).
  size_t MemoryBytes() const;

 private:
  struct Ids {
    NumericKeys num;
    std::map<std::string, uint32_t> str;
  };

 public:
  // Walks the ids in order: the numbers, then the strings.
  class Iterator {
   public:
    PointId id() const {
      if (pos_.leaf < ids_->num.leaves()) return PointId(ids_->num.leaf(pos_.leaf).ids[pos_.at]);
      return PointId(str_->first);
    }
    uint32_t slot() const {
      if (pos_.leaf < ids_->num.leaves()) return (*slots_)[ids_->num.leaf(pos_.leaf).keys[pos_.at]];
      return (*slots_)[str_->second];
    }
    Iterator& operator++() {
      if (pos_.leaf < ids_->num.leaves())
        pos_ = ids_->num.Next(pos_);
      else
        ++str_;
      return *this;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.pos_.leaf == b.pos_.leaf && a.pos_.at == b.pos_.at && a.str_ == b.str_;
    }

   private:
    friend class IdIndex;
    Iterator(const Ids* ids, NumericKeys::Pos pos, std::map<std::string, uint32_t>::const_iterator s,
             const KeySlots* slots)
        : ids_(ids), pos_(pos), str_(s), slots_(slots) {}
    const Ids* ids_;
    NumericKeys::Pos pos_;  // leaf == leaves(): in the strings, at str_
    std::map<std::string, uint32_t>::const_iterator str_;
    const KeySlots* slots_;
  };
  Iterator begin() const {
    return {ids_.get(), {0, 0}, ids_->str.begin(), &slots_};
  }
  Iterator end() const {
    return {ids_.get(), {ids_->num.leaves(), 0}, ids_->str.end(), &slots_};
  }
  // The first id >= `id`.
  Iterator LowerBound(const PointId& id) const;

 private:
  static constexpr uint32_t kFreeKey = UINT32_MAX;
  const uint32_t* FindKey(const PointId& id) const {
    if (id.is_num()) return ids_->num.Find(id.num());
    auto it = ids_->str.find(id.str());
    return it == ids_->str.end() ? nullptr : &it->second;
  }
  uint32_t NewKey(uint32_t slot);

  std::shared_ptr<Ids> ids_ = std::make_shared<Ids>();  // id -> key
  KeySlots slots_;                                       // key -> slot, kFreeKey if unused
  std::vector<uint32_t> free_;                           // keys to reuse
};

}  // namespace mosaic::collection
