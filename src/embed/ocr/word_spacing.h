// Recovers the spaces between words that a CTC recogniser left out, from where its characters
// fell in the output sequence. The Chinese+English PP-OCRv4 recogniser often reads small
// English text as "Invoice4821waspaidon", yet its steps still show the words: the distance
// between the steps of two adjacent characters is larger across a word gap than inside a word.
//
// The spacing of a line is modelled in one of two ways, whichever fits the line's distances
// better (smaller mean deviation): every character as wide as every other (monospaced text),
// or each character as wide as its typical proportional advance (a table measured from
// Liberation and DejaVu fonts). The model's unit is estimated robustly (a median) over the
// line, and a space goes where a distance exceeds the model's prediction by more than a
// threshold times that unit. The recogniser's line is always resized to 48 px high, so a letter
// spans only about 3 to 4 steps whatever the font size: the distances are coarse, and the
// thresholds sit between the quantization levels (1 step over a unit of 4 or of 3 steps).
//
// Only lines that are mostly Latin script are touched, never next to a non-Latin character
// (CJK text has no spaces to recover) and never next to a space the recogniser did read.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "embed/ocr/ctc_decoder.h"

namespace mosaic::embed::ocr {

struct WordSpacingParams {
  // A space is inserted where the distance between two characters' steps exceeds the model's
  // prediction by more than this many units (one unit is an average lower-case letter).
  float gap_threshold = 0.28f;
  // The same in a line where the recogniser did read spaces, at least one per this many
  // non-space characters (about half the word gaps of English text): it saw the word gaps at
  // this size, so the ones it missed are few and an extra step is more often a wide letter.
  float read_spaces_gap_threshold = 0.45f;
  int read_spaces_min_ratio = 10;
  // When a unit spans fewer steps than this (small text in a tall crop: a long justified line
  // of a scanned page reads at about 2 steps a letter), a one-step jitter between letters is as
  // large as a word gap, so a space needs a distance this many steps over the prediction.
  float min_unit_steps = 2.5f;
  float coarse_gap_steps = 1.5f;
  // The same for a digit next to ',', '.' or ':' that has a digit on its other side
  // ("4,821.50", "12:30"), which is one number far more often than two words.
  float numeric_gap_threshold = 1.0f;
  // The same between a lower-case letter with '.', ',', ';', ':', '!' or '?' after it and a
  // capital letter ("background.These"), which is a sentence break far more often than one
  // word: any distance over the prediction is taken as a space.
  float sentence_gap_threshold = 0.0f;
  // Lines with a smaller fraction of Latin characters (ASCII, Latin-1 and Latin Extended
  // letters, full-width ASCII forms) are left as they are.
  float min_latin_fraction = 0.8f;
};

/// `chars` joined, with a space inserted at each inferred word gap.
std::string JoinWithInferredSpaces(const std::vector<DecodedChar>& chars,
                                   const WordSpacingParams& params = {});

}  // namespace mosaic::embed::ocr
