// WordTokenizer: words by Unicode boundaries, NFKC case folding, stopwords, Snowball stems.
#include "text/word_tokenizer.h"

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

}  // namespace
}  // namespace mosaic::text
