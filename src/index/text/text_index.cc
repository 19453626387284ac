#include "index/text/text_index.h"

#include <algorithm>
#include <cmath>

namespace mosaic::index {
namespace {

// Term → frequency, for one document.
std::unordered_map<std::string_view, uint32_t> Frequencies(std::span<const std::string> terms) {
  std::unordered_map<std::string_view, uint32_t> tf;
  for (const std::string& t : terms) tf[t]++;
  return tf;
}

}  // namespace

void TextIndex::Insert(uint32_t slot, std::span<const std::string> terms) {
  if (terms.empty()) return;
  for (const auto& [term, tf] : Frequencies(terms)) {
    std::vector<Posting>& list = postings_[std::string(term)];
    // New points get new slots, so appending is the usual case.
    if (list.empty() || list.back().slot < slot) {
      list.push_back({slot, tf});
      continue;
    }
    auto it = std::lower_bound(list.begin(), list.end(), slot,
                               [](const Posting& p, uint32_t s) { return p.slot < s; });
    if (it != list.end() && it->slot == slot) it->tf = tf;
    else list.insert(it, {slot, tf});
  }
  if (doc_len_.size() <= slot) doc_len_.resize(std::max<size_t>(slot + 1, doc_len_.size() * 3 / 2), 0);
  doc_len_[slot] = static_cast<uint32_t>(terms.size());
  documents_++;
  total_len_ += terms.size();
}

// Terms: count, then each term with its postings (slot gaps, then the frequencies); documents:
// count, then (slot gap, length in terms) pairs.
void TextIndex::Export(const ExportMap& map, std::string* out) const {
  std::string terms;
  size_t kept_terms = 0;
  std::vector<uint32_t> slots, tfs;
  // In term order, so that the same index always makes the same file.
  std::vector<const std::pair<const std::string, std::vector<Posting>>*> entries;
  for (const auto& entry : postings_) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* entry : entries) {
    const std::string& term = entry->first;
    slots.clear();
    tfs.clear();
    const std::vector<Posting>& list = entry->second;
    auto from = std::lower_bound(list.begin(), list.end(), map.begin,
                                 [](const Posting& p, uint32_t s) { return p.slot < s; });
    for (auto p = from; p != list.end() && p->slot < map.end(); ++p)
      if (uint32_t to = map(p->slot); to != kDroppedSlot) {
        slots.push_back(to);
        tfs.push_back(p->tf);
      }
    if (slots.empty()) continue;
    ++kept_terms;
    PutLengthPrefixed(&terms, term);
    PutSlotList(&terms, slots);
    for (uint32_t tf : tfs) PutVarint64(&terms, tf);
  }
  PutVarint64(out, kept_terms);
  out->append(terms);
  slots.clear();
  tfs.clear();
  for (uint32_t slot = map.begin; slot < doc_len_.size() && slot < map.end(); ++slot)
    if (doc_len_[slot] != 0)
      if (uint32_t to = map(slot); to != kDroppedSlot) {
        slots.push_back(to);
        tfs.push_back(doc_len_[slot]);
      }
  PutSlotList(out, slots);
  for (uint32_t len : tfs) PutVarint64(out, len);
}

bool TextIndex::Import(Decoder* in, const ImportMap& map) {
  uint64_t terms = 0;
  if (!in->GetVarint64(&terms) || terms > in->remaining()) return false;
  std::vector<uint32_t> slots;
  for (uint64_t t = 0; t < terms; ++t) {
    std::string_view term;
    if (!in->GetLengthPrefixed(&term) || term.empty()) return false;
    // The stored list is read whole (dropped slots too) so that its frequencies line up.
    slots.clear();
    if (!GetSlotList(in, ImportMap{0, {}}, &slots)) return false;
    std::vector<Posting>& list = postings_[std::string(term)];
    list.reserve(list.size() + slots.size());
    for (uint32_t stored : slots) {
      uint64_t tf = 0;
      uint32_t to = 0;
      if (!in->GetVarint64(&tf) || tf == 0 || tf > UINT32_MAX || !map(stored, &to)) return false;
      if (to == kDroppedSlot) continue;
      if (!list.empty() && list.back().slot >= to) return false;
      list.push_back({to, static_cast<uint32_t>(tf)});
    }
    if (list.empty()) postings_.erase(std::string(term));
  }
  slots.clear();
  if (!GetSlotList(in, ImportMap{0, {}}, &slots)) return false;
  for (uint32_t stored : slots) {
    uint64_t len = 0;
    uint32_t to = 0;
    if (!in->GetVarint64(&len) || len == 0 || len > UINT32_MAX || !map(stored, &to)) return false;
    if (to == kDroppedSlot) continue;
    if (doc_len_.size() <= to) doc_len_.resize(std::max<size_t>(to + 1, doc_len_.size() * 3 / 2), 0);
    if (doc_len_[to] != 0) return false;
    doc_len_[to] = static_cast<uint32_t>(len);
    documents_++;
    total_len_ += len;
  }
  return true;
}

