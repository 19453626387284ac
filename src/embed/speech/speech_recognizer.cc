#include "embed/speech/speech_recognizer.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace mosaic::embed {
namespace {

constexpr int kModelRate = 16000;
constexpr double kFrameSeconds = 0.01;  // PocketSphinx's frame shift at 100 frames/s
constexpr size_t kChunkSamples = kModelRate / 2;

// Errors sphinxbase reported on this thread since the last TakeSphinxErrors().
thread_local std::string t_sphinx_errors;

void SphinxLog(void* /*user_data*/, err_lvl_t level, const char* fmt, ...) {
  if (level < ERR_ERROR) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  std::string msg(buf);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  if (msg.empty()) return;
  if (!t_sphinx_errors.empty()) t_sphinx_errors += "; ";
  t_sphinx_errors += msg;
}

void InstallSphinxLogger() {
  static std::once_flag once;
  std::call_once(once, [] {
    err_set_callback(SphinxLog, nullptr);
    // cmd_ln_init() prints the whole configuration to the log file, not through the callback.
    err_set_logfp(nullptr);
  });
}

std::string TakeSphinxErrors() {
  std::string e = std::move(t_sphinx_errors);
  t_sphinx_errors.clear();
  return e.empty() ? "no details" : e;
}

bool IsFile(const std::string& path) {
  struct stat st = {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsFiller(const char* word) {
  return word[0] == '<' || word[0] == '[' || word[0] == '+' || word[0] == '\0';
}

// "read(2)" -> "read": the second pronunciation of the same word.
std::string BaseWord(const char* word) {
  std::string w(word);
  const size_t open = w.rfind('(');
  if (open == std::string::npos || open == 0 || w.back() != ')' || open + 2 >= w.size()) return w;
  for (size_t i = open + 1; i + 1 < w.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(w[i]))) return w;
  }
  w.resize(open);
  return w;
}

}  // namespace

struct SpeechRecognizer::Decoder {
  ps_decoder_t* ps = nullptr;
  ~Decoder() {
    if (ps != nullptr) ps_free(ps);
  }
};

SpeechModelPaths SpeechModelPaths::DebianEnUs() {
  const std::string dir = "/usr/share/pocketsphinx/model/en-us";
  return {dir + "/en-us", dir + "/en-us.lm.bin", dir + "/cmudict-en-us.dict"};
}

SpeechRecognizer::SpeechRecognizer(const SpeechOptions& options) : options_(options) {
  options_.splitter.sample_rate = kModelRate;
  info_.model = options.model_name;
  info_.family = "pocketsphinx";
  info_.modality = Modality::kAudio;
  info_.dim = 0;
}

SpeechRecognizer::~SpeechRecognizer() = default;

Result<std::unique_ptr<SpeechRecognizer>> SpeechRecognizer::Open(const SpeechModelPaths& paths,
                                                                 const SpeechOptions& options) {
  // PocketSphinx exits the process on some missing acoustic model files, so check them first.
  for (const char* f : {"mdef", "means", "variances", "transition_matrices"}) {
    const std::string p = paths.hmm_dir + "/" + f;
    if (!IsFile(p)) return Status::NotFound("acoustic model file '" + p + "' does not exist");
  }
  if (!IsFile(paths.lm))
    return Status::NotFound("language model '" + paths.lm + "' does not exist");
  if (!IsFile(paths.dict))
    return Status::NotFound("dictionary '" + paths.dict + "' does not exist");

  InstallSphinxLogger();
  TakeSphinxErrors();
  // -remove_silence no: the front end's voice activity detector would drop silent frames, and
  // the frame numbers of the word segments would no longer be times. UtteranceSplitter does
  // the cutting at pauses instead.
  cmd_ln_t* config =
      cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", paths.hmm_dir.c_str(), "-lm", paths.lm.c_str(),
                  "-dict", paths.dict.c_str(), "-remove_silence", "no", nullptr);
  if (config == nullptr) {
    return Status::InvalidArgument("pocketsphinx rejected its configuration: " +
                                   TakeSphinxErrors());
  }
  std::unique_ptr<SpeechRecognizer> r(new SpeechRecognizer(options));
  r->decoder_ = std::make_unique<Decoder>();
  r->decoder_->ps = ps_init(config);
  cmd_ln_free_r(config);  // the decoder holds its own reference
  if (r->decoder_->ps == nullptr) {
    return Status::InvalidArgument("pocketsphinx cannot load the model (" + paths.hmm_dir + ", " +
                                   paths.lm + ", " + paths.dict + "): " + TakeSphinxErrors());
  }
  return r;
}

