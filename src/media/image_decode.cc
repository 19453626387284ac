#include "media/image_decode.h"

#include <fcntl.h>
#include <libexif/exif-data.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/file_util.h"
#include "media/image_codecs.h"
#include "media/image_ops.h"

namespace mosaic::media {

namespace internal {

Status CheckPixelLimit(uint64_t width, uint64_t height, const DecodeOptions& options) {
  uint64_t pixels = width * height;  // both < 2^32: no overflow
  if (pixels <= options.max_pixels) return Status::OK();
  return Status::ResourceExhausted(
      "image is " + std::to_string(width) + "x" + std::to_string(height) + " = " +
      std::to_string(pixels) + " pixels, over the limit of " + std::to_string(options.max_pixels) +
      " (DecodeOptions::max_pixels)");
}

void CompositeOverWhite(const uint8_t* rgba, size_t n, uint8_t* rgb) {
  for (size_t i = 0; i < n; ++i, rgba += 4, rgb += 3) {
    int a = rgba[3];
    for (int c = 0; c < 3; ++c)
      rgb[c] = static_cast<uint8_t>((rgba[c] * a + 255 * (255 - a) + 127) / 255);
  }
}

}  // namespace internal

namespace {

using internal::Header;

bool StartsWith(std::span<const uint8_t> b, std::string_view magic, size_t at = 0) {
  return b.size() >= at + magic.size() &&
         std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
}

std::string HexPrefix(std::span<const uint8_t> b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < std::min<size_t>(b.size(), 12); ++i) {
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02x" : " %02x", b[i]);
    s += buf;
  }
  return s;
}

Status ReadHeader(std::span<const uint8_t> bytes, const DecodeOptions& options, ImageFormat* format,
                  Header* header, Image* out) {
  if (bytes.empty()) return Status::InvalidArgument("empty file");
  *format = SniffImageFormat(bytes);
  switch (*format) {
    case ImageFormat::kJpeg:
      return internal::ReadJpeg(bytes, options, header, out);
    case ImageFormat::kPng:
      return internal::ReadPng(bytes, options, header, out);
    case ImageFormat::kWebp:
      return internal::ReadWebp(bytes, options, header, out);
    case ImageFormat::kGif:
      return internal::ReadGif(bytes, options, header, out);
    case ImageFormat::kBmp:
      return internal::ReadBmp(bytes, options, header, out);
    case ImageFormat::kTiff:
      return internal::ReadTiff(bytes, options, header, out);
    case ImageFormat::kUnknown:
      break;
  }
  return Status::InvalidArgument("not a recognized image format (first bytes: " + HexPrefix(bytes) +
                                 ")");
}

std::string ExifString(ExifContent* ifd, ExifTag tag) {
  ExifEntry* e = ifd != nullptr ? exif_content_get_entry(ifd, tag) : nullptr;
  if (e == nullptr || e->format != EXIF_FORMAT_ASCII || e->data == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(e->data), e->size);
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

// Degrees from the three rationals (degrees, minutes, seconds) of a GPS coordinate.
std::optional<double> ExifCoordinate(ExifData* ed, ExifContent* gps, ExifTag tag, ExifTag ref_tag,
                                     char negative_ref) {
  ExifEntry* e = gps != nullptr ? exif_content_get_entry(gps, tag) : nullptr;
  if (e == nullptr || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || e->data == nullptr)
    return std::nullopt;
  ExifByteOrder order = exif_data_get_byte_order(ed);
  double parts[3];
  for (int i = 0; i < 3; ++i) {
    ExifRational r = exif_get_rational(e->data + 8 * i, order);
    if (r.denominator == 0) return std::nullopt;
    parts[i] = static_cast<double>(r.numerator) / r.denominator;
  }
  double deg = parts[0] + parts[1] / 60 + parts[2] / 3600;
  std::string ref = ExifString(gps, ref_tag);
  return !ref.empty() && ref[0] == negative_ref ? -deg : deg;
}

ExifFields ParseExif(std::span<const uint8_t> block) {
  ExifFields f;
  if (block.empty()) return f;
  // libexif wants JPEG's APP1 form; PNG and (some) WebP files store the bare TIFF structure.
  std::vector<uint8_t> data;
  if (!StartsWith(block, std::string_view("Exif\0\0", 6))) {
    data.assign({'E', 'x', 'i', 'f', 0, 0});
    data.insert(data.end(), block.begin(), block.end());
    block = data;
  }
  ExifData* ed = exif_data_new();
  if (ed == nullptr) return f;
  // Without this libexif "fixes" the data, inventing mandatory tags such as DateTime = now.
  exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(ed, block.data(), static_cast<unsigned int>(block.size()));
  ExifContent* ifd0 = ed->ifd[EXIF_IFD_0];
  ExifContent* gps = ed->ifd[EXIF_IFD_GPS];
  if (ExifEntry* e = exif_content_get_entry(ifd0, EXIF_TAG_ORIENTATION);
      e != nullptr && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data != nullptr) {
    int o = exif_get_short(e->data, exif_data_get_byte_order(ed));
    if (o >= 1 && o <= 8) f.orientation = o;
  }
  f.make = ExifString(ifd0, EXIF_TAG_MAKE);
  f.model = ExifString(ifd0, EXIF_TAG_MODEL);
  f.date_taken = ExifString(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL);
  if (f.date_taken.empty()) f.date_taken = ExifString(ifd0, EXIF_TAG_DATE_TIME);
  // libexif defines the GPS tags as plain ints (they overlap the interoperability tags).
  f.latitude = ExifCoordinate(ed, gps, static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE),
                              static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE_REF), 'S');
  f.longitude = ExifCoordinate(ed, gps, static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE),
                               static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE_REF), 'W');
  if (!f.latitude || !f.longitude) f.latitude = f.longitude = std::nullopt;
  exif_data_unref(ed);
  return f;
}

