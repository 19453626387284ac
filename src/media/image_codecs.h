// Per-format decoders behind DecodeImage, ProbeImage and ReadExif; internal to src/media.
//
// Each Read* parses the headers into *header. When `out` is non-null it then checks the size
// against DecodeOptions::max_pixels, before allocating, and decodes into *out as RGB with alpha
// composited over white and orientation NOT applied. Errors name the format and the cause.
// Thread-safe: no decoder keeps state between calls.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/image.h"
#include "media/image_decode.h"
#include "mosaic/status.h"

namespace mosaic::media::internal {

struct Header {
  int width = 0;
  int height = 0;
  // The EXIF block: TIFF-structured data, with or without the "Exif\0\0" prefix of JPEG's APP1.
  std::vector<uint8_t> exif;
  // Set instead when the container stores the fields itself (TIFF tags).
  std::optional<ExifFields> fields;
};

Status ReadJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out);
Status ReadPng(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out);
Status ReadWebp(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out);
Status ReadGif(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out);
Status ReadBmp(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out);
Status ReadTiff(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out);

/// ResourceExhausted "image is WxH = N pixels, over the limit of M (DecodeOptions::max_pixels)".
Status CheckPixelLimit(uint64_t width, uint64_t height, const DecodeOptions& options);

/// RGBA (n pixels) to RGB over a white background.
void CompositeOverWhite(const uint8_t* rgba, size_t n, uint8_t* rgb);

}  // namespace mosaic::media::internal
