// Text, Markdown and HTML extraction, byte decoding, format detection and the file-level errors.
#include "document/document.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "document/chunker.h"

namespace mosaic::document {
namespace {

namespace fs = std::filesystem;

const char* KindName(BlockKind k) {
  switch (k) {
    case BlockKind::kHeading: return "H";
    case BlockKind::kParagraph: return "P";
    case BlockKind::kListItem: return "LI";
    case BlockKind::kCode: return "CODE";
    case BlockKind::kTableRow: return "TR";
  }
  return "?";
}

// "H1:Title", "P:text", ... one per block.
std::vector<std::string> Blocks(const Document& doc) {
  std::vector<std::string> out;
  for (const Block& b : doc.blocks) {
    std::string s = KindName(b.kind);
    if (b.kind == BlockKind::kHeading) s += std::to_string(b.level);
    out.push_back(s + ":" + std::string(doc.block_text(b)));
  }
  return out;
}

std::string Dump(const Document& doc) {
  std::string s = "title=" + doc.title + "\n";
  for (const std::string& b : Blocks(doc)) s += "  " + b + "\n";
  return s + "meta=" + doc.metadata.dump();
}

// Blocks are separated by exactly "\n\n" and offsets point at their text.
void ExpectWellFormed(const Document& doc) {
  size_t pos = 0;
  for (size_t i = 0; i < doc.blocks.size(); ++i) {
    const Block& b = doc.blocks[i];
    EXPECT_EQ(b.offset, i == 0 ? 0 : pos + 2) << "block " << i;
    if (i > 0) {
      EXPECT_EQ(doc.text.substr(pos, 2), "\n\n");
    }
    EXPECT_GT(b.length, 0u);
    pos = b.offset + b.length;
  }
  EXPECT_EQ(pos, doc.text.size());
}

Document ParseOk(Result<Document> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  ExpectWellFormed(*r);
  return std::move(r).value();
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("mosaic_document_test_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  fs::path path_;
};

// ---- plain text and decoding ----

TEST(TextTest, ParagraphsAndTitle) {
  Document d = ParseOk(ParseText(
      "Release notes\n\nVersion 2.1 fixes the importer.\nIt also speeds up search\r\nby 30%.\n"
      "\n\n   \nKnown issues:\tnone.\n"));
  EXPECT_EQ(d.format, DocFormat::kText);
  EXPECT_EQ(d.title, "Release notes");
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{
                           "P:Release notes",
                           "P:Version 2.1 fixes the importer. It also speeds up search by 30%.",
                           "P:Known issues: none."}))
      << Dump(d);
}

TEST(TextTest, LongFirstLineIsNoTitle) {
  Document d = ParseOk(ParseText(std::string(130, 'a') + "\n\nbody"));
  EXPECT_EQ(d.title, "");
}

TEST(TextTest, Utf8BomAndControlCharacters) {
  Document d = ParseOk(ParseText("\xEF\xBB\xBF" "Caf\xC3\xA9 na\xC3\xAFve\x01\x7F\xC2\x85 ok\r\rnext"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:Café naïve ok", "P:next"})) << Dump(d);
}

TEST(TextTest, Utf16WithBom) {
  const std::u16string s = u"Grüße aus Köln\n\n日本語のテキスト 😀";
  std::string le = "\xFF\xFE", be = "\xFE\xFF";
  for (char16_t c : s) {
    le.push_back(static_cast<char>(c & 0xFF));
    le.push_back(static_cast<char>(c >> 8));
    be.push_back(static_cast<char>(c >> 8));
    be.push_back(static_cast<char>(c & 0xFF));
  }
  for (const std::string& bytes : {le, be}) {
    Document d = ParseOk(ParseText(bytes));
    EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:Grüße aus Köln", "P:日本語のテキスト 😀"})) << Dump(d);
  }
  // An unpaired surrogate is malformed.
  Result<Document> bad = ParseText(std::string("\xFF\xFE\x00\xD8", 4));
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();
  EXPECT_TRUE(ParseText(std::string("\xFF\xFE" "a", 3)).status().IsInvalidArgument());
}

TEST(TextTest, Windows1252Fallback) {
  // Not valid UTF-8: read as Windows-1252 (0x93/0x94 curly quotes, 0x80 euro, 0xE9 e-acute).
  Document d = ParseOk(ParseText("\x93" "Caf\xE9\x94 costs \x80" "3.50"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:\u201CCaf\u00E9\u201D costs \u20AC3.50"})) << Dump(d);
}

TEST(TextTest, EmptyInputIsInvalid) {
  EXPECT_TRUE(ParseText("").status().IsInvalidArgument());
  EXPECT_TRUE(ParseMarkdown("").status().IsInvalidArgument());
  EXPECT_TRUE(ParseHtml("").status().IsInvalidArgument());
  EXPECT_TRUE(ParsePdf("").status().IsInvalidArgument());
  // Whitespace only is a valid, empty document.
  Document d = ParseOk(ParseText("  \n\n \t\n"));
  EXPECT_TRUE(d.blocks.empty());
  EXPECT_EQ(d.text, "");
}

TEST(TextTest, MaxBytes) {
  DocumentOptions o;
  o.max_bytes = 10;
  EXPECT_TRUE(ParseText("01234567890", o).status().IsResourceExhausted());
  EXPECT_TRUE(ParseText("0123456789", o).ok());
}

// ---- Markdown ----

const char* kReadme = R"md(---
title: "Mosaic: multimodal search"
author: Jane Doe
date: 2024-03-05
tags: [search, retrieval]
---

# Mosaic

**Mosaic** finds *images*, _documents_ and ~~tapes~~ videos by meaning. See the
[architecture tour](docs/architecture.md) and ![the logo](logo.png "Logo") or
<https://example.com/mosaic>. Use `mosaic search` &mdash; it's fast.

Getting started
---------------

1. Install the packages:
2. Run `scripts/setup` and then
   `scripts/fetch-data`.

- [x] Images
- [ ] Audio, with a *nested*
  continuation line
    - nested item

```bash
cmake -S . -B build

ninja -C build
```

    indented code line

| Format | Extracted      |
|--------|:--------------:|
| PDF    | text, `title`  |
| HTML   | text \| meta   |

> Quoted advice: keep snake_case_names and 2 * 3 intact.

## API <a name="api"></a>

Call `Db::Open()`.

[ref]: https://example.com/ref

### Deep ###
Last paragraph with a [reference link][ref].
)md";

TEST(MarkdownTest, Readme) {
  Document d = ParseOk(ParseMarkdown(kReadme));
  EXPECT_EQ(d.format, DocFormat::kMarkdown);
  EXPECT_EQ(d.title, "Mosaic: multimodal search");
  EXPECT_EQ(d.metadata.value("author", ""), "Jane Doe");
  EXPECT_EQ(d.metadata.value("created", ""), "2024-03-05");
  EXPECT_EQ(Blocks(d),
            (std::vector<std::string>{
                "H1:Mosaic",
                "P:Mosaic finds images, documents and tapes videos by meaning. See the architecture "
                "tour and the logo or https://example.com/mosaic. Use mosaic search \u2014 it's fast.",
                "H2:Getting started",
                "LI:Install the packages:",
                "LI:Run scripts/setup and then scripts/fetch-data.",
                "LI:Images",
                "LI:Audio, with a nested continuation line",
                "LI:nested item",
                "CODE:cmake -S . -B build\n\nninja -C build",
                "CODE:indented code line",
                "TR:Format | Extracted",
                "TR:PDF | text, title",
                "TR:HTML | text | meta",
                "P:Quoted advice: keep snake_case_names and 2 * 3 intact.",
                "H2:API",
                "P:Call Db::Open().",
                "H3:Deep",
                "P:Last paragraph with a reference link.",
            }))
      << Dump(d);
}

TEST(MarkdownTest, TitleFromFirstH1WithoutFrontMatter) {
  Document d = ParseOk(ParseMarkdown("Intro text\n\n## Not this\n\nBig Title\n=========\n\n# Later\n"));
  EXPECT_EQ(d.title, "Big Title") << Dump(d);
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:Intro text", "H2:Not this", "H1:Big Title",
                                                 "H1:Later"}));
}

// CommonMark's rules, not an approximation: a definition cannot interrupt a paragraph (so it is
// text there, and the reference stays literal), emphasis needs flanking delimiter runs, a raw
// HTML block is read for its visible text.
TEST(MarkdownTest, CommonMarkRules) {
  Document d = ParseOk(ParseMarkdown(
      "Text\n[r]: https://x.org\n\nSee [it][r], a*b*c, 5 * 6 * 7 and foo_bar_baz.\n\n"
      "<div class=\"note\">\n<p>Raw <b>HTML</b> block</p>\n<script>no()</script>\n</div>\n\n"
      "* loose item\n\n  second paragraph\n\n* next\n"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{
                           "P:Text [r]: https://x.org",
                           "P:See [it][r], abc, 5 * 6 * 7 and foo_bar_baz.",
                           "P:Raw HTML block",
                           "LI:loose item",
                           "LI:second paragraph",
                           "LI:next",
                       }))
      << Dump(d);
}

TEST(MarkdownTest, UnclosedConstructsDoNotFail) {
  Document d = ParseOk(ParseMarkdown("---\nnot: front matter\n\n```\ncode to the end\n[broken](link\n"));
  EXPECT_EQ(Blocks(d).back(), "CODE:code to the end\n[broken](link") << Dump(d);
}

// ---- HTML ----

const char* kPage = R"html(<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Caf&eacute; Review &amp; Menu</title>
  <meta name="description" content="A review of the &quot;Blue&quot; caf&eacute;.">
  <style>body { color: red; } p::after { content: "<p>no</p>"; }</style>
  <script>var x = "<h1>not a heading</h1>"; if (a < b) {}</script>
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li>About</li></ul></nav>
<h1>The   Blue
 Caf&eacute;</h1>
<p>Coffee is <b>excellent</b>&nbsp;&amp; cheap: 3&euro;.<br>Open daily.</p>
<!-- a comment <p>hidden</p> -->
<div>Loose text in a div<div>and a nested div</div></div>
<ul>
  <li>Espresso
  <li>Flat white<ul><li>oat milk</li></ul> tail</li>
</ul>
<table>
 <tr><th>Item</th><th>Price</th></tr>
 <tr><td>Latte</td><td><p>4.50</p></td></tr>
</table>
<pre>  line one
    line two &lt;b&gt;</pre>
<blockquote>Great place!</blockquote>
<noscript>Enable JavaScript</noscript>
<template><p>template text</p></template>
<svg><title>icon</title><text>svg text</text></svg>
<p hidden>hidden paragraph</p>
<p>Unclosed paragraph <i>with <img src="x.png" alt="a cup"> inline
<h2>Next section</h2>
</body>
</html>)html";

