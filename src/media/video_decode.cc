#include "media/video_decode.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "media/ffmpeg_util.h"

namespace mosaic::media {
namespace {

// Each analysed sample is scaled (ignoring aspect) to kSigW x kSigH RGB for its signature.
constexpr int kSigW = 128;
constexpr int kSigH = 72;
constexpr int kGridW = 8;  // coarse luma grid: 8 x 6 cells of 16 x 12 pixels
constexpr int kGridH = 6;
constexpr int kHistLevels = 4;  // per RGB channel: 64 colour bins
constexpr int kHistBins = kHistLevels * kHistLevels * kHistLevels;
constexpr size_t kRecentDistances = 8;  // the local median looks this many samples back

struct SwsFreer {
  void operator()(SwsContext* c) const { sws_freeContext(c); }
};
using SwsPtr = std::unique_ptr<SwsContext, SwsFreer>;

struct Signature {
  std::array<float, kHistBins> hist{};       // fractions of pixels, sums to 1
  std::array<float, kGridW * kGridH> grid{};  // mean luma per cell, 0..255
  float mean_luma = 0;
  float luma_stddev = 0;
  float sharpness = 0;  // mean absolute luma gradient, 0..255
};

Signature ComputeSignature(const uint8_t* rgb) {
  Signature s;
  std::array<uint8_t, kSigW * kSigH> luma;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kSigW * kSigH; ++i) {
    const int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    const int y = (77 * r + 150 * g + 29 * b + 128) >> 8;  // BT.601 weights
    luma[size_t(i)] = uint8_t(y);
    sum += y;
    sum2 += double(y) * y;
    const int shift = 8 - 2;  // 256 / kHistLevels
    s.hist[size_t(((r >> shift) * kHistLevels + (g >> shift)) * kHistLevels + (b >> shift))] += 1;
    const int cell = (i / kSigW) * kGridH / kSigH * kGridW + (i % kSigW) * kGridW / kSigW;
    s.grid[size_t(cell)] += float(y);
  }
  constexpr float kPixels = kSigW * kSigH;
  for (float& h : s.hist) h /= kPixels;
  for (float& g : s.grid) g /= kPixels / (kGridW * kGridH);
  const double mean = sum / kPixels;
  s.mean_luma = float(mean);
  s.luma_stddev = float(std::sqrt(std::max(0.0, sum2 / kPixels - mean * mean)));
  double grad = 0;
  for (int y = 0; y + 1 < kSigH; ++y) {
    for (int x = 0; x + 1 < kSigW; ++x) {
      const int c = luma[size_t(y * kSigW + x)];
      grad += std::abs(c - luma[size_t(y * kSigW + x + 1)]) +
              std::abs(c - luma[size_t((y + 1) * kSigW + x)]);
    }
  }
  s.sharpness = float(grad / (2.0 * (kSigW - 1) * (kSigH - 1)));
  return s;
}

// Black or flat: a near-black frame with hardly any content, or one of almost uniform
// brightness (fades, white flashes, test cards of one colour). A dark frame with visible
// detail, such as white titles on black, is not blank.
bool IsBlank(const Signature& s) {
  return s.luma_stddev < 6.0f || (s.mean_luma < 20.0f && s.luma_stddev < 12.0f);
}

// Change of layout: mean absolute difference of the luma grids, 0..1.
double GridDistance(const Signature& a, const Signature& b) {
  double d = 0;
  for (size_t i = 0; i < a.grid.size(); ++i) d += std::abs(a.grid[i] - b.grid[i]);
  return d / (255.0 * double(a.grid.size()));
}

// 0..1: half the colour histograms' L1 distance (their share of pixels that changed bin), half
// the grid distance, which moves less for the same visual change and so is scaled up 4x.
double Distance(const Signature& a, const Signature& b) {
  double hist = 0;
  for (size_t i = 0; i < a.hist.size(); ++i) hist += std::abs(a.hist[i] - b.hist[i]);
  return 0.5 * (0.5 * hist) + 0.5 * std::min(1.0, 4.0 * GridDistance(a, b));
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", s);
  return buf;
}

// Scales `f` to w x h RGB24 into `dst` (rows of 3w bytes), honouring the frame's YUV matrix
// and range.
Status ToRgb(SwsPtr& sws, const AVFrame* f, int w, int h, uint8_t* dst, const std::string& path) {
  const auto fmt = AVPixelFormat(f->format);
  const int flags = (w < f->width ? SWS_AREA : SWS_BICUBIC) | SWS_ACCURATE_RND;
  SwsContext* c = sws_getCachedContext(sws.release(), f->width, f->height, fmt, w, h,
                                       AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr);
  sws.reset(c);
  if (c == nullptr) {
    const char* name = av_get_pix_fmt_name(fmt);
    return Status::InvalidArgument("video file '" + path + "': cannot convert " +
                                   (name != nullptr ? name : "an unknown pixel format") +
                                   " frames of " + std::to_string(f->width) + "x" +
                                   std::to_string(f->height) + " to RGB");
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(fmt);
  if (desc != nullptr && !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3) {
    int matrix = f->colorspace;
    // Untagged video: HD is BT.709 by convention, SD BT.601 (swscale's default).
    if (matrix == AVCOL_SPC_UNSPECIFIED || matrix == AVCOL_SPC_RGB || matrix == AVCOL_SPC_RESERVED) {
      matrix = f->height >= 720 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
    }
    const bool full_range = f->color_range == AVCOL_RANGE_JPEG || fmt == AV_PIX_FMT_YUVJ420P ||
                            fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P ||
                            fmt == AV_PIX_FMT_YUVJ440P || fmt == AV_PIX_FMT_YUVJ411P;
    sws_setColorspaceDetails(c, sws_getCoefficients(matrix), full_range ? 1 : 0,
                             sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  }
  uint8_t* planes[4] = {dst, nullptr, nullptr, nullptr};
  int strides[4] = {3 * w, 0, 0, 0};
  if (sws_scale(c, f->data, f->linesize, 0, f->height, planes, strides) != h) {
    return Status::Corruption("video file '" + path + "': converting a frame to RGB failed");
  }
  return Status::OK();
}

struct OpenedVideo {
  AvFormatPtr format;
  int stream = -1;
  const AVCodec* decoder = nullptr;
  VideoInfo info;
  bool duration_reliable = false;  // declared by the file, not guessed from its bitrate
  AVRational sar = {0, 1};
};

// FFmpeg opens still images (and image sequences) as one-frame videos.
bool IsStillImageDemuxer(const char* name) {
  const std::string n = name;
  return n == "image2" || (n.size() > 5 && n.compare(n.size() - 5, 5, "_pipe") == 0);
}

Result<OpenedVideo> OpenVideo(const std::string& path) {
  OpenedVideo in;
  MOSAIC_ASSIGN_OR_RETURN(in.format, OpenMediaFile(path, "video"));
  AVFormatContext* fmt = in.format.get();
  if (IsStillImageDemuxer(fmt->iformat->name)) {
    return Status::InvalidArgument("'" + path + "' is a still image (" + fmt->iformat->name +
                                   "), not a video");
  }
  const AVCodec* decoder = nullptr;
  int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (idx < 0 && idx != AVERROR_STREAM_NOT_FOUND && idx != AVERROR_DECODER_NOT_FOUND) {
    return Status::InvalidArgument("cannot select a video stream in '" + path +
                                   "': " + AvError(idx));
  }
  // Cover art of a music file is a one-picture "video" stream; it does not count.
  auto usable = [&](int i) {
    const AVStream* s = fmt->streams[i];
    return s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
           !(s->disposition & AV_DISPOSITION_ATTACHED_PIC);
  };
  if (idx < 0 || !usable(idx)) {
    idx = -1;
    for (unsigned i = 0; i < fmt->nb_streams && idx < 0; ++i) {
      if (usable(int(i))) idx = int(i);
    }
    if (idx < 0) return Status::NotFound("no video stream in '" + path + "'");
    decoder = avcodec_find_decoder(fmt->streams[idx]->codecpar->codec_id);
  }
  const AVStream* s = fmt->streams[idx];
  in.stream = idx;
  in.decoder = decoder;
  in.sar = s->sample_aspect_ratio.num > 0 ? s->sample_aspect_ratio
                                          : s->codecpar->sample_aspect_ratio;
  VideoInfo& info = in.info;
  info.codec = avcodec_get_name(s->codecpar->codec_id);
  info.container = fmt->iformat->name;
  info.creation_time = CreationTime(fmt, s);
  info.width = s->codecpar->width;
  info.height = s->codecpar->height;
  AVRational rate = s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0 ? s->avg_frame_rate
                                                                           : s->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) info.fps = av_q2d(rate);
  if (s->duration != AV_NOPTS_VALUE && s->duration > 0) {
    info.duration_s = double(s->duration) * av_q2d(s->time_base);
  } else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
    info.duration_s = double(fmt->duration) / AV_TIME_BASE;
  }
  in.duration_reliable =
      info.duration_s > 0 && fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) info.has_audio = true;
  }
  return in;
}

