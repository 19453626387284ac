// PayloadStore: the payloads of a collection's slots. A slot's payload is either held decoded
// (changed since its segment was written, or in the growing part or one being flushed) or
// read on demand from the segment it was loaded from, whose payload section (MessagePack, in
// memory or mapped) already holds it: an open decodes no payload, and an unchanged payload of a
// sealed segment costs no memory of its own. The held payloads are kept in runs, one per segment
// (allocated when one of its payloads is first held) and one growing, so that a merge replaces
// the runs of the segments it merged and shares the others instead of copying every payload.
// Not synchronized: the collection's state lock guards it like the rest of the state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "collection/slot_map.h"
#include "common/bitset.h"
#include "mosaic/json.h"
#include "mosaic/status.h"
#include "storage/segment.h"

namespace mosaic::collection {

class PayloadStore {
 public:
  PayloadStore() = default;
  PayloadStore(PayloadStore&&) = default;
  PayloadStore& operator=(PayloadStore&&) = default;
  PayloadStore(const PayloadStore&) = delete;  // would share the held runs: Merged() says so
  PayloadStore& operator=(const PayloadStore&) = delete;

  size_t size() const { return held_.empty() ? 0 : held_.back().first + held_.back().count; }

  // The payload of `slot`: the held one, or decoded from its segment into `*scratch` (a payload
  // that does not decode reads as null; the segment's checksum was verified when it was opened,
  // and a mapped segment that lost pages since fails the reader's CheckReadable()).
  const Json& Get(uint32_t slot, Json* scratch) const;
  Json Copy(uint32_t slot) const;

  // Holds `payload` for `slot` from now on.
  void Set(uint32_t slot, Json payload);
  void Append(Json payload);
  // Appends `n` slots whose payloads are points [0, n) of `segment` (null: lost, all null).
  void AppendSegment(std::shared_ptr<const storage::Segment> segment, uint32_t n);
  // Ends the run that Append() extends (a flush sealed it): the next Append() starts one.
  void SealGrowing() { growing_ = false; }
  // After a flush wrote the sealed run starting at `first` (`n` slots) to `segment`: its slots
  // read their payloads from it (point i for slot first + i), except those set in `keep` (by
  // slot), whose held payloads stay. Returns the payloads the run held, for the caller to free.
  std::shared_ptr<std::vector<Json>> UseSegment(uint32_t first, uint32_t n,
                                                std::shared_ptr<const storage::Segment> segment,
                                                const Bitset& keep);

  // After a merge: a copy of this store where `map` renumbers every slot (its run is [a, b)),
  // and slots [a, b) become the `n` points of `merged` (new slot
  // a + i is its point i), except those set in `held` (by new slot), whose held payloads stay:
  // they changed since the merge read them. a and b start runs (segments), or b == size().
  // Built while this store is still read; it shares the held runs outside [a, b) with this one,
  // so only one of the two may change afterwards.
  PayloadStore Merged(uint32_t a, uint32_t b, const SlotMap& map,
                      std::shared_ptr<const storage::Segment> merged, uint32_t n,
                      const Bitset& held) const;

  // OK, or the first segment's IOError: a mapped segment lost pages since it was opened.
  Status CheckReadable() const;
  // Bytes of segment files that payloads are read from, and of those that are mapped.
  uint64_t SegmentBytes(bool mapped_only) const;

 private:
  struct Range {
    uint32_t first = 0;
    uint32_t count = 0;
    std::shared_ptr<const storage::Segment> segment;
  };

  // Held payloads of slots [first, first + count): payloads[i] for slot first + i, null past
  // the end of payloads (a segment's run is empty until one of its payloads is held).
  struct Held {
    uint32_t first = 0;
    uint32_t count = 0;
    std::shared_ptr<std::vector<Json>> payloads;
  };
  const Held& HeldRun(uint32_t slot) const;

  std::vector<Held> held_;     // by first slot, contiguous from 0
  bool growing_ = false;       // Append() extends the last run
  Bitset in_segment_;          // slots read from a segment
  std::vector<Range> ranges_;  // by first slot, disjoint
};

}  // namespace mosaic::collection
