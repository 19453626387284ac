// Fast parsing of JSON request bodies: simdjson (Debian libsimdjson-dev) reads the text, the
// result is built as a mosaic::Json. A body with a 784-number vector takes about half the time
// of nlohmann::json::parse (docs/benchmarks.md, HTTP overhead), the largest cost of a search
// request beyond the search itself. Same values as nlohmann's parser: non-negative integers unsigned, negative ones signed,
// others double; a repeated key keeps its last value.
#pragma once

#include <string>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::wire {

// Arrays and objects nested deeper than this are refused: every reader of a Json (its dump, our
// codecs) recurses once per level, and no request needs more than a few dozen.
inline constexpr size_t kMaxJsonDepth = 1024;

// InvalidArgument naming the byte at which the text stops being JSON, or the nesting limit.
Result<Json> ParseJson(const std::string& text);

}  // namespace mosaic::wire
