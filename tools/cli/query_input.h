// Query inputs from the command line: files recognized by their content, point ids, and the
// expression syntax of `mosaic search --query` ('"cat" + ./img.jpg - 0.3 * "day"').
#pragma once

#include <string>
#include <vector>

#include "mosaic/status.h"
#include "query/input.h"

namespace mosaic::cli {

// A media input from a file (image, video or audio, by its bytes). InvalidArgument naming the
// path for a missing file or one of another kind.
Result<query::Input> FileInput(const std::string& path);

// "id:42" -> point 42; an existing file -> FileInput; anything else -> a text.
Result<query::Input> ResolveInput(const std::string& word);

// `expr` := term (('+' | '-') term)*, term := [number '*'] ("quoted text" | id:ID | path |
// word...). Unquoted words that are not files or ids join into one text. InvalidArgument naming the
// position of a syntax error.
Result<std::vector<query::Input>> ParseQueryExpression(const std::string& expr);

// "0.6:photo.jpg" -> (0.6, "photo.jpg"); "photo.jpg" -> (1, "photo.jpg"); a prefix that is not a
// number is part of the value ("http://...").
std::pair<float, std::string> SplitWeight(const std::string& value);

}  // namespace mosaic::cli
