// How the CLI shows query hits in a terminal: one line per hit with its title, kind, time range
// and score, a one-line snippet under it, and with --explain the signals and the evidence.
#pragma once

#include <cstdio>
#include <string>

#include "query/response.h"

namespace mosaic::cli {

// Prints `r` (hits or groups, facets, what was understood) as a table to `out`; ranks start at
// `first_rank`.
void PrintHits(const query::QueryResponse& r, size_t first_rank, bool explain, std::FILE* out);

// An evidence sentence ({"text", "highlights"}) with its highlights in bold on a terminal, or
// between ** in a pipe; "" for null.
std::string HighlightedSentence(const Json& sentence);

}  // namespace mosaic::cli
