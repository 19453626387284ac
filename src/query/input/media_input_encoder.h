// MediaInputEncoder: the InputEncoder of collections made by `mosaic ingest`. It opens the models
// the collection's vectors were made with (the ingest record, point "mosaic:ingest", names them)
// and encodes query inputs the way ingest encoded the media: a text with the CLIP text tower, an
// image with the CLIP image tower and the visual descriptor (with the views ingest averaged in,
// when the collection was made with test-time augmentation), a video clip as its keyframes
// (scanned like ingest does) pooled per shot and the shots pooled by duration, an audio clip as
// its transcript (pocketsphinx) and that transcript's CLIP text vector. A collection with fastText
// text vectors (text_vectors.h) and no CLIP encodes texts with its fastText model into vector
// "fasttext". Models load on first use.
// Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/runtime/session.h"
#include "mosaic/collection.h"
#include "query/input.h"

namespace mosaic::query {

struct MediaInputOptions {
  std::string models_dir;  // model registry (empty: the default)
  embed::SessionOptions session;
  double keyframe_interval_s = 10;  // ingest's default
  int keyframe_max_side = 448;      // ingest's: at least the CLIP input, scaled down from there
};

class MediaInputEncoder final : public InputEncoder {
 public:
  // A collection without an ingest record gets an encoder with no models (every model input is
  // then an InvalidArgument saying so). NotFound naming the model when one the collection was
  // made with is not installed.
  static Result<std::unique_ptr<MediaInputEncoder>> Open(const Collection& collection,
                                                         const MediaInputOptions& options = {});
  ~MediaInputEncoder() override;

  std::vector<std::string> TextVectors() const override;
  Result<EncodedInput> Encode(const Input& input) override;

  // The models by role ({"clip": "clip-vit-b32", ...}).
  const Json& models() const { return models_; }

 private:
  struct Models;
  MediaInputEncoder() = default;

  Result<EncodedInput> EncodeText(const std::string& text);
  Result<EncodedInput> EncodeImages(std::vector<media::Image> images,
                                    const std::vector<double>& shot_weights,
                                    const std::vector<size_t>& shot_of);
  Result<EncodedInput> EncodeAudio(const std::string& path);

  std::string collection_;
  MediaInputOptions options_;
  Json models_ = Json::object();
  std::unique_ptr<Models> m_;
};

}  // namespace mosaic::query
