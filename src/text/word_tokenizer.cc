#include "text/word_tokenizer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/rbbi.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <map>
#include <memory>

#include "text/unicode_util.h"

namespace mosaic::text {
namespace {

// Function words too common to tell documents apart: articles, auxiliaries, pronouns,
// prepositions and conjunctions. Sorted, for binary search.
constexpr std::array<std::string_view, 54> kStopwords = {
    "a",    "an",   "and",   "are",   "as",    "at",   "be",    "been",  "but",  "by",   "can",
    "could", "did", "do",    "does",  "for",   "from", "had",   "has",   "have", "he",   "her",
    "his",  "i",    "if",    "in",    "into",  "is",   "it",    "its",   "may",  "no",   "not",
    "of",   "on",   "or",    "our",   "she",   "so",   "such",  "than",  "that", "the",  "their",
    "then", "there", "these", "they", "this",  "to",   "was",   "we",    "were", "with"};

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using StemmerPtr = std::unique_ptr<sb_stemmer, StemmerDeleter>;

// This thread's stemmer for `language` (Snowball stemmers keep state between calls).
sb_stemmer* ThreadStemmer(const std::string& language) {
  thread_local std::map<std::string, StemmerPtr> stemmers;
  auto it = stemmers.find(language);
  if (it == stemmers.end())
    it = stemmers.emplace(language, StemmerPtr(sb_stemmer_new(language.c_str(), "UTF_8"))).first;
  return it->second.get();
}

// This thread's word break iterator (ICU iterators are not thread-safe; creating one costs far
// more than reusing it).
icu::BreakIterator* ThreadWordBreaker() {
  thread_local std::unique_ptr<icu::BreakIterator> breaker = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    return U_SUCCESS(status) ? std::move(b) : nullptr;
  }();
  return breaker.get();
}

}  // namespace

bool IsStopword(std::string_view folded_word) {
  return std::binary_search(kStopwords.begin(), kStopwords.end(), folded_word);
}

Result<WordTokenizer> WordTokenizer::Create(const WordTokenizerOptions& options) {
  if (!options.stem_language.empty()) {
    StemmerPtr probe(sb_stemmer_new(options.stem_language.c_str(), "UTF_8"));
    if (probe == nullptr)
      return Status::InvalidArgument("no Snowball stemmer for language '" + options.stem_language + "'");
  }
  if (ThreadWordBreaker() == nullptr) return Status::Internal("ICU word break iterator unavailable");
  return WordTokenizer(options);
}

namespace {

// The index term of one case-folded word, or "" when it is not indexed (a stopword, too long).
std::string TermOf(std::string word, int32_t rule, const WordTokenizerOptions& options,
                   sb_stemmer* stemmer) {
  if (word.size() > options.max_term_bytes) return {};
  if (options.drop_stopwords && IsStopword(word)) return {};
  if (stemmer != nullptr && rule >= UBRK_WORD_LETTER && rule < UBRK_WORD_LETTER_LIMIT) {
    const sb_symbol* stem =
        sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
    if (stem != nullptr) word.assign(reinterpret_cast<const char*>(stem), static_cast<size_t>(sb_stemmer_length(stemmer)));
  }
  return word;
}

}  // namespace

std::vector<TermSpan> WordTokenizer::Spans(std::string_view text) const { return Spans(text, {}); }

std::vector<TermSpan> WordTokenizer::Spans(std::string_view text,
                                           const std::function<bool(std::string_view)>& may_match) const {
  std::vector<TermSpan> spans;
  if (text.empty()) return spans;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::BreakIterator* breaker = ThreadWordBreaker();
  if (U_FAILURE(status) || breaker == nullptr) return spans;
  const icu::UnicodeString original =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const std::vector<size_t> byte_at = Utf16ByteOffsets(text);
  if (byte_at.size() != static_cast<size_t>(original.length()) + 1) return spans;
  breaker->setText(original);
  sb_stemmer* stemmer = options_.stem_language.empty() ? nullptr : ThreadStemmer(options_.stem_language);
  for (int32_t start = breaker->first(), end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    const int32_t rule = breaker->getRuleStatus();
    if (rule < UBRK_WORD_NUMBER) continue;
    const size_t b = byte_at[static_cast<size_t>(start)], e = byte_at[static_cast<size_t>(end)];
    std::string word;
    if (std::all_of(text.begin() + b, text.begin() + e, [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
      // NFKC case folding of ASCII is lower-casing: skip ICU's normalizer (most words, most time).
      word.assign(text.substr(b, e - b));
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      icu::UnicodeString folded = fold->normalize(original.tempSubStringBetween(start, end), status);
      if (U_FAILURE(status)) return spans;
      folded.toUTF8String(word);
    }
    if (may_match && !may_match(word)) continue;
    std::string term = TermOf(std::move(word), rule, options_, stemmer);
    if (term.empty()) continue;
    spans.push_back({std::move(term), b, e});
  }
  return spans;
}

std::vector<std::string> WordTokenizer::Terms(std::string_view text) const {
  std::vector<std::string> terms;
  if (text.empty()) return terms;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::BreakIterator* breaker = ThreadWordBreaker();
  if (U_FAILURE(status) || breaker == nullptr) return terms;
  icu::UnicodeString folded =
      fold->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size()))), status);
  if (U_FAILURE(status)) return terms;
  breaker->setText(folded);
  sb_stemmer* stemmer = options_.stem_language.empty() ? nullptr : ThreadStemmer(options_.stem_language);
  std::string word;
  for (int32_t start = breaker->first(), end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    const int32_t rule = breaker->getRuleStatus();
    if (rule < UBRK_WORD_NUMBER) continue;  // spaces, punctuation, symbols
    word.clear();
    folded.tempSubStringBetween(start, end).toUTF8String(word);
    std::string term = TermOf(std::move(word), rule, options_, stemmer);
    if (!term.empty()) terms.push_back(std::move(term));
  }
  return terms;
}

}  // namespace mosaic::text
