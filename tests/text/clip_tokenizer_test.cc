#include "text/clip_tokenizer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::text {
namespace {

std::string MergesPath() {
  return mosaic::testing::NpmPackageDir("modelzoo-0.0.4") + "/bpe_simple_vocab_16e6.txt";
}

const ClipTokenizer& Tokenizer() {
  static const ClipTokenizer* tok = [] {
    auto loaded = ClipTokenizer::Load(MergesPath());
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return new ClipTokenizer(std::move(loaded).value());
  }();
  return *tok;
}

std::vector<int32_t> EncodeOk(std::string_view text) {
  auto ids = Tokenizer().Encode(text);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

std::string WithoutSpaces(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ClipTokenizerTest, VocabularyLayout) {
  const ClipTokenizer& tok = Tokenizer();
  EXPECT_EQ(tok.vocab_size(), 49408);
  EXPECT_EQ(tok.sot_id(), 49406);
  EXPECT_EQ(tok.eot_id(), 49407);
  const int32_t ids[] = {49406, 49407};
  EXPECT_EQ(tok.Decode(ids), "<|startoftext|><|endoftext|>");
}

// ids made by clip.tokenize (modelzoo's test data).
TEST(ClipTokenizerTest, GoldenIdsFromClipTokenize) {
  std::ifstream in(mosaic::testing::NpmPackageDir("modelzoo-0.0.4") + "/test/clip_data.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json data = nlohmann::json::parse(in);
  const auto& cases = data.at("cases");
  const auto& expected = data.at("tokenizer");
  ASSERT_EQ(cases.size(), 3u);
  ASSERT_EQ(expected.size(), cases.size());
  std::vector<std::string> texts;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string text = cases[i].get<std::string>();
    texts.push_back(text);
    const auto want = expected[i][0].get<std::vector<int64_t>>();
    auto got = Tokenizer().Tokenize(text);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want) << text;
  }
  auto batch = Tokenizer().TokenizeBatch(texts);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->rows(), 3u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto want = expected[i][0].get<std::vector<int64_t>>();
    const std::vector<int64_t> row(batch->ids.begin() + static_cast<std::ptrdiff_t>(i * 77),
                                   batch->ids.begin() + static_cast<std::ptrdiff_t>((i + 1) * 77));
    EXPECT_EQ(row, want);
    // The text tower pools at argmax(ids), which is where eot sits.
    const auto argmax = std::max_element(row.begin(), row.end()) - row.begin();
    EXPECT_EQ(batch->eot_index[i], argmax);
  }
}

// ids from openai/CLIP's SimpleTokenizer.encode (with ftfy 6 and the regex module), covering
// cleanup, contractions, digits, HTML entities and byte-level fallback.
TEST(ClipTokenizerTest, GoldenIdsFromSimpleTokenizer) {
  const std::pair<std::string, std::vector<int32_t>> cases[] = {
    {"A photo of a CAT sitting on the mat!!",
     {320, 1125, 539, 320, 2368, 4919, 525, 518, 9063, 748}},
    {"Don\xe2\x80\x99t you think it's 12345 o'clock? I'll say we're fine, they've said I'm sure he'd",
     {847, 713, 592, 1331, 585, 568, 272, 273, 274, 275, 276, 334, 262, 6716, 286, 328, 1342, 1451, 649, 982, 3797, 267, 889, 1200, 1946, 328, 880, 1650, 797, 1896}},
    {"&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; &quot;quoted&quot; caf&eacute; &#8364;5 &#x1F600; &nbsp; AT&T",
     {283, 321, 285, 8911, 34308, 321, 285, 257, 27706, 257, 15304, 6309, 276, 7334, 536, 261, 339}},
    {"<b>tags</b> keep &amp;amp; once",
     {283, 321, 285, 11606, 34308, 321, 285, 1726, 261, 2654}},
    {"  lots\x09\x09of \x0a\x0a whitespace\xe3\x80\x80here\xc2\xa0too  ",
     {2958, 539, 4699, 2138, 763, 1256}},
    {"Emoji \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd and \xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd and \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 and \xc3\x89""COLE na\xc3\xafve Stra\xc3\x9f""e",
     {16327, 12832, 43722, 537, 48338, 21078, 105, 165, 225, 377, 537, 12986, 10948, 25722, 16378, 22625, 537, 3459, 8166, 1097, 35689, 563, 1894, 127, 253, 324}},
    {"e\xcc\x81 composed \xef\xac\x81nance \xef\xbc\xac\xef\xbc\xaf\xef\xbc\xb5\xef\xbc\xa4 \xc4\xb0stanbul \xce\x9f\xce\x94\xce\x9f\xce\xa3",
     {4166, 19916, 6117, 7464, 328, 16384, 11231, 138, 123, 138, 112, 138, 123, 139, 480}},
    {"<|startoftext|>hi<|endoftext|> <|StartOfText|> \xe2\x80\x98quoted\xe2\x80\x99 \xe2\x80\x9c""double\xe2\x80\x9d",
     {49406, 1883, 49407, 49406, 262, 27706, 262, 257, 3200, 257}},
    {"x\xcd\x85y 'S 's \xc5\xbf '\xc5\xbf \xc2\xbd \xe2\x85\xa7 \xd9\xa3\xd9\xa4 ...!?;:--",
     {343, 344, 568, 568, 129, 379, 6, 129, 379, 33613, 158, 227, 371, 149, 352, 149, 353, 3002, 0, 30, 26, 25, 2432}},
    {"control\x01\x1b""chars\x1b[31mred\x1b[0m and \xc2\x85 next \xc2\x92",
     {9963, 1054, 82, 736, 537, 959, 1131, 262}},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(EncodeOk(text), want) << text;
  }
}

