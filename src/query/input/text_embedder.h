// A query::TextEmbedder over a text encoder of src/embed (the CLIP text tower, or any model with a
// text modality): what `mosaic qa import` makes question vectors with.
#pragma once

#include <memory>

#include "embed/encoder.h"
#include "query/qa.h"

namespace mosaic::query {

// Encodes texts in one batch per call; a text the model gives no vector for gets an empty one.
TextEmbedder EncoderTextEmbedder(std::shared_ptr<embed::Encoder> encoder);

}  // namespace mosaic::query
