// JSON codecs for points and hits, shared by the CLI and the server:
//   {"id": 7 | "uuid", "vector": [...] | "vectors": {"name": [...]}, "payload": {...}}
// Parsing is strict (unknown keys are errors) and checks only the JSON shape; whether a point
// fits a collection is CollectionSchema::CheckPoint's business.
#pragma once

#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::wire {

// An array of numbers; `where` names it in messages.
Result<std::vector<float>> VectorFromJson(const Json& j, const std::string& where);

// A point. A bare "vector" fills `default_vector` (the collection's first vector, typically).
Result<Point> PointFromJson(const Json& j, const std::string& default_vector);
Json PointToJson(const Point& p);

// {"id", "score", "payload"?, "vectors"?}
Json ScoredPointToJson(const ScoredPoint& p);

// "42" and other all-digit words (below 2^64) are integer ids, anything else a string id: how
// ids are typed on a command line or in a URL path.
PointId PointIdFromText(const std::string& s);

}  // namespace mosaic::wire