Status CheckOptions(const VideoScanOptions& o) {
  auto bad = [](const char* what, double v) {
    return Status::InvalidArgument(std::string("VideoScanOptions::") + what + " is " +
                                   std::to_string(v));
  };
  if (!(o.analysis_fps > 0 && o.analysis_fps <= 1000)) return bad("analysis_fps", o.analysis_fps);
  if (!(o.cut_threshold > 0 && o.cut_threshold <= 1)) return bad("cut_threshold", o.cut_threshold);
  if (!(o.min_shot_s >= 0)) return bad("min_shot_s", o.min_shot_s);
  if (!(o.max_keyframe_interval_s > 0)) {
    return bad("max_keyframe_interval_s", o.max_keyframe_interval_s);
  }
  if (o.keyframe_max_side < 16) return bad("keyframe_max_side", o.keyframe_max_side);
  if (!(o.max_seconds > 0)) return bad("max_seconds", o.max_seconds);
  return Status::OK();
}

// One pass over the decoded frames: samples them, splits shots, keeps the best keyframe
// candidate of the current keyframe window (a reference to its decoded frame, not a copy).
class Scanner {
 public:
  Scanner(const std::string& path, const VideoScanOptions& options, OpenedVideo& in)
      : path_(path), options_(options), in_(in) {}