TEST(ClipTokenizerTest, DecodeInvertsEncodeUpToSpaces) {
  const std::string texts[] = {
      "Hello, World! How are you?",
      "numbers 3.14159 and 2024-01-01",
      "Don't stop: we'll've it's",
      "caf\xc3\xa9 na\xc3\xafve \xc3\x85ngstr\xc3\xb6m",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0 \xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
      "emoji \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 \xf0\x9f\x87\xab\xf0\x9f\x87\xb7",
      "&lt;tag&gt; &amp; &#169; &eacute;",
      "   spaced \t out \n text   ",
      "",
  };
  for (const std::string& text : texts) {
    auto cleaned = ClipTokenizer::Clean(text);
    ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
    const std::vector<int32_t> ids = EncodeOk(text);
    const std::string decoded = Tokenizer().Decode(ids);
    EXPECT_EQ(WithoutSpaces(decoded), WithoutSpaces(*cleaned)) << text;
    EXPECT_EQ(decoded.empty(), cleaned->empty()) << text;
  }
  // Space-separated words come back exactly, each followed by its end-of-word space.
  EXPECT_EQ(Tokenizer().Decode(EncodeOk("A  quick\tBROWN fox")), "a quick brown fox ");
}

TEST(ClipTokenizerTest, CleanFollowsClip) {
  EXPECT_EQ(*ClipTokenizer::Clean("  Hello \t\n WORLD  "), "hello world");
  // ftfy unescapes until nothing changes when the text has no '<'; html.unescape runs twice.
  EXPECT_EQ(*ClipTokenizer::Clean("&amp;amp;amp;lt;b&amp;gt;"), "<b>");
  // With a '<' only CLIP's two html.unescape passes apply.
  EXPECT_EQ(*ClipTokenizer::Clean("<p>&amp;amp;amp;</p>"), "<p>&amp;</p>");
  // Python's html.unescape also decodes legacy names without ';'.
  EXPECT_EQ(*ClipTokenizer::Clean("<x> &copy2024 &notit;"), "<x> \xc2\xa9" "2024 \xc2\xacit;");
  // Curly quotes, ligatures, full-width forms, NFC, final sigma.
  EXPECT_EQ(*ClipTokenizer::Clean("\xe2\x80\x9cIt\xe2\x80\x99s \xef\xac\x81ne\xe2\x80\x9d \xef\xbc\xa1\xef\xbc\xa2"),
            "\"it's fine\" ab");
  EXPECT_EQ(*ClipTokenizer::Clean("e\xcc\x81"), "\xc3\xa9");
  EXPECT_EQ(*ClipTokenizer::Clean("\xce\x9f\xce\x94\xce\x9f\xce\xa3"), "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");
  // Control characters and terminal escapes disappear.
  EXPECT_EQ(*ClipTokenizer::Clean("a\x01" "b\x1b[1;31mc\x7f"), "abc");
}

