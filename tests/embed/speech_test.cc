// Speech recognition on pocketsphinx's test utterances (scripts/fetch-data), scored by word
// error rate against their reference transcripts, and the utterance splitter on synthetic
// signals.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include "embed/speech/speech_recognizer.h"
#include "embed/speech/utterance_splitter.h"
#include "media/audio_decode.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::embed {
namespace {

std::string SpeechDir() {
  return ::mosaic::testing::DataDir() + "/speech";
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    if (w != "<s>" && w != "</s>") words.push_back(w);
  }
  return words;
}

// Word-level Levenshtein distance: substitutions + deletions + insertions.
size_t WordErrors(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  std::vector<size_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= hyp.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

// "<s> words </s> (id)" lines -> id: words.
std::map<std::string, std::string> ReadTranscription(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path << " missing: run scripts/fetch-data";
  std::map<std::string, std::string> refs;
  for (std::string line; std::getline(in, line);) {
    const size_t open = line.rfind('(');
    if (open == std::string::npos) continue;
    const std::string id = line.substr(open + 1, line.find(')', open) - open - 1);
    std::string text;
    for (const auto& w : Words(line.substr(0, open)))
      text += (text.empty() ? "" : " ") + w;
    refs[id] = text;
  }
  return refs;
}

std::vector<int16_t> ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path << " missing: run scripts/fetch-data";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto audio = media::DecodeRawPcm16(bytes, 16000);
  EXPECT_TRUE(audio.ok()) << audio.status().ToString();
  return audio.ok() ? media::ToPcm16(audio->samples) : std::vector<int16_t>{};
}

std::string JoinText(const std::vector<TranscriptSegment>& segments) {
  std::string text;
  for (const auto& s : segments)
    text += (text.empty() ? "" : " ") + s.text;
  return text;
}

// Times are ordered, inside [0, duration], and each segment spans its words.
void ExpectSaneTimes(const std::vector<TranscriptSegment>& segments, double duration_s) {
  double prev_end = 0;
  for (const auto& s : segments) {
    ASSERT_FALSE(s.words.empty());
    EXPECT_DOUBLE_EQ(s.start_s, s.words.front().start_s);
    EXPECT_DOUBLE_EQ(s.end_s, s.words.back().end_s);
    for (const auto& w : s.words) {
      EXPECT_GE(w.start_s, prev_end - 1e-9) << w.text;
      EXPECT_GT(w.end_s, w.start_s) << w.text;
      EXPECT_LE(w.end_s, duration_s + 1e-9) << w.text;
      EXPECT_GE(w.confidence, 0.0f);
      EXPECT_LE(w.confidence, 1.0f);
      EXPECT_EQ(w.text.find_first_of("<[(+"), std::string::npos) << "filler or variant: " << w.text;
      prev_end = w.end_s;
    }
  }
}

class SpeechRecognizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = SpeechRecognizer::Open(SpeechModelPaths::DebianEnUs());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    recognizer_ = std::move(r).value().release();
  }
  static void TearDownTestSuite() {
    delete recognizer_;
    recognizer_ = nullptr;
  }
  static SpeechRecognizer* recognizer_;
};
SpeechRecognizer* SpeechRecognizerTest::recognizer_ = nullptr;