  Status Run(VideoScan& out) {
    AVFormatContext* fmt = in_.format.get();
    AVStream* stream = fmt->streams[in_.stream];
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      if (int(i) != in_.stream) fmt->streams[i]->discard = AVDISCARD_ALL;
    }
    time_base_ = av_q2d(stream->time_base);
    // Times count from the file's start, so that audio and video times agree.
    start_ts_ = fmt->start_time != AV_NOPTS_VALUE
                    ? av_rescale_q(fmt->start_time, AV_TIME_BASE_Q, stream->time_base)
                    : (stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0);
    codec_.reset(avcodec_alloc_context3(in_.decoder));
    packet_.reset(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    candidate_.frame.reset(av_frame_alloc());
    if (!codec_ || !packet_ || !frame_ || !candidate_.frame) {
      return Status::ResourceExhausted("out of memory opening video file '" + path_ + "'");
    }
    int err = avcodec_parameters_to_context(codec_.get(), stream->codecpar);
    // One thread per file: the ingest pipeline scans several files in parallel.
    codec_->thread_count = 1;
    codec_->pkt_timebase = stream->time_base;
    if (err >= 0) err = avcodec_open2(codec_.get(), in_.decoder, nullptr);
    if (err < 0) {
      return Status::InvalidArgument("cannot open the " + in_.info.codec + " decoder for '" +
                                     path_ + "': " + AvError(err));
    }

    int read_error = 0;
    while (true) {
      err = av_read_frame(fmt, packet_.get());
      if (err < 0) {
        // A damaged or cut-off container ends the input; the checks below judge the result.
        if (err != AVERROR_EOF) read_error = err;
        break;
      }
      if (packet_->stream_index == in_.stream) {
        err = avcodec_send_packet(codec_.get(), packet_.get());
        if (err < 0) {
          // A damaged packet: skip it as players do; too many of them fail the file.
          ++bad_packets_;
          if (first_error_ == 0) first_error_ = err;
        } else {
          ++good_packets_;
        }
        av_packet_unref(packet_.get());
        MOSAIC_RETURN_IF_ERROR(ReceiveFrames());
      } else {
        av_packet_unref(packet_.get());
      }
    }
    avcodec_send_packet(codec_.get(), nullptr);
    MOSAIC_RETURN_IF_ERROR(ReceiveFrames());

    if (frames_ == 0) {
      return Status::Corruption(
          "no frame of video file '" + path_ + "' decodes" +
          (first_error_ != 0 ? ": " + AvError(first_error_)
                             : (read_error != 0 ? ": " + AvError(read_error) : "")));
    }
    if (bad_packets_ > good_packets_) {
      return Status::Corruption("video file '" + path_ + "': " + std::to_string(bad_packets_) +
                                " of " + std::to_string(bad_packets_ + good_packets_) +
                                " packets failed to decode: " + AvError(first_error_));
    }
    const double end_s = last_time_ + last_duration_;
    // An AVI that lost its index has its duration re-estimated from the packets found, but
    // its header still counts the frames written.
    double declared = in_.duration_reliable ? in_.info.duration_s : 0.0;
    if (stream->nb_frames > 0 && in_.info.fps > 0) {
      declared = std::max(declared, double(stream->nb_frames) / in_.info.fps);
    }
    if (declared > 0 && end_s < declared - std::max(2.0, 0.1 * declared)) {
      return Status::Corruption("video file '" + path_ + "' is truncated: its header declares " +
                                Seconds(declared) + " but only " + Seconds(end_s) + " decode" +
                                (read_error != 0 ? " (" + AvError(read_error) + ")" : ""));
    }
    MOSAIC_RETURN_IF_ERROR(CloseWindow());
    shots_.back().end_s = std::max(end_s, shots_.back().start_s);
    out.shots = std::move(shots_);
    out.decoded_s = last_time_;
    out.frames_decoded = frames_;
    return Status::OK();
  }

