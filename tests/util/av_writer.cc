#include "util/av_writer.h"

#include <algorithm>
#include <cmath>
#include <fstream>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

namespace mosaic::testing {

Rgb Black(int, int, int) {
  return {0, 0, 0};
}
Rgb SceneA(int x, int y, int f) {
  return {170 + (x * 80) / 320, 40 + (((x + 2 * f) / 8 + y / 8) % 2) * 70, 60 + (y * 100) / 180};
}
Rgb SceneB(int x, int y, int f) {
  return (((x + 1000 - f) / 20 + y / 20) % 2) != 0 ? Rgb{30, 200, 60} : Rgb{230, 240, 230};
}
Rgb SceneC(int x, int y, int f) {
  return ((x + y + 3 * f) / 16) % 2 != 0 ? Rgb{240, 220, 40} : Rgb{120, 40, 160};
}

namespace {

Status AvError(const std::string& path, const char* call, int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return Status::IOError(path + ": " + call + ": " + buf);
}

#define AV_CHECK(call)                                      \
  do {                                                      \
    const int av_err_ = (call);                             \
    if (av_err_ < 0) return AvError(path_, #call, av_err_); \
  } while (0)

// One output file: the muxer and one encoder per stream, freed together.
class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path) {}
  ~Writer() {
    av_frame_free(&vframe_);
    av_frame_free(&aframe_);
    av_packet_free(&pkt_);
    avcodec_free_context(&vctx_);
    avcodec_free_context(&actx_);
    if (oc_ != nullptr) {
      if (oc_->pb != nullptr) avio_closep(&oc_->pb);
      avformat_free_context(oc_);
    }
  }

  Status Write(const VideoSpec& spec) {
    AV_CHECK(avformat_alloc_output_context2(&oc_, nullptr, spec.container.c_str(), path_.c_str()));
    MOSAIC_RETURN_IF_ERROR(OpenVideo(spec));
    if (spec.audio) MOSAIC_RETURN_IF_ERROR(OpenAudio(*spec.audio));
    pkt_ = av_packet_alloc();
    AV_CHECK(avio_open(&oc_->pb, path_.c_str(), AVIO_FLAG_WRITE));
    for (const auto& [key, value] : spec.metadata) av_dict_set(&oc_->metadata, key.c_str(), value.c_str(), 0);
    AVDictionary* opts = nullptr;
    if (!spec.movflags.empty()) av_dict_set(&opts, "movflags", spec.movflags.c_str(), 0);
    const int header = avformat_write_header(oc_, &opts);
    av_dict_free(&opts);
    AV_CHECK(header);

    // Frames of both streams in time order, so the muxer's interleaving buffer stays small.
    auto frames_of = [&](size_t s) {
      return int(std::lround(spec.segments[s].seconds * spec.fps));
    };
    size_t segment = 0;
    int frame_in_segment = 0;
    int64_t vpts = 0;
    size_t audio_pos = 0;
    const size_t audio_len = spec.audio ? spec.audio->samples.size() : 0;
    for (;;) {
      while (segment < spec.segments.size() && frame_in_segment >= frames_of(segment)) {
        ++segment;
        frame_in_segment = 0;
      }
      const bool video_left = segment < spec.segments.size();
      const bool audio_left = audio_pos < audio_len;
      if (!video_left && !audio_left) break;
      const double vt = double(vpts) / spec.fps;
      const double at = spec.audio ? double(audio_pos) / spec.audio->sample_rate : 0;
      if (video_left && (!audio_left || vt <= at)) {
        MOSAIC_RETURN_IF_ERROR(
            PaintFrame(spec.segments[segment].scene, frame_in_segment++, vpts++));
        MOSAIC_RETURN_IF_ERROR(Send(vctx_, vst_, vframe_));
      } else {
        MOSAIC_RETURN_IF_ERROR(FillAudio(spec.audio->samples, audio_pos));
        MOSAIC_RETURN_IF_ERROR(Send(actx_, ast_, aframe_));
      }
    }
    MOSAIC_RETURN_IF_ERROR(Send(vctx_, vst_, nullptr));
    if (actx_ != nullptr) MOSAIC_RETURN_IF_ERROR(Send(actx_, ast_, nullptr));
    AV_CHECK(av_write_trailer(oc_));
    return Status::OK();
  }

