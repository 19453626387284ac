#include "collection/id_index.h"

namespace mosaic::collection {

std::optional<uint32_t> IdIndex::Set(const PointId& id, uint32_t slot) {
  auto [it, inserted] = keys_->try_emplace(id, 0);
  if (!inserted) {
    const uint32_t was = slots_[it->second];
    slots_[it->second] = slot;
    return was;
  }
  if (free_.empty()) {
    it->second = static_cast<uint32_t>(slots_.size());
    slots_.push_back(slot);
  } else {
    it->second = free_.back();
    free_.pop_back();
    slots_[it->second] = slot;
  }
  return std::nullopt;
}

std::optional<uint32_t> IdIndex::Erase(const PointId& id) {
  auto it = keys_->find(id);
  if (it == keys_->end()) return std::nullopt;
  const uint32_t key = it->second;
  const uint32_t slot = slots_[key];
  keys_->erase(it);
  slots_[key] = kFreeKey;
  free_.push_back(key);
  return slot;
}

IdIndex IdIndex::Renumbered(std::span<const uint32_t> map) const {
  IdIndex out;
  out.keys_ = keys_;
  out.free_ = free_;
  out.slots_.resize(slots_.size());
  for (size_t k = 0; k < slots_.size(); ++k)
    out.slots_[k] = slots_[k] == kFreeKey ? kFreeKey : map[slots_[k]];
  return out;
}

}  // namespace mosaic::collection
