// Synthetic video files for tests, written with FFmpeg's own encoders and muxers: scenes painted
// pixel by pixel and joined by hard cuts (so the cut times are known exactly), and optionally a
// mono audio track of given samples (speech placed at known times, or silence).
//
// Thread safety: WriteVideo is a pure function of its arguments (FFmpeg contexts are per call).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::testing {

struct Rgb {
  int r, g, b;
};
// A scene paints pixel (x, y) of frame number f (counted from the scene's start).
using Scene = std::function<Rgb(int x, int y, int f)>;

// Distinct scenes a shot detector must tell apart.
Rgb Black(int x, int y, int f);
Rgb SceneA(int x, int y, int f);  // reddish gradient under a checker texture drifting right
Rgb SceneB(int x, int y, int f);  // green and white checkerboard drifting left
Rgb SceneC(int x, int y, int f);  // yellow and purple diagonal stripes

struct VideoSegment {
  double seconds;
  Scene scene;
};

struct AudioTrack {
  std::vector<int16_t> samples;  // mono
  int sample_rate = 16000;
  std::string encoder = "pcm_s16le";  // or any encoder taking s16, flt or fltp samples
};

struct VideoSpec {
  std::string container = "avi";  // FFmpeg muxer: "avi", "matroska", "mp4", ...
  int width = 320, height = 180, fps = 25;
  std::string encoder = "mpeg4";       // video encoder taking yuv420p
  std::string movflags;                // mp4/mov muxer flags, e.g. "+faststart"
  // Container tags, e.g. {"creation_time", "2021-06-05T14:30:00Z"} (what the muxer keeps of
  // them is its own: MP4 and Matroska store creation_time).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<VideoSegment> segments;  // back to back, each cut hard to the next
  std::optional<AudioTrack> audio;     // none: a video-only file
};

/// Writes the segments as yuv420p video (BT.601 limited range, the decoders' assumption for
/// untagged SD video) at spec.fps, interleaved with the audio track when there is one. Errors
/// name the FFmpeg call and carry its message.
Status WriteVideo(const std::string& path, const VideoSpec& spec);

/// Writes mono 16-bit PCM as a canonical 44-byte-header WAV file.
Status WriteWav(const std::string& path, const std::vector<int16_t>& samples, int sample_rate);

}  // namespace mosaic::testing
