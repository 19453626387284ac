// TIFF through libtiff, reading the first directory from memory with TIFFClientOpenExt and the
// RGBA interface (any photometric, bit depth and compression libtiff knows). Errors and warnings
// go to per-handle handlers, so nothing is printed and concurrent decodes do not mix messages.
#include <tiffio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "media/image_codecs.h"

namespace mosaic::media::internal {

namespace {

struct TiffSource {
  std::span<const uint8_t> data;
  uint64_t pos = 0;
  std::string error;  // the first error libtiff reported
};

tmsize_t TiffRead(thandle_t h, void* dst, tmsize_t n) {
  auto* src = static_cast<TiffSource*>(h);
  if (n < 0 || src->pos >= src->data.size()) return 0;
  size_t take = std::min<uint64_t>(static_cast<uint64_t>(n), src->data.size() - src->pos);
  std::memcpy(dst, src->data.data() + src->pos, take);
  src->pos += take;
  return static_cast<tmsize_t>(take);
}

tmsize_t TiffWrite(thandle_t, void*, tmsize_t) {
  return 0;
}

toff_t TiffSeek(thandle_t h, toff_t off, int whence) {
  auto* src = static_cast<TiffSource*>(h);
  uint64_t base = whence == SEEK_CUR ? src->pos : whence == SEEK_END ? src->data.size() : 0;
  src->pos = base + off;  // reads past the end return nothing
  return src->pos;
}

int TiffClose(thandle_t) {
  return 0;
}
toff_t TiffSize(thandle_t h) {
  return static_cast<TiffSource*>(h)->data.size();
}
int TiffMap(thandle_t, void**, toff_t*) {
  return 0;
}
void TiffUnmap(thandle_t, void*, toff_t) {}

int TiffOnError(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* src = static_cast<TiffSource*>(user);
  if (src->error.empty()) {
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    src->error = module != nullptr ? std::string(module) + ": " + buf : std::string(buf);
  }
  return 1;  // handled: skip libtiff's global handler (stderr)
}

int TiffOnWarning(TIFF*, void*, const char*, const char*, va_list) {
  return 1;
}

std::string TiffString(TIFF* tif, uint32_t tag) {
  char* s = nullptr;
  return TIFFGetField(tif, tag, &s) == 1 && s != nullptr ? std::string(s) : std::string();
}

Status TiffCorruption(const TiffSource& src, const char* what) {
  return Status::Corruption(std::string("corrupt TIFF: ") + (src.error.empty() ? what : src.error));
}

}  // namespace

Status ReadTiff(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out) {
  TiffSource src{bytes};
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, TiffOnError, &src);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, TiffOnWarning, &src);
  // "m": never memory-map (there is no file); "r": read.
  TIFF* tif = TIFFClientOpenExt("<memory>", "rm", &src, TiffRead, TiffWrite, TiffSeek, TiffClose,
                                TiffSize, TiffMap, TiffUnmap, opts);
  TIFFOpenOptionsFree(opts);
  if (tif == nullptr) return TiffCorruption(src, "cannot open");

  Status status;
  uint32_t width = 0, height = 0;
  uint16_t orientation = ORIENTATION_TOPLEFT;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
  TIFFGetField(tif, TIFFTAG_ORIENTATION, &orientation);
  header->width = static_cast<int>(width);
  header->height = static_cast<int>(height);
  ExifFields& fields = header->fields.emplace();
  fields.orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
  fields.make = TiffString(tif, TIFFTAG_MAKE);
  fields.model = TiffString(tif, TIFFTAG_MODEL);
  fields.date_taken = TiffString(tif, TIFFTAG_DATETIME);

  if (out != nullptr) {
    status = width == 0 || height == 0
                 ? Status::Corruption("corrupt TIFF: image size is " + std::to_string(width) + "x" +
                                      std::to_string(height))
                 : CheckPixelLimit(width, height, options);
  }
  char emsg[1024] = {};
  TIFFRGBAImage img;
  if (out != nullptr && status.ok()) {
    if (!TIFFRGBAImageOK(tif, emsg) || !TIFFRGBAImageBegin(&img, tif, 0, emsg)) {
      status = Status::InvalidArgument(std::string("unsupported TIFF: ") + emsg);
    } else {
      // Rows as stored (no flips by libtiff): orientation is applied by the caller, uniformly
      // for all formats.
      img.req_orientation = img.orientation;
      std::vector<uint32_t> raster(static_cast<size_t>(width) * height);
      if (!TIFFRGBAImageGet(&img, raster.data(), width, height)) {
        status = TiffCorruption(src, "cannot decode the image data");
      } else {
        *out = Image(static_cast<int>(width), static_cast<int>(height));
        std::vector<uint8_t> rgba(raster.size() * 4);
        for (size_t i = 0; i < raster.size(); ++i) {
          rgba[4 * i] = static_cast<uint8_t>(TIFFGetR(raster[i]));
          rgba[4 * i + 1] = static_cast<uint8_t>(TIFFGetG(raster[i]));
          rgba[4 * i + 2] = static_cast<uint8_t>(TIFFGetB(raster[i]));
          rgba[4 * i + 3] = static_cast<uint8_t>(TIFFGetA(raster[i]));
        }
        CompositeOverWhite(rgba.data(), raster.size(), out->pixels.data());
      }
      TIFFRGBAImageEnd(&img);
    }
  }
  TIFFClose(tif);
  return status;
}

}  // namespace mosaic::media::internal