TEST(HtmlTest, Page) {
  Document d = ParseOk(ParseHtml(kPage));
  EXPECT_EQ(d.format, DocFormat::kHtml);
  EXPECT_EQ(d.title, "Café Review & Menu");
  EXPECT_EQ(d.metadata.value("language", ""), "en-GB");
  EXPECT_EQ(d.metadata.value("description", ""), "A review of the \"Blue\" café.");
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{
                           "H1:The Blue Café",
                           "P:Coffee is excellent & cheap: 3€.\nOpen daily.",
                           "P:Loose text in a div",
                           "P:and a nested div",
                           "LI:Espresso",
                           "LI:Flat white",
                           "LI:oat milk",
                           "LI:tail",
                           "TR:Item | Price",
                           "TR:Latte | 4.50",
                           "CODE:line one\n    line two <b>",
                           "P:Great place!",
                           "P:Unclosed paragraph with a cup inline",
                           "H2:Next section",
                       }))
      << Dump(d);
}

TEST(HtmlTest, TitleFallsBackToH1AndFragmentsWork) {
  Document d = ParseOk(ParseHtml("<h1>Only&#x20;heading</h1>text after < 5 & so on"));
  EXPECT_EQ(d.title, "Only heading");
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"H1:Only heading", "P:text after < 5 & so on"})) << Dump(d);
}

