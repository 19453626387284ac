// Sentence boundaries (ICU, UAX #29), for showing the sentence of a passage that matched a query.
// Thread-safe (one ICU iterator per thread).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace mosaic::text {

// The sentences of `text` as byte ranges [begin, end), trailing white space excluded; empty
// sentences (only white space) are skipped.
std::vector<std::pair<size_t, size_t>> SentenceSpans(std::string_view text);

}  // namespace mosaic::text
