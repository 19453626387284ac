// Audio decoding: files written in the test with FFmpeg's own encoders and muxers (WAV, FLAC,
// MP3, Ogg Vorbis, Ogg Opus, M4A, and video containers with and without an audio track), the
// pocketsphinx test utterances, and damaged files.
#include "media/audio_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::media {
namespace {

constexpr double kToneHz = 440.0;
constexpr double kAmplitude = 0.5;

struct AudioTrack {
  const char* encoder;  // FFmpeg encoder name
  int rate;
  int channels;
};

// Encodes frames and muxes the packets; one per stream.
struct StreamWriter {
  AVCodecContext* ctx = nullptr;
  AVStream* stream = nullptr;
  ~StreamWriter() { avcodec_free_context(&ctx); }
};

void Drain(AVFormatContext* oc, StreamWriter& w, const AVFrame* frame) {
  ASSERT_GE(avcodec_send_frame(w.ctx, frame), 0);
  AVPacket* pkt = av_packet_alloc();
  while (avcodec_receive_packet(w.ctx, pkt) == 0) {
    av_packet_rescale_ts(pkt, w.ctx->time_base, w.stream->time_base);
    pkt->stream_index = w.stream->index;
    ASSERT_GE(av_interleaved_write_frame(oc, pkt), 0);
  }
  av_packet_free(&pkt);
}

// Writes `seconds` of a 440 Hz tone (same on every channel) and/or grey video frames.
void WriteMedia(const std::string& path, const char* container, const AudioTrack* audio,
                const char* video_encoder, double seconds) {
  AVFormatContext* oc = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&oc, nullptr, container, path.c_str()), 0) << container;
  StreamWriter aw, vw;
  auto open = [&](StreamWriter& w, const AVCodec* codec) {
    if (oc->oformat->flags & AVFMT_GLOBALHEADER) w.ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ASSERT_GE(avcodec_open2(w.ctx, codec, nullptr), 0) << codec->name;
    w.stream = avformat_new_stream(oc, nullptr);
    ASSERT_GE(avcodec_parameters_from_context(w.stream->codecpar, w.ctx), 0);
    w.stream->time_base = w.ctx->time_base;
  };
  if (audio != nullptr) {
    const AVCodec* codec = avcodec_find_encoder_by_name(audio->encoder);
    ASSERT_NE(codec, nullptr) << "FFmpeg has no " << audio->encoder << " encoder";
    aw.ctx = avcodec_alloc_context3(codec);
    aw.ctx->sample_fmt = codec->sample_fmts[0];
    aw.ctx->sample_rate = audio->rate;
    av_channel_layout_default(&aw.ctx->ch_layout, audio->channels);
    aw.ctx->bit_rate = 96000;
    aw.ctx->time_base = {1, audio->rate};
    aw.ctx->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
    open(aw, codec);
  }
  if (video_encoder != nullptr) {
    const AVCodec* codec = avcodec_find_encoder_by_name(video_encoder);
    ASSERT_NE(codec, nullptr) << "FFmpeg has no " << video_encoder << " encoder";
    vw.ctx = avcodec_alloc_context3(codec);
    vw.ctx->width = 64;
    vw.ctx->height = 48;
    vw.ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    vw.ctx->time_base = {1, 10};
    vw.ctx->framerate = {10, 1};
    open(vw, codec);
  }
  ASSERT_GE(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(oc, nullptr), 0);

  if (audio != nullptr) {
    const int total = int(seconds * audio->rate);
    const int frame_size = aw.ctx->frame_size > 0 ? aw.ctx->frame_size : 1024;
    AVFrame* f = av_frame_alloc();
    for (int start = 0; start < total; start += frame_size) {
      f->nb_samples = std::min(frame_size, total - start);
      if (aw.ctx->frame_size > 0 &&
          !(aw.ctx->codec->capabilities &
            (AV_CODEC_CAP_VARIABLE_FRAME_SIZE | AV_CODEC_CAP_SMALL_LAST_FRAME)) &&
          f->nb_samples < frame_size) {
        f->nb_samples = frame_size;  // the last frame of fixed-size codecs is padded with silence
      }
      f->format = aw.ctx->sample_fmt;
      f->sample_rate = aw.ctx->sample_rate;
      av_channel_layout_copy(&f->ch_layout, &aw.ctx->ch_layout);
      ASSERT_GE(av_frame_get_buffer(f, 0), 0);
      const auto fmt = AVSampleFormat(f->format);
      const bool planar = av_sample_fmt_is_planar(fmt);
      const int nch = audio->channels;
      for (int i = 0; i < f->nb_samples; ++i) {
        const int n = start + i;
        const double v =
            n < total ? kAmplitude * std::sin(2 * std::numbers::pi * kToneHz * n / audio->rate)
                      : 0.0;
        for (int c = 0; c < nch; ++c) {
          uint8_t* base = planar ? f->extended_data[c] : f->extended_data[0];
          const int idx = planar ? i : i * nch + c;
          switch (av_get_packed_sample_fmt(fmt)) {
            case AV_SAMPLE_FMT_S16:
              reinterpret_cast<int16_t*>(base)[idx] = int16_t(v * 32767);
              break;
            case AV_SAMPLE_FMT_S32:
              reinterpret_cast<int32_t*>(base)[idx] = int32_t(v * 2147483647.0);
              break;
            case AV_SAMPLE_FMT_FLT:
              reinterpret_cast<float*>(base)[idx] = float(v);
              break;
            default:
              FAIL() << "test writer lacks sample format " << av_get_sample_fmt_name(fmt);
          }
        }
      }
      f->pts = start;
      Drain(oc, aw, f);
      av_frame_unref(f);
    }
    av_frame_free(&f);
    Drain(oc, aw, nullptr);
  }
  if (video_encoder != nullptr) {
    AVFrame* f = av_frame_alloc();
    for (int i = 0; i < int(seconds * 10); ++i) {
      f->format = vw.ctx->pix_fmt;
      f->width = vw.ctx->width;
      f->height = vw.ctx->height;
      ASSERT_GE(av_frame_get_buffer(f, 0), 0);
      for (int p = 0; p < 3; ++p) {
        const int h = p == 0 ? f->height : f->height / 2;
        for (int y = 0; y < h; ++y)
          std::memset(f->data[p] + y * f->linesize[p], 128, f->linesize[p]);
      }
      f->pts = i;
      Drain(oc, vw, f);
      av_frame_unref(f);
    }
    av_frame_free(&f);
    Drain(oc, vw, nullptr);
  }
  ASSERT_GE(av_write_trailer(oc), 0);
  avio_closep(&oc->pb);
  avformat_free_context(oc);
}