TEST_F(SpeechRecognizerTest, WordErrorRateOnTestUtterances) {
  struct Item {
    std::string name, path, ref;
  };
  std::vector<Item> items;
  for (const auto& [id, ref] : ReadTranscription(SpeechDir() + "/librivox/transcription")) {
    items.push_back({id, SpeechDir() + "/librivox/" + id + ".wav", ref});
  }
  for (const auto& [id, ref] : ReadTranscription(SpeechDir() + "/cards/cards.transcription")) {
    items.push_back({"cards/" + id, SpeechDir() + "/cards/" + id + ".wav", ref});
  }
  // goforward.raw's words are given in pocketsphinx's documentation and tests.
  items.push_back({"goforward", SpeechDir() + "/goforward.raw", "go forward ten meters"});
  ASSERT_EQ(items.size(), 11u);

  size_t errors = 0, ref_words = 0;
  double audio_s = 0, wall_s = 0;
  for (const auto& item : items) {
    SCOPED_TRACE(item.name);
    const bool raw = item.path.ends_with(".raw");
    const auto t0 = std::chrono::steady_clock::now();
    Result<std::vector<TranscriptSegment>> segments = Status::Internal("unset");
    double duration = 0;
    if (raw) {
      const auto pcm = ReadRaw(item.path);
      duration = double(pcm.size()) / 16000;
      segments = recognizer_->Transcribe(pcm);
    } else {
      auto info = media::ProbeAudio(item.path);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      duration = info->duration_s;
      segments = recognizer_->TranscribeFile(item.path);
    }
    wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    audio_s += duration;
    ASSERT_TRUE(segments.ok()) << segments.status().ToString();
    ExpectSaneTimes(*segments, duration);
    const auto ref = Words(item.ref);
    const auto hyp = Words(JoinText(*segments));
    const size_t e = WordErrors(ref, hyp);
    errors += e;
    ref_words += ref.size();
    std::printf("WER %5.1f%%  %-45s ref: %s\n%58s hyp: %s\n", 100.0 * e / ref.size(),
                item.name.c_str(), item.ref.c_str(), "", JoinText(*segments).c_str());
  }
  const double wer = double(errors) / ref_words;
  std::printf(
      "overall WER %.1f%% (%zu errors / %zu words); %.1f s of audio in %.1f s: real-time factor "
      "%.2f\n",
      100 * wer, errors, ref_words, audio_s, wall_s, wall_s / audio_s);
  EXPECT_LE(wer, 0.35);  // measured 21.9%
}

TEST_F(SpeechRecognizerTest, WordTimesFollowTheAudio) {
  const auto pcm = ReadRaw(SpeechDir() + "/goforward.raw");
  ASSERT_FALSE(pcm.empty());
  auto segments = recognizer_->Transcribe(pcm);
  ASSERT_TRUE(segments.ok()) << segments.status().ToString();
  ASSERT_EQ(segments->size(), 1u);
  const auto& words = segments->front().words;
  ASSERT_GE(words.size(), 3u) << JoinText(*segments);
  ExpectSaneTimes(*segments, double(pcm.size()) / 16000);
  for (const auto& w : words) {
    std::printf("%-10s %5.2f - %5.2f s  confidence %.3f\n", w.text.c_str(), w.start_s, w.end_s,
                w.confidence);
  }

  // Where the signal first rises 20 dB over its quietest 10 ms: the speech onset.
  std::vector<double> db;
  for (size_t f = 0; f + 160 <= pcm.size(); f += 160) {
    double s = 0;
    for (size_t i = f; i < f + 160; ++i)
      s += double(pcm[i]) * pcm[i];
    db.push_back(10 * std::log10(s / 160 + 1));
  }
  const double floor = *std::min_element(db.begin(), db.end());
  size_t onset = 0;
  while (onset < db.size() && db[onset] < floor + 20)
    ++onset;
  EXPECT_EQ(words.front().text, "go");
  EXPECT_NEAR(words.front().start_s, onset * 0.01, 0.25);
  // "forward" follows "go" directly and is longer than it (two syllables).
  EXPECT_EQ(words[1].text, "forward");
  EXPECT_NEAR(words[1].start_s, words[0].end_s, 0.1);
  EXPECT_GT(words[1].end_s - words[1].start_s, words[0].end_s - words[0].start_s);
}

// The LibriVox sentences back to back with 1.5 s pauses: one 30 s recording, cut into several
// segments whose word times must fall inside the sentence they came from.
TEST_F(SpeechRecognizerTest, LongRecordingIsSegmentedWithAbsoluteTimes) {
  const auto refs = ReadTranscription(SpeechDir() + "/librivox/transcription");
  std::vector<int16_t> pcm;
  std::vector<std::pair<double, double>> spans;
  std::vector<std::string> ref_words;
  for (const auto& [id, ref] : refs) {
    auto audio = media::DecodeAudio(SpeechDir() + "/librivox/" + id + ".wav");
    ASSERT_TRUE(audio.ok()) << audio.status().ToString();
    const auto part = media::ToPcm16(audio->samples);
    spans.emplace_back(double(pcm.size()) / 16000, double(pcm.size() + part.size()) / 16000);
    pcm.insert(pcm.end(), part.begin(), part.end());
    pcm.insert(pcm.end(), 24000, 0);
    for (const auto& w : Words(ref))
      ref_words.push_back(w);
  }
  auto segments = recognizer_->Transcribe(pcm);
  ASSERT_TRUE(segments.ok()) << segments.status().ToString();
  EXPECT_GE(segments->size(), 3u);
  ExpectSaneTimes(*segments, double(pcm.size()) / 16000);
  for (const auto& s : *segments) {
    std::printf("[%6.2f - %6.2f] %s\n", s.start_s, s.end_s, s.text.c_str());
    for (const auto& w : s.words) {
      const bool inside = std::any_of(spans.begin(), spans.end(), [&](const auto& sp) {
        return w.start_s >= sp.first - 0.05 && w.end_s <= sp.second + 0.05;
      });
      EXPECT_TRUE(inside) << w.text << " at " << w.start_s << "-" << w.end_s;
    }
  }
  const double wer = double(WordErrors(ref_words, Words(JoinText(*segments)))) / ref_words.size();
  std::printf("concatenated LibriVox WER %.1f%%\n", 100 * wer);
  EXPECT_LE(wer, 0.40);  // measured 28.2%
}

