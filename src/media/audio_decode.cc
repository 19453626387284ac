#include "media/audio_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include "media/ffmpeg_util.h"

namespace mosaic::media {
namespace {

constexpr int kMaxRate = 768'000;

struct SwrFreer {
  void operator()(SwrContext* c) const { swr_free(&c); }
};
using SwrPtr = std::unique_ptr<SwrContext, SwrFreer>;

Status CheckRate(int rate, const char* what) {
  if (rate < 1 || rate > kMaxRate) {
    return Status::InvalidArgument(std::string(what) + " " + std::to_string(rate) +
                                   " Hz is outside 1.." + std::to_string(kMaxRate));
  }
  return Status::OK();
}

// A resampler from (layout, format, rate) to mono float at out_rate.
Result<SwrPtr> MakeResampler(const AVChannelLayout& in_layout, AVSampleFormat in_format,
                             int in_rate, int out_rate) {
  AVChannelLayout in = {};
  if (in_layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_check(&in_layout) == 0) {
    // Raw PCM and some WAVs give only a channel count; assume the usual layout for it.
    av_channel_layout_default(&in, std::max(in_layout.nb_channels, 1));
  } else if (int err = av_channel_layout_copy(&in, &in_layout); err < 0) {
    return Status::Internal("copying a channel layout: " + AvError(err));
  }
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  SwrContext* raw = nullptr;
  int err = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, out_rate, &in, in_format, in_rate,
                                0, nullptr);
  av_channel_layout_uninit(&in);
  SwrPtr swr(raw);
  // Downmix to the channels' average: libswresample's default mixes at -3 dB per channel, which
  // clips a loud stereo recording whose channels agree.
  if (err >= 0) err = av_opt_set_double(swr.get(), "rematrix_maxval", 1.0, 0);
  if (err >= 0) err = swr_init(swr.get());
  if (err < 0) {
    return Status::InvalidArgument(
        "cannot resample " + std::to_string(in_layout.nb_channels) + " channels of " +
        (av_get_sample_fmt_name(in_format) != nullptr ? av_get_sample_fmt_name(in_format)
                                                      : "unknown") +
        " at " + std::to_string(in_rate) + " Hz to mono " + std::to_string(out_rate) +
        " Hz: " + AvError(err));
  }
  return swr;
}

// Runs swr_convert on `in_count` input samples (null input flushes) and appends the output.
Status Resample(SwrContext* swr, const uint8_t** in, int in_count, std::vector<float>& out) {
  const int room = swr_get_out_samples(swr, in_count);
  if (room < 0) return Status::Internal("swr_get_out_samples: " + AvError(room));
  const size_t old = out.size();
  out.resize(old + size_t(room));
  auto* dst = reinterpret_cast<uint8_t*>(out.data() + old);
  const int n = swr_convert(swr, &dst, room, in, in_count);
  if (n < 0) {
    out.resize(old);
    return Status::Internal("swr_convert: " + AvError(n));
  }
  out.resize(old + size_t(n));
  return Status::OK();
}

// The size the "data" chunk of a RIFF WAVE file declares, if it declares one. FFmpeg, finding
// the file shorter than that, silently estimates the duration from the bitrate instead, which
// would hide a truncated recording.
std::optional<uint64_t> WavDataChunkSize(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::vector<uint8_t> head(64 * 1024);
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);
  auto le32 = [&](size_t at) {
    return uint32_t(head[at]) | uint32_t(head[at + 1]) << 8 | uint32_t(head[at + 2]) << 16 |
           uint32_t(head[at + 3]) << 24;
  };
  if (head.size() < 12 || std::memcmp(head.data(), "RIFF", 4) != 0 ||
      std::memcmp(head.data() + 8, "WAVE", 4) != 0) {
    return std::nullopt;
  }
  for (size_t at = 12; at + 8 <= head.size();) {
    const uint32_t size = le32(at + 4);
    if (std::memcmp(head.data() + at, "data", 4) == 0) {
      // 0xFFFFFFFF (and 0) mark a stream written without knowing its length.
      if (size == 0 || size == 0xFFFFFFFFu) return std::nullopt;
      return size;
    }
    at += 8 + uint64_t(size) + (size & 1);
  }
  return std::nullopt;
}

struct OpenedInput {
  AvFormatPtr format;
  int stream = -1;
  const AVCodec* decoder = nullptr;
  AudioInfo info;
  bool duration_reliable = false;  // declared by the file, not guessed from its bitrate
};

