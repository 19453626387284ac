// Slot lists in persisted payload and text indexes (docs/segment_format.md, "Index files"): how
// an export renumbers the slots of a range of the collection into a segment's own, and how an
// import renumbers them back, appending to lists that must stay sorted. Lists are stored as a
// count and varint gaps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/coding.h"
#include "mosaic/env.h"

namespace mosaic::index {

// In a slot map (TextIndex::Remap, PayloadIndexSet::Remap, ExportMap, ImportMap): the slot is
// dropped.
inline constexpr uint32_t kDroppedSlot = UINT32_MAX;

// Export: slot s in [begin, begin + local.size()) becomes local[s - begin]; kDroppedSlot there,
// and any slot outside the range, is left out. `local` keeps the order of the slots it keeps.
// Without `local`, slot s in [begin, begin + count) becomes s - begin.
struct ExportMap {
  uint32_t begin = 0;
  std::span<const uint32_t> local;
  uint32_t count = 0;
  // One past the last slot of the range.
  uint64_t end() const { return uint64_t{begin} + (local.empty() ? count : local.size()); }
  uint32_t operator()(uint32_t s) const {
    if (s < begin) return kDroppedSlot;
    if (local.empty()) return s - begin < count ? s - begin : kDroppedSlot;
    return s - begin < local.size() ? local[s - begin] : kDroppedSlot;
  }
};

// The layout of the lists an export writes (the index file's version, docs/segment_format.md):
// version 1 stored a text index's frequencies after its slots, version 2 stores them beside the
// slots, with each term's list length, so that a list can be read where it lies.
inline constexpr uint32_t kListsVersion = 2;
inline constexpr uint32_t kOldestListsVersion = 1;

// Import: a stored slot l becomes base + map[l] (base + l when map is empty); kDroppedSlot in
// the map leaves it out. A stored slot past a non-empty map is damage.
struct ImportMap {
  uint32_t base = 0;
  std::span<const uint32_t> map;
  uint32_t limit = kDroppedSlot;  // stored slots must be below it (the file's slot count)
  uint32_t version = kListsVersion;  // the layout of the lists read
  // The file the lists lie in, when they are imported at their own slots (base 0, no map) into
  // an empty index: a text index then reads its posting lists there instead of copying them,
  // and keeps the file.
  std::shared_ptr<const FileView> file;
  // false for damage (past the limit or the map, or past 2^32 slots).
  bool operator()(uint32_t l, uint32_t* out) const {
    if (l >= limit) return false;
    uint64_t to = l;
    if (!map.empty()) {
      if (l >= map.size()) return false;
      if (map[l] == kDroppedSlot) {
        *out = kDroppedSlot;
        return true;
      }
      to = map[l];
    }
    to += base;
    if (to >= kDroppedSlot) return false;
    *out = static_cast<uint32_t>(to);
    return true;
  }
};

// Appends `slots` (ascending, already renumbered) as a count and gaps.
inline void PutSlotList(std::string* out, std::span<const uint32_t> slots) {
  PutVarint64(out, slots.size());
  uint32_t prev = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    PutVarint64(out, i == 0 ? slots[i] : slots[i] - prev);
    prev = slots[i];
  }
}

// The slots of `list` kept by `map`, renumbered (ascending since the map keeps the order).
// The slots of `list` (ascending) kept by `map`, renumbered (ascending since the map keeps the
// order); only the part of the list within the map's range is read.
inline std::vector<uint32_t> ExportSlots(std::span<const uint32_t> list, const ExportMap& map) {
  std::vector<uint32_t> kept;
  for (auto it = std::lower_bound(list.begin(), list.end(), map.begin);
       it != list.end() && *it < map.end(); ++it)
    if (uint32_t t = map(*it); t != kDroppedSlot) kept.push_back(t);
  return kept;
}

// Reads a list written by PutSlotList and appends its slots, renumbered by `map`, to `list`,
// which they must all follow. false for damage.
inline bool GetSlotList(Decoder* in, const ImportMap& map, std::vector<uint32_t>* list) {
  uint64_t n = 0;
  if (!in->GetVarint64(&n) || n > in->remaining()) return false;
  uint64_t stored = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t gap = 0;
    if (!in->GetVarint64(&gap) || (i > 0 && gap == 0)) return false;
    stored += gap;
    uint32_t to = 0;
    if (stored >= kDroppedSlot || !map(static_cast<uint32_t>(stored), &to)) return false;
    if (to == kDroppedSlot) continue;
    if (!list->empty() && list->back() >= to) return false;
    list->push_back(to);
  }
  return true;
}

}  // namespace mosaic::index
