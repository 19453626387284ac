// JSON codecs for query requests and responses (the grammar is in docs/query.md), shared by the
// CLI and the server. Parsing is strict: an unknown key, a wrong type or a bad value is an
// InvalidArgument naming its path in the request and the value.
#pragma once

#include <functional>
#include <string>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "query/request.h"
#include "query/response.h"

namespace mosaic::wire {

// Interprets a key of a "mix" object ({"a red car": 1.0, "./photo.jpg": 0.6}): the CLI turns
// paths of existing files into media inputs; without a resolver every key is a text.
using InputResolver = std::function<Result<query::Input>(const std::string& key)>;

struct QueryCodecOptions {
  InputResolver resolver;
  // Whether inputs may name server-side files ({"image": "/path"}); false: only uploads
  // ({"image_base64": ...}) and texts, ids and vectors.
  bool allow_paths = true;
};

Result<query::QueryRequest> QueryRequestFromJson(const Json& j,
                                                 const QueryCodecOptions& options = {});
// One input: "text", 42 (a point id), [0.1, ...] (a vector), or {"text"|"image"|"video"|"audio"|
// "image_base64"|...|"id"|"vector": ..., "weight": w}.
Result<query::Input> InputFromJson(const Json& j, const std::string& where,
                                   const QueryCodecOptions& options = {});

// {"points": [...]} or {"groups": [...]}, plus "facets", "next_cursor" and "explain" when set.
Json QueryResponseToJson(const query::QueryResponse& r);
Json HitToJson(const query::Hit& h);

}  // namespace mosaic::wire