// The tone's frequency from zero crossings, and its RMS, over the middle of the signal (codecs
// fade in and out at the edges).
void ExpectTone(const Audio& a, double seconds) {
  ASSERT_GT(a.samples.size(), size_t(a.sample_rate / 2));
  const size_t lo = a.samples.size() / 4, hi = a.samples.size() * 3 / 4;
  int crossings = 0;
  double sq = 0;
  for (size_t i = lo; i < hi; ++i) {
    if ((a.samples[i - 1] < 0) != (a.samples[i] < 0)) ++crossings;
    sq += double(a.samples[i]) * a.samples[i];
  }
  const double span_s = double(hi - lo) / a.sample_rate;
  EXPECT_NEAR(crossings / 2.0 / span_s, kToneHz, kToneHz * 0.03);
  EXPECT_NEAR(std::sqrt(sq / double(hi - lo)), kAmplitude / std::sqrt(2.0), 0.05);
  EXPECT_NEAR(a.duration_s(), seconds, 0.08);
}

struct FormatCase {
  const char* name;
  const char* container;
  const char* file;
  AudioTrack track;
  const char* codec;
};

const FormatCase kFormats[] = {
    {"wav", "wav", "tone.wav", {"pcm_s16le", 44100, 2}, "pcm_s16le"},
    {"flac", "flac", "tone.flac", {"flac", 22050, 1}, "flac"},
    {"mp3", "mp3", "tone.mp3", {"libmp3lame", 44100, 2}, "mp3"},
    {"vorbis", "ogg", "tone.ogg", {"libvorbis", 44100, 2}, "vorbis"},
    {"opus", "ogg", "tone.opus", {"libopus", 48000, 2}, "opus"},
    {"aac", "ipod", "tone.m4a", {"aac", 32000, 1}, "aac"},
};

class AudioFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(AudioFormatTest, ProbesAndDecodesToneAtTargetRate) {
  const FormatCase& c = GetParam();
  testing::TempDir dir;
  const std::string path = dir / c.file;
  WriteMedia(path, c.container, &c.track, nullptr, 2.0);
  if (HasFatalFailure()) return;

  auto info = ProbeAudio(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->codec, c.codec);
  EXPECT_EQ(info->sample_rate, c.track.rate);
  EXPECT_EQ(info->channels, c.track.channels);
  EXPECT_NEAR(info->duration_s, 2.0, 0.1);
  EXPECT_FALSE(info->container.empty());

  for (int rate : {8000, 16000, 48000}) {
    SCOPED_TRACE(rate);
    auto audio = DecodeAudio(path, rate);
    ASSERT_TRUE(audio.ok()) << audio.status().ToString();
    EXPECT_EQ(audio->sample_rate, rate);
    ExpectTone(*audio, 2.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, AudioFormatTest, ::testing::ValuesIn(kFormats),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AudioDecodeTest, ReaderChunksMatchWholeDecode) {
  testing::TempDir dir;
  const AudioTrack track{"libvorbis", 44100, 2};
  WriteMedia(dir / "t.ogg", "ogg", &track, nullptr, 3.0);
  auto whole = DecodeAudio(dir / "t.ogg");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();

  auto reader = AudioReader::Open(dir / "t.ogg");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->sample_rate(), 16000);
  std::vector<float> chunks;
  while (true) {
    auto n = (*reader)->Read(chunks, 777);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    EXPECT_LE(*n, 777u);
  }
  EXPECT_EQ(chunks, whole->samples);
}

TEST(AudioDecodeTest, AudioTrackOfVideoFiles) {
  testing::TempDir dir;
  const AudioTrack aac{"aac", 48000, 2};
  const AudioTrack mp3{"libmp3lame", 44100, 1};
  struct Case {
    const char* file;
    const char* container;
    const AudioTrack* track;
    const char* codec;
  } cases[] = {{"v.mp4", "mp4", &aac, "aac"},
               {"v.mkv", "matroska", &mp3, "mp3"},
               {"v.avi", "avi", &mp3, "mp3"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    WriteMedia(dir / c.file, c.container, c.track, "mpeg4", 2.0);
    if (HasFatalFailure()) return;
    auto info = ProbeAudio(dir / c.file);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->codec, c.codec);
    auto audio = DecodeAudio(dir / c.file);
    ASSERT_TRUE(audio.ok()) << audio.status().ToString();
    ExpectTone(*audio, 2.0);
  }
}

TEST(AudioDecodeTest, VideoWithoutAudioIsNotFound) {
  testing::TempDir dir;
  const std::string path = dir / "silent.mkv";
  WriteMedia(path, "matroska", nullptr, "mpeg4", 1.0);
  if (HasFatalFailure()) return;
  for (const Status& st : {ProbeAudio(path).status(), DecodeAudio(path).status()}) {
    EXPECT_TRUE(st.IsNotFound()) << st.ToString();
    EXPECT_NE(st.message().find("no audio stream in"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  }
}

TEST(AudioDecodeTest, MissingEmptyAndGarbageFiles) {
  testing::TempDir dir;
  const std::string missing = dir / "nope.wav";
  auto st = DecodeAudio(missing).status();
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_NE(st.message().find(missing), std::string::npos);

  const std::string empty = dir / "empty.mp3";
  std::ofstream(empty).close();
  st = DecodeAudio(empty).status();
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("empty"), std::string::npos) << st.ToString();

  const std::string garbage = dir / "garbage.ogg";
  {
    std::mt19937 rng(7);
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 20000; ++i)
      out.put(char(rng()));
  }
  st = DecodeAudio(garbage).status();
  EXPECT_TRUE(st.IsInvalidArgument() || st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find(garbage), std::string::npos) << st.ToString();

  st = DecodeAudio(dir.path()).status();
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
}

TEST(AudioDecodeTest, TruncatedFilesAreCorruption) {
  testing::TempDir dir;
  const AudioTrack wav{"pcm_s16le", 16000, 1};
  const AudioTrack flac{"flac", 44100, 2};
  struct Case {
    const char* file;
    const char* container;
    const AudioTrack* track;
  } cases[] = {{"t.wav", "wav", &wav}, {"t.flac", "flac", &flac}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir / c.file;
    WriteMedia(path, c.container, c.track, nullptr, 4.0);
    if (HasFatalFailure()) return;
    std::filesystem::resize_file(path, std::filesystem::file_size(path) * 4 / 10);
    auto st = DecodeAudio(path).status();
    EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  }
}

TEST(AudioDecodeTest, DurationLimitIsResourceExhausted) {
  testing::TempDir dir;
  const AudioTrack track{"flac", 16000, 1};
  WriteMedia(dir / "long.flac", "flac", &track, nullptr, 3.0);
  auto st = DecodeAudio(dir / "long.flac", 16000, {.max_seconds = 1.0}).status();
  EXPECT_TRUE(st.IsResourceExhausted()) << st.ToString();
  EXPECT_TRUE(DecodeAudio(dir / "long.flac", 16000, {.max_seconds = 10.0}).ok());
}

TEST(AudioDecodeTest, RawPcm16) {
  std::ifstream in(::mosaic::testing::DataDir() + "/speech/goforward.raw", std::ios::binary);
  ASSERT_TRUE(in) << "run scripts/fetch-data";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 89160u);

