// Offline dense text vectors for a collection (docs/text_vectors.md): fastText word vectors trained
// on the collection's own text and installed into the model registry, and a copy of the collection
// that adds their pooled vector to every point with text. A collection's schema is fixed at
// creation (CollectionSchema), so the vector cannot be added in place: WriteTextVectors makes a
// new collection with the source's vectors, payloads and payload indexes plus the text vector,
// and records the model in the copy's ingest record (encoders.fasttext) so that
// MediaInputEncoder encodes query texts with it.
//
// Thread safety: free functions over thread-safe Db and Collection objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embed/registry/manifest.h"
#include "embed/text/fasttext_encoder.h"
#include "mosaic/db.h"

namespace mosaic::query {

// The ingest-record role of fastText text vectors, and the name of their collection vector.
inline constexpr char kFastTextRole[] = "fasttext";

struct TextVectorOptions {
  // Payload fields (dotted paths) whose strings, or arrays of strings, are a point's text.
  std::vector<std::string> fields = {"title", "text"};
  std::string models_dir;  // model registry (empty: the default)
  embed::FastTextTrainOptions train;
  bool replace = false;  // replace an installed model of the same name
};

// A point's text: its fields' strings joined by newlines ("" when it has none).
std::string PointText(const Json& payload, const std::vector<std::string>& fields);

// Trains fastText on the text of every point of `collection` and installs the model as
// options.train.name. InvalidArgument when no point has text in the fields; AlreadyExists when
// the model is installed and replace is false.
Result<embed::ModelManifest> TrainTextModel(const Collection& collection,
                                            const TextVectorOptions& options);

struct TextVectorCopy {
  uint64_t points = 0;       // points copied
  uint64_t with_vector = 0;  // of which got a text vector
};

// Copies `source` into the new collection `target` of `db`, adding the named vector "fasttext"
// (cosine, the model's dimension) with each point's pooled text vector from `model` (installed
// in options.models_dir). AlreadyExists when `target` exists or `source` already has that vector;
// NotFound naming the model when it is not installed. On failure the partial copy is dropped.
Result<TextVectorCopy> WriteTextVectors(Db& db, const Collection& source, const std::string& target,
                                        const std::string& model, const TextVectorOptions& options);

}  // namespace mosaic::query
