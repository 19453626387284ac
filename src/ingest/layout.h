// What ingest writes that readers of an ingested collection (the query engine) need to know:
// the id of the ingest record, which collection vector each model role fills, and how vectors of
// several frames or pieces are pooled into one (docs/ingest.md).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mosaic::ingest {

// The point that records the models a collection was made with:
// {"kind": "meta", "encoders": {"clip": "<model>", "visual": "<model>", ...}}.
inline constexpr char kIngestRecordId[] = "mosaic:ingest";

// Roles that own a vector in the collection, and its name.
const std::vector<std::pair<std::string, std::string>>& VectorRoles();

// The weighted mean of the usable vectors (finite, not all zero; nullptr skipped), L2-normalized;
// empty when none is usable. Keyframes pool into a shot with weight 1 each, shots into a video
// by duration, chunks into a document and speech segments into a recording with weight 1 each.
std::vector<float> PoolVectors(const std::vector<const std::vector<float>*>& vectors,
                               const std::vector<double>& weights);

}  // namespace mosaic::ingest
