// Video with FFmpeg (libavformat/libavcodec/libswscale, software decoding only): probing, and one
// sequential pass that finds shots (scene changes) and picks keyframes per shot.
//
// ScanVideo() decodes the best video stream once, front to back. Frames are sampled at
// VideoScanOptions::analysis_fps; each sample is reduced to a small colour signature, and a cut is
// declared where consecutive signatures differ by more than the threshold (hard cuts; short
// fades are found as a run of differences). Each shot gets up to 1 + duration/max_keyframe_interval_s
// keyframes, chosen among its non-blank samples (a black or flat frame is never a keyframe, so
// videos that open on black do not all look alike); a shot with only blank frames has none.
// Only the keyframes are kept at full size (scaled to keyframe_max_side), never the whole video.
//
// Errors name the path and carry FFmpeg's message: NotFound (missing file, or no video stream),
// InvalidArgument (empty or unrecognized file), Corruption (a stream that fails to decode, or a
// truncated file that ends well before its declared duration), ResourceExhausted (beyond
// max_seconds or max_pixels per frame).
//
// Thread safety: the free functions are thread-safe and may run in parallel on different files.
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
  double duration_s = 0;  // declared by the container or stream (0 when it declares none)
  bool has_audio = false;
};

struct Keyframe {
  double time_s = 0;  // presentation time
  Image image;        // RGB, the longer side at most VideoScanOptions::keyframe_max_side
  float mean_luma = 0;  // 0..255
  float luma_stddev = 0;
};

struct VideoShot {
  double start_s = 0;  // first frame of the shot
  double end_s = 0;    // where the next shot starts (the video's end for the last)
  std::vector<Keyframe> keyframes;  // in time order; empty when every frame was blank
};

struct VideoScanOptions {
  double analysis_fps = 4.0;             // frames per second examined for cuts and keyframes
  double cut_threshold = 0.35;           // signature distance (0..1) that starts a new shot
  double min_shot_s = 0.5;               // cuts closer than this to the previous one are ignored
  double max_keyframe_interval_s = 10.0; // a shot gets one keyframe per this many seconds (at least one)
  int keyframe_max_side = 640;
  uint64_t max_pixels = 8192ull * 8192;  // per frame, checked from the stream header
  double max_seconds = 4 * 3600.0;       // refuse longer videos (ResourceExhausted)
  // Called now and then with the presentation time reached; returning false stops the scan
  // (Aborted). May be empty.
  std::function<bool(double time_s)> progress;
};

struct VideoScan {
  VideoInfo info;
  std::vector<VideoShot> shots;  // contiguous, in time order, covering the decoded span
  double decoded_s = 0;          // the last decoded frame's time
  uint64_t frames_decoded = 0;
};

/// Reads the container and stream headers.
Result<VideoInfo> ProbeVideo(const std::string& path);

/// Decodes `path` once and returns its shots with keyframes.
Result<VideoScan> ScanVideo(const std::string& path, const VideoScanOptions& options = {});

}  // namespace mosaic::media