ExifFields FieldsOf(const Header& h) {
  return h.fields ? *h.fields : ParseExif(h.exif);
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kBmp:
      return "bmp";
    case ImageFormat::kTiff:
      return "tiff";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(std::span<const uint8_t> b) {
  if (StartsWith(b, "\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (StartsWith(b, "\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (StartsWith(b, "RIFF") && StartsWith(b, "WEBP", 8)) return ImageFormat::kWebp;
  if (StartsWith(b, "GIF87a") || StartsWith(b, "GIF89a")) return ImageFormat::kGif;
  if (StartsWith(b, "BM")) return ImageFormat::kBmp;
  // Classic TIFF and BigTIFF, little and big endian.
  if (StartsWith(b, std::string_view("II*\0", 4)) || StartsWith(b, std::string_view("MM\0*", 4)) ||
      StartsWith(b, std::string_view("II+\0", 4)) || StartsWith(b, std::string_view("MM\0+", 4)))
    return ImageFormat::kTiff;
  return ImageFormat::kUnknown;
}

Result<ImageInfo> ProbeImage(std::span<const uint8_t> bytes) {
  ImageInfo info;
  Header h;
  MOSAIC_RETURN_IF_ERROR(ReadHeader(bytes, DecodeOptions{}, &info.format, &h, nullptr));
  info.width = h.width;
  info.height = h.height;
  info.orientation = FieldsOf(h).orientation;
  return info;
}

Result<Image> DecodeImage(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  ImageFormat format;
  Header h;
  Image img;
  MOSAIC_RETURN_IF_ERROR(ReadHeader(bytes, options, &format, &h, &img));
  if (options.apply_exif_orientation) {
    int orientation = FieldsOf(h).orientation;
    if (orientation != 1) img = ApplyExifOrientation(img, orientation);
  }
  return img;
}

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::vector<uint8_t> bytes;
  MOSAIC_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  return bytes;
}

Result<Image> DecodeImageFile(const std::string& path, const DecodeOptions& options) {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  Result<Image> img = DecodeImage(bytes, options);
  if (!img.ok()) return img.status().WithContext(path);
  return img;
}

Result<ExifFields> ReadExif(std::span<const uint8_t> bytes) {
  ImageFormat format;
  Header h;
  MOSAIC_RETURN_IF_ERROR(ReadHeader(bytes, DecodeOptions{}, &format, &h, nullptr));
  return FieldsOf(h);
}

}  // namespace mosaic::media
