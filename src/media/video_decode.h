// Video with FFmpeg (libavformat/libavcodec/libswscale, software decoding only): probing, and one
// sequential pass that finds shots (scene changes) and picks keyframes per shot.
//
// ScanVideo() decodes the best video stream once, front to back. Frames are sampled at
// VideoScanOptions::analysis_fps; each sample is reduced to a small signature (colour histogram
// and coarse luma grid of a 128x72 thumbnail), and a cut is declared where consecutive
// signatures differ by more than a threshold that adapts to the shot's recent motion (see
// docs/media.md, "Video"). Cut times are those of the first sample after the cut, so they are
// late by less than 1/analysis_fps. Each shot is split into windows of max_keyframe_interval_s
// from its start, and each window's sharpest, steadiest non-blank sample becomes a keyframe: a
// shot of d seconds gets ceil(d / max_keyframe_interval_s) keyframes, at most
// 1 + d / max_keyframe_interval_s. A black or flat frame is never a keyframe (so videos that
// open on black do not all look alike); a shot with only blank frames has none. Memory stays
// bounded: only the current window's best frame (a reference to the decoded frame) and the
// finished keyframes, scaled to keyframe_max_side, are kept.
//
// Errors name the path and carry FFmpeg's message: NotFound (missing file, or no video stream),
// InvalidArgument (empty or unrecognized file, a still image, bad options), Corruption (a stream
// that fails to decode, or a truncated file that ends well before its declared duration or frame
// count), ResourceExhausted (beyond max_seconds or max_pixels per frame), Aborted (the
// progress callback asked to stop).
//
// Thread safety: the free functions are thread-safe and may run in parallel on different files;
// each decodes on the calling thread only (the decoder's own threads are off).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::media {

struct VideoInfo {
  std::string codec;      // FFmpeg codec name: "h264", "mpeg4", "mjpeg", ...
  std::string container;  // FFmpeg demuxer name: "avi", "mov,mp4,m4a,3gp,3g2,mj2", ...
  int width = 0;
  int height = 0;
  double fps = 0;         // average frame rate (0 when unknown)
  double duration_s = 0;  // declared by the stream or container (0 when it declares none)
  bool has_audio = false;
  std::string creation_time;  // the container's creation_time tag as given (ffmpeg_util.h); "" if none
};

struct Keyframe {
  double time_s = 0;  // presentation time
  Image image;        // RGB, the longer side at most VideoScanOptions::keyframe_max_side
  float mean_luma = 0;  // 0..255
  float luma_stddev = 0;
};

struct VideoShot {
  double start_s = 0;  // the shot's first sample (the first frame's time for the first shot)
  double end_s = 0;    // where the next shot starts (the video's end for the last)
  std::vector<Keyframe> keyframes;  // in time order; empty when every frame was blank
};

struct VideoScanOptions {
  double analysis_fps = 4.0;             // frames per second examined for cuts and keyframes
  double cut_threshold = 0.35;           // signature distance (0..1) that starts a new shot;
                                         // quiet shots accept down to half of it
  double min_shot_s = 0.5;               // cuts closer than this to the previous one are ignored
  double max_keyframe_interval_s = 10.0; // a shot gets one keyframe per this many seconds (at least one)
  int keyframe_max_side = 640;           // keyframes are scaled down to fit, never up
  uint64_t max_pixels = 8192ull * 8192;  // per frame, checked from the stream header
  double max_seconds = 4 * 3600.0;       // refuse longer videos (ResourceExhausted)
  // Called at every sample with the presentation time reached; returning false stops the scan
  // (Aborted). May be empty.
  std::function<bool(double time_s)> progress;
};

struct VideoScan {
  VideoInfo info;
  std::vector<VideoShot> shots;  // contiguous, in time order, covering the decoded span
                                 // (the last ends one frame after decoded_s)
  double decoded_s = 0;          // the last decoded frame's time
  uint64_t frames_decoded = 0;
};

/// Reads the container and stream headers.
Result<VideoInfo> ProbeVideo(const std::string& path);

/// Decodes `path` once and returns its shots with keyframes.
Result<VideoScan> ScanVideo(const std::string& path, const VideoScanOptions& options = {});

}  // namespace mosaic::media