TEST_F(SpeechRecognizerTest, SilenceHasNoSegments) {
  std::vector<int16_t> silence(16000 * 5, 0);
  auto segments = recognizer_->Transcribe(silence);
  ASSERT_TRUE(segments.ok()) << segments.status().ToString();
  EXPECT_TRUE(segments->empty());
  auto none = recognizer_->Transcribe({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SpeechRecognizerTest, EncodeTakesFilePaths) {
  EXPECT_EQ(recognizer_->info().modality, Modality::kAudio);
  EXPECT_EQ(recognizer_->info().dim, 0);
  const std::string path = SpeechDir() + "/cards/001.wav";
  EncoderInput in;
  in.path = path;
  auto out = recognizer_->Encode(std::span(&in, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const auto& data = out->front().data;
  EXPECT_TRUE(out->front().vectors.empty());
  EXPECT_EQ(data["text"], "ten of clubs");
  ASSERT_EQ(data["segments"].size(), 1u);
  EXPECT_EQ(data["segments"][0]["words"].size(), 3u);
  EXPECT_EQ(data["segments"][0]["words"][2]["text"], "clubs");
  EXPECT_LT(data["segments"][0]["words"][0]["end"].get<double>(),
            data["segments"][0]["words"][2]["start"].get<double>());

  const std::string missing_path = SpeechDir() + "/no_such.wav";
  EncoderInput missing;
  missing.path = missing_path;
  auto st = recognizer_->Encode(std::span(&missing, 1)).status();
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find("input 0"), std::string::npos) << st.ToString();
  const EncoderInput empty;
  EXPECT_TRUE(recognizer_->Encode(std::span(&empty, 1)).status().IsInvalidArgument());
}

// TranscribeFile reports its progress in seconds of audio and stops with Aborted when told to;
// reporting changes nothing in the result.
TEST_F(SpeechRecognizerTest, TranscribeFileReportsProgressAndStopsOnRequest) {
  const std::string path = SpeechDir() + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
  auto plain = recognizer_->TranscribeFile(path);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  std::vector<double> seen;
  auto watched = recognizer_->TranscribeFile(path, [&](double s) {
    seen.push_back(s);
    return true;
  });
  ASSERT_TRUE(watched.ok()) << watched.status().ToString();
  EXPECT_EQ(JoinText(*watched), JoinText(*plain));
  ASSERT_GE(seen.size(), 10u);  // about 7 s of audio, reported every half second
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  auto audio = media::DecodeAudio(path);
  ASSERT_TRUE(audio.ok()) << audio.status().ToString();
  EXPECT_NEAR(seen.back(), audio->duration_s(), 0.01);

  int calls = 0;
  auto stopped = recognizer_->TranscribeFile(path, [&](double s) { return ++calls < 3 && s < 100; });
  ASSERT_FALSE(stopped.ok());
  EXPECT_TRUE(stopped.status().IsAborted()) << stopped.status().ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_NE(stopped.status().message().find("0870.wav"), std::string::npos) << stopped.status().ToString();
}

// A recording's transcript does not depend on what the decoder heard before: each file is a new
// pocketsphinx stream (its noise estimate carried over and changed a video's first words).
TEST_F(SpeechRecognizerTest, EachFileIsTranscribedAsIfFirst) {
  const std::string video = ::mosaic::testing::DataDir() + "/video/Megamind.avi";
  auto fresh = SpeechRecognizer::Open(SpeechModelPaths::DebianEnUs());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto alone = (*fresh)->TranscribeFile(video);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  ASSERT_TRUE(recognizer_->TranscribeFile(SpeechDir() + "/cards/005.wav").ok());
  auto after = recognizer_->TranscribeFile(video);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(JoinText(*after), JoinText(*alone));
  ASSERT_EQ(after->size(), alone->size());
  for (size_t i = 0; i < after->size(); ++i) EXPECT_DOUBLE_EQ((*after)[i].start_s, (*alone)[i].start_s);
}

TEST(SpeechRecognizerOpenTest, BadModelPaths) {
  auto good = SpeechModelPaths::DebianEnUs();
  auto p = good;
  p.hmm_dir = "/nonexistent/en-us";
  auto st = SpeechRecognizer::Open(p).status();
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find("/nonexistent/en-us/mdef"), std::string::npos) << st.ToString();

  p = good;
  p.dict = "/nonexistent.dict";
  st = SpeechRecognizer::Open(p).status();
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();

  ::mosaic::testing::TempDir dir;
  p = good;
  p.lm = dir / "garbage.lm.bin";
  std::ofstream(p.lm) << "this is not a language model\n";
  st = SpeechRecognizer::Open(p).status();
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("garbage.lm.bin"), std::string::npos) << st.ToString();
}

// Splitter on synthetic signals: tone bursts separated by silences of known lengths.
std::vector<int16_t> Bursts(const std::vector<std::pair<double, bool>>& parts) {
  std::vector<int16_t> pcm;
  for (const auto& [seconds, tone] : parts) {
    for (int i = 0; i < int(seconds * 16000); ++i) {
      const double t = double(pcm.size()) / 16000;
      pcm.push_back(tone ? int16_t(8000 * std::sin(2 * std::numbers::pi * 300 * t))
                         : int16_t(i % 3 - 1));
    }
  }
  return pcm;
}

std::vector<speech::Utterance> SplitAll(const std::vector<int16_t>& pcm,
                                        const speech::SplitterOptions& o, size_t chunk) {
  speech::UtteranceSplitter splitter(o);
  std::vector<speech::Utterance> all;
  for (size_t pos = 0; pos < pcm.size(); pos += chunk) {
    for (auto& u : splitter.Push(std::span(pcm).subspan(pos, std::min(chunk, pcm.size() - pos)))) {
      all.push_back(std::move(u));
    }
  }
  for (auto& u : splitter.Finish())
    all.push_back(std::move(u));
  // The utterances tile the input exactly.
  std::vector<int16_t> joined;
  for (const auto& u : all) {
    EXPECT_EQ(u.start_sample, int64_t(joined.size()));
    joined.insert(joined.end(), u.samples.begin(), u.samples.end());
  }
  EXPECT_EQ(joined, pcm);
  return all;
}

TEST(UtteranceSplitterTest, CutsInsidePausesAfterMinimumLength) {
  // 4 s tone, 0.6 s pause, 1 s tone, 0.2 s pause (too short), 3 s tone, 0.8 s pause, 1 s tone.
  const auto pcm = Bursts(
      {{4, true}, {0.6, false}, {1, true}, {0.2, false}, {3, true}, {0.8, false}, {1, true}});
  for (size_t chunk : {size_t(100), size_t(8000), pcm.size()}) {
    SCOPED_TRACE(chunk);
    const auto utts = SplitAll(pcm, {}, chunk);
    ASSERT_EQ(utts.size(), 3u);
    EXPECT_NEAR(utts[1].start_sample / 16000.0, 4.3, 0.05);  // middle of the first pause
    // In the 0.8 s pause: its middle (9.2 s) or, when the chunk ends inside it, 0.3 s into it.
    EXPECT_NEAR(utts[2].start_sample / 16000.0, 9.15, 0.06);
    for (const auto& u : utts)
      EXPECT_FALSE(u.silent);
  }
}

TEST(UtteranceSplitterTest, LongSpeechWithoutPausesIsCutAtMaximum) {
  const auto pcm = Bursts({{45, true}});
  speech::SplitterOptions o;
  o.max_utterance_s = 10;
  const auto utts = SplitAll(pcm, o, 4000);
  ASSERT_GE(utts.size(), 5u);
  for (const auto& u : utts)
    EXPECT_LE(u.samples.size(), size_t(10 * 16000));
}

TEST(UtteranceSplitterTest, DigitalSilenceIsMarkedSilent) {
  const auto pcm = Bursts({{25, false}});
  const auto utts = SplitAll(pcm, {}, 16000);
  ASSERT_FALSE(utts.empty());
  for (const auto& u : utts)
    EXPECT_TRUE(u.silent);
}

}  // namespace
}  // namespace mosaic::embed