Result<OpenedInput> OpenInput(const std::string& path) {
  OpenedInput in;
  MOSAIC_ASSIGN_OR_RETURN(in.format, OpenMediaFile(path, "audio"));
  AVFormatContext* raw = in.format.get();
  const AVCodec* decoder = nullptr;
  const int idx = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
  if (idx == AVERROR_STREAM_NOT_FOUND) return Status::NotFound("no audio stream in '" + path + "'");
  if (idx < 0 && idx != AVERROR_DECODER_NOT_FOUND) {
    return Status::InvalidArgument("cannot select an audio stream in '" + path +
                                   "': " + AvError(idx));
  }
  // With AVERROR_DECODER_NOT_FOUND the stream exists; find it again for ProbeAudio's sake.
  int stream = idx;
  if (stream < 0) {
    for (unsigned i = 0; i < raw->nb_streams; ++i) {
      if (raw->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
        stream = int(i);
        break;
      }
    }
  }
  const AVStream* s = raw->streams[stream];
  in.stream = stream;
  in.decoder = decoder;
  in.info.codec = avcodec_get_name(s->codecpar->codec_id);
  in.info.container = raw->iformat->name;
  in.info.creation_time = CreationTime(raw, s);
  in.info.sample_rate = s->codecpar->sample_rate;
  in.info.channels = s->codecpar->ch_layout.nb_channels;
  if (s->duration != AV_NOPTS_VALUE && s->duration > 0) {
    in.info.duration_s = double(s->duration) * av_q2d(s->time_base);
  } else if (raw->duration != AV_NOPTS_VALUE && raw->duration > 0) {
    in.info.duration_s = double(raw->duration) / AV_TIME_BASE;
  }
  in.duration_reliable =
      in.info.duration_s > 0 && raw->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE;
  if (std::strcmp(raw->iformat->name, "wav") == 0 && s->codecpar->block_align > 0 &&
      s->codecpar->sample_rate > 0) {
    if (auto data_size = WavDataChunkSize(path)) {
      in.info.duration_s =
          double(*data_size / uint64_t(s->codecpar->block_align)) / s->codecpar->sample_rate;
      in.duration_reliable = true;
    }
  }
  return in;
}

}  // namespace

struct AudioReader::Impl {
  std::string path;
  AudioInfo info;
  bool duration_reliable = false;
  int target_rate = 0;
  AudioDecodeOptions options;

  AvFormatPtr format;
  int stream = -1;
  AvCodecPtr codec;
  SwrPtr swr;
  // What swr was made for; a stream may change rate or layout midway (e.g. concatenated MP3s).
  AVChannelLayout swr_layout = {};
  int swr_format = -1;
  int swr_rate = 0;
  AvPacketPtr packet;
  AvFramePtr frame;

  std::vector<float> pending;  // resampled samples not yet handed out
  size_t pending_pos = 0;
  uint64_t produced = 0;    // samples handed out so far
  bool input_done = false;  // the decoder has been sent its flush packet
  bool finished = false;    // decoder and resampler drained
  int64_t good_packets = 0;
  int64_t bad_packets = 0;
  int first_error = 0;
  int consecutive_errors = 0;
  static constexpr int kMaxConsecutiveErrors = 1000;

  ~Impl() { av_channel_layout_uninit(&swr_layout); }

  Status ConvertFrame() {
    const AVFrame* f = frame.get();
    const bool same = swr != nullptr && f->format == swr_format && f->sample_rate == swr_rate &&
                      av_channel_layout_compare(&f->ch_layout, &swr_layout) == 0;
    if (!same) {
      if (swr != nullptr) MOSAIC_RETURN_IF_ERROR(Resample(swr.get(), nullptr, 0, pending));
      if (f->sample_rate < 1 || f->sample_rate > kMaxRate) {
        return Status::Corruption("'" + path + "' has a frame at " +
                                  std::to_string(f->sample_rate) + " Hz");
      }
      auto made =
          MakeResampler(f->ch_layout, AVSampleFormat(f->format), f->sample_rate, target_rate);
      if (!made.ok()) return made.status().WithContext(path);
      swr = std::move(made).value();
      av_channel_layout_uninit(&swr_layout);
      if (int err = av_channel_layout_copy(&swr_layout, &f->ch_layout); err < 0) {
        return Status::Internal("copying a channel layout: " + AvError(err));
      }
      swr_format = f->format;
      swr_rate = f->sample_rate;
    }
    return Resample(swr.get(), const_cast<const uint8_t**>(f->extended_data), f->nb_samples,
                    pending);
  }