 private:
  struct Candidate {
    AvFramePtr frame;  // a reference to the decoded frame
    bool present = false;
    double score = 0;
    double time_s = 0;
    float mean_luma = 0;
    float luma_stddev = 0;
  };

  Status ReceiveFrames() {
    while (true) {
      const int err = avcodec_receive_frame(codec_.get(), frame_.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::OK();
      if (err < 0) {
        // A frame that fails to decode; the next packet may bring the decoder back.
        ++bad_packets_;
        if (first_error_ == 0) first_error_ = err;
        return Status::OK();
      }
      Status st = OnFrame();
      av_frame_unref(frame_.get());
      MOSAIC_RETURN_IF_ERROR(st);
    }
  }

  Status OnFrame() {
    const AVFrame* f = frame_.get();
    if (uint64_t(f->width) * uint64_t(f->height) > options_.max_pixels) {
      return Status::ResourceExhausted("video file '" + path_ + "' has a " +
                                       std::to_string(f->width) + "x" + std::to_string(f->height) +
                                       " frame, over the limit of " +
                                       std::to_string(options_.max_pixels) + " pixels");
    }
    int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) ts = f->pts;
    const double frame_duration =
        f->pkt_duration > 0 ? double(f->pkt_duration) * time_base_
                            : (in_.info.fps > 0 ? 1.0 / in_.info.fps : 0.0);
    double t = ts != AV_NOPTS_VALUE ? double(ts - start_ts_) * time_base_
                                    : (frames_ == 0 ? 0.0 : last_time_ + last_duration_);
    t = std::max(t, 0.0);
    ++frames_;
    last_time_ = frames_ == 1 ? t : std::max(last_time_, t);
    last_duration_ = frame_duration;
    if (t > options_.max_seconds) {
      return Status::ResourceExhausted("video file '" + path_ + "' runs past the limit of " +
                                       Seconds(options_.max_seconds));
    }
    const double step = 1.0 / options_.analysis_fps;
    if (frames_ == 1) {
      first_time_ = t;
    } else if (t + 1e-6 < next_sample_s_) {
      return Status::OK();
    }
    // Samples sit on a fixed grid from the first frame, so they do not drift with the frame rate.
    next_sample_s_ = first_time_ + (std::floor((t - first_time_) / step + 1e-6) + 1) * step;
    if (options_.progress && !options_.progress(t)) {
      return Status::Aborted("scan of video file '" + path_ +
                                 "' stopped by its progress callback at " + Seconds(t));
    }
    return OnSample(t);
  }

