// Fuzzes video scanning (src/media/video_decode.h): the input, as a file, is probed and scanned
// for shots and keyframes through FFmpeg. Frames are limited to 640x480 and the length to 30
// seconds to keep a run short.
#include <string>

#include "fuzz/fuzz_util.h"
#include "media/video_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      mosaic::fuzz::WriteScratchFile("fuzz.video", {reinterpret_cast<const char*>(data), size});
  mosaic::media::ProbeVideo(path).ok();
  mosaic::media::VideoScanOptions options;
  options.max_pixels = 640 * 480;
  options.max_seconds = 30;
  options.keyframe_max_side = 64;
  mosaic::media::ScanVideo(path, options).ok();
  return 0;
}