  // Decodes until at least one frame has been resampled into `pending` or the stream ends.
  Status DecodeSome() {
    while (true) {
      int err = avcodec_receive_frame(codec.get(), frame.get());
      if (err == 0) {
        Status st = ConvertFrame();
        av_frame_unref(frame.get());
        return st;
      }
      if (err == AVERROR_EOF) {
        if (swr != nullptr) MOSAIC_RETURN_IF_ERROR(Resample(swr.get(), nullptr, 0, pending));
        finished = true;
        return Status::OK();
      }
      if (err != AVERROR(EAGAIN)) {
        // The decoder rejected what it was given (a damaged or cut-off packet). Go on, as
        // players do; a file made mostly of such packets, or a truncated one, fails at the end.
        ++bad_packets;
        if (first_error == 0) first_error = err;
        if (++consecutive_errors > kMaxConsecutiveErrors) {
          return Status::Corruption("decoding '" + path + "': " + AvError(err));
        }
        continue;
      }
      consecutive_errors = 0;
      if (input_done) {
        // A decoder that wants input after its flush packet: nothing more will come.
        finished = true;
        return Status::OK();
      }
      err = av_read_frame(format.get(), packet.get());
      if (err == AVERROR_EOF) {
        avcodec_send_packet(codec.get(), nullptr);
        input_done = true;
        continue;
      }
      if (err < 0) return Status::Corruption("reading '" + path + "': " + AvError(err));
      if (packet->stream_index == stream) {
        err = avcodec_send_packet(codec.get(), packet.get());
        if (err < 0) {
          // A damaged packet: skip it as players do; too many of them fail the file at the end.
          ++bad_packets;
          if (first_error == 0) first_error = err;
        } else {
          ++good_packets;
        }
      }
      av_packet_unref(packet.get());
    }
  }

  Status CheckAtEnd() const {
    if (bad_packets > good_packets) {
      return Status::Corruption("'" + path + "': " + std::to_string(bad_packets) + " of " +
                                std::to_string(bad_packets + good_packets) +
                                " audio packets failed to decode: " + AvError(first_error));
    }
    const double decoded_s = double(produced) / target_rate;
    // Encoders pad and trim a few frames; a truncated file loses far more than that.
    if (duration_reliable && decoded_s < info.duration_s * 0.9 - 0.1) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "its header declares %.2f s but only %.2f s decode",
                    info.duration_s, decoded_s);
      return Status::Corruption("audio file '" + path + "' is truncated: " + buf);
    }
    return Status::OK();
  }
};

AudioReader::AudioReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AudioReader::~AudioReader() = default;

const AudioInfo& AudioReader::info() const {
  return impl_->info;
}
int AudioReader::sample_rate() const {
  return impl_->target_rate;
}

Result<std::unique_ptr<AudioReader>> AudioReader::Open(const std::string& path, int target_rate,
                                                       const AudioDecodeOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckRate(target_rate, "target rate"));
  auto in = OpenInput(path);
  if (!in.ok()) return in.status();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->info = in->info;
  impl->duration_reliable = in->duration_reliable;
  impl->target_rate = target_rate;
  impl->options = options;
  impl->stream = in->stream;
  if (in->decoder == nullptr) {
    return Status::InvalidArgument("no decoder for the " + in->info.codec + " audio in '" + path +
                                   "'");
  }
  if (in->info.duration_s > options.max_seconds) {
    return Status::ResourceExhausted(
        "audio file '" + path + "' lasts " + std::to_string(int64_t(in->info.duration_s)) +
        " s, over the " + std::to_string(int64_t(options.max_seconds)) + " s limit");
  }
  AVFormatContext* fmt = in->format.get();
  // Skip the other streams' packets in the demuxer where it can (video is most of an MP4).
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (int(i) != in->stream) fmt->streams[i]->discard = AVDISCARD_ALL;
  }
  impl->codec.reset(avcodec_alloc_context3(in->decoder));
  impl->packet.reset(av_packet_alloc());
  impl->frame.reset(av_frame_alloc());
  if (!impl->codec || !impl->packet || !impl->frame) {
    return Status::ResourceExhausted("out of memory opening '" + path + "'");
  }
  int err = avcodec_parameters_to_context(impl->codec.get(), fmt->streams[in->stream]->codecpar);
  if (err >= 0) err = avcodec_open2(impl->codec.get(), in->decoder, nullptr);
  if (err < 0) {
    return Status::InvalidArgument("cannot open the " + in->info.codec + " decoder for '" + path +
                                   "': " + AvError(err));
  }
  impl->format = std::move(in->format);
  return std::unique_ptr<AudioReader>(new AudioReader(std::move(impl)));
}

