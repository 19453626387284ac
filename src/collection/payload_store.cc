#include "collection/payload_store.h"

#include <algorithm>

#include "index/slot_io.h"

namespace mosaic::collection {

const Json& PayloadStore::Get(uint32_t slot, Json* scratch) const {
  if (!in_segment_.Test(slot)) return held_[slot];
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
  held_[slot] = std::move(payload);
  in_segment_.Reset(slot);
}

void PayloadStore::Append(Json payload) {
  held_.push_back(std::move(payload));
  in_segment_.Resize(held_.size());
}

void PayloadStore::AppendSegment(std::shared_ptr<const storage::Segment> segment, uint32_t n) {
  const uint32_t first = static_cast<uint32_t>(held_.size());
  held_.resize(held_.size() + n);
  in_segment_.Resize(held_.size(), segment != nullptr);
  if (segment != nullptr && n > 0) ranges_.push_back({first, n, std::move(segment)});
}

PayloadStore PayloadStore::Merged(uint32_t a, uint32_t b, std::span<const uint32_t> map,
                                  std::shared_ptr<const storage::Segment> merged, uint32_t n,
                                  const Bitset& held, size_t capacity) const {
  const uint32_t end = static_cast<uint32_t>(held_.size());
  const uint32_t shift = (b - a) - n;
  PayloadStore out;
  out.held_.reserve(std::max<size_t>(capacity, end - shift));
  out.in_segment_.Resize(end - shift);
  for (uint32_t slot = 0; slot < end; ++slot) {
    const uint32_t to = slot < a ? slot : map[slot];
    if (to == index::kDroppedSlot) continue;
    const bool from_merged = to >= a && to < a + n && !(to < held.size() && held.Test(to));
    if (from_merged) {
      out.held_.emplace_back();
      out.in_segment_.Set(to);
    } else {
      out.held_.push_back(held_[slot]);
      if (in_segment_.Test(slot)) out.in_segment_.Set(to);
    }
  }
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
