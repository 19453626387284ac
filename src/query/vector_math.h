// Small helpers the query layer's files share: a vector scaled to unit length, and the names of a
// collection's vectors for error messages.
#pragma once

#include <string>
#include <vector>

#include "mosaic/types.h"

namespace mosaic::query {

// `v` / |v| (computed in double); a zero vector stays zero.
std::vector<float> Normalized(std::vector<float> v);

// "clip, visual, face": the schema's vector names, for messages.
std::string VectorNames(const CollectionSchema& schema);

}  // namespace mosaic::query
