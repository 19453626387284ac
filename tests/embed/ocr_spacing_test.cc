// Word-gap inference on synthetic CTC timings: spaces come back where the steps are farther
// apart than the line's letter pitch, and not inside numbers, next to CJK text or next to a
// space the recogniser read.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embed/ocr/word_spacing.h"

namespace mosaic::embed::ocr {
namespace {

// One ASCII character per `pitch` steps; each '|' in `layout` is a word gap that adds `gap`
// steps and is not itself a character. A ' ' is a space the recogniser read.
std::vector<DecodedChar> Timed(const std::string& layout, int pitch = 3, int gap = 2) {
  std::vector<DecodedChar> out;
  int step = 1;
  for (char c : layout) {
    if (c == '|') {
      step += gap;
      continue;
    }
    out.push_back({std::string(1, c), step, step});
    step += pitch;
  }
  return out;
}

TEST(OcrWordSpacingTest, RestoresGapsInAMonospacedLine) {
  EXPECT_EQ(JoinWithInferredSpaces(Timed("Invoice|4821|was|paid|on|time.")),
            "Invoice 4821 was paid on time.");
}

TEST(OcrWordSpacingTest, EvenPitchGetsNoSpaces) {
  EXPECT_EQ(JoinWithInferredSpaces(Timed("segmentation")), "segmentation");
}

TEST(OcrWordSpacingTest, NeverDoublesASpaceTheRecogniserRead) {
  // The read spaces sit in the wider gaps themselves.
  EXPECT_EQ(JoinWithInferredSpaces(Timed("the| |cat| |sat|on|the|mat")), "the cat sat on the mat");
}

TEST(OcrWordSpacingTest, KeepsNumbersWholeUnlessTheGapIsLarge) {
  EXPECT_EQ(JoinWithInferredSpaces(Timed("paid|4|,821|.50|at|12|:30")), "paid 4,821.50 at 12:30");
  // Two pitches apart is too far for one number.
  EXPECT_EQ(JoinWithInferredSpaces(Timed("rooms|4,|||||5|and|6", 3, 2)), "rooms 4, 5 and 6");
}

TEST(OcrWordSpacingTest, SentenceBreakNeedsOnlyAStep) {
  // One step over a pitch of four is below the word-gap threshold, except after a full stop.
  EXPECT_EQ(JoinWithInferredSpaces(Timed("the|background.|These|markers", 4, 1)),
            "thebackground. Thesemarkers");
  // A lower-case word after the stop is not a sentence: one step is jitter, as in "np.zeros".
  EXPECT_EQ(JoinWithInferredSpaces(Timed("np.|zeros_like", 4, 1)), "np.zeros_like");
}

TEST(OcrWordSpacingTest, LeavesCjkLinesAndCjkNeighboursAlone) {
  std::vector<DecodedChar> cjk;
  int step = 0;
  for (const char* c : {"我", "们", "的", "产", "品", "很", "好"}) {
    cjk.push_back({c, step, step});
    step += cjk.size() % 2 == 0 ? 7 : 3;
  }
  EXPECT_EQ(JoinWithInferredSpaces(cjk), "我们的产品很好");

  // A mostly Latin line: the gap next to the CJK character stays closed.
  std::vector<DecodedChar> mixed = Timed("price|list|for|the|year");
  const int after = mixed.back().last_step + 6;
  mixed.push_back({"年", after, after});
  EXPECT_EQ(JoinWithInferredSpaces(mixed), "price list for the year年");
}

TEST(OcrWordSpacingTest, TooShortToEstimateIsUnchanged) {
  EXPECT_EQ(JoinWithInferredSpaces(Timed("at|8")), "at8");
  EXPECT_EQ(JoinWithInferredSpaces({}), "");
}

TEST(OcrWordSpacingTest, CoarseTimingNeedsTwoSteps) {
  // Two steps a letter (small text in a long line): one extra step is letter jitter.
  EXPECT_EQ(JoinWithInferredSpaces(Timed("the|markers|are|found", 2, 1)), "themarkersarefound");
  EXPECT_EQ(JoinWithInferredSpaces(Timed("the|markers|are|found", 2, 2)), "the markers are found");
}

}  // namespace
}  // namespace mosaic::embed::ocr
