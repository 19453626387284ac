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

// Offsets are exact: text == Document::text.substr(begin, end - begin), byte for byte, with no
// leading or trailing whitespace (blocks inside one chunk keep their "\n\n" separators).
// A heading block is not part of any passage; it starts a new chunk and is carried in
// `headings`. A heading whose section is empty (the next heading is not deeper) becomes a
// passage of its parent section, so no text is lost.
struct Chunk {
  std::string text;       // the passage (UTF-8), without the heading path
  std::string headings;   // enclosing headings including the section's own, outermost first,
                          // joined by " > " (may be empty)
  size_t begin = 0;       // byte range in Document::text covered by the passage
  size_t end = 0;
  int page_first = 0;     // PDF pages spanned (0 when the format has none)
  int page_last = 0;
};

// A chunk's size is the sum of the counts of its sentences (or word runs), which equals the
// count of the whole for any tokenizer that splits at whitespace first (the word count, CLIP).
// Every chunk is within max_tokens, except one made of a single word that alone is over it.
// The overlap is the fewest trailing sentences of the previous chunk reaching overlap_tokens,
// at most max_tokens / 2, and only within one section.
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
