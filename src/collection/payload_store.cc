#include "collection/payload_store.h"

#include <algorithm>
#include <utility>

#include "index/slot_io.h"

namespace mosaic::collection {

const PayloadStore::Held& PayloadStore::HeldRun(uint32_t slot) const {
  auto it = std::upper_bound(held_.begin(), held_.end(), slot,
                             [](uint32_t s, const Held& h) { return s < h.first; });
  return *(it - 1);
}

const Json& PayloadStore::Get(uint32_t slot, Json* scratch) const {
  if (!in_segment_.Test(slot)) {
    static const Json kNull;
    const Held& h = HeldRun(slot);
    const uint32_t i = slot - h.first;
    return i < h.payloads->size() ? (*h.payloads)[i] : kNull;
  }
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), slot,
                             [](uint32_t s, const Range& r) { return s < r.first; });
  const Range& range = *(it - 1);
  Result<Json> decoded = range.segment->DecodePayload(slot - range.first);
  *scratch = decoded.ok() ? std::move(decoded).value() : Json();
  return *scratch;
}

Json PayloadStore::Copy(uint32_t slot) const {
  Json scratch;
  const Json& p = Get(slot, &scratch);
  return &p == &scratch ? std::move(scratch) : p;
}

void PayloadStore::Set(uint32_t slot, Json payload) {
  in_segment_.Reset(slot);
  const Held& h = HeldRun(slot);
  const uint32_t i = slot - h.first;
  if (i >= h.payloads->size()) {
    if (payload.is_null()) return;
    h.payloads->resize(h.count);
  }
  (*h.payloads)[i] = std::move(payload);
}

void PayloadStore::Append(Json payload) {
  if (!growing_) {
    held_.push_back({static_cast<uint32_t>(size()), 0, std::make_shared<std::vector<Json>>()});
    growing_ = true;
  }
  Held& h = held_.back();
  h.payloads->push_back(std::move(payload));
  ++h.count;
  in_segment_.Resize(size());
}

void PayloadStore::AppendSegment(std::shared_ptr<const storage::Segment> segment, uint32_t n) {
  const uint32_t first = static_cast<uint32_t>(size());
  growing_ = false;
  if (n == 0) return;
  held_.push_back({first, n, std::make_shared<std::vector<Json>>()});
  in_segment_.Resize(size(), segment != nullptr);
  if (segment != nullptr) ranges_.push_back({first, n, std::move(segment)});
}

std::shared_ptr<std::vector<Json>> PayloadStore::UseSegment(
    uint32_t first, uint32_t n, std::shared_ptr<const storage::Segment> segment,
    const Bitset& keep) {
  auto it = std::lower_bound(held_.begin(), held_.end(), first,
                             [](const Held& h, uint32_t s) { return h.first < s; });
  if (it == held_.end() || it->first != first || it->count != n || n == 0) return nullptr;
  if (growing_ && it + 1 == held_.end()) growing_ = false;
  auto kept = std::make_shared<std::vector<Json>>();
  const std::vector<Json>& old = *it->payloads;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t slot = first + i;
    if (slot < keep.size() && keep.Test(slot)) {
      if (kept->empty()) kept->resize(n);
      if (i < old.size()) (*kept)[i] = old[i];
    } else {
      in_segment_.Set(slot);
    }
  }
  auto at = std::upper_bound(ranges_.begin(), ranges_.end(), first,
                             [](uint32_t s, const Range& r) { return s < r.first; });
  ranges_.insert(at, {first, n, std::move(segment)});
  return std::exchange(it->payloads, std::move(kept));
}

PayloadStore PayloadStore::Merged(uint32_t a, uint32_t b, const SlotMap& map,
                                  std::shared_ptr<const storage::Segment> merged, uint32_t n,
                                  const Bitset& held) const {
  const uint32_t end = static_cast<uint32_t>(size());
  const uint32_t shift = (b - a) - n;
  PayloadStore out;
  out.growing_ = growing_;
  out.in_segment_ = map.Apply(in_segment_, /*with_run=*/false);  // the run's: below
  out.in_segment_.Resize(end - shift);
  // The merged run: read from `merged`, but for the payloads changed since it was read.
  auto merged_held = std::make_shared<std::vector<Json>>();
  for (uint32_t slot = a; slot < b; ++slot) {
    const uint32_t to = map[slot];
    if (to == index::kDroppedSlot) continue;
    if (to < held.size() && held.Test(to)) {
      if (merged_held->empty()) merged_held->resize(n);
      (*merged_held)[to - a] = Copy(slot);
    } else {
      out.in_segment_.Set(to);
    }
  }
  bool placed = n == 0;
  for (const Held& h : held_) {
    if (h.first + h.count <= a) {
      out.held_.push_back(h);  // shared
      continue;
    }
    if (!placed) out.held_.push_back({a, n, merged_held});
    placed = true;
    if (h.first >= b) out.held_.push_back({h.first - shift, h.count, h.payloads});
  }
  if (!placed) out.held_.push_back({a, n, merged_held});
  for (const Range& r : ranges_) {
    if (r.first >= a && r.first < b) continue;
    out.ranges_.push_back(r);
    if (r.first >= b) out.ranges_.back().first -= shift;
  }
  if (n > 0) {
    auto at = std::upper_bound(out.ranges_.begin(), out.ranges_.end(), a,
                               [](uint32_t s, const Range& r) { return s < r.first; });
    out.ranges_.insert(at, {a, n, std::move(merged)});
  }
  return out;
}

Status PayloadStore::CheckReadable() const {
  for (const Range& r : ranges_) MOSAIC_RETURN_IF_ERROR(r.segment->CheckReadable());
  return Status::OK();
}

uint64_t PayloadStore::SegmentBytes(bool mapped_only) const {
  uint64_t bytes = 0;
  for (const Range& r : ranges_)
    if (!mapped_only || r.segment->mapped()) bytes += r.segment->file_size();
  return bytes;
}

}  // namespace mosaic::collection
