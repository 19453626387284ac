// Splits a stream of 16-bit mono PCM into utterances at pauses, so a long recording is decoded
// piece by piece with bounded memory, and each piece's position in the stream is known (word
// times are the piece's offset plus the recognizer's frame times).
//
// The signal is measured in 10 ms frames (energy in dB). A frame is a pause when it is within
// pause_db of the noise floor, estimated as a low percentile of the frame energies buffered.
// Once an utterance is min_utterance_s long, the first pause of at least min_pause_s ends it (the
// cut is in the middle of the pause, so both sides keep some silence); an utterance that reaches
// max_utterance_s without such a pause is cut at its quietest 200 ms in the second half.
// Utterances whose loudest frame is below silence_dbfs (digital silence, a muted track) are
// reported as silent so the caller can skip decoding them.
//
// Thread safety: none; one splitter per stream.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mosaic::embed::speech {

struct SplitterOptions {
  int sample_rate = 16000;
  double min_utterance_s = 3.0;
  double max_utterance_s = 20.0;
  double min_pause_s = 0.3;
  float pause_db = 10.0f;       // above the noise floor
  float silence_dbfs = -60.0f;  // a whole utterance below this is silent
};

struct Utterance {
  int64_t start_sample = 0;  // position of samples[0] in the stream
  std::vector<int16_t> samples;
  bool silent = false;
};

class UtteranceSplitter {
 public:
  explicit UtteranceSplitter(const SplitterOptions& options = {});

  /// Appends samples; returns the utterances they complete (often none).
  std::vector<Utterance> Push(std::span<const int16_t> samples);

  /// Ends the stream; returns the last utterance, if any samples remain.
  std::vector<Utterance> Finish();

 private:
  // Cuts off the first `frames` buffered frames as an utterance.
  Utterance Cut(size_t frames);
  // Where to cut the buffer now (in frames), or 0 to wait for more audio.
  size_t FindCut() const;

  SplitterOptions options_;
  size_t frame_len_;  // samples per 10 ms frame
  std::vector<int16_t> buffer_;
  std::vector<float> energy_db_;  // one per complete frame of buffer_
  int64_t buffer_start_ = 0;
};

}  // namespace mosaic::embed::speech
