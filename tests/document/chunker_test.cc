// Chunking: budgets, overlap, heading paths, exact offsets, pages, coverage and determinism, plus
// a sentence-splitting smoke test on real SciFact abstracts.
#include "document/chunker.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "util/paths.h"
#include "util/pdf_writer.h"

namespace mosaic::document {
namespace {

// Sentences "Sentence K of section S has some words." with varied lengths.
std::string Sentence(int section, int k) {
  std::string s = "Sentence " + std::to_string(k) + " of section " + std::to_string(section);
  for (int w = 0; w < k % 7; ++w) s += " and word" + std::to_string(w);
  return s + ".";
}

std::string LongMarkdown(std::vector<std::string>* sentences) {
  std::string md = "# Guide\n\nIntro paragraph. It is short.\n\n## Install\n\n";
  sentences->push_back("Intro paragraph.");
  sentences->push_back("It is short.");
  for (int p = 0; p < 6; ++p) {
    for (int k = 0; k < 9; ++k) {
      std::string s = Sentence(1, p * 9 + k);
      sentences->push_back(s);
      md += s + (k == 4 ? "\n" : " ");  // soft-wrapped
    }
    md += "\n\n";
  }
  md += "### Linux\n\nUse the package. Then run it.\n\n## Usage\n\n";
  sentences->push_back("Use the package.");
  sentences->push_back("Then run it.");
  std::string giant = "A very long sentence without any full stop";
  for (int w = 0; w < 120; ++w) giant += " item" + std::to_string(w);
  md += giant + ".\n\n## Empty\n\n# Appendix\n\nLast words.\n";
  sentences->push_back("Last words.");
  return md;
}

std::string Squeeze(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void ExpectExactOffsets(const Document& doc, const std::vector<Chunk>& chunks) {
  for (const Chunk& c : chunks) {
    ASSERT_LE(c.begin, c.end);
    ASSERT_LE(c.end, doc.text.size());
    // The guarantee: the chunk text IS the byte range of Document::text.
    EXPECT_EQ(c.text, doc.text.substr(c.begin, c.end - c.begin));
    EXPECT_FALSE(c.text.empty());
    EXPECT_NE(c.text.front(), ' ');
    EXPECT_NE(c.text.back(), ' ');
  }
}

TEST(ChunkerTest, CountWordTokens) {
  EXPECT_EQ(CountWordTokens(""), 0u);
  EXPECT_EQ(CountWordTokens("   \n\t "), 0u);
  EXPECT_EQ(CountWordTokens("Hello, world!"), 4u);
  EXPECT_EQ(CountWordTokens("It costs 3.5 dollars (approx.)"), 8u);
  EXPECT_EQ(CountWordTokens("naïve café"), 2u);
}

TEST(ChunkerTest, BudgetsOverlapHeadingsOffsets) {
  std::vector<std::string> sentences;
  Result<Document> doc = ParseMarkdown(LongMarkdown(&sentences));
  ASSERT_TRUE(doc.ok());
  ChunkOptions opt;
  opt.max_tokens = 64;
  opt.overlap_tokens = 12;
  std::vector<Chunk> chunks = ChunkDocument(*doc, opt);
  ASSERT_GT(chunks.size(), 8u);
  ExpectExactOffsets(*doc, chunks);

  std::set<std::string> paths;
  for (const Chunk& c : chunks) {
    paths.insert(c.headings);
    EXPECT_LE(CountWordTokens(c.text), opt.max_tokens) << c.text;
    EXPECT_EQ(c.page_first, 0);
  }
  EXPECT_EQ(paths, (std::set<std::string>{"Guide", "Guide > Install", "Guide > Install > Linux",
                                          "Guide > Usage", "Guide", "Appendix"}));
  EXPECT_EQ(chunks.front().text, "Intro paragraph. It is short.");
  EXPECT_EQ(chunks.back().text, "Last words.");
  EXPECT_EQ(chunks.back().headings, "Appendix");
  // The empty section's heading is kept as a chunk of its parent.
  bool empty_heading = false;
  for (const Chunk& c : chunks) empty_heading |= c.text == "Empty" && c.headings == "Guide";
  EXPECT_TRUE(empty_heading);

  // The long "Install" section: consecutive chunks overlap by whole sentences.
  int overlaps = 0;
  for (size_t i = 1; i < chunks.size(); ++i) {
    if (chunks[i].headings != "Guide > Install" || chunks[i - 1].headings != "Guide > Install") continue;
    ASSERT_LT(chunks[i].begin, chunks[i - 1].end) << "no overlap before chunk " << i;
    ++overlaps;
    std::string shared = doc->text.substr(chunks[i].begin, chunks[i - 1].end - chunks[i].begin);
    EXPECT_TRUE(chunks[i - 1].text.ends_with(shared));
    EXPECT_EQ(shared.back(), '.');  // whole sentences
    size_t tokens = CountWordTokens(shared);
    EXPECT_GE(tokens, 1u);
    EXPECT_LE(tokens, opt.max_tokens / 2);
  }
  EXPECT_GE(overlaps, 3);

  // The giant sentence is cut at words into pieces within budget.
  int giant_pieces = 0;
  for (const Chunk& c : chunks)
    if (c.text.find("item0 ") != std::string::npos || c.text.find("item119") != std::string::npos) ++giant_pieces;
  EXPECT_GE(giant_pieces, 2);

  // No text lost: every sentence appears in some chunk, every non-space byte of a body block is
  // inside some chunk's range.
  for (const std::string& s : sentences) {
    bool found = false;
    for (const Chunk& c : chunks) found |= Squeeze(c.text).find(s) != std::string::npos;
    EXPECT_TRUE(found) << s;
  }
  for (const Block& b : doc->blocks) {
    if (b.kind == BlockKind::kHeading) continue;
    for (size_t pos = b.offset; pos < b.offset + b.length; ++pos) {
      if (doc->text[pos] == ' ' || doc->text[pos] == '\n') continue;
      bool covered = false;
      for (const Chunk& c : chunks) covered |= pos >= c.begin && pos < c.end;
      ASSERT_TRUE(covered) << "byte " << pos << " of block at " << b.offset;
    }
  }

  // Deterministic.
  std::vector<Chunk> again = ChunkDocument(*doc, opt);
  ASSERT_EQ(again.size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(again[i].text, chunks[i].text);
    EXPECT_EQ(again[i].begin, chunks[i].begin);
    EXPECT_EQ(again[i].headings, chunks[i].headings);
  }
}

TEST(ChunkerTest, SmallBlocksArePackedAndKeptWhole) {
  Result<Document> doc = ParseText("One two three.\n\nFour five six.\n\nSeven eight nine ten.");
  ASSERT_TRUE(doc.ok());
  std::vector<Chunk> all = ChunkDocument(*doc, {});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].text, doc->text);
  ChunkOptions tight;
  tight.max_tokens = 9;
  tight.overlap_tokens = 0;
  std::vector<Chunk> two = ChunkDocument(*doc, tight);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].text, "One two three.\n\nFour five six.");
  EXPECT_EQ(two[1].text, "Seven eight nine ten.");
}

