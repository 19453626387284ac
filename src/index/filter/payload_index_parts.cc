#include "index/filter/payload_index_parts.h"

#include <algorithm>

namespace mosaic::index {

Result<std::shared_ptr<PayloadIndexSet>> PayloadIndexParts::NewSet(
    const std::map<std::string, PayloadIndexType>& defs) {
  auto set = std::make_shared<PayloadIndexSet>();
  for (const auto& [field, type] : defs)
    MOSAIC_RETURN_IF_ERROR(set->Create(field, type));
  return set;
}

const PayloadIndexParts::Part& PayloadIndexParts::PartOf(uint32_t slot) const {
  auto it = std::upper_bound(parts_.begin(), parts_.end(), slot,
                             [](uint32_t s, const Part& p) { return s < p.first; });
  return *(it - 1);
}

PayloadIndexParts::Part& PayloadIndexParts::PartOf(uint32_t slot) {
  return const_cast<Part&>(std::as_const(*this).PartOf(slot));
}

Status PayloadIndexParts::Create(const std::string& field, PayloadIndexType type) {
  for (Part& p : parts_)
    MOSAIC_RETURN_IF_ERROR(p.set->Create(field, type));
  return Status::OK();
}

Status PayloadIndexParts::Drop(const std::string& field) {
  Status out;
  for (Part& p : parts_) {
    Status s = p.set->Drop(field);
    if (out.ok()) out = s;
  }
  return out;
}

void PayloadIndexParts::Insert(uint32_t slot, const Json& payload) {
  Part& p = PartOf(slot);
  p.set->Insert(slot - p.first, payload);
}

PayloadIndexSet::Prepared PayloadIndexParts::Prepare(const Json& payload) const {
  return parts_.back().set->Prepare(payload);
}

void PayloadIndexParts::Insert(uint32_t slot, const Json& payload,
                               const PayloadIndexSet::Prepared& prepared) {
  Part& p = PartOf(slot);
  if (&p == &parts_.back())
    p.set->Insert(slot - p.first, payload, prepared);
  else
    p.set->Insert(slot - p.first, payload);
}

void PayloadIndexParts::Erase(uint32_t slot, const Json& payload) {
  Part& p = PartOf(slot);
  p.set->Erase(slot - p.first, payload);
}

std::optional<std::vector<uint32_t>> PayloadIndexParts::Candidates(
    const FilterNode& filter,
    const std::function<std::optional<uint32_t>(const PointId&)>& id_to_slot, bool* exact) const {
  std::vector<uint32_t> out;
  bool all_exact = true;
  for (size_t k = 0; k < parts_.size(); ++k) {
    const uint32_t first = parts_[k].first;
    const uint32_t end = k + 1 < parts_.size() ? parts_[k + 1].first : UINT32_MAX;
    // has_id conditions: the ids whose slot is in this part, numbered as it numbers them.
    auto local = [&](const PointId& id) -> std::optional<uint32_t> {
      std::optional<uint32_t> slot = id_to_slot(id);
      if (!slot || *slot < first || *slot >= end) return std::nullopt;
      return *slot - first;
    };
    bool part_exact = true;
    std::optional<std::vector<uint32_t>> got =
        parts_[k].set->Candidates(filter, local, &part_exact);
    if (!got) return std::nullopt;
    all_exact = all_exact && part_exact;
    for (uint32_t slot : *got)
      out.push_back(first + slot);
  }
  if (exact != nullptr) *exact = all_exact;
  return out;
}

std::optional<std::vector<uint32_t>> PayloadIndexParts::Others(const std::string& field) const {
  std::vector<uint32_t> out;
  for (const Part& p : parts_) {
    const std::vector<uint32_t>* others = p.set->Others(field);
    if (others == nullptr) return std::nullopt;
    for (uint32_t slot : *others)
      out.push_back(p.first + slot);
  }
  if (parts_.empty()) return std::nullopt;
  return out;
}

bool PayloadIndexParts::WalkKeys(
    const std::string& field, bool descending, const Json* from,
    const std::function<bool(const std::vector<uint32_t>&)>& group) const {
  std::vector<const PayloadIndexSet*> sets;
  std::vector<uint32_t> offsets;
  for (const Part& p : parts_) {
    sets.push_back(p.set.get());
    offsets.push_back(p.first);
  }
  return PayloadIndexSet::WalkKeysAcross(sets, offsets, field, descending, from, group);
}

bool PayloadIndexParts::ForEachFacetValue(
    const std::string& field, FacetBucket bucket,
    const std::function<void(const Json&, const std::vector<uint32_t>&)>& fn) const {
  std::vector<uint32_t> slots;
  for (const Part& p : parts_) {
    const bool indexed = p.set->ForEachFacetValue(
        field, bucket, [&](const Json& value, const std::vector<uint32_t>& local) {
          if (p.first == 0) return fn(value, local);
          slots.clear();
          for (uint32_t slot : local)
            slots.push_back(p.first + slot);
          fn(value, slots);
        });
    if (!indexed) return false;
  }
  return !parts_.empty();
}

bool PayloadIndexParts::ScoreText(const std::string& field, std::string_view query, float k1,
                                  float b, float weight, ScoreAccumulator* scores) const {
  std::vector<const Bm25Index*> texts;
  for (const Part& p : parts_) {
    const Bm25Index* text = p.set->Text(field);
    if (text == nullptr) return false;
    texts.push_back(text);
  }
  if (texts.empty()) return false;
  const std::vector<std::string> terms = texts[0]->QueryTerms(query);
  TextIndex::CorpusStats stats;
  for (const Bm25Index* text : texts)
    text->index().AddStats(terms, &stats);
  for (size_t k = 0; k < texts.size(); ++k)
    texts[k]->index().Score(terms, k1, b, weight, stats, parts_[k].first, scores);
  return true;
}

size_t PayloadIndexParts::MemoryBytes() const {
  size_t bytes = parts_.capacity() * sizeof(Part);
  for (const Part& p : parts_)
    bytes += p.set->MemoryBytes();
  return bytes;
}

}  // namespace mosaic::index