TEST(ClipTokenizerTest, DigitsAndContractionsSplit) {
  const std::vector<int32_t> digits = EncodeOk("2024");
  ASSERT_EQ(digits.size(), 4u);
  for (size_t i = 0; i < digits.size(); ++i) {
    const int32_t one[] = {digits[i]};
    EXPECT_EQ(Tokenizer().Decode(one), std::string(1, "2024"[i]) + " ");
  }
  const std::vector<int32_t> ids = EncodeOk("don't");
  ASSERT_EQ(ids.size(), 2u);
  const int32_t first[] = {ids[0]};
  const int32_t second[] = {ids[1]};
  EXPECT_EQ(Tokenizer().Decode(first), "don ");
  EXPECT_EQ(Tokenizer().Decode(second), "'t ");
}

TEST(ClipTokenizerTest, TruncatesWithEotLast) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i % 10) + " ";
  const std::vector<int32_t> ids = EncodeOk(text);
  ASSERT_GT(ids.size(), 77u);
  int32_t eot_index = -1;
  auto row = Tokenizer().Tokenize(text, 77, /*truncate=*/true, &eot_index);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->size(), 77u);
  EXPECT_EQ((*row)[0], 49406);
  EXPECT_EQ((*row)[76], 49407);
  EXPECT_EQ(eot_index, 76);
  for (size_t i = 1; i < 76; ++i) EXPECT_EQ((*row)[i], ids[i - 1]) << i;

  auto refused = Tokenizer().Tokenize(text, 77, /*truncate=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("text has " + std::to_string(ids.size() + 2) +
                                            " tokens, over the context length 77"),
            std::string::npos)
      << refused.status().ToString();

  // Exactly full fits without truncation.
  const std::string fits(75, '7');
  auto full = Tokenizer().Tokenize(fits, 77, /*truncate=*/false, &eot_index);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ((*full)[76], 49407);
  EXPECT_EQ(eot_index, 76);
  EXPECT_FALSE(Tokenizer().Tokenize(fits + "7", 77, false).ok());

  const std::vector<std::string> batch_texts = {"short", text};
  auto batch_error = Tokenizer().TokenizeBatch(batch_texts, 77, /*truncate=*/false);
  ASSERT_FALSE(batch_error.ok());
  EXPECT_NE(batch_error.status().message().find("text 1"), std::string::npos);
  EXPECT_FALSE(Tokenizer().Tokenize("x", 1).ok());
}

TEST(ClipTokenizerTest, RejectsInvalidUtf8WithOffset) {
  const std::string bad[] = {std::string("ab\xc3(", 4), std::string("ab\xed\xa0\x80", 5),
                             std::string("ab\xc0\xaf", 4), std::string("ab\xf4\x90\x80\x80", 6),
                             std::string("ab\xe2\x82", 4)};
  for (const std::string& text : bad) {
    auto ids = Tokenizer().Encode(text);
    ASSERT_FALSE(ids.ok());
    EXPECT_TRUE(ids.status().IsInvalidArgument());
    EXPECT_NE(ids.status().message().find("byte offset 2"), std::string::npos) << ids.status().ToString();
    EXPECT_FALSE(Tokenizer().Tokenize(text).ok());
  }
}

TEST(ClipTokenizerTest, DecodeReplacesBrokenUtf8AndSkipsUnknownIds) {
  // U+0523 is not in the vocabulary: two byte-level tokens; the first alone is an invalid byte.
  const std::vector<int32_t> ids = EncodeOk("\xd4\xa3");
  ASSERT_EQ(ids.size(), 2u);
  const int32_t first[] = {ids[0]};
  EXPECT_EQ(Tokenizer().Decode(first), "\xef\xbf\xbd");
  const int32_t unknown[] = {-1, 49408, ids[0], ids[1]};
  EXPECT_EQ(Tokenizer().Decode(unknown), "\xd4\xa3 ");
}

