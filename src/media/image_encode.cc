#include "media/image_encode.h"

#include "media/jpeg_error.h"

// jpeglib.h needs FILE and size_t declared first.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on

#include <png.h>

#include <csetjmp>
#include <cstdlib>
#include <string>

namespace mosaic::media {

using internal::JpegErrorExit;
using internal::JpegErrorManager;

namespace {

struct PngSink {
  std::vector<uint8_t> bytes;
  char message[256] = {};
};

void PngError(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof(sink->message), "%s", msg);
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}

void PngWrite(png_structp png, png_bytep data, size_t n) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes.insert(sink->bytes.end(), data, data + n);
}

void PngFlush(png_structp) {}

Status CheckImage(const Image& image, bool alpha_ok) {
  bool channels_ok = image.channels == 1 || image.channels == 3 ||
                     (alpha_ok && (image.channels == 2 || image.channels == 4));
  if (image.empty() || !channels_ok || image.pixels.size() != image.row_bytes() * image.height)
    return Status::InvalidArgument("cannot encode a " + std::to_string(image.width) + "x" +
                                   std::to_string(image.height) + " image with " +
                                   std::to_string(image.channels) + " channels and " +
                                   std::to_string(image.pixels.size()) + " bytes");
  return Status::OK();
}

}  // namespace

Result<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality) {
  MOSAIC_RETURN_IF_ERROR(CheckImage(image, /*alpha_ok=*/false));
  if (quality < 1 || quality > 100)
    return Status::InvalidArgument("JPEG quality " + std::to_string(quality) +
                                   " is outside 1..100");
  jpeg_compress_struct cinfo;
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegErrorExit;
  unsigned char* buffer = nullptr;  // malloc'ed by jpeg_mem_dest
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return Status::Internal(std::string("JPEG encoding failed: ") + err.message);
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.row(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

Result<std::vector<uint8_t>> EncodePng(const Image& image) {
  MOSAIC_RETURN_IF_ERROR(CheckImage(image, /*alpha_ok=*/true));
  PngSink sink;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, PngError, PngWarning);
  if (png == nullptr) return Status::ResourceExhausted("cannot create a PNG encoder");
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Status::Internal(std::string("PNG encoding failed: ") + sink.message);
  }
  if (info == nullptr) png_error(png, "out of memory");
  static constexpr int kColorType[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(png, &sink, PngWrite, PngFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, kColorType[image.channels],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, image.row(y));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::move(sink.bytes);
}

}  // namespace mosaic::media
