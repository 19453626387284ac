// CollectionImpl::Facet: counts per value of a payload field over the points matching a filter.
// A keyword or integer index (or a datetime index, for datetime buckets) gives the counts as
// |posting list ∩ survivors|; the points holding values the index does not key, and every point
// when there is no such index, are counted from their payloads.
#include "collection/collection_impl.h"
#include "index/filter/facet_counter.h"

namespace mosaic::collection {

Result<std::vector<FacetCount>> CollectionImpl::Facet(const FacetRequest& r) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (r.limit == 0 || r.limit > kMaxLimit)
    return Status::InvalidArgument("facet limit must be between 1 and " +
                                   std::to_string(kMaxLimit) + ", got " + std::to_string(r.limit));
  Result<index::JsonPath> path = index::JsonPath::Parse(r.key);
  if (!path.ok()) return path.status().WithContext("facet");
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  const size_t n = s.ids.size();
  Bitset survivors;
  if (r.filter) {
    survivors.Resize(n);
    for (uint32_t slot : FilterSlots(s, *r.filter))
      survivors.Set(slot);
  } else {
    survivors = s.live;
  }
  index::FacetCounter counter(std::move(path).value(), r.bucket);
  bool indexed = false;
  Json scratch;
  if (const std::optional<std::vector<uint32_t>> others = s.payload_index.Others(r.key)) {
    Bitset keyed = survivors;
    for (uint32_t slot : *others)
      if (slot < n) keyed.Reset(slot);
    indexed = s.payload_index.ForEachFacetValue(
        r.key, r.bucket, [&](const Json& value, const std::vector<uint32_t>& slots) {
          uint64_t points = 0;
          for (uint32_t slot : slots)
            points += slot < n && keyed.Test(slot);
          counter.Add(value, points);
        });
    if (indexed)
      for (uint32_t slot : *others)
        if (slot < n && survivors.Test(slot)) counter.AddPayload(s.payloads.Get(slot, &scratch));
  }
  if (!indexed)
    survivors.ForEach([&](size_t slot) {
      counter.AddPayload(s.payloads.Get(static_cast<uint32_t>(slot), &scratch));
    });
  MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(s));
  return counter.Top(r.limit);
}

}  // namespace mosaic::collection
