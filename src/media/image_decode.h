// Image decoding: JPEG, PNG, WebP, GIF (first frame), BMP and TIFF from memory or a file, into
// an upright RGB Image; header-only probing; the few EXIF fields the ingest layer records.
//
// The format is recognized from the content (magic bytes), never from a file name. Every
// decoder checks width * height against DecodeOptions::max_pixels from the header before it
// allocates anything, so a small hostile file cannot make us allocate gigabytes. Library errors
// become Status values (libjpeg and libpng errors longjmp back to us instead of exiting), and a
// truncated file is an error, never a half-grey image. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::media {

struct DecodeOptions {
  // Refuse larger images (ResourceExhausted). Twice PIL's decompression-bomb warning limit.
  uint64_t max_pixels = 178'956'970;
  // Turn the image upright according to its EXIF (or TIFF) orientation tag.
  bool apply_exif_orientation = true;
};

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif, kBmp, kTiff };

/// "jpeg", "png", "webp", "gif", "bmp", "tiff" or "unknown".
const char* ImageFormatName(ImageFormat format);

/// Recognizes the format from the leading magic bytes.
ImageFormat SniffImageFormat(std::span<const uint8_t> bytes);

struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;  // as stored, before orientation is applied
  int height = 0;
  int orientation = 1;  // EXIF 1..8; 1 when absent
};

/// Reads only the headers (dimensions, orientation); does not decode pixels.
Result<ImageInfo> ProbeImage(std::span<const uint8_t> bytes);

/// Decodes to RGB (channels == 3), alpha composited over white, orientation applied if asked.
Result<Image> DecodeImage(std::span<const uint8_t> bytes, const DecodeOptions& options = {});

/// Reads and decodes a file; error messages start with the path.
Result<Image> DecodeImageFile(const std::string& path, const DecodeOptions& options = {});

/// Reads a whole file (NotFound / IOError naming the path).
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

struct ExifFields {
  // DateTimeOriginal, else DateTime, as stored: normally "YYYY:MM:DD HH:MM:SS", but some
  // software writes ISO 8601. "" if absent.
  std::string date_taken;
  std::string make;
  std::string model;
  std::optional<double> latitude;   // degrees, south negative
  std::optional<double> longitude;  // degrees, west negative
  int orientation = 1;
};

/// The EXIF fields of a JPEG, PNG (eXIf), WebP or TIFF file; default fields when it has none.
Result<ExifFields> ReadExif(std::span<const uint8_t> bytes);

}  // namespace mosaic::media