TEST(ClipTokenizerTest, LoadErrors) {
  mosaic::testing::TempDir dir;
  auto missing = ClipTokenizer::Load(dir / "nope.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(dir / "nope.txt"), std::string::npos);

  const std::string merges = ReadFile(MergesPath());
  ASSERT_FALSE(merges.empty());
  // Line 3 (the second merge) gets a third symbol.
  std::string bad = merges;
  const size_t line3 = bad.find('\n', bad.find('\n') + 1) + 1;
  bad.insert(bad.find('\n', line3), " x");
  WriteFile(dir / "bad.txt", bad);
  auto corrupt = ClipTokenizer::Load(dir / "bad.txt");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_TRUE(corrupt.status().IsCorruption());
  EXPECT_NE(corrupt.status().message().find("line 3"), std::string::npos) << corrupt.status().ToString();

  // A symbol that is not spelled in byte-level characters.
  std::string alien = merges;
  alien.replace(line3, 1, "\xe4\xb8\xad");
  WriteFile(dir / "alien.txt", alien);
  auto alien_st = ClipTokenizer::Load(dir / "alien.txt");
  ASSERT_FALSE(alien_st.ok());
  EXPECT_NE(alien_st.status().message().find("line 3"), std::string::npos) << alien_st.status().ToString();

  // Too few merges.
  size_t cut = 0;
  for (int i = 0; i < 1001; ++i) cut = merges.find('\n', cut) + 1;
  WriteFile(dir / "short.txt", merges.substr(0, cut));
  auto truncated = ClipTokenizer::Load(dir / "short.txt");
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(truncated.status().IsCorruption());
  EXPECT_NE(truncated.status().message().find("1000 merges"), std::string::npos)
      << truncated.status().ToString();
}

TEST(ClipTokenizerTest, LoadsGzippedMerges) {
  mosaic::testing::TempDir dir;
  const std::string merges = ReadFile(MergesPath());
  const std::string gz_path = dir / "bpe_simple_vocab_16e6.txt.gz";
  gzFile f = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, merges.data(), static_cast<unsigned>(merges.size())), static_cast<int>(merges.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
  ASSERT_LT(ReadFile(gz_path).size(), merges.size());

  auto tok = ClipTokenizer::Load(gz_path);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string text = "a diagram of the mitochondrial membrane";
  EXPECT_EQ(*tok->Encode(text), EncodeOk(text));

  // Garbage after a gzip header is a decompression error, not a crash.
  std::string broken = ReadFile(gz_path).substr(0, 64) + std::string(64, 'x');
  WriteFile(dir / "broken.gz", broken);
  EXPECT_FALSE(ClipTokenizer::Load(dir / "broken.gz").ok());
}

std::vector<std::string> SampleSentences(size_t limit) {
  std::vector<std::string> out;
  std::ifstream in(mosaic::testing::SciFactDir() + "/corpus.jsonl");
  std::string line;
  while (out.size() < limit && std::getline(in, line)) {
    const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) continue;
    std::string text = doc.value("title", "") + ". " + doc.value("text", "");
    // Sentences, roughly: split the abstract on ". ".
    size_t pos = 0;
    while (out.size() < limit && pos < text.size()) {
      size_t end = text.find(". ", pos);
      end = end == std::string::npos ? text.size() : end + 1;
      out.push_back(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  if (out.empty()) {  // no corpus: synthetic text of the same flavour
    for (size_t i = 0; i < limit; ++i) {
      out.push_back("Sentence " + std::to_string(i) + " about protein folding, CRISPR-Cas9 and p53's role.");
    }
  }
  return out;
}

TEST(ClipTokenizerTest, ConcurrentTokenizationMatchesSequential) {
  const std::vector<std::string> texts = SampleSentences(2000);
  // A fresh tokenizer, so both threads race to fill the same empty cache.
  auto fresh = ClipTokenizer::Load(MergesPath());
  ASSERT_TRUE(fresh.ok());
  std::vector<int64_t> results[2];
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      for (const std::string& text : texts) {
        auto row = fresh->Tokenize(text);
        if (!row.ok()) return;
        results[t].insert(results[t].end(), row->begin(), row->end());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto sequential = Tokenizer().TokenizeBatch(texts);
  ASSERT_TRUE(sequential.ok()) << sequential.status().ToString();
  EXPECT_EQ(results[0], sequential->ids);
  EXPECT_EQ(results[1], sequential->ids);
}

TEST(ClipTokenizerTest, ReportsThroughput) {
  const std::vector<std::string> texts = SampleSentences(5000);
  auto tok = ClipTokenizer::Load(MergesPath());
  ASSERT_TRUE(tok.ok());
  for (int pass = 0; pass < 2; ++pass) {
    size_t tokens = 0;
    size_t bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& text : texts) {
      auto ids = tok->Encode(text);
      ASSERT_TRUE(ids.ok());
      tokens += ids->size();
      bytes += text.size();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ clip bpe ] %s cache: %zu sentences, %zu tokens, %.0f tokens/s, %.1f MB/s\n",
                pass == 0 ? "cold" : "warm", texts.size(), tokens, tokens / secs, bytes / secs / 1e6);
  }
}

}  // namespace
}  // namespace mosaic::text