  Status OnSample(double t) {
    MOSAIC_RETURN_IF_ERROR(ToRgb(sig_sws_, frame_.get(), kSigW, kSigH, sig_rgb_.data(), path_));
    const Signature sig = ComputeSignature(sig_rgb_.data());
    // A sample's instability: how far its layout moved since the previous one. The first
    // sample of a shot has no same-shot neighbour; it gets a moderate penalty, since a shot's
    // first frames are often still part of the transition.
    double motion = 0.25;
    if (shots_.empty()) {
      shots_.push_back(VideoShot{t, t, {}});
      shot_start_ = t;
    } else {
      const double d = Distance(*prev_, sig);
      if (IsCut(d, t)) {
        MOSAIC_RETURN_IF_ERROR(CloseWindow());
        shots_.back().end_s = t;
        shots_.push_back(VideoShot{t, t, {}});
        shot_start_ = t;
        recent_.clear();
        window_ = 0;
      } else {
        if (recent_.size() == kRecentDistances) recent_.erase(recent_.begin());
        recent_.push_back(d);
        motion = GridDistance(*prev_, sig);
      }
    }
    prev_ = sig;

    const auto window = int64_t(std::floor((t - shot_start_) / options_.max_keyframe_interval_s));
    if (window != window_) {
      MOSAIC_RETURN_IF_ERROR(CloseWindow());
      window_ = window;
    }
    if (IsBlank(sig)) return Status::OK();
    const double score = (sig.sharpness + 1.0) / (1.0 + 20.0 * motion);
    if (!candidate_.present || score > candidate_.score) {
      av_frame_unref(candidate_.frame.get());
      if (int err = av_frame_ref(candidate_.frame.get(), frame_.get()); err < 0) {
        return Status::ResourceExhausted("keeping a frame of video file '" + path_ +
                                         "': " + AvError(err));
      }
      candidate_.present = true;
      candidate_.score = score;
      candidate_.time_s = t;
      candidate_.mean_luma = sig.mean_luma;
      candidate_.luma_stddev = sig.luma_stddev;
    }
    return Status::OK();
  }

  // A cut: the distance stands out from the shot's recent motion and passes a threshold that
  // follows how busy the shot is. With m the median of the last few distances, d must reach
  // 2m + τ/2 (a handheld or fast-moving shot needs a far bigger jump) and min(τ, 8m): a quiet
  // shot (m < τ/8) accepts jumps below τ, down to τ/2, because cuts between similar shots or in
  // letterboxed or dark footage change only part of the signature. The shot must also be at
  // least min_shot_s long.
  bool IsCut(double d, double t) const {
    const double tau = options_.cut_threshold;
    if (t - shot_start_ < options_.min_shot_s) return false;
    if (recent_.size() < 3) return d >= tau;
    std::array<double, kRecentDistances> r{};
    std::copy(recent_.begin(), recent_.end(), r.begin());
    const auto mid = r.begin() + ptrdiff_t(recent_.size() / 2);
    std::nth_element(r.begin(), mid, r.begin() + ptrdiff_t(recent_.size()));
    const double m = *mid;
    return d >= 2 * m + 0.5 * tau && d >= std::min(tau, 8 * m);
  }

