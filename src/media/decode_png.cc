// PNG through libpng, reading from memory. libpng errors longjmp back into ReadPng (png_error
// never returns); warnings are dropped.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include "media/image_codecs.h"

namespace mosaic::media::internal {

namespace {

struct PngSource {
  std::span<const uint8_t> data;
  size_t pos = 0;
  char message[256] = {};
};

void PngError(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof(src->message), "%s", msg);
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}

void PngRead(png_structp png, png_bytep dst, size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->data.size() - src->pos) png_error(png, "unexpected end of file (truncated?)");
  std::memcpy(dst, src->data.data() + src->pos, n);
  src->pos += n;
}

}  // namespace

Status ReadPng(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out) {
  PngSource src{bytes};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, PngError, PngWarning);
  if (png == nullptr) return Status::ResourceExhausted("cannot create a PNG decoder");
  png_infop info = png_create_info_struct(png);
  std::vector<uint8_t> decoded;
  std::vector<png_bytep> rows;
  Status status;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return Status::Corruption(std::string("corrupt PNG: ") + src.message);
  }
  if (info == nullptr) png_error(png, "out of memory");
  png_set_read_fn(png, &src, PngRead);
  png_read_info(png, info);
  uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  header->width = static_cast<int>(width);
  header->height = static_cast<int>(height);
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif != nullptr)
    header->exif.assign(exif, exif + exif_size);
  if (out != nullptr) status = CheckPixelLimit(width, height, options);
  if (out == nullptr || !status.ok()) {
    png_destroy_read_struct(&png, &info, nullptr);
    return status;
  }

  // To 8-bit RGB or RGBA. strip_16 keeps the high byte, as Pillow does.
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  if (channels != 3 && channels != 4) png_error(png, "unexpected channel count after expansion");
  size_t row_bytes = static_cast<size_t>(width) * channels;
  decoded.resize(row_bytes * height);
  rows.resize(height);
  for (uint32_t y = 0; y < height; ++y)
    rows[y] = decoded.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);

  out->width = static_cast<int>(width);
  out->height = static_cast<int>(height);
  out->channels = 3;
  if (channels == 3) {
    out->pixels = std::move(decoded);
  } else {
    out->pixels.resize(static_cast<size_t>(width) * height * 3);
    CompositeOverWhite(decoded.data(), static_cast<size_t>(width) * height, out->pixels.data());
  }
  return Status::OK();
}

}  // namespace mosaic::media::internal