TEST(HtmlTest, MissingEndTagsDoNotHideTheRest) {
  Document d = ParseOk(ParseHtml("<html><head><title>T</title><p>body starts<p hidden>secret<p>shown"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:body starts", "P:shown"})) << Dump(d);
  EXPECT_EQ(d.title, "T");
}

// The HTML5 tree construction: a <div> closes an open <p>, misnested inline tags are repaired,
// a <table>'s stray text is moved before it.
TEST(HtmlTest, ParsedAsBrowsersDo) {
  Document d = ParseOk(ParseHtml(
      "<p>one<div>two</div><b>bold <i>both</b> italic</i><table> stray<tr><td>cell</table>"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:one", "P:two", "P:bold both italic stray",
                                                 "TR:cell"}))
      << Dump(d);
}

// Nesting up to the limit is read (the tree is walked without recursion); a page nested deeper,
// or one whose start tags nest deep on average (the parser's time grows with the sum of the
// depths), is refused with the depth in the message, before the parser runs.
TEST(HtmlTest, DeepNestingReadUpToTheLimit) {
  auto tower = [](int depth) {
    std::string t;
    for (int i = 0; i < depth; ++i) t += "<div><span>";
    t += "x";
    for (int i = 0; i < depth; ++i) t += "</span></div>";
    return t;
  };
  Document deep = ParseOk(ParseHtml(tower(2000) + "<p>after</p>"));
  EXPECT_EQ(Blocks(deep), (std::vector<std::string>{"P:x", "P:after"})) << Dump(deep);

  Result<Document> deeper = ParseHtml(tower(2100));
  ASSERT_TRUE(deeper.status().IsResourceExhausted()) << deeper.status().ToString();
  EXPECT_NE(deeper.status().message().find("4200 deep"), std::string::npos) << deeper.status().ToString();
  std::string unclosed;
  for (int i = 0; i < 200000; ++i) unclosed += "<div>";
  EXPECT_TRUE(ParseHtml(unclosed).status().IsResourceExhausted());

  std::string towers;
  for (int i = 0; i < 100; ++i) towers += tower(300);
  Result<Document> many = ParseHtml(towers);
  ASSERT_TRUE(many.status().IsResourceExhausted()) << many.status().ToString();
  EXPECT_NE(many.status().message().find("on average"), std::string::npos);
  DocumentOptions wide;
  wide.max_html_depth = 10000;
  EXPECT_TRUE(ParseHtml(tower(2100), wide).ok());
}

TEST(HtmlTest, Windows1252Page) {
  Document d = ParseOk(ParseHtml("<html><body><p>na\xEFve \x93quotes\x94</p></body></html>"));
  EXPECT_EQ(Blocks(d), (std::vector<std::string>{"P:na\u00EFve \u201Cquotes\u201D"})) << Dump(d);
}

// Every prefix of the samples (cut anywhere, even inside a UTF-8 sequence or a tag) parses and
// chunks with well-formed offsets.
TEST(RobustnessTest, EveryPrefixParses) {
  ChunkOptions opt;
  opt.max_tokens = 16;
  opt.overlap_tokens = 4;
  for (std::string_view sample : {std::string_view(kReadme), std::string_view(kPage)}) {
    for (size_t n = 1; n <= sample.size(); ++n) {
      std::string_view bytes = sample.substr(0, n);
      for (auto parse : {&ParseText, &ParseMarkdown, &ParseHtml}) {
        Result<Document> d = parse(bytes, {});
        ASSERT_TRUE(d.ok()) << n << ": " << d.status().ToString();
        ExpectWellFormed(*d);
        for (const Chunk& c : ChunkDocument(*d, opt))
          ASSERT_EQ(c.text, d->text.substr(c.begin, c.end - c.begin));
      }
    }
  }
}

// ---- detection and files ----

TEST(DetectTest, Formats) {
  auto is = [](std::string_view path, std::string_view head, DocFormat f) {
    Result<DocFormat> r = DetectDocFormat(path, head);
    return r.ok() && *r == f;
  };
  EXPECT_TRUE(is("a.bin", "%PDF-1.7\n", DocFormat::kPdf));
  EXPECT_TRUE(is("notes.txt", "%PDF-1.4", DocFormat::kPdf));  // content wins
  EXPECT_TRUE(is("x", "\xEF\xBB\xBF  <!DOCTYPE html><html>", DocFormat::kHtml));
  EXPECT_TRUE(is("page.txt", "<html><body>", DocFormat::kHtml));
  EXPECT_TRUE(is("README.MD", "# Title", DocFormat::kMarkdown));
  EXPECT_TRUE(is("notes.markdown", "text", DocFormat::kMarkdown));
  EXPECT_TRUE(is("page.htm", "<div>", DocFormat::kHtml));
  EXPECT_TRUE(is("a.TXT", "hello", DocFormat::kText));
  Result<DocFormat> fake = DetectDocFormat("paper.pdf", "hello");
  EXPECT_TRUE(fake.status().IsInvalidArgument());
  EXPECT_NE(fake.status().message().find("paper.pdf"), std::string::npos);
  EXPECT_TRUE(DetectDocFormat("photo.jpg", "\xFF\xD8\xFF").status().IsInvalidArgument());
}

TEST(ReadDocumentTest, FilesAndErrors) {
  TempDir dir;
  std::string md = dir.Write("README.md", kReadme);
  Result<Document> d = ReadDocument(md, DocFormat::kMarkdown);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->title, "Mosaic: multimodal search");

  Result<Document> missing = ReadDocument(md + ".gone", DocFormat::kText);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("README.md.gone"), std::string::npos);

  std::string empty = dir.Write("empty.txt", "");
  Result<Document> e = ReadDocument(empty, DocFormat::kText);
  EXPECT_TRUE(e.status().IsInvalidArgument());
  EXPECT_NE(e.status().message().find("empty.txt: empty file"), std::string::npos) << e.status().ToString();

  DocumentOptions small;
  small.max_bytes = 100;
  Result<Document> big = ReadDocument(md, DocFormat::kMarkdown, small);
  EXPECT_TRUE(big.status().IsResourceExhausted()) << big.status().ToString();

  EXPECT_TRUE(ReadDocument(fs::temp_directory_path().string(), DocFormat::kText)
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace mosaic::document
