// WordTokenizer: words by Unicode boundaries, NFKC case folding, stopwords, Snowball stems.
#include "text/word_tokenizer.h"

#include "text/sentences.h"

#include <gtest/gtest.h>

#include <thread>

namespace mosaic::text {
namespace {

using Terms = std::vector<std::string>;

WordTokenizer Make(WordTokenizerOptions o = {}) {
  auto t = WordTokenizer::Create(o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(WordTokenizerTest, WordsAreFoldedStemmedAndStopwordsDropped) {
  const WordTokenizer t = Make();
  EXPECT_EQ(t.Terms("The Cats were RUNNING quickly; running-dogs ran."),
            (Terms{"cat", "run", "quick", "run", "dog", "ran"}));
  EXPECT_EQ(t.Terms("Diffusion tensor imaging of the developing brain"),
            (Terms{"diffus", "tensor", "imag", "develop", "brain"}));
  EXPECT_TRUE(t.Terms("").empty());
  EXPECT_TRUE(t.Terms("  ... --- !!! ").empty());
  EXPECT_TRUE(t.Terms("the of and to").empty());
}

TEST(WordTokenizerTest, NumbersAreKeptAsWritten) {
  const WordTokenizer t = Make();
  EXPECT_EQ(t.Terms("IL-6 levels rose 3.5-fold in 2019"), (Terms{"il", "6", "level", "rose", "3.5", "fold", "2019"}));
}

TEST(WordTokenizerTest, UnicodeFormsOfAWordGiveOneTerm) {
  const WordTokenizer t = Make();
  EXPECT_EQ(t.Terms("Straße"), t.Terms("STRASSE"));            // case folding: ß = ss
  EXPECT_EQ(t.Terms("ｆｕｌｌｗｉｄｔｈ"), t.Terms("fullwidth"));  // NFKC
  EXPECT_EQ(t.Terms("café"), t.Terms("cafe\xcc\x81"));         // composed = decomposed
  // Ideographs are words too (dictionary segmentation), not dropped.
  EXPECT_FALSE(t.Terms("東京都に住んでいます").empty());
}

TEST(WordTokenizerTest, OptionsAndBadInput) {
  WordTokenizerOptions plain;
  plain.stem_language = "";
  plain.drop_stopwords = false;
  EXPECT_EQ(Make(plain).Terms("The running dogs"), (Terms{"the", "running", "dogs"}));
  WordTokenizerOptions german;
  german.stem_language = "german";
  EXPECT_EQ(Make(german).Terms("Häuser"), Make(german).Terms("Haus"));

  auto bad = WordTokenizer::Create({.stem_language = "klingon"});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("klingon"), std::string::npos);

  const WordTokenizer t = Make();
  EXPECT_EQ(t.Terms("short " + std::string(100, 'x') + " words"), (Terms{"short", "word"}));
  // Invalid UTF-8 splits words and does not stop the rest.
  EXPECT_EQ(t.Terms("cell\xff" "biology"), (Terms{"cell", "biolog"}));
}

TEST(WordTokenizerTest, ThreadsGetTheSameTerms) {
  const WordTokenizer t = Make();
  const std::string text = "Microstructural development of human newborn cerebral white matter, assessed in vivo.";
  const Terms expected = t.Terms(text);
  std::vector<Terms> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) got[i] = t.Terms(text);
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

// Term spans for highlighting: the same terms as Terms(), each with the bytes of its word.
TEST(WordTokenizerSpans, SameTermsAsTermsWithTheirBytes) {
  auto t = WordTokenizer::Create().value();
  const std::string s = "Café owners RUNNING the 3.5 km race — naïve 🐕 dogs!";
  std::vector<std::string> terms;
  for (const auto& span : t.Spans(s)) {
    terms.push_back(span.term);
    ASSERT_LE(span.end, s.size());
    const std::string word = s.substr(span.begin, span.end - span.begin);
    EXPECT_EQ(t.Terms(word), std::vector<std::string>{span.term}) << word;
  }
  EXPECT_EQ(terms, t.Terms(s));
  auto spans = t.Spans(s);
  ASSERT_GE(spans.size(), 2u);
  EXPECT_EQ(s.substr(spans[0].begin, spans[0].end - spans[0].begin), "Café");
  EXPECT_EQ(s.substr(spans.back().begin, spans.back().end - spans.back().begin), "dogs");
  EXPECT_TRUE(t.Spans("").empty());
  EXPECT_TRUE(t.Spans("the of and").empty());
}

TEST(Sentences, SplitsAndTrims) {
  const std::string s = "  Dr. Smith arrived at 3 p.m. today. Did he stay?  Yes!\n\nNew line here ";
  std::vector<std::string> got;
  for (auto [b, e] : SentenceSpans(s)) got.push_back(s.substr(b, e - b));
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got.back(), "New line here");
  for (const auto& g : got) {
    EXPECT_FALSE(g.empty());
    EXPECT_NE(g.front(), ' ');
    EXPECT_NE(g.back(), ' ');
  }
  EXPECT_NE(std::find(got.begin(), got.end(), "Did he stay?"), got.end());
  EXPECT_TRUE(SentenceSpans("").empty());
  EXPECT_TRUE(SentenceSpans("   \n ").empty());
}

}  // namespace
}  // namespace mosaic::text
