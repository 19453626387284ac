// JSON codecs of the applications (src/query: recommend, classify, passages, ask), shared by the
// CLI's --json output and the server. Layouts: docs/applications.md.
#pragma once

#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "query/classify.h"
#include "query/passages.h"
#include "query/qa.h"
#include "query/recommend.h"
#include "wire/query_codec.h"

namespace mosaic::wire {

// {"positive": [input...], "negative": [...], "strategy": "average_vector"|"best_score",
//  "history": [{"id", "time", "weight"}...], "half_life": seconds, "exclude_seen": bool,
//  "using": name, "filter": {...}, "limit": n, "offset": n, "explain": bool}; inputs as in a
// query request (ids, vectors, texts, files). InvalidArgument naming the field.
Result<query::RecommendRequest> RecommendRequestFromJson(const Json& j,
                                                         const QueryCodecOptions& options = {});

// {"id", "label", "confidence", "scores": [{"label", "score"}...]}
Json PredictionToJson(const query::Prediction& p);
// {"document", "title", "path", "passages": [{"id", "score", "text", "sentence", "page",
//  "headings"}...]}
Json DocumentPassagesToJson(const query::DocumentPassages& d);
// {"id", "score", "source", "answer", "question" | "sentence", "title", "page", "signals"}
Json AnswerToJson(const query::Answer& a);

}  // namespace mosaic::wire
