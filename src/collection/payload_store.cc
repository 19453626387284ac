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

void PayloadStore::Merge(uint32_t a, uint32_t b, std::span<const uint32_t> map,
                         std::shared_ptr<const storage::Segment> merged, uint32_t n,
                         const Bitset& held) {
  const uint32_t end = static_cast<uint32_t>(held_.size());
  uint32_t out = a;
  for (uint32_t slot = a; slot < end; ++slot) {
    if (map[slot] == index::kDroppedSlot) continue;
    if (out != slot) {
      held_[out] = std::move(held_[slot]);
      in_segment_.Assign(out, in_segment_.Test(slot));
    }
    ++out;
  }
  held_.resize(out);
  in_segment_.Resize(out);
  const uint32_t shift = (b - a) - n;
  std::erase_if(ranges_, [&](const Range& r) { return r.first >= a && r.first < b; });
  for (Range& r : ranges_)
    if (r.first >= b) r.first -= shift;
  for (uint32_t slot = a; slot < a + n; ++slot) {
    if (slot < held.size() && held.Test(slot)) continue;
    held_[slot] = Json();
    in_segment_.Set(slot);
  }
  if (n > 0) {
    auto at = std::upper_bound(ranges_.begin(), ranges_.end(), a,
                               [](uint32_t s, const Range& r) { return s < r.first; });
    ranges_.insert(at, {a, n, std::move(merged)});
  }
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
