#include "collection/slot_map.h"

#include <algorithm>

#include "index/slot_io.h"

namespace mosaic::collection {

SlotMap::SlotMap(uint32_t a, uint32_t b, uint32_t end, std::vector<uint32_t> run)
    : a(a), b(b), end(end), run(std::move(run)) {
  for (uint32_t to : this->run) shift += to == index::kDroppedSlot;
}

Bitset SlotMap::Apply(const Bitset& bits, bool with_run) const {
  Bitset out(end - shift);
  const size_t n = bits.size();
  out.CopyRange(bits, 0, std::min<size_t>(a, n), 0);
  if (with_run)
    for (uint32_t slot = a; slot < b && slot < n; ++slot)
      if (run[slot - a] != index::kDroppedSlot && bits.Test(slot)) out.Set(run[slot - a]);
  if (n > b) out.CopyRange(bits, b, n - b, b - shift);
  return out;
}

}  // namespace mosaic::collection