Status SpeechRecognizer::DecodeUtterance(const speech::Utterance& utt,
                                         std::vector<TranscriptSegment>& out) {
  if (utt.silent || utt.samples.empty()) return Status::OK();
  ps_decoder_t* ps = decoder_->ps;
  TakeSphinxErrors();
  const double offset_s = double(utt.start_sample) / kModelRate;
  auto fail = [&](const char* what) {
    char at[32];
    std::snprintf(at, sizeof(at), "%.2f", offset_s);
    return Status::Internal(std::string("pocketsphinx ") + what + " failed on the utterance at " +
                            at + " s: " + TakeSphinxErrors());
  };
  if (ps_start_utt(ps) < 0) return fail("ps_start_utt");
  // One call with full_utt: the whole utterance is known, so cepstral mean normalization can
  // use all of it (the model's -cmn batch).
  if (ps_process_raw(ps, utt.samples.data(), utt.samples.size(), FALSE, TRUE) < 0) {
    ps_end_utt(ps);
    return fail("ps_process_raw");
  }
  if (ps_end_utt(ps) < 0) return fail("ps_end_utt");

  TranscriptSegment seg;
  logmath_t* lmath = ps_get_logmath(ps);
  const double utt_end_s = offset_s + double(utt.samples.size()) / kModelRate;
  for (ps_seg_t* it = ps_seg_iter(ps); it != nullptr; it = ps_seg_next(it)) {
    const char* w = ps_seg_word(it);
    if (w == nullptr || IsFiller(w)) continue;
    int sf = 0, ef = 0;
    ps_seg_frames(it, &sf, &ef);
    int32 ascr = 0, lscr = 0, lback = 0;
    const int32 post = ps_seg_prob(it, &ascr, &lscr, &lback);
    Word word;
    word.text = BaseWord(w);
    word.start_s = offset_s + sf * kFrameSeconds;
    word.end_s = std::min(offset_s + (ef + 1) * kFrameSeconds, utt_end_s);
    word.confidence = float(std::clamp(logmath_exp(lmath, post), 0.0, 1.0));
    if (!seg.text.empty()) seg.text += ' ';
    seg.text += word.text;
    seg.words.push_back(std::move(word));
  }
  if (seg.words.empty()) return Status::OK();
  seg.start_s = seg.words.front().start_s;
  seg.end_s = seg.words.back().end_s;
  out.push_back(std::move(seg));
  return Status::OK();
}

// Each recording is its own stream: pocketsphinx keeps channel estimates (the noise level its
// noise removal subtracts) across the utterances of a stream, so without a new stream a file's
// transcript would depend on the files the same decoder heard before (a video's first words came
// out differently after a card-game recording).
Status SpeechRecognizer::StartStream() {
  if (ps_start_stream(decoder_->ps) < 0)
    return Status::Internal("pocketsphinx ps_start_stream failed: " + TakeSphinxErrors());
  return Status::OK();
}

Result<std::vector<TranscriptSegment>> SpeechRecognizer::Transcribe(
    std::span<const int16_t> pcm16k) {
  std::lock_guard<std::mutex> lock(mu_);
  MOSAIC_RETURN_IF_ERROR(StartStream());
  speech::UtteranceSplitter splitter(options_.splitter);
  std::vector<TranscriptSegment> segments;
  for (size_t pos = 0; pos < pcm16k.size(); pos += kChunkSamples) {
    const auto chunk = pcm16k.subspan(pos, std::min(kChunkSamples, pcm16k.size() - pos));
    for (const auto& utt : splitter.Push(chunk))
      MOSAIC_RETURN_IF_ERROR(DecodeUtterance(utt, segments));
  }
  for (const auto& utt : splitter.Finish())
    MOSAIC_RETURN_IF_ERROR(DecodeUtterance(utt, segments));
  return segments;
}

Result<std::vector<TranscriptSegment>> SpeechRecognizer::TranscribeFile(
    const std::string& path, const std::function<bool(double seconds)>& progress) {
  auto reader = media::AudioReader::Open(path, kModelRate, options_.decode);
  if (!reader.ok()) return reader.status();
  std::lock_guard<std::mutex> lock(mu_);
  MOSAIC_RETURN_IF_ERROR(StartStream().WithContext(path));
  speech::UtteranceSplitter splitter(options_.splitter);
  std::vector<TranscriptSegment> segments;
  std::vector<float> chunk;
  uint64_t samples = 0;
  while (true) {
    chunk.clear();
    auto n = (*reader)->Read(chunk, kChunkSamples);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    samples += *n;
    if (progress && !progress(static_cast<double>(samples) / kModelRate))
      return Status::Aborted("transcription of " + path + " stopped at " +
                             std::to_string(samples / kModelRate) + " s");
    for (const auto& utt : splitter.Push(media::ToPcm16(chunk))) {
      Status st = DecodeUtterance(utt, segments);
      if (!st.ok()) return st.WithContext(path);
    }
  }
  for (const auto& utt : splitter.Finish()) {
    Status st = DecodeUtterance(utt, segments);
    if (!st.ok()) return st.WithContext(path);
  }
  return segments;
}

nlohmann::json SpeechRecognizer::SegmentsToJson(const std::vector<TranscriptSegment>& segments) {
  nlohmann::json segs = nlohmann::json::array();
  std::string text;
  for (const auto& s : segments) {
    nlohmann::json words = nlohmann::json::array();
    for (const auto& w : s.words) {
      words.push_back(
          {{"text", w.text}, {"start", w.start_s}, {"end", w.end_s}, {"confidence", w.confidence}});
    }
    segs.push_back(
        {{"start", s.start_s}, {"end", s.end_s}, {"text", s.text}, {"words", std::move(words)}});
    if (!text.empty()) text += ' ';
    text += s.text;
  }
  return {{"segments", std::move(segs)}, {"text", std::move(text)}};
}

Result<std::vector<EncoderOutput>> SpeechRecognizer::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> outputs;
  outputs.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string path(batch[i].path);
    if (path.empty()) {
      return Status::InvalidArgument("input " + std::to_string(i) +
                                     ": no audio file path (EncoderInput::path)");
    }
    auto segments = TranscribeFile(path);
    if (!segments.ok()) return segments.status().WithContext("input " + std::to_string(i));
    EncoderOutput out;
    out.data = SegmentsToJson(*segments);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

}  // namespace mosaic::embed