Result<size_t> AudioReader::Read(std::vector<float>& out, size_t max_samples) {
  Impl& d = *impl_;
  size_t copied = 0;
  while (copied < max_samples) {
    if (d.pending_pos == d.pending.size()) {
      d.pending.clear();
      d.pending_pos = 0;
      if (d.finished) break;
      MOSAIC_RETURN_IF_ERROR(d.DecodeSome());
      continue;
    }
    const size_t n = std::min(max_samples - copied, d.pending.size() - d.pending_pos);
    out.insert(out.end(), d.pending.begin() + ptrdiff_t(d.pending_pos),
               d.pending.begin() + ptrdiff_t(d.pending_pos + n));
    d.pending_pos += n;
    d.produced += n;
    copied += n;
    if (double(d.produced) > d.options.max_seconds * d.target_rate) {
      return Status::ResourceExhausted("audio file '" + d.path + "' decodes to more than the " +
                                       std::to_string(int64_t(d.options.max_seconds)) + " s limit");
    }
  }
  if (copied == 0 && d.finished) MOSAIC_RETURN_IF_ERROR(d.CheckAtEnd());
  return copied;
}

Result<AudioInfo> ProbeAudio(const std::string& path) {
  auto in = OpenInput(path);
  if (!in.ok()) return in.status();
  return in->info;
}

Result<Audio> DecodeAudio(const std::string& path, int target_rate,
                          const AudioDecodeOptions& options) {
  auto reader = AudioReader::Open(path, target_rate, options);
  if (!reader.ok()) return reader.status();
  Audio audio;
  audio.sample_rate = target_rate;
  // Reserve from the declared duration (capped by the limit) to avoid repeated regrowth.
  const double expect_s = std::min((*reader)->info().duration_s, options.max_seconds);
  audio.samples.reserve(size_t(std::max(0.0, expect_s) * target_rate) + 1);
  while (true) {
    auto n = (*reader)->Read(audio.samples, size_t(1) << 16);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
  }
  return audio;
}

Result<Audio> DecodeRawPcm16(std::span<const uint8_t> bytes, int sample_rate, int target_rate) {
  MOSAIC_RETURN_IF_ERROR(CheckRate(sample_rate, "sample rate"));
  MOSAIC_RETURN_IF_ERROR(CheckRate(target_rate, "target rate"));
  if (bytes.size() % 2 != 0) {
    return Status::InvalidArgument("16-bit PCM has an odd byte count (" +
                                   std::to_string(bytes.size()) + ")");
  }
  std::vector<float> samples(bytes.size() / 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto v = int16_t(uint16_t(bytes[2 * i]) | uint16_t(bytes[2 * i + 1]) << 8);
    samples[i] = float(v) / 32768.0f;
  }
  Audio audio;
  audio.sample_rate = target_rate;
  if (sample_rate == target_rate) {
    audio.samples = std::move(samples);
    return audio;
  }
  QuietFfmpegLogs();
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  auto swr = MakeResampler(mono, AV_SAMPLE_FMT_FLT, sample_rate, target_rate);
  if (!swr.ok()) return swr.status();
  const auto* in = reinterpret_cast<const uint8_t*>(samples.data());
  // swr_convert counts in int; feed long recordings in slices.
  constexpr size_t kSlice = size_t(1) << 20;
  for (size_t pos = 0; pos < samples.size(); pos += kSlice) {
    const uint8_t* p = in + pos * sizeof(float);
    const int n = int(std::min(kSlice, samples.size() - pos));
    MOSAIC_RETURN_IF_ERROR(Resample(swr->get(), &p, n, audio.samples));
  }
  MOSAIC_RETURN_IF_ERROR(Resample(swr->get(), nullptr, 0, audio.samples));
  return audio;
}

std::vector<int16_t> ToPcm16(std::span<const float> samples) {
  std::vector<int16_t> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const float x = std::isfinite(samples[i]) ? samples[i] : 0.0f;
    const float v = std::clamp(x * 32768.0f, -32768.0f, 32767.0f);
    out[i] = int16_t(std::lrintf(v));
  }
  return out;
}

}  // namespace mosaic::media
