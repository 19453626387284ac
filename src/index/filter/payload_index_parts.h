// PayloadIndexParts: a collection's payload and text indexes kept per segment, as Lucene keeps
// its per-segment indexes. Part k indexes the slots [first_k, first_{k+1}) (the last part has no
// end) numbered from 0, so a merge replaces the parts of its run with the merged segment's and
// leaves the others as they are, and an open loads each segment's index file as it is, instead
// of one index over every slot renumbered at each merge. Answers are in collection slots; BM25
// scores use the figures of all parts together, so they are what one index would give. The
// parts' sets are shared (a new state copies the list and shares the sets). Not synchronized: the
// owning collection guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/filter/payload_index.h"
#include "index/text/text_index.h"

namespace mosaic::index {

class PayloadIndexParts {
 public:
  struct Part {
    uint32_t first = 0;
    std::shared_ptr<PayloadIndexSet> set;
  };

  // A set with the indexes `defs` defines, empty.
  static Result<std::shared_ptr<PayloadIndexSet>> NewSet(
      const std::map<std::string, PayloadIndexType>& defs);

  // By first slot, ascending; a caller adds the part of each segment and of the growing slots.
  std::vector<Part>& parts() { return parts_; }
  const std::vector<Part>& parts() const { return parts_; }
  // The part holding `slot` (there must be one from slot 0 on).
  const Part& PartOf(uint32_t slot) const;

  // Index definitions on every part.
  Status Create(const std::string& field, PayloadIndexType type);
  Status Drop(const std::string& field);

  // PayloadIndexSet's, for the part holding `slot`.
  void Insert(uint32_t slot, const Json& payload);
  void Erase(uint32_t slot, const Json& payload);
  // PayloadIndexSet::Prepare / Insert with its result, for a slot of the last part (new points).
  PayloadIndexSet::Prepared Prepare(const Json& payload) const;
  void Insert(uint32_t slot, const Json& payload, const PayloadIndexSet::Prepared& prepared);

  // PayloadIndexSet's, over every part: the candidates of each, in collection slots; nullopt if
  // a part has none (no index bounds the filter); `exact` if every part's are exact.
  std::optional<std::vector<uint32_t>> Candidates(
      const FilterNode& filter,
      const std::function<std::optional<uint32_t>(const PointId&)>& id_to_slot,
      bool* exact = nullptr) const;
  // The others of every part (PayloadIndexSet::Others); nullopt without such an index on `field`.
  std::optional<std::vector<uint32_t>> Others(const std::string& field) const;
  // PayloadIndexSet::WalkKeys over every part, in key order.
  bool WalkKeys(const std::string& field, bool descending, const Json* from,
                const std::function<bool(const std::vector<uint32_t>&)>& group) const;
  // PayloadIndexSet::ForEachFacetValue for each part in turn: `fn` may see a value once per part
  // holding it, each time with that part's slots (counts add up).
  bool ForEachFacetValue(
      const std::string& field, FacetBucket bucket,
      const std::function<void(const Json&, const std::vector<uint32_t>&)>& fn) const;
  // Adds `weight` times the BM25 score of `query` (Bm25Index::Score) on the text index of
  // `field` to `scores`, by collection slot. false when `field` has no text index.
  bool ScoreText(const std::string& field, std::string_view query, float k1, float b, float weight,
                 ScoreAccumulator* scores) const;

  size_t MemoryBytes() const;

 private:
  Part& PartOf(uint32_t slot);

  std::vector<Part> parts_;
};

}  // namespace mosaic::index
