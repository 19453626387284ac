// Chunking: a Document's blocks into passages that fit a token budget, for BM25 and for text
// encoders. Boundaries prefer, in order: headings (a heading starts a chunk and its path is
// carried as context), paragraphs/blocks, sentences (ICU sentence breaks), then words. Consecutive
// chunks overlap by about `overlap_tokens` (whole sentences where possible) so an answer that
// straddles a boundary is whole in one of them.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "document/document.h"

namespace mosaic::document {

struct Chunk {
  std::string text;       // the passage (UTF-8), without the heading path
  std::string headings;   // enclosing headings, outermost first, joined by " > " (may be empty)
  size_t begin = 0;       // byte range in Document::text covered by the passage
  size_t end = 0;
  int page_first = 0;     // PDF pages spanned (0 when the format has none)
  int page_last = 0;
};

struct ChunkOptions {
  size_t max_tokens = 256;
  size_t overlap_tokens = 32;
  // Tokens in a piece of text; empty: ICU word count (words and punctuation marks).
  std::function<size_t(std::string_view)> count_tokens;
};

std::vector<Chunk> ChunkDocument(const Document& doc, const ChunkOptions& options = {});

/// The default token count (ICU word boundaries: words, numbers and punctuation count one each).
size_t CountWordTokens(std::string_view text);

}  // namespace mosaic::document
