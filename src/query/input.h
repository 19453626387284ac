// Query inputs: what a user searches with (a text, an image, a video or audio clip, a point of
// the collection, a raw vector), and the InputEncoder interface that turns the ones needing a
// model into vectors and words. The query core only sees this interface, so it links no model
// runtime; src/query/input/ implements it over src/embed (MediaInputEncoder).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::query {

enum class InputKind : uint8_t { kText, kImage, kVideo, kAudio, kPoint, kVector };
const char* InputKindName(InputKind k);  // "text", "image", "video", "audio", "point", "vector"

struct Input {
  InputKind kind = InputKind::kText;
  std::string text;           // kText
  std::string path;           // kImage, kVideo, kAudio: a file ...
  std::string bytes;          // ... or its content (an upload); used when path is empty
  PointId id;                 // kPoint: a point of the collection ("more like this")
  std::vector<float> vector;  // kVector: raw, for the request's `using` vector
  // In a mix: how much this input counts; negative moves the results away from it.
  float weight = 1;

  static Input Text(std::string text, float weight = 1);
  static Input Point(PointId id, float weight = 1);
  static Input Vector(std::vector<float> v, float weight = 1);
  static Input File(InputKind kind, std::string path, float weight = 1);
  // A short description for messages and explain: the text, the file name, the id.
  std::string Describe() const;
};

// What an input becomes: vectors in the collection's named vectors that can hold it, and words
// for full-text signals (a text's own words, an audio clip's transcript).
struct EncodedInput {
  std::map<std::string, std::vector<float>> vectors;  // by collection vector name
  std::string text;
  Json info = Json::object();  // shown in explain: keyframes pooled, transcript, model names
};

// Turns model inputs (text, image, video, audio) into EncodedInput for one collection. Point
// and vector inputs never reach it. Implementations may load models lazily; Encode may be slow
// (a video clip is decoded). Not required to be thread-safe: an engine calls it from one thread.
class InputEncoder {
 public:
  virtual ~InputEncoder() = default;
  // The collection vectors a text can be encoded into (e.g. {"clip"}); empty when no text model
  // shares a vector space with the collection's media vectors.
  virtual std::vector<std::string> TextVectors() const = 0;
  // InvalidArgument naming the input for one that cannot be read or decoded; FailedPrecondition-
  // like InvalidArgument ("no model ...") when the collection has no model for that kind.
  virtual Result<EncodedInput> Encode(const Input& input) = 0;
};

}  // namespace mosaic::query
