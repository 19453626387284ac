// SlotMap: how a merge's switch renumbers a collection's slots. Slots before the merged run keep
// their numbers, the run's slots [a, b) become what `run` says (index::kDroppedSlot: dropped),
// and the slots after it move down by `shift` (the run's dropped slots). Held as that rule, not
// as a table of every slot: at ten million points building and reading such a table took
// 0.15 s of the switch, under the writer lock.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bitset.h"

namespace mosaic::collection {

struct SlotMap {
  uint32_t a = 0, b = 0;      // the merged run
  uint32_t end = 0;           // slots before the switch
  std::vector<uint32_t> run;  // b - a new numbers (kDroppedSlot: dropped), ascending otherwise
  uint32_t shift = 0;         // the run's dropped slots

  // `run` ascending apart from its dropped slots, which `shift` counts.
  SlotMap(uint32_t a, uint32_t b, uint32_t end, std::vector<uint32_t> run);

  uint32_t operator[](uint32_t slot) const {
    return slot < a ? slot : slot < b ? run[slot - a] : slot - shift;
  }
  uint32_t size() const { return end; }
  // `bits` (over `end` slots, or fewer: the missing ones unset) renumbered; without
  // `with_run` the run's slots are left unset.
  Bitset Apply(const Bitset& bits, bool with_run = true) const;
};

}  // namespace mosaic::collection
