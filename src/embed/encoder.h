// The Encoder interface: media in, vectors and/or structured results out. Every feature
// extractor (CLIP image/text towers, OCR, detectors, face embedders, speech) implements it, so
// ingest and the CLI drive them all the same way: batches of inputs, one output per input.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::embed {

enum class Modality { kImage, kText, kAudio };
const char* ModalityName(Modality m);

/// What an encoder produces, as stored in the registry and reported by `mosaic models info`.
struct EncoderInfo {
  std::string model;         // registry name, e.g. "clip-vit-b32"
  std::string family;        // "clip", "paddleocr", ...
  Modality modality = Modality::kImage;
  int dim = 0;               // vector dimension; 0 for encoders with only structured output
  bool normalized = false;   // vectors are L2-normalized (compare with cosine / inner product)
  std::string space;         // vectors from encoders with the same space are comparable
                             // (a CLIP model's image and text towers share one)
};

/// One input. Exactly the field of the encoder's modality is read: `image` for images, `text`
/// for texts, `path` (a file to decode) for audio.
struct EncoderInput {
  const media::Image* image = nullptr;
  std::string_view text;
  std::string_view path;
};

/// One output per input: zero or more vectors (one for CLIP, one per face for a face model)
/// and structured data (OCR lines, detected objects) as JSON ready for a payload.
struct EncoderOutput {
  std::vector<std::vector<float>> vectors;
  nlohmann::json data;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual const EncoderInfo& info() const = 0;

  /// Encodes a batch; the result has batch.size() entries in order. Inputs are split into
  /// model batches of at most max_batch() internally. A failure of one input fails the call
  /// with a Status naming that input's position.
  virtual Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) = 0;

  /// The largest batch the encoder feeds the model at once.
  virtual int max_batch() const { return 8; }

  /// Text encoders: the most tokens of a text the model reads (longer texts are truncated), and
  /// the number of tokens a text makes; 0 for encoders without a token limit. Chunkers use these
  /// to cut documents into pieces the model sees whole.
  virtual size_t max_tokens() const { return 0; }
  virtual size_t CountTokens(std::string_view text) const { return 0; }
};

/// One model input of images[i] preprocessed by `fill` into `per_image` floats each, back to back.
/// InvalidArgument for an empty or non-RGB image, naming its position (counted from `first`).
Result<std::vector<float>> PackImages(std::span<const media::Image* const> images, size_t per_image,
                                      const std::function<void(const media::Image&, float*)>& fill,
                                      size_t first = 0);

/// L2-normalizes v in place (a zero vector stays zero).
void L2Normalize(std::span<float> v);

}  // namespace mosaic::embed
