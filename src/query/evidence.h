// Explain's evidence: where in a hit's payload the query matched. Given the query's terms (as the
// full-text index makes them: folded, stemmed), it finds the sentence of a passage with the terms
// highlighted, the OCR lines, the spoken words with their times, the tags with the detector's
// confidence (matched by unstemmed words, query/tag_words.h), the title and file-name words, and
// adds the hit's time range (shots, speech) and place (page, headings). Pure functions over the
// payload (layout: docs/ingest.md); thread-safe.
#pragma once

#include <string>
#include <vector>

#include "mosaic/json.h"

namespace mosaic::query {

// {"kind", "time": {"start", "end"}, "sentence": {"field", "text", "highlights": [[b, e], ...]},
//  "transcript": {...}, "words": [{"text", "start", "end"}], "ocr": [{"text", "box",
//  "highlights"}], "tags": [{"tag", "confidence"}], "title": {...}, "names": [...], "page",
//  "headings"}; only the parts that apply. Highlights are byte ranges in their "text".
// `query_tag_words` are the query's words as TagWords makes them, for the tags. Not `full`: only
// the parts a snippet needs (place, time, the matching sentence of the text or transcript).
Json Evidence(const Json& payload, const std::vector<std::string>& query_terms,
              const std::vector<std::string>& query_tag_words, bool full = true);

// A one-line excerpt (at most `max_bytes`, cut at a character boundary): the evidence's sentence,
// else the payload's text, transcript or OCR text, else its tags.
std::string Snippet(const Json& payload, const Json& evidence, size_t max_bytes = 160);

// `text` with each highlighted range wrapped in `open` and `close`.
std::string Highlight(const std::string& text, const Json& highlights, const std::string& open,
                      const std::string& close);

}  // namespace mosaic::query
