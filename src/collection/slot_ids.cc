#include "collection/slot_ids.h"

#include <cassert>

namespace mosaic::collection {

void SlotIds::AppendRun(std::vector<PointId> ids) {
  assert(growing_.empty());
  if (ids.empty()) return;
  const uint32_t first = growing_first_;
  growing_first_ += static_cast<uint32_t>(ids.size());
  runs_.push_back({first, std::make_shared<const std::vector<PointId>>(std::move(ids))});
}

SlotIds::Run SlotIds::SealGrowing() {
  auto run = std::make_shared<const std::vector<PointId>>(std::move(growing_));
  growing_ = {};
  if (!run->empty()) {
    runs_.push_back({growing_first_, run});
    growing_first_ += static_cast<uint32_t>(run->size());
  }
  return run;
}

SlotIds SlotIds::Merged(uint32_t a, uint32_t b, Run merged) const {
  const uint32_t kept = static_cast<uint32_t>(merged->size());
  const uint32_t shift = (b - a) - kept;
  SlotIds out;
  out.runs_.reserve(runs_.size() + 1);
  bool placed = false;
  for (const Span& r : runs_) {
    if (r.first < a) {
      assert(r.first + r.ids->size() <= a);
      out.runs_.push_back(r);
      continue;
    }
    if (!placed && kept > 0) out.runs_.push_back({a, merged});
    placed = true;
    if (r.first >= b) out.runs_.push_back({r.first - shift, r.ids});
  }
  if (!placed && kept > 0) out.runs_.push_back({a, merged});
  out.growing_first_ = growing_first_ - shift;
  out.growing_ = growing_;
  return out;
}

}  // namespace mosaic::collection
