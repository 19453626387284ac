#include "collection/id_index.h"

#include <algorithm>
#include <cstring>

namespace mosaic::collection {

size_t NumericKeys::LeafFor(uint64_t id) const {
  // The last leaf whose fence is <= id (leaf 0 takes everything below fences_[1]).
  auto it = std::upper_bound(fences_.begin() + 1, fences_.end(), id);
  return static_cast<size_t>(it - fences_.begin()) - 1;
}

const uint32_t* NumericKeys::Find(uint64_t id) const {
  if (leaves_.empty()) return nullptr;
  const Leaf& l = *leaves_[LeafFor(id)];
  const uint64_t* at = std::lower_bound(l.ids, l.ids + l.n, id);
  if (at == l.ids + l.n || *at != id) return nullptr;
  return &l.keys[at - l.ids];
}

uint32_t* NumericKeys::Insert(uint64_t id, uint32_t key, bool* inserted) {
  if (leaves_.empty()) {
    leaves_.push_back(std::make_unique<Leaf>());
    fences_.push_back(0);
  }
  size_t li = LeafFor(id);
  Leaf* l = leaves_[li].get();
  uint32_t at = static_cast<uint32_t>(std::lower_bound(l->ids, l->ids + l->n, id) - l->ids);
  if (at < l->n && l->ids[at] == id) {
    *inserted = false;
    return &l->keys[at];
  }
  *inserted = true;
  ++size_;
  if (l->n == kLeaf) {
    // Full. Ids past the last leaf's end (ascending ids, the usual load) start a new leaf, so
    // leaves fill up; elsewhere the leaf is split in half.
    auto next = std::make_unique<Leaf>();
    const uint32_t keep = li + 1 == leaves_.size() && at == kLeaf ? kLeaf : kLeaf / 2;
    next->n = kLeaf - keep;
    std::memcpy(next->ids, l->ids + keep, next->n * sizeof(uint64_t));
    std::memcpy(next->keys, l->keys + keep, next->n * sizeof(uint32_t));
    l->n = keep;
    const uint64_t fence = keep == kLeaf ? id : next->ids[0];
    leaves_.insert(leaves_.begin() + static_cast<std::ptrdiff_t>(li) + 1, std::move(next));
    fences_.insert(fences_.begin() + static_cast<std::ptrdiff_t>(li) + 1, fence);
    if (id >= fence) {
      ++li;
      at -= keep;
      l = leaves_[li].get();
    }
  }
  std::memmove(l->ids + at + 1, l->ids + at, (l->n - at) * sizeof(uint64_t));
  std::memmove(l->keys + at + 1, l->keys + at, (l->n - at) * sizeof(uint32_t));
  l->ids[at] = id;
  l->keys[at] = key;
  ++l->n;
  return &l->keys[at];
}

std::optional<uint32_t> NumericKeys::Erase(uint64_t id) {
  if (leaves_.empty()) return std::nullopt;
  const size_t li = LeafFor(id);
  Leaf* l = leaves_[li].get();
  const uint32_t at = static_cast<uint32_t>(std::lower_bound(l->ids, l->ids + l->n, id) - l->ids);
  if (at == l->n || l->ids[at] != id) return std::nullopt;
  const uint32_t key = l->keys[at];
  std::memmove(l->ids + at, l->ids + at + 1, (l->n - at - 1) * sizeof(uint64_t));
  std::memmove(l->keys + at, l->keys + at + 1, (l->n - at - 1) * sizeof(uint32_t));
  --l->n;
  --size_;
  if (l->n == 0) {
    // The ids it took go to the leaf before (or, for the first, the next becomes the first).
    leaves_.erase(leaves_.begin() + static_cast<std::ptrdiff_t>(li));
    fences_.erase(fences_.begin() + static_cast<std::ptrdiff_t>(li));
  } else if (l->n < kLeaf / 4 && li + 1 < leaves_.size() && leaves_[li + 1]->n + l->n <= kLeaf / 2) {
    // Nearly empty beside a leaf with room: the next leaf's entries move in (deletes leave no
    // trail of sparse leaves).
    Leaf* next = leaves_[li + 1].get();
    std::memcpy(l->ids + l->n, next->ids, next->n * sizeof(uint64_t));
    std::memcpy(l->keys + l->n, next->keys, next->n * sizeof(uint32_t));
    l->n += next->n;
    leaves_.erase(leaves_.begin() + static_cast<std::ptrdiff_t>(li) + 1);
    fences_.erase(fences_.begin() + static_cast<std::ptrdiff_t>(li) + 1);
  }
  return key;
}

NumericKeys::Pos NumericKeys::LowerBound(uint64_t id) const {
  if (leaves_.empty()) return {0, 0};
  size_t li = LeafFor(id);
  const Leaf& l = *leaves_[li];
  const uint32_t at = static_cast<uint32_t>(std::lower_bound(l.ids, l.ids + l.n, id) - l.ids);
  if (at < l.n) return {li, at};
  return {li + 1, 0};  // every id of the next leaf is above this one's
}

size_t NumericKeys::MemoryBytes() const {
  return leaves_.size() * (sizeof(Leaf) + sizeof(std::unique_ptr<Leaf>) + sizeof(uint64_t));
}

uint32_t IdIndex::NewKey(uint32_t slot) {
  if (free_.empty()) {
    slots_.push_back(slot);
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  const uint32_t key = free_.back();
  free_.pop_back();
  slots_.Set(key, slot);
  return key;
}

std::optional<uint32_t> IdIndex::Set(const PointId& id, uint32_t slot) {
  uint32_t* key;
  bool inserted;
  if (id.is_num()) {
    key = ids_->num.Insert(id.num(), 0, &inserted);
  } else {
    auto [it, added] = ids_->str.try_emplace(id.str(), 0);
    key = &it->second;
    inserted = added;
  }
  if (!inserted) {
    const uint32_t was = slots_[*key];
    slots_.Set(*key, slot);
    return was;
  }
  *key = NewKey(slot);
  return std::nullopt;
}

std::optional<uint32_t> IdIndex::Erase(const PointId& id) {
  std::optional<uint32_t> key;
  if (id.is_num()) {
    key = ids_->num.Erase(id.num());
  } else if (auto it = ids_->str.find(id.str()); it != ids_->str.end()) {
    key = it->second;
    ids_->str.erase(it);
  }
  if (!key) return std::nullopt;
  const uint32_t slot = slots_[*key];
  slots_.Set(*key, kFreeKey);
  free_.push_back(*key);
  return slot;
}

IdIndex IdIndex::Renumbered(const SlotMap& map) const {
  IdIndex out;
  out.ids_ = ids_;
  out.free_ = free_;
  out.slots_ = slots_.Renumbered(map.a, kFreeKey, [&](uint32_t slot) { return map[slot]; });
  return out;
}

IdIndex::Iterator IdIndex::LowerBound(const PointId& id) const {
  if (!id.is_num()) return {ids_.get(), {ids_->num.leaves(), 0}, ids_->str.lower_bound(id.str()), &slots_};
  return {ids_.get(), ids_->num.LowerBound(id.num()), ids_->str.begin(), &slots_};
}

size_t IdIndex::MemoryBytes() const {
  // A std::map node: three pointers and a colour, the string, the key, and the allocator's word.
  constexpr size_t kStrNode = 4 * sizeof(void*) + sizeof(std::string) + 2 * sizeof(uint32_t);
  return ids_->num.MemoryBytes() + ids_->str.size() * kStrNode +
         slots_.MemoryBytes() + free_.capacity() * sizeof(uint32_t);
}

}  // namespace mosaic::collection
