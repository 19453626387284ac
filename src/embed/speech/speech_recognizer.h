// Speech to text with word timestamps, by CMU PocketSphinx (the classic 5prealpha ps_decoder
// API) and its US English model: a continuous HMM acoustic model, a trigram language model and
// the CMU pronouncing dictionary (Debian's pocketsphinx-en-us puts them under
// /usr/share/pocketsphinx/model/en-us; see docs/speech.md).
//
// Audio is cut at pauses into utterances of at most SpeechOptions::splitter.max_utterance_s
// (UtteranceSplitter), each decoded on its own, so memory stays bounded however long the
// recording, and each utterance becomes one TranscriptSegment. Word times come from the
// decoder's best path (10 ms frames) plus the utterance's offset in the stream. Fillers
// (<s>, </s>, <sil>, [NOISE], ...) are dropped and pronunciation variants ("read(2)") are
// reported as the word itself.
//
// As an Encoder (modality kAudio) it produces no vectors, only data = {"segments": [{"start",
// "end", "text", "words": [{"text", "start", "end", "confidence"}]}], "text": the segments'
// texts joined by " "}.
//
// PocketSphinx logs to stderr through sphinxbase's process-wide logger; Open() replaces that
// logger once per process with one that drops information and warnings and turns errors into
// the Status of the call that caused them.
//
// Thread safety: one pocketsphinx decoder per recognizer, guarded by a mutex: Transcribe*() and
// Encode() may be called from several threads but run one at a time. Open one recognizer per
// thread for parallel transcription (each holds its own copy of the models, ~40 MB for en-us).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/speech/utterance_splitter.h"
#include "media/audio_decode.h"
#include "mosaic/status.h"

namespace mosaic::embed {

struct SpeechModelPaths {
  std::string hmm_dir;  // acoustic model directory (mdef, means, variances, ...)
  std::string lm;       // language model (.lm.bin or ARPA .lm)
  std::string dict;     // pronouncing dictionary

  /// Debian's pocketsphinx-en-us model.
  static SpeechModelPaths DebianEnUs();
};

struct SpeechOptions {
  speech::SplitterOptions splitter;               // sample_rate is ignored: the model wants 16 kHz
  media::AudioDecodeOptions decode;               // TranscribeFile's limits
  std::string model_name = "pocketsphinx-en-us";  // EncoderInfo::model
};

struct Word {
  std::string text;
  double start_s = 0;
  double end_s = 0;
  float confidence = 0;  // posterior probability of the word in the decoder's lattice, 0..1
};

struct TranscriptSegment {
  double start_s = 0;  // first word's start
  double end_s = 0;    // last word's end
  std::string text;    // the words joined by " "
  std::vector<Word> words;
};

class SpeechRecognizer : public Encoder {
 public:
  /// Loads the models. NotFound naming the file for a missing model file; InvalidArgument with
  /// PocketSphinx's own error for a file it cannot load. (A damaged acoustic model can make
  /// PocketSphinx abort the process: it calls exit() on some format errors.)
  static Result<std::unique_ptr<SpeechRecognizer>> Open(const SpeechModelPaths& paths,
                                                        const SpeechOptions& options = {});
  ~SpeechRecognizer() override;

  /// Transcribes 16 kHz mono 16-bit PCM. Segments are in time order; silence gives none.
  Result<std::vector<TranscriptSegment>> Transcribe(std::span<const int16_t> pcm16k);

  /// Decodes any file media::AudioReader reads (its best audio stream, resampled to 16 kHz
  /// mono) in chunks and transcribes it. `progress`, if set, is called after each half second of
  /// audio with the seconds read so far; returning false stops the work with Aborted.
  Result<std::vector<TranscriptSegment>> TranscribeFile(
      const std::string& path, const std::function<bool(double seconds)>& progress = {});

  const EncoderInfo& info() const override { return info_; }

  /// EncoderInput::path is the audio (or video) file to transcribe.
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;
  int max_batch() const override { return 1; }

  /// The segments as the JSON stored by Encode(): {"segments": [...], "text": ...}.
  static nlohmann::json SegmentsToJson(const std::vector<TranscriptSegment>& segments);

 private:
  struct Decoder;  // owns the ps_decoder_t; keeps pocketsphinx's headers out of this one
  explicit SpeechRecognizer(const SpeechOptions& options);

  // Begins a new recording (resets the decoder's stream-wide estimates). Requires mu_.
  Status StartStream();
  // Decodes one utterance and appends its segment (if it has words). Requires mu_.
  Status DecodeUtterance(const speech::Utterance& utt, std::vector<TranscriptSegment>& out);

  SpeechOptions options_;
  EncoderInfo info_;
  std::mutex mu_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace mosaic::embed
