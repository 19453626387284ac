// In-memory images shared by decoders, transforms and encoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mosaic::media {

/// An 8-bit image, row-major, channels interleaved, no row padding. Decoders return RGB
/// (channels == 3) with EXIF orientation already applied; grayscale and alpha are converted
/// (alpha composited over white) so that every encoder sees the same layout.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;  // height * width * channels bytes

  Image() = default;
  Image(int w, int h, int c = 3)
      : width(w), height(h), channels(c), pixels(static_cast<size_t>(w) * h * c) {}

  bool empty() const { return width == 0 || height == 0; }
  size_t row_bytes() const { return static_cast<size_t>(width) * channels; }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
  uint8_t* at(int x, int y) { return row(y) + static_cast<size_t>(x) * channels; }
  const uint8_t* at(int x, int y) const { return row(y) + static_cast<size_t>(x) * channels; }
};

}  // namespace mosaic::media
