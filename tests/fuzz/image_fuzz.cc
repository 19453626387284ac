// Fuzzes image decoding (src/media/image_decode.h, docs/media.md): format sniffing, header
// probing, EXIF reading and full decoding with orientation, for every format the content sniffer
// knows (JPEG, PNG, WebP, GIF, BMP, TIFF). The pixel limit is lowered to 4 megapixels so that a
// header promising a huge image is refused rather than slowly decoded.
#include <span>

#include "media/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  mosaic::media::SniffImageFormat(bytes);
  mosaic::media::ProbeImage(bytes).ok();
  mosaic::media::ReadExif(bytes).ok();
  mosaic::media::DecodeOptions options;
  options.max_pixels = 2048 * 2048;
  mosaic::media::DecodeImage(bytes, options).ok();
  return 0;
}
