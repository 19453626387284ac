// What every parsed document must satisfy (src/document/document.h), checked by the document
// fuzz targets: valid UTF-8 text, blocks and chunks inside it, pages in range. A violation
// aborts, so libFuzzer reports the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "document/chunker.h"
#include "document/document.h"
#include "text/unicode_util.h"

namespace mosaic::fuzz {

[[noreturn]] inline void DocumentBroken(const std::string& what) {
  std::fprintf(stderr, "parsed document is broken: %s\n", what.c_str());
  std::abort();
}

inline void CheckDocument(const document::Document& doc) {
  if (!text::DecodeUtf8(doc.text).ok()) DocumentBroken("text is not UTF-8");
  if (!text::DecodeUtf8(doc.title).ok()) DocumentBroken("title is not UTF-8");
  for (const document::Block& b : doc.blocks) {
    if (b.offset > doc.text.size() || b.length > doc.text.size() - b.offset)
      DocumentBroken("block [" + std::to_string(b.offset) + ", +" + std::to_string(b.length) +
                     ") outside the " + std::to_string(doc.text.size()) + "-byte text");
    if (b.page < 0 || b.page > doc.pages) DocumentBroken("block on page " + std::to_string(b.page));
  }
  document::ChunkOptions options;
  options.max_tokens = 24;
  options.overlap_tokens = 6;
  for (const document::Chunk& c : document::ChunkDocument(doc, options)) {
    if (c.begin > c.end || c.end > doc.text.size())
      DocumentBroken("chunk [" + std::to_string(c.begin) + ", " + std::to_string(c.end) +
                     ") outside the " + std::to_string(doc.text.size()) + "-byte text");
    if (!text::DecodeUtf8(c.text).ok()) DocumentBroken("chunk text is not UTF-8");
  }
}

}  // namespace mosaic::fuzz
