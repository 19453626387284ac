// WordTokenizer: text → index terms for full-text (BM25) search. Words are found with ICU's
// Unicode word boundaries (UAX #29; dictionary-based for Thai, CJK, ...), normalized with NFKC
// case folding, English stopwords dropped, and letters-only words reduced by the Snowball
// stemmer of the chosen language ("running", "runs" → "run"). Numbers are kept as written.
//
// Thread safety: const methods may be called from any number of threads (each thread keeps its
// own ICU break iterator and stemmer).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::text {

struct WordTokenizerOptions {
  std::string stem_language = "english";  // a Snowball stemmer name, or "" for none
  bool drop_stopwords = true;             // the English stopword list (docs/text_search.md)
  size_t max_term_bytes = 64;             // longer words (hashes, base64, URLs run together) dropped
};

// A term and where its word is in the text (byte offsets, end excluded).
struct TermSpan {
  std::string term;
  size_t begin = 0;
  size_t end = 0;
};

class WordTokenizer {
 public:
  // InvalidArgument naming the language when Snowball has no stemmer for it.
  static Result<WordTokenizer> Create(const WordTokenizerOptions& options = {});

  // The terms of `text` in order (repeats kept: they are term frequencies). Invalid UTF-8 is
  // read as U+FFFD and so splits words.
  std::vector<std::string> Terms(std::string_view text) const;
  // The same terms with the byte range of the word each came from, for highlighting. Words are
  // found in the text as written and folded one by one, so a case fold that would join or split
  // words (rare: compatibility characters at a word's edge) can make these differ from Terms().
  std::vector<TermSpan> Spans(std::string_view text) const;
  // Only the words for which `may_match(folded word)` holds are stemmed and returned: finding a
  // few terms in a passage need not stem all its words (stemming is most of the cost). A stem
  // never changes a word's first letter, so a first-letter test loses no match.
  std::vector<TermSpan> Spans(std::string_view text,
                              const std::function<bool(std::string_view)>& may_match) const;

  const WordTokenizerOptions& options() const { return options_; }

 private:
  explicit WordTokenizer(WordTokenizerOptions options) : options_(std::move(options)) {}
  WordTokenizerOptions options_;
};

// True for the words WordTokenizer drops as stopwords (already case-folded).
bool IsStopword(std::string_view folded_word);

}  // namespace mosaic::text