void TextIndex::Erase(uint32_t slot, std::span<const std::string> terms) {
  if (slot >= doc_len_.size() || doc_len_[slot] == 0) return;
  for (const auto& [term, tf] : Frequencies(terms)) {
    auto p = postings_.find(std::string(term));
    if (p == postings_.end()) continue;
    auto& list = p->second;
    auto it = std::lower_bound(list.begin(), list.end(), slot,
                               [](const Posting& q, uint32_t s) { return q.slot < s; });
    if (it != list.end() && it->slot == slot) list.erase(it);
    if (list.empty()) postings_.erase(p);
  }
  total_len_ -= doc_len_[slot];
  doc_len_[slot] = 0;
  documents_--;
}

void TextIndex::Score(std::span<const std::string> query_terms, float k1, float b, float weight,
                      ScoreAccumulator* scores) const {
  CorpusStats stats;
  AddStats(query_terms, &stats);
  Score(query_terms, k1, b, weight, stats, 0, scores);
}

void TextIndex::AddStats(std::span<const std::string> query_terms, CorpusStats* stats) const {
  stats->documents += documents_;
  stats->total_len += total_len_;
  stats->df.resize(query_terms.size(), 0);
  for (size_t i = 0; i < query_terms.size(); ++i)
    if (auto p = postings_.find(query_terms[i]); p != postings_.end())
      stats->df[i] += p->second.size();
}

void TextIndex::Score(std::span<const std::string> query_terms, float k1, float b, float weight,
                      const CorpusStats& stats, uint32_t offset, ScoreAccumulator* scores) const {
  if (documents_ == 0 || stats.documents == 0) return;
  const double n = static_cast<double>(stats.documents);
  const double avg = static_cast<double>(stats.total_len) / n;
  for (size_t i = 0; i < query_terms.size(); ++i) {
    auto p = postings_.find(query_terms[i]);
    if (p == postings_.end()) continue;
    const double df = static_cast<double>(stats.df[i]);
    const double idf = weight * std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    // tf·(k1+1) / (tf + k1·(1−b) + k1·b/avg · len)
    const float top = static_cast<float>(idf * (k1 + 1.0));
    const float base = static_cast<float>(k1 * (1.0 - b));
    const float per_len = static_cast<float>(k1 * b / avg);
    for (const Posting& post : p->second) {
      const float tf = static_cast<float>(post.tf);
      scores->Add(offset + post.slot,
                  top * tf / (tf + base + per_len * static_cast<float>(doc_len_[post.slot])));
    }
  }
}

std::vector<uint32_t> TextIndex::SlotsWithAll(std::span<const std::string> terms) const {
  std::vector<const std::vector<Posting>*> lists;
  for (const std::string& term : terms) {
    auto p = postings_.find(term);
    if (p == postings_.end()) return {};
    lists.push_back(&p->second);
  }
  if (lists.empty()) return {};
  // Shortest list first: it bounds the result, and each later list is only probed.
  std::sort(lists.begin(), lists.end(), [](auto* a, auto* b) { return a->size() < b->size(); });
  std::vector<uint32_t> out;
  out.reserve(lists[0]->size());
  for (const Posting& p : *lists[0])
    out.push_back(p.slot);
  for (size_t i = 1; i < lists.size() && !out.empty(); ++i) {
    std::vector<uint32_t> kept;
    auto from = lists[i]->begin();
    for (uint32_t slot : out) {
      from = std::lower_bound(from, lists[i]->end(), slot,
                              [](const Posting& q, uint32_t s) { return q.slot < s; });
      if (from == lists[i]->end()) break;
      if (from->slot == slot) kept.push_back(slot);
    }
    out = std::move(kept);
  }
  return out;
}

size_t TextIndex::DocumentFrequency(const std::string& term) const {
  auto p = postings_.find(term);
  return p == postings_.end() ? 0 : p->second.size();
}

std::vector<std::pair<uint32_t, float>> ScoreAccumulator::Top(
    size_t k, const Bitset* allow, const std::function<bool(uint32_t, uint32_t)>& before) const {
  std::vector<std::pair<uint32_t, float>> hits;
  hits.reserve(touched.size());
  for (uint32_t slot : touched)
    if (allow == nullptr || (slot < allow->size() && allow->Test(slot)))
      hits.emplace_back(slot, score[slot]);
  auto better = [&](const std::pair<uint32_t, float>& a, const std::pair<uint32_t, float>& b) {
    return a.second != b.second ? a.second > b.second : before(a.first, b.first);
  };
  k = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(),
                    better);
  hits.resize(k);
  return hits;
}

size_t TextIndex::MemoryBytes() const {
  size_t bytes = postings_.bucket_count() * sizeof(void*) + doc_len_.capacity() * sizeof(uint32_t);
  for (const auto& [term, list] : postings_)
    bytes += sizeof(std::pair<const std::string, std::vector<Posting>>) + sizeof(void*) + term.capacity() +
             list.capacity() * sizeof(Posting);
  return bytes;
}

}  // namespace mosaic::index