  // Turns the current window's candidate into a keyframe of the current shot.
  Status CloseWindow() {
    if (!candidate_.present) return Status::OK();
    const AVFrame* f = candidate_.frame.get();
    double display_w = f->width;
    const AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio : in_.sar;
    if (sar.num > 0 && sar.den > 0) display_w *= av_q2d(sar);
    const double longer = std::max(display_w, double(f->height));
    const double scale = std::min(1.0, options_.keyframe_max_side / longer);
    const int w = std::clamp(int(std::lround(display_w * scale)), 1, options_.keyframe_max_side);
    const int h = std::clamp(int(std::lround(f->height * scale)), 1, options_.keyframe_max_side);
    Keyframe k;
    k.time_s = candidate_.time_s;
    k.mean_luma = candidate_.mean_luma;
    k.luma_stddev = candidate_.luma_stddev;
    k.image = Image(w, h, 3);
    MOSAIC_RETURN_IF_ERROR(ToRgb(key_sws_, f, w, h, k.image.pixels.data(), path_));
    shots_.back().keyframes.push_back(std::move(k));
    av_frame_unref(candidate_.frame.get());
    candidate_.present = false;
    return Status::OK();
  }

  const std::string& path_;
  const VideoScanOptions& options_;
  OpenedVideo& in_;
  AvCodecPtr codec_;
  AvPacketPtr packet_;
  AvFramePtr frame_;
  SwsPtr sig_sws_, key_sws_;
  std::array<uint8_t, kSigW * kSigH * 3> sig_rgb_{};
  double time_base_ = 0;
  int64_t start_ts_ = 0;

  uint64_t frames_ = 0;
  int64_t good_packets_ = 0, bad_packets_ = 0;
  int first_error_ = 0;
  double first_time_ = 0, last_time_ = 0, last_duration_ = 0;
  double next_sample_s_ = 0;

  std::vector<VideoShot> shots_;
  double shot_start_ = 0;
  std::optional<Signature> prev_;
  std::vector<double> recent_;  // sample distances since the last cut, newest last
  int64_t window_ = 0;          // keyframe window index within the shot
  Candidate candidate_;
};

}  // namespace

Result<VideoInfo> ProbeVideo(const std::string& path) {
  MOSAIC_ASSIGN_OR_RETURN(OpenedVideo in, OpenVideo(path));
  return in.info;
}

Result<VideoScan> ScanVideo(const std::string& path, const VideoScanOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckOptions(options));
  MOSAIC_ASSIGN_OR_RETURN(OpenedVideo in, OpenVideo(path));
  const VideoInfo& info = in.info;
  if (in.decoder == nullptr) {
    return Status::InvalidArgument("no decoder for the " + info.codec + " video in '" + path +
                                   "'");
  }
  if (uint64_t(std::max(info.width, 0)) * uint64_t(std::max(info.height, 0)) >
      options.max_pixels) {
    return Status::ResourceExhausted("video file '" + path + "' has " +
                                     std::to_string(info.width) + "x" +
                                     std::to_string(info.height) + " frames, over the limit of " +
                                     std::to_string(options.max_pixels) + " pixels");
  }
  if (info.duration_s > options.max_seconds) {
    return Status::ResourceExhausted("video file '" + path + "' lasts " +
                                     Seconds(info.duration_s) + ", over the limit of " +
                                     Seconds(options.max_seconds));
  }
  VideoScan scan;
  scan.info = info;
  Scanner scanner(path, options, in);
  MOSAIC_RETURN_IF_ERROR(scanner.Run(scan));
  return scan;
}

}  // namespace mosaic::media
