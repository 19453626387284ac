// Pseudo-relevance feedback for BM25 (RM3, Lavrenko and Croft's relevance model interpolated with
// the query, as Anserini runs it): the query's top documents are taken as relevant, their most
// probable terms added to the query, and the collection searched again with the expanded,
// weighted query. Off by default in the query engine: a library function that callers (and
// bench/scifact_bench) opt into; docs/text_vectors.md gives its SciFact figures.
//
// Thread safety: a free function over a const Collection (which is thread-safe).
#pragma once

#include <string>
#include <vector>

#include "mosaic/collection.h"

namespace mosaic::query {

struct FeedbackOptions {
  size_t docs = 10;             // top documents taken as relevant
  size_t terms = 10;            // expansion terms added
  float original_weight = 0.5;  // lambda: the original query's share of the term weights
  // Hits kept per term search when scoring the expanded query: a document outside a term's top
  // `term_limit` gets no score from that term (exact while a term's documents are fewer).
  size_t term_limit = 1000;
};

// A term of the expanded query: `word` as found in the text (its stem is the indexed term).
struct WeightedTerm {
  std::string word;
  float weight = 0;
};

// The expanded query of `request` (its fields, filter, k1 and b): the original terms, then the
// feedback terms, weights summing to 1. The original query alone when it finds nothing.
// InvalidArgument as SearchText gives it, or for docs or terms of 0, or a weight outside [0, 1].
Result<std::vector<WeightedTerm>> ExpandQuery(const Collection& collection,
                                              const TextSearchRequest& request,
                                              const FeedbackOptions& options);

// BM25 with RM3 feedback: score(d) = sum over the expanded terms of weight x BM25(term, d) over
// the request's fields. Honours the request's limit, offset, filter and with_payload.
Result<std::vector<ScoredPoint>> SearchTextWithFeedback(const Collection& collection,
                                                        const TextSearchRequest& request,
                                                        const FeedbackOptions& options);

}  // namespace mosaic::query
