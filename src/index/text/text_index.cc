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

// A varint from [*p, end); false (and *p left anywhere) when it runs past the end.
bool ReadVarint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift <= 63 && *p < end; shift += 7) {
    const uint8_t b = *(*p)++;
    r |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
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

void TextIndex::Erase(uint32_t slot, std::span<const std::string> terms) {
  if (slot < doc_len_.size() && doc_len_[slot] != 0) {
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
    return;
  }
  if (file_ == nullptr) return;
  const uint32_t len = file_->Length(slot);
  if (len == 0) return;
  if (file_->erased.size() == 0) file_->erased.Resize(file_->slots);
  file_->erased.Set(slot);
  file_->documents--;
  file_->total_len -= len;
  for (const auto& [term, tf] : Frequencies(terms))
    if (file_->Find(term) != nullptr) file_->erased_df[std::string(term)]++;
}

const TextIndex::InFile::Term* TextIndex::InFile::Find(std::string_view term) const {
  auto it = std::lower_bound(terms.begin(), terms.end(), term,
                             [](const Term& t, std::string_view x) { return t.term < x; });
  return it != terms.end() && it->term == term ? &*it : nullptr;
}

uint32_t TextIndex::InFile::Length(uint32_t slot) const {
  if (slot >= slots || (erased.size() != 0 && erased.Test(slot))) return 0;
  return StoredLength(slot);
}

size_t TextIndex::InFile::Frequency(std::string_view term) const {
  const Term* t = Find(term);
  if (t == nullptr) return 0;
  auto e = erased_df.find(std::string(term));
  return t->df - (e == erased_df.end() ? 0 : std::min(e->second, t->df));
}

template <typename Fn>
void TextIndex::InFile::ForEach(const Term& t, Fn&& fn) const {
  // The file passed its checksum when imported; the bounds checked here keep pages read as zeros
  // (a mapped file damaged since: FileView::CheckReadable) from reading past the list.
  const auto* p = reinterpret_cast<const uint8_t*>(t.list.data());
  const uint8_t* end = p + t.list.size();
  const uint64_t n = slots;
  const bool any_erased = erased.size() != 0;
  uint64_t slot = 0;
  for (uint32_t i = 0; i < t.df; ++i) {
    uint64_t gap = 0, tf = 0;
    if (!ReadVarint(&p, end, &gap) || !ReadVarint(&p, end, &tf) || (i > 0 && gap == 0) ||
        tf == 0 || tf > UINT32_MAX)
      return;
    slot += gap;
    if (slot >= n) return;
    if (any_erased && erased.Test(slot)) continue;
    fn(static_cast<uint32_t>(slot), static_cast<uint32_t>(tf));
  }
}

std::vector<TextIndex::Posting> TextIndex::PostingsOf(std::string_view term) const {
  std::vector<Posting> out;
  if (file_ != nullptr)
    if (const InFile::Term* t = file_->Find(term))
      file_->ForEach(*t, [&](uint32_t slot, uint32_t tf) { out.push_back({slot, tf}); });
  auto p = postings_.find(std::string(term));
  if (p == postings_.end()) return out;
  if (out.empty()) return p->second;
  // A document is either in the file or here, never both.
  std::vector<Posting> merged(out.size() + p->second.size());
  std::merge(out.begin(), out.end(), p->second.begin(), p->second.end(), merged.begin(),
             [](const Posting& a, const Posting& b) { return a.slot < b.slot; });
  return merged;
}

// Version 2 (kListsVersion). Terms: count, then per term in byte order the term, its document
// count, and its list (length-prefixed: one (slot gap, term frequency) varint pair per
// document); documents: a slot count n, then n fixed u32 lengths in terms (0: not a document).
void TextIndex::Export(const ExportMap& map, std::string* out) const {
  std::vector<std::string_view> names;
  names.reserve(postings_.size() + (file_ ? file_->terms.size() : 0));
  for (const auto& [term, list] : postings_) names.push_back(term);
  if (file_ != nullptr)
    for (const InFile::Term& t : file_->terms) names.push_back(t.term);
  // In term order, so that the same index always makes the same file.
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string terms, list;
  size_t kept_terms = 0;
  for (std::string_view term : names) {
    list.clear();
    uint32_t df = 0, prev = 0;
    for (const Posting& p : PostingsOf(term)) {
      if (p.slot < map.begin) continue;
      if (p.slot >= map.end()) break;
      const uint32_t to = map(p.slot);
      if (to == kDroppedSlot) continue;
      PutVarint64(&list, df == 0 ? to : to - prev);
      PutVarint64(&list, p.tf);
      prev = to;
      ++df;
    }
    if (df == 0) continue;
    ++kept_terms;
    PutLengthPrefixed(&terms, term);
    PutVarint64(&terms, df);
    PutLengthPrefixed(&terms, list);
  }
  PutVarint64(out, kept_terms);
  out->append(terms);
  std::vector<uint32_t> lengths;
  const uint64_t stop = std::min<uint64_t>(
      map.end(), std::max<uint64_t>(doc_len_.size(), file_ ? file_->slots : 0));
  for (uint64_t slot = map.begin; slot < stop; ++slot) {
    const uint32_t s = static_cast<uint32_t>(slot);
    const uint32_t len = s < doc_len_.size() && doc_len_[s] != 0 ? doc_len_[s]
                         : file_ != nullptr                      ? file_->Length(s)
                                                                 : 0;
    if (len == 0) continue;
    const uint32_t to = map(s);
    if (to == kDroppedSlot) continue;
    if (lengths.size() <= to) lengths.resize(to + 1, 0);
    lengths[to] = len;
  }
  PutVarint64(out, lengths.size());
  for (uint32_t len : lengths) PutFixed32(out, len);
}

bool TextIndex::Import(Decoder* in, const ImportMap& map) {
  if (map.version == 1) return ImportV1(in, map);
  if (map.file != nullptr && map.base == 0 && map.map.empty() && file_ == nullptr &&
      documents_ == 0 && postings_.empty())
    return ImportInFile(in, map);
  uint64_t terms = 0;
  if (!in->GetVarint64(&terms) || terms > in->remaining()) return false;
  for (uint64_t t = 0; t < terms; ++t) {
    std::string_view term, bytes;
    uint64_t df = 0;
    // A pair takes two bytes at least: a count past that is damage, and is not reserved.
    if (!in->GetLengthPrefixed(&term) || term.empty() || !in->GetVarint64(&df) || df == 0 ||
        !in->GetLengthPrefixed(&bytes) || df > bytes.size() / 2)
      return false;
    Decoder pairs(bytes);
    std::vector<Posting>& list = postings_[std::string(term)];
    list.reserve(list.size() + df);
    uint64_t stored = 0;
    for (uint64_t i = 0; i < df; ++i) {
      uint64_t gap = 0, tf = 0;
      uint32_t to = 0;
      if (!pairs.GetVarint64(&gap) || !pairs.GetVarint64(&tf) || (i > 0 && gap == 0) ||
          tf == 0 || tf > UINT32_MAX)
        return false;
      stored += gap;
      if (stored >= kDroppedSlot || !map(static_cast<uint32_t>(stored), &to)) return false;
      if (to == kDroppedSlot) continue;
      if (!list.empty() && list.back().slot >= to) return false;
      list.push_back({to, static_cast<uint32_t>(tf)});
    }
    if (!pairs.empty()) return false;
    if (list.empty()) postings_.erase(std::string(term));
  }
  uint64_t n = 0;
  if (!in->GetVarint64(&n) || n > in->remaining() / 4) return false;
  for (uint64_t stored = 0; stored < n; ++stored) {
    uint32_t len = 0, to = 0;
    in->GetFixed32(&len);
    if (len == 0) continue;
    if (!map(static_cast<uint32_t>(stored), &to)) return false;
    if (to == kDroppedSlot) continue;
    if (doc_len_.size() <= to) doc_len_.resize(std::max<size_t>(to + 1, doc_len_.size() * 3 / 2), 0);
    if (doc_len_[to] != 0) return false;
    doc_len_[to] = len;
    documents_++;
    total_len_ += len;
  }
  return true;
}

bool TextIndex::ImportInFile(Decoder* in, const ImportMap& map) {
  auto f = std::make_unique<InFile>();
  uint64_t terms = 0;
  if (!in->GetVarint64(&terms) || terms > in->remaining()) return false;
  f->terms.reserve(terms);
  for (uint64_t t = 0; t < terms; ++t) {
    InFile::Term term;
    uint64_t df = 0;
    if (!in->GetLengthPrefixed(&term.term) || term.term.empty() || !in->GetVarint64(&df) ||
        df == 0 || df > UINT32_MAX || !in->GetLengthPrefixed(&term.list) ||
        term.list.size() < 2 * df || (!f->terms.empty() && f->terms.back().term >= term.term))
      return false;
    term.df = static_cast<uint32_t>(df);
    f->terms.push_back(term);
  }
  uint64_t n = 0;
  if (!in->GetVarint64(&n) || n > map.limit || !in->GetBytes(4 * n, &f->doc_len)) return false;
  f->slots = map.limit == kDroppedSlot ? static_cast<uint32_t>(n) : map.limit;
  for (uint64_t slot = 0; slot < n; ++slot) {
    const uint32_t len = DecodeFixed32(f->doc_len.data() + 4 * slot);
    f->documents += len != 0;
    f->total_len += len;
  }
  f->file = map.file;
  file_ = std::move(f);
  return true;
}

// Version 1: terms as count, then each term with its slot list (count and gaps) followed by its
// frequencies; documents as a slot list followed by their lengths.
bool TextIndex::ImportV1(Decoder* in, const ImportMap& map) {
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

void TextIndex::Score(std::span<const std::string> query_terms, float k1, float b, float weight,
                      ScoreAccumulator* scores) const {
  CorpusStats stats;
  AddStats(query_terms, &stats);
  Score(query_terms, k1, b, weight, stats, 0, scores);
}

void TextIndex::AddStats(std::span<const std::string> query_terms, CorpusStats* stats) const {
  stats->documents += documents();
  stats->total_len += total_len_ + (file_ ? file_->total_len : 0);
  stats->df.resize(query_terms.size(), 0);
  for (size_t i = 0; i < query_terms.size(); ++i) stats->df[i] += DocumentFrequency(query_terms[i]);
}

void TextIndex::Score(std::span<const std::string> query_terms, float k1, float b, float weight,
                      const CorpusStats& stats, uint32_t offset, ScoreAccumulator* scores) const {
  if (documents() == 0 || stats.documents == 0) return;
  const double n = static_cast<double>(stats.documents);
  const double avg = static_cast<double>(stats.total_len) / n;
  for (size_t i = 0; i < query_terms.size(); ++i) {
    auto p = postings_.find(query_terms[i]);
    const InFile::Term* in_file = file_ ? file_->Find(query_terms[i]) : nullptr;
    if (p == postings_.end() && in_file == nullptr) continue;
    const double df = static_cast<double>(stats.df[i]);
    const double idf = weight * std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    // tf·(k1+1) / (tf + k1·(1−b) + k1·b/avg · len)
    const float top = static_cast<float>(idf * (k1 + 1.0));
    const float base = static_cast<float>(k1 * (1.0 - b));
    const float per_len = static_cast<float>(k1 * b / avg);
    auto add = [&](uint32_t slot, uint32_t tf_count, uint32_t len) {
      const float tf = static_cast<float>(tf_count);
      scores->Add(offset + slot, top * tf / (tf + base + per_len * static_cast<float>(len)));
    };
    if (in_file != nullptr)
      file_->ForEach(*in_file, [&](uint32_t slot, uint32_t tf) {
        add(slot, tf, file_->StoredLength(slot));
      });
    if (p != postings_.end())
      for (const Posting& post : p->second) add(post.slot, post.tf, doc_len_[post.slot]);
  }
}

std::vector<uint32_t> TextIndex::SlotsWithAll(std::span<const std::string> terms) const {
  std::vector<std::vector<uint32_t>> lists;
  for (const std::string& term : terms) {
    std::vector<uint32_t> slots;
    for (const Posting& p : PostingsOf(term)) slots.push_back(p.slot);
    if (slots.empty()) return {};
    lists.push_back(std::move(slots));
  }
  if (lists.empty()) return {};
  // Shortest list first: it bounds the result, and each later list is only probed.
  std::sort(lists.begin(), lists.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
  std::vector<uint32_t> out = std::move(lists[0]);
  for (size_t i = 1; i < lists.size() && !out.empty(); ++i) {
    std::vector<uint32_t> kept;
    auto from = lists[i].begin();
    for (uint32_t slot : out) {
      from = std::lower_bound(from, lists[i].end(), slot);
      if (from == lists[i].end()) break;
      if (*from == slot) kept.push_back(slot);
    }
    out = std::move(kept);
  }
  return out;
}

size_t TextIndex::DocumentFrequency(const std::string& term) const {
  auto p = postings_.find(term);
  return (p == postings_.end() ? 0 : p->second.size()) + (file_ ? file_->Frequency(term) : 0);
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
  if (file_ != nullptr) {
    bytes += sizeof(InFile) + file_->terms.capacity() * sizeof(InFile::Term) +
             (file_->erased.size() + 7) / 8 + file_->erased_df.bucket_count() * sizeof(void*);
    for (const auto& [term, count] : file_->erased_df)
      bytes += sizeof(std::pair<const std::string, uint32_t>) + sizeof(void*) + term.capacity();
  }
  return bytes;
}

}  // namespace mosaic::index
