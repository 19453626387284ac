// Query inputs from the command line: files recognized by their content, point ids, and the
// expression syntax of `mosaic search --query` ('"cat" + ./img.jpg - 0.3 * "day"').
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "mosaic/status.h"
#include "query/input.h"
#include "query/input/media_input_encoder.h"

namespace mosaic::cli {

// The input encoder of `collection` with the models of --models (else the default registry).
Result<std::unique_ptr<query::MediaInputEncoder>> OpenEncoder(const Args& args,
                                                              const Collection& collection);

// A collection opened to query: OpenCollection and OpenEncoder.
struct QueryTarget {
  OpenedCollection opened;
  std::unique_ptr<query::MediaInputEncoder> encoder;
  Collection& collection() const { return *opened.collection; }
};
Result<QueryTarget> OpenQueryTarget(const Args& args, const std::string& name);

// `items` as a JSON array (each made by `to_json`), indented, on stdout.
template <typename T, typename F>
void PrintJsonArray(const std::vector<T>& items, F to_json) {
  Json out = Json::array();
  for (const T& item : items)
    out.push_back(to_json(item));
  std::printf("%s\n", out.dump(2).c_str());
}

// A media input from a file (image, video or audio, by its bytes). InvalidArgument naming the
// path for a missing file or one of another kind.
Result<query::Input> FileInput(const std::string& path);

// "id:42" -> point 42; an existing file -> FileInput; anything else -> a text.
Result<query::Input> ResolveInput(const std::string& word);

// An example for recommend: an existing file -> FileInput; "text:words" -> a text; "id:42" or
// anything else -> a point id.
Result<query::Input> ExampleInput(const std::string& word);

// `expr` := term (('+' | '-') term)*, term := [number '*'] ("quoted text" | id:ID | path |
// word...). Unquoted words that are not files or ids join into one text. InvalidArgument naming the
// position of a syntax error.
Result<std::vector<query::Input>> ParseQueryExpression(const std::string& expr);

// "0.6:photo.jpg" -> (0.6, "photo.jpg"); "photo.jpg" -> (1, "photo.jpg"); a prefix that is not a
// number is part of the value ("http://...").
std::pair<float, std::string> SplitWeight(const std::string& value);

}  // namespace mosaic::cli
