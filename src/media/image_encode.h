// JPEG and PNG encoding of an Image (1 = gray, 3 = RGB, and for PNG also 2 = gray+alpha and
// 4 = RGBA channels), for thumbnails and test fixtures. Thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::media {

/// Baseline JPEG, 4:2:0 chroma subsampling, quality 1..100.
Result<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality = 85);

/// Lossless 8-bit PNG.
Result<std::vector<uint8_t>> EncodePng(const Image& image);

}  // namespace mosaic::media
