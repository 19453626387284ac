// TextIndex: the inverted index under a Bm25Index (bm25_index.h). Each slot (the collection's
// internal point number) is a document: its terms with their frequencies and its length in terms.
// Term-at-a-time BM25 scoring over the query terms' posting lists, and the documents holding
// given terms. ScoreAccumulator collects the scores and picks the best. Not synchronized: the
// owning collection guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bitset.h"
#include "common/coding.h"
#include "index/slot_io.h"

namespace mosaic::index {

// Scores by slot, dense (a query touches many documents: a hash map costs several times more),
// with the slots that got one. BM25 contributions are positive, so 0 means untouched.
struct ScoreAccumulator {
  explicit ScoreAccumulator(size_t slots = 0) : score(slots, 0.0f) {}
  void Add(uint32_t slot, float s) {
    if (slot >= score.size()) score.resize(slot + 1, 0.0f);
    if (score[slot] == 0.0f) touched.push_back(slot);
    score[slot] += s;
  }
  // The k best (slot, score) pairs among the touched slots in `allow` (all of them when null),
  // best first; equal scores in the order `before` gives their slots.
  std::vector<std::pair<uint32_t, float>> Top(
      size_t k, const Bitset* allow, const std::function<bool(uint32_t, uint32_t)>& before) const;

  std::vector<float> score;       // by slot
  std::vector<uint32_t> touched;  // slots with a score, in first-touch order
};

class TextIndex {
 public:
  // Adds the document `slot` with these terms (repeats are its term frequencies). A slot already
  // present must be Erased first.
  void Insert(uint32_t slot, std::span<const std::string> terms);
  // Removes the document `slot`, which was inserted with exactly these terms.
  void Erase(uint32_t slot, std::span<const std::string> terms);
  // Persistence (docs/segment_format.md, "Index files"): Export appends the documents `map`
  // keeps, renumbered; Import adds those of an export, renumbered by `map`, whose slots must all
  // follow those already here. false for damage (the index may then hold part of it). An import
  // of a whole file at its own slots into an empty index (ImportMap::file) reads the posting
  // lists in the file, keeping it, rather than copying them: only the term dictionary is built.
  // Documents inserted later go beside those lists, and an erased one of them is marked as such
  // (with its terms' document frequencies corrected), so every figure below stays exact.
  void Export(const ExportMap& map, std::string* out) const;
  bool Import(Decoder* in, const ImportMap& map);

  // Adds to each document's score `weight` times the BM25 score of each query term (a term given
  // twice counts twice) it contains: idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·len/avg_len)),
  // idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)), N the documents with at least one term.
  void Score(std::span<const std::string> query_terms, float k1, float b, float weight,
             ScoreAccumulator* scores) const;
  // The figures BM25 takes from the whole corpus, summed over the indexes of its parts
  // (AddStats), so that each part scores its documents as one index over all of them would.
  struct CorpusStats {
    size_t documents = 0;
    uint64_t total_len = 0;
    std::vector<size_t> df;  // by position in the query's terms
  };
  void AddStats(std::span<const std::string> query_terms, CorpusStats* stats) const;
  // Score with the corpus's figures; document d is scored at slot offset + d.
  void Score(std::span<const std::string> query_terms, float k1, float b, float weight,
             const CorpusStats& stats, uint32_t offset, ScoreAccumulator* scores) const;

  // The documents holding every one of `terms`, sorted; none for an empty list.
  std::vector<uint32_t> SlotsWithAll(std::span<const std::string> terms) const;
  // How many documents hold `term`.
  size_t DocumentFrequency(const std::string& term) const;

  size_t documents() const { return documents_ + (file_ ? file_->documents : 0); }
  double average_length() const {
    const size_t n = documents();
    return n == 0 ? 0 : double(total_len_ + (file_ ? file_->total_len : 0)) / n;
  }
  // Whether posting lists are read in place from an index file.
  bool in_file() const { return file_ != nullptr; }
  // The heap this index holds (the lists read in place from a file are page cache, not heap).
  size_t MemoryBytes() const;

 private:
  struct Posting {
    uint32_t slot;
    uint32_t tf;
  };
  // The documents of an index file, read in place (Import with ImportMap::file).
  struct InFile {
    struct Term {
      std::string_view term;
      uint32_t df;            // as written: erased documents still counted
      std::string_view list;  // df (slot gap, tf) varint pairs
    };
    std::shared_ptr<const FileView> file;  // keeps the bytes below
    std::vector<Term> terms;               // in byte order
    std::string_view doc_len;              // u32 per slot; 0: not a document
    uint32_t slots = 0;                    // the file's (its postings' slots are below it)
    size_t documents = 0;                  // those not erased
    uint64_t total_len = 0;
    Bitset erased;  // by slot, sized on the first erase
    std::unordered_map<std::string, uint32_t> erased_df;  // documents erased, by term

    const Term* Find(std::string_view term) const;
    uint32_t Length(uint32_t slot) const;  // 0 when not a document or erased
    uint32_t StoredLength(uint32_t slot) const {  // as written, erased or not
      return slot < doc_len.size() / 4 ? DecodeFixed32(doc_len.data() + 4 * size_t{slot}) : 0;
    }
    size_t Frequency(std::string_view term) const;
    // Calls fn(slot, tf) for the term's documents not erased, in slot order; stops at damage.
    template <typename Fn>
    void ForEach(const Term& t, Fn&& fn) const;
  };

  bool ImportV1(Decoder* in, const ImportMap& map);
  bool ImportInFile(Decoder* in, const ImportMap& map);
  // The documents holding `term`, in slot order, with their frequencies.
  std::vector<Posting> PostingsOf(std::string_view term) const;

  std::unordered_map<std::string, std::vector<Posting>> postings_;  // sorted by slot
  std::vector<uint32_t> doc_len_;  // by slot; 0: not a document
  size_t documents_ = 0;
  uint64_t total_len_ = 0;
  std::unique_ptr<InFile> file_;
};

}  // namespace mosaic::index
