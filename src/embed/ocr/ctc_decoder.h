// The character set of a CTC text recogniser and greedy CTC decoding of its per-step class
// probabilities. Class 0 is the CTC blank, classes 1..n are the dictionary file's lines, and
// PaddleOCR models trained with use_space_char have one more class, " ", at the end.
// A CtcDecoder is immutable after Load/SetClassCount; Decode is safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::embed::ocr {

// One character kept by greedy decoding, with the run of steps (sequence positions, about
// 8 input pixels each) over which it was the arg-max. The recogniser's peaks are sharp: the
// neighbouring steps carry almost no probability for the character, so the run is all the
// position information there is.
struct DecodedChar {
  std::string text;
  int first_step = 0;
  int last_step = 0;  // inclusive
};

struct DecodedText {
  std::string text;
  float confidence = 0;            // mean max-probability over the kept steps; 0 for an empty text
  std::vector<DecodedChar> chars;  // text is these joined, in order
};

class CtcDecoder {
 public:
  /// Reads a dictionary: one UTF-8 character (string) per line. NotFound for a missing file,
  /// InvalidArgument for an empty one.
  static Result<CtcDecoder> Load(const std::string& path);

  /// Number of dictionary entries (excluding blank and the optional space).
  size_t dictionary_size() const { return dictionary_size_; }

  /// Fits the labels to a model with `classes` outputs per step: dictionary + blank, or
  /// dictionary + blank + space. InvalidArgument naming both files otherwise.
  Status SetClassCount(int64_t classes, const std::string& model_path);
  int64_t class_count() const { return static_cast<int64_t>(labels_.size()); }

  /// Greedy decode of one sequence: probs is steps x class_count() (row-major).
  /// Takes the arg-max per step, merges repeats, drops blanks; keeps each character's steps.
  DecodedText Decode(const float* probs, int64_t steps) const;

 private:
  std::string path_;
  size_t dictionary_size_ = 0;
  std::vector<std::string> labels_;  // labels_[0] is the blank ("")
};

}  // namespace mosaic::embed::ocr