TEST(ChunkerTest, CustomCounter) {
  // Characters as tokens: a stand-in for a subword tokenizer.
  Result<Document> doc = ParseText("Alpha beta. Gamma delta epsilon. Zeta.");
  ASSERT_TRUE(doc.ok());
  ChunkOptions opt;
  opt.max_tokens = 20;
  opt.overlap_tokens = 0;
  opt.count_tokens = [](std::string_view s) { return s.size(); };
  std::vector<Chunk> chunks = ChunkDocument(*doc, opt);
  ASSERT_EQ(chunks.size(), 3u);
  for (const Chunk& c : chunks) EXPECT_LE(c.text.size(), 20u) << c.text;
  EXPECT_EQ(chunks[1].text, "Gamma delta epsilon.");
  // A single word over the budget is the one allowed excess.
  opt.max_tokens = 4;
  chunks = ChunkDocument(*doc, opt);
  ASSERT_FALSE(chunks.empty());
  for (const Chunk& c : chunks)
    EXPECT_TRUE(c.text.size() <= 4 || c.text.find(' ') == std::string::npos) << c.text;
}

TEST(ChunkerTest, PdfPages) {
  mosaic::testing::PdfSpec spec;
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string> lines;
    for (int k = 0; k < 8; ++k) lines.push_back("Page " + std::to_string(p + 1) + " line " + std::to_string(k) + " says something.");
    spec.pages.push_back(lines);
  }
  Result<Document> doc = ParsePdf(mosaic::testing::WritePdf(spec));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ChunkOptions opt;
  opt.max_tokens = 30;
  opt.overlap_tokens = 8;
  std::vector<Chunk> chunks = ChunkDocument(*doc, opt);
  ExpectExactOffsets(*doc, chunks);
  bool spans = false;
  for (const Chunk& c : chunks) {
    // The pages named are the pages whose text the chunk holds.
    int first = c.text.starts_with("Page ") ? c.text[5] - '0' : 0;
    int last = c.text[c.text.rfind("Page ") + 5] - '0';
    EXPECT_EQ(c.page_first, first) << c.text;
    EXPECT_EQ(c.page_last, last) << c.text;
    spans |= c.page_first != c.page_last;
  }
  EXPECT_TRUE(spans);
  EXPECT_EQ(chunks.front().page_first, 1);
  EXPECT_EQ(chunks.back().page_last, 3);
}

// Sentence boundaries on scientific prose: "et al.", "e.g.", decimals and p-values are not ends.
TEST(ChunkerTest, SciFactAbstracts) {
  std::ifstream in(mosaic::testing::SciFactDir() + "/corpus.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  int docs = 0, chunks_seen = 0;
  while (std::getline(in, line) && docs < 400) {
    nlohmann::json j = nlohmann::json::parse(line);
    std::string text = j["text"];
    if (text.size() < 600) continue;
    ++docs;
    Result<Document> doc = ParseText(text);
    ASSERT_TRUE(doc.ok());
    ChunkOptions opt;
    opt.max_tokens = 60;
    opt.overlap_tokens = 0;
    std::vector<Chunk> chunks = ChunkDocument(*doc, opt);
    ExpectExactOffsets(*doc, chunks);
    for (size_t i = 0; i < chunks.size(); ++i) {
      const std::string& t = chunks[i].text;
      ++chunks_seen;
      EXPECT_LE(CountWordTokens(t), opt.max_tokens);
      // A sentence-level cut never falls after an abbreviation or inside a number.
      for (const char* abbrev : {" et al.", " e.g.", " i.e.", " vs."})
        EXPECT_FALSE(t.ends_with(abbrev)) << j["_id"] << ": " << t;
      if (i + 1 < chunks.size() && CountWordTokens(t) + CountWordTokens(chunks[i + 1].text) > 0) {
        const std::string& next = chunks[i + 1].text;
        EXPECT_FALSE(t.back() == '.' && std::isdigit(static_cast<unsigned char>(next[0])) &&
                     std::isdigit(static_cast<unsigned char>(t[t.size() - 2])))
            << "split inside a number: " << t << " | " << next;
      }
    }
  }
  EXPECT_EQ(docs, 400);
  EXPECT_GT(chunks_seen, 800);
}

}  // namespace
}  // namespace mosaic::document
