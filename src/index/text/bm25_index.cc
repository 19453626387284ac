#include "index/text/bm25_index.h"

#include <algorithm>
#include <iterator>

namespace mosaic::index {

const Result<text::WordTokenizer>& FullTextTokenizer() {
  static const Result<text::WordTokenizer> tokenizer = text::WordTokenizer::Create();
  return tokenizer;
}

std::vector<std::string> Bm25Index::TermsOf(std::span<const std::string_view> texts) const {
  std::vector<std::string> terms;
  for (std::string_view t : texts) {
    std::vector<std::string> more = tokenizer_.Terms(t);
    terms.insert(terms.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return terms;
}

void Bm25Index::Insert(uint32_t slot, std::span<const std::string_view> texts) {
  index_.Insert(slot, TermsOf(texts));
}

void Bm25Index::Erase(uint32_t slot, std::span<const std::string_view> texts) {
  index_.Erase(slot, TermsOf(texts));
}

void Bm25Index::Score(std::string_view query, float k1, float b, float weight,
                      ScoreAccumulator* scores) const {
  index_.Score(tokenizer_.Terms(query), k1, b, weight, scores);
}

size_t Bm25Index::EstimateWithAll(std::span<const std::string> terms) const {
  size_t least = index_.documents();
  for (const std::string& t : terms)
    least = std::min(least, index_.DocumentFrequency(t));
  return least;
}

}  // namespace mosaic::index
