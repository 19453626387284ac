// Recommendation: points like some examples and unlike others (Qdrant's recommend, strategies
// average_vector and best_score), or for a user's history of interactions, as a profile vector
// that weighs each interaction by its recency (a half-life) and its sign (negative feedback), and
// leaves out what the user has seen. Any kind that shares the vector space is recommended: a
// profile of photos finds video shots when both have the `visual` or `clip` vector
// (docs/applications.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "query/engine.h"
#include "query/input.h"
#include "query/request.h"
#include "query/response.h"

namespace mosaic::query {

// One interaction of a user with a point: when (unix seconds) and how much it counts; a negative
// weight is a dislike (skipped, thumbs down).
struct Interaction {
  PointId id;
  int64_t time = 0;
  float weight = 1;
};

// History from JSON lines, one {"id": ..., "time": unix-seconds or ISO 8601, "weight": w} per
// line ("time" and "weight" optional: 0 and 1), or a bare id per line. Blank lines and lines
// starting with '#' are skipped. InvalidArgument naming the line number and the value.
Result<std::vector<Interaction>> ParseHistory(const std::string& text);

struct RecommendRequest {
  std::vector<Input> positive;  // examples: point ids, vectors, media files
  std::vector<Input> negative;
  RecommendStrategy strategy = RecommendStrategy::kAverageVector;
  std::vector<Interaction> history;
  // An interaction half_life_s older than the newest counts half as much; 0: no decay.
  double half_life_s = 14 * 86400.0;
  bool exclude_seen = true;  // history ids are never recommended
  std::string using_vector;  // "": the first vector the examples have
  std::optional<Filter> filter;
  size_t limit = 10;
  size_t offset = 0;
  bool explain = false;
};

// The history as one vector of `vector`: P + (P - N) when there is negative feedback, else P,
// with P and N the decay-weighted means of the liked and disliked points' (normalized) vectors.
// Points that are gone or lack the vector are skipped and listed in `info` ("skipped"). NotFound
// when no interaction has a vector.
Result<std::vector<float>> ProfileVector(const Collection& collection, const VectorSpec& vector,
                                         const std::vector<Interaction>& history,
                                         double half_life_s, Json* info);

// The recommendations. InvalidArgument when there is nothing to recommend from, naming unknown
// vectors; NotFound naming an example id that does not exist.
Result<QueryResponse> Recommend(const Collection& collection, InputEncoder* encoder,
                                const RecommendRequest& request, const EngineOptions& options = {});

}  // namespace mosaic::query