 private:
  Status OpenVideo(const VideoSpec& spec) {
    const AVCodec* codec = avcodec_find_encoder_by_name(spec.encoder.c_str());
    if (codec == nullptr) return Status::NotFound("no FFmpeg video encoder " + spec.encoder);
    vctx_ = avcodec_alloc_context3(codec);
    vctx_->width = spec.width;
    vctx_->height = spec.height;
    vctx_->pix_fmt = AV_PIX_FMT_YUV420P;
    vctx_->time_base = {1, spec.fps};
    vctx_->framerate = {spec.fps, 1};
    vctx_->gop_size = spec.fps;
    vctx_->bit_rate = int64_t(spec.width) * spec.height * spec.fps / 2;
    vctx_->thread_count = 1;
    if (oc_->oformat->flags & AVFMT_GLOBALHEADER) vctx_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AV_CHECK(avcodec_open2(vctx_, codec, nullptr));
    vst_ = avformat_new_stream(oc_, nullptr);
    if (vst_ == nullptr) return Status::Internal(path_ + ": avformat_new_stream failed");
    AV_CHECK(avcodec_parameters_from_context(vst_->codecpar, vctx_));
    vst_->time_base = vctx_->time_base;
    vframe_ = av_frame_alloc();
    vframe_->format = vctx_->pix_fmt;
    vframe_->width = spec.width;
    vframe_->height = spec.height;
    AV_CHECK(av_frame_get_buffer(vframe_, 0));
    return Status::OK();
  }

  Status OpenAudio(const AudioTrack& audio) {
    const AVCodec* codec = avcodec_find_encoder_by_name(audio.encoder.c_str());
    if (codec == nullptr) return Status::NotFound("no FFmpeg audio encoder " + audio.encoder);
    actx_ = avcodec_alloc_context3(codec);
    actx_->sample_fmt = codec->sample_fmts != nullptr ? codec->sample_fmts[0] : AV_SAMPLE_FMT_S16;
    if (actx_->sample_fmt != AV_SAMPLE_FMT_S16 && actx_->sample_fmt != AV_SAMPLE_FMT_FLT &&
        actx_->sample_fmt != AV_SAMPLE_FMT_FLTP)
      return Status::InvalidArgument(audio.encoder + " wants sample format " +
                                     av_get_sample_fmt_name(actx_->sample_fmt));
    actx_->sample_rate = audio.sample_rate;
    av_channel_layout_default(&actx_->ch_layout, 1);
    actx_->time_base = {1, audio.sample_rate};
    actx_->bit_rate = 64000;
    if (oc_->oformat->flags & AVFMT_GLOBALHEADER) actx_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AV_CHECK(avcodec_open2(actx_, codec, nullptr));
    ast_ = avformat_new_stream(oc_, nullptr);
    if (ast_ == nullptr) return Status::Internal(path_ + ": avformat_new_stream failed");
    AV_CHECK(avcodec_parameters_from_context(ast_->codecpar, actx_));
    ast_->time_base = actx_->time_base;
    variable_frames_ =
        actx_->frame_size == 0 || (codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE);
    audio_frame_ = variable_frames_ ? 1024 : actx_->frame_size;
    aframe_ = av_frame_alloc();
    return Status::OK();
  }

  Status PaintFrame(const Scene& scene, int f, int64_t pts) {
    AV_CHECK(av_frame_make_writable(vframe_));
    for (int y = 0; y < vframe_->height; ++y) {
      for (int x = 0; x < vframe_->width; ++x) {
        const Rgb c = scene(x, y, f);
        vframe_->data[0][y * vframe_->linesize[0] + x] =
            uint8_t(16 + (65.481 * c.r + 128.553 * c.g + 24.966 * c.b) / 255);
        if (x % 2 == 0 && y % 2 == 0) {
          vframe_->data[1][y / 2 * vframe_->linesize[1] + x / 2] =
              uint8_t(128 + (-37.797 * c.r - 74.203 * c.g + 112.0 * c.b) / 255);
          vframe_->data[2][y / 2 * vframe_->linesize[2] + x / 2] =
              uint8_t(128 + (112.0 * c.r - 93.786 * c.g - 18.214 * c.b) / 255);
        }
      }
    }
    vframe_->pts = pts;
    return Status::OK();
  }

