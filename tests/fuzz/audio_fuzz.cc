// Fuzzes audio decoding (src/media/audio_decode.h): the input, as a file, is probed and decoded
// to 16 kHz mono through FFmpeg (any container and codec it recognizes), and read as headerless
// 16-bit PCM. The length limit is lowered to two minutes to keep a run short.
#include <span>
#include <string>

#include "fuzz/fuzz_util.h"
#include "media/audio_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      mosaic::fuzz::WriteScratchFile("fuzz.audio", {reinterpret_cast<const char*>(data), size});
  mosaic::media::ProbeAudio(path).ok();
  mosaic::media::AudioDecodeOptions options;
  options.max_seconds = 120;
  mosaic::media::DecodeAudio(path, 16000, options).ok();
  mosaic::media::DecodeRawPcm16(std::span<const uint8_t>(data, size), 22050).ok();
  return 0;
}
