// Bm25Index: full-text retrieval over one payload field, beside the vector indexes. Each point
// (slot) is one document made of the terms of all its strings at the field, as the full-text
// tokenizer gives them (text::WordTokenizer: NFKC case folding, stopwords dropped, Snowball
// stems; docs/text_search.md). It scores documents by BM25 for a query (the best k then come from
// ScoreAccumulator::Top under an allow-set), and lists the documents holding all of a query's
// terms, which the filter planner uses for "match": {"text"} and {"phrase"} conditions.
// Not synchronized: the owning collection guards it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/text/text_index.h"
#include "mosaic/status.h"
#include "text/word_tokenizer.h"

namespace mosaic::index {

// The tokenizer of every text index and every full-text filter condition, so that both see the
// same terms; an error when ICU or the stemmer is unavailable.
const Result<text::WordTokenizer>& FullTextTokenizer();

inline constexpr uint32_t kTextAnalysisVersion = 1;

class Bm25Index {
 public:
  explicit Bm25Index(text::WordTokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}

  // Adds the document `slot` made of these strings; a slot already present must be Erased first,
  // with the same strings it was inserted with.
  void Insert(uint32_t slot, std::span<const std::string_view> texts);
  void Erase(uint32_t slot, std::span<const std::string_view> texts);
  // Insert in two steps: the terms of the strings (the tokenizer's work, which reads nothing of
  // the index), then the document with those terms.
  std::vector<std::string> TermsOf(std::span<const std::string_view> texts) const;
  void InsertTerms(uint32_t slot, std::span<const std::string> terms) { index_.Insert(slot, terms); }
  // See TextIndex. Persisted terms are what this build's tokenizer gives: bump
  // kTextAnalysisVersion when it would give others, so that older files are not imported.
  void Export(const ExportMap& map, std::string* out) const { index_.Export(map, out); }
  bool Import(Decoder* in, const ImportMap& map) { return index_.Import(in, map); }

  // Adds to `scores` `weight` times the BM25 score (TextIndex::Score) of every document holding
  // a term of `query`.
  void Score(std::string_view query, float k1, float b, float weight,
             ScoreAccumulator* scores) const;
  // A query's terms, and the index they are scored in (for a corpus split into parts:
  // TextIndex::CorpusStats).
  std::vector<std::string> QueryTerms(std::string_view query) const {
    return tokenizer_.Terms(query);
  }
  const TextIndex& index() const { return index_; }

  // The documents holding all of `terms` (already tokenized), sorted, and a cheap upper bound on
  // how many there are.
  std::vector<uint32_t> SlotsWithAll(std::span<const std::string> terms) const {
    return index_.SlotsWithAll(terms);
  }
  size_t EstimateWithAll(std::span<const std::string> terms) const;

  size_t documents() const { return index_.documents(); }
  size_t MemoryBytes() const { return index_.MemoryBytes(); }

 private:
  text::WordTokenizer tokenizer_;
  TextIndex index_;
};

}  // namespace mosaic::index