  // The next frame of samples from `pos` (advanced); a fixed-size codec's last frame is padded
  // with silence.
  Status FillAudio(const std::vector<int16_t>& samples, size_t& pos) {
    const int n = int(std::min<size_t>(audio_frame_, samples.size() - pos));
    av_frame_unref(aframe_);
    aframe_->format = actx_->sample_fmt;
    aframe_->sample_rate = actx_->sample_rate;
    AV_CHECK(av_channel_layout_copy(&aframe_->ch_layout, &actx_->ch_layout));
    aframe_->nb_samples = variable_frames_ ? n : audio_frame_;
    AV_CHECK(av_frame_get_buffer(aframe_, 0));
    for (int i = 0; i < aframe_->nb_samples; ++i) {
      const int16_t s = i < n ? samples[pos + i] : 0;
      if (actx_->sample_fmt == AV_SAMPLE_FMT_S16) {
        reinterpret_cast<int16_t*>(aframe_->data[0])[i] = s;
      } else {
        reinterpret_cast<float*>(aframe_->data[0])[i] = float(s) / 32768.0f;
      }
    }
    aframe_->pts = int64_t(pos);
    pos += size_t(n);
    return Status::OK();
  }

  // Encodes `frame` (null: flush) and writes the packets that come out.
  Status Send(AVCodecContext* ctx, AVStream* st, const AVFrame* frame) {
    AV_CHECK(avcodec_send_frame(ctx, frame));
    for (;;) {
      const int r = avcodec_receive_packet(ctx, pkt_);
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return Status::OK();
      AV_CHECK(r);
      av_packet_rescale_ts(pkt_, ctx->time_base, st->time_base);
      pkt_->stream_index = st->index;
      AV_CHECK(av_interleaved_write_frame(oc_, pkt_));
    }
  }

  std::string path_;
  AVFormatContext* oc_ = nullptr;
  AVCodecContext* vctx_ = nullptr;
  AVCodecContext* actx_ = nullptr;
  AVStream* vst_ = nullptr;
  AVStream* ast_ = nullptr;
  AVFrame* vframe_ = nullptr;
  AVFrame* aframe_ = nullptr;
  AVPacket* pkt_ = nullptr;
  bool variable_frames_ = true;
  int audio_frame_ = 1024;
};

#undef AV_CHECK

}  // namespace

Status WriteVideo(const std::string& path, const VideoSpec& spec) {
  if (spec.width <= 0 || spec.height <= 0 || spec.width % 2 != 0 || spec.height % 2 != 0 ||
      spec.fps <= 0)
    return Status::InvalidArgument(path + ": frames must be even-sized and fps positive, got " +
                                   std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                                   " at " + std::to_string(spec.fps) + " fps");
  if (spec.audio && spec.audio->sample_rate <= 0)
    return Status::InvalidArgument(path + ": audio sample rate " +
                                   std::to_string(spec.audio->sample_rate));
  Writer w(path);
  return w.Write(spec);
}

Status WriteWav(const std::string& path, const std::vector<int16_t>& samples, int sample_rate) {
  std::string out;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i))); };
  auto u16 = [&](uint16_t v) { for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>(v >> (8 * i))); };
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(static_cast<uint32_t>(sample_rate));
  u32(static_cast<uint32_t>(sample_rate) * 2);
  u16(2);
  u16(16);
  out += "data";
  u32(data_bytes);
  for (int16_t s : samples) u16(static_cast<uint16_t>(s));
  std::ofstream f(path, std::ios::binary);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!f) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace mosaic::testing