  auto same = DecodeRawPcm16(bytes, 16000);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  ASSERT_EQ(same->samples.size(), bytes.size() / 2);
  EXPECT_NEAR(same->duration_s(), 2.786, 0.001);
  const auto first = int16_t(bytes[0] | bytes[1] << 8);
  EXPECT_FLOAT_EQ(same->samples[0], first / 32768.0f);
  EXPECT_EQ(ToPcm16(same->samples)[100], int16_t(bytes[200] | bytes[201] << 8));

  auto half = DecodeRawPcm16(bytes, 16000, 8000);
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_NEAR(double(half->samples.size()), bytes.size() / 4.0, 2);

  EXPECT_TRUE(DecodeRawPcm16(std::span(bytes).first(101), 16000).status().IsInvalidArgument());
  EXPECT_TRUE(DecodeRawPcm16(bytes, 0).status().IsInvalidArgument());
}

TEST(AudioDecodeTest, SpeechTestWavs) {
  const std::string path = ::mosaic::testing::DataDir() +
                           "/speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav";
  auto info = ProbeAudio(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->codec, "pcm_s16le");
  EXPECT_EQ(info->container, "wav");
  EXPECT_EQ(info->sample_rate, 16000);
  EXPECT_EQ(info->channels, 1);
  // 95724 bytes: a 44-byte header, then 16-bit samples.
  EXPECT_NEAR(info->duration_s, (95724 - 44) / 32000.0, 0.01);
  auto audio = DecodeAudio(path);
  ASSERT_TRUE(audio.ok()) << audio.status().ToString();
  EXPECT_NEAR(audio->duration_s(), info->duration_s, 0.01);
}

TEST(AudioDecodeTest, ToPcm16Clips) {
  const std::vector<float> in = {0.0f, 0.5f, -1.0f, 1.5f, -2.0f, std::nanf("")};
  const std::vector<int16_t> want = {0, 16384, -32768, 32767, -32768, 0};
  EXPECT_EQ(ToPcm16(in), want);
}

}  // namespace
}  // namespace mosaic::media
