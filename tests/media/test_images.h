// Fixtures for the media tests: real images from .cache/data/skimage, and writers for the
// formats the library only decodes (WebP, GIF, TIFF, BMP) plus hand-made EXIF blocks, so that
// every decoder is tested on files produced by an independent encoder. Header-only: the test
// binary builds from *_test.cc files alone.
#pragma once

#include <gif_lib.h>
#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "media/image.h"
#include "media/image_decode.h"
#include "util/paths.h"

namespace mosaic::media::testing {

inline std::vector<uint8_t> ReadSkimageBytes(const std::string& name) {
  auto bytes = ReadFileBytes(mosaic::testing::DataDir() + "/skimage/" + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

inline Image LoadSkimage(const std::string& name) {
  auto img = DecodeImageFile(mosaic::testing::DataDir() + "/skimage/" + name);
  EXPECT_TRUE(img.ok()) << img.status().ToString();
  return img.ok() ? *img : Image();
}

inline Image Gradient(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(255 * x / std::max(w - 1, 1));
      p[1] = static_cast<uint8_t>(255 * y / std::max(h - 1, 1));
      p[2] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.3) * std::cos(y * 0.2));
    }
  return img;
}

inline std::vector<uint8_t> TakeWebp(uint8_t* data, size_t size) {
  std::vector<uint8_t> out(data, data + size);
  WebPFree(data);
  EXPECT_GT(out.size(), 0u);
  return out;
}

inline std::vector<uint8_t> EncodeWebpLossless(const Image& img) {
  uint8_t* data = nullptr;
  size_t size = img.channels == 4 ? WebPEncodeLosslessRGBA(img.pixels.data(), img.width, img.height,
                                                           static_cast<int>(img.row_bytes()), &data)
                                  : WebPEncodeLosslessRGB(img.pixels.data(), img.width, img.height,
                                                          static_cast<int>(img.row_bytes()), &data);
  return TakeWebp(data, size);
}

inline std::vector<uint8_t> EncodeWebpLossy(const Image& img, float quality) {
  uint8_t* data = nullptr;
  size_t size = WebPEncodeRGB(img.pixels.data(), img.width, img.height,
                              static_cast<int>(img.row_bytes()), quality, &data);
  return TakeWebp(data, size);
}

inline std::vector<uint8_t> EncodeWebpAnimation(const std::vector<Image>& frames) {
  WebPAnimEncoderOptions opts;
  WebPAnimEncoderOptionsInit(&opts);
  WebPAnimEncoder* enc = WebPAnimEncoderNew(frames[0].width, frames[0].height, &opts);
  WebPConfig config;
  WebPConfigInit(&config);
  config.lossless = 1;
  int ts = 0;
  for (const Image& f : frames) {
    WebPPicture pic;
    WebPPictureInit(&pic);
    pic.use_argb = 1;
    pic.width = f.width;
    pic.height = f.height;
    EXPECT_TRUE(WebPPictureImportRGB(&pic, f.pixels.data(), static_cast<int>(f.row_bytes())));
    EXPECT_TRUE(WebPAnimEncoderAdd(enc, &pic, ts, &config));
    WebPPictureFree(&pic);
    ts += 100;
  }
  WebPAnimEncoderAdd(enc, nullptr, ts, nullptr);
  WebPData data;
  WebPDataInit(&data);
  EXPECT_TRUE(WebPAnimEncoderAssemble(enc, &data));
  std::vector<uint8_t> out(data.bytes, data.bytes + data.size);
  WebPDataClear(&data);
  WebPAnimEncoderDelete(enc);
  return out;
}

inline std::vector<uint8_t> EncodeWebpWithExif(const Image& rgb, const std::vector<uint8_t>& exif) {
  std::vector<uint8_t> still = EncodeWebpLossless(rgb);
  WebPMux* mux = WebPMuxNew();
  WebPData image{still.data(), still.size()}, chunk{exif.data(), exif.size()}, out;
  EXPECT_EQ(WebPMuxSetImage(mux, &image, 1), WEBP_MUX_OK);
  EXPECT_EQ(WebPMuxSetChunk(mux, "EXIF", &chunk, 1), WEBP_MUX_OK);
  WebPDataInit(&out);
  EXPECT_EQ(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
  std::vector<uint8_t> bytes(out.bytes, out.bytes + out.size);
  WebPDataClear(&out);
  WebPMuxDelete(mux);
  return bytes;
}

// A GIF whose first frame is w x h palette `indices` at (left, top) on the screen, with
// `transparent` < 0 for none.
inline std::vector<uint8_t> EncodeGif(int screen_w, int screen_h, int left, int top, int w, int h,
                                      const std::vector<uint8_t>& indices,
                                      const std::vector<uint8_t>& palette, int transparent,
                                      bool interlaced) {
  std::vector<uint8_t> out;
  auto write = [](GifFileType* gif, const GifByteType* b, int n) {
    auto* v = static_cast<std::vector<uint8_t>*>(gif->UserData);
    v->insert(v->end(), b, b + n);
    return n;
  };
  int err = 0;
  GifFileType* gif = EGifOpen(&out, write, &err);
  EGifSetGifVersion(gif, true);
  ColorMapObject* map = GifMakeMapObject(256, nullptr);
  for (size_t i = 0; i < 256; ++i) {
    bool have = 3 * i + 2 < palette.size();
    map->Colors[i] = {have ? palette[3 * i] : GifByteType(0),
                      have ? palette[3 * i + 1] : GifByteType(0),
                      have ? palette[3 * i + 2] : GifByteType(0)};
  }
  EXPECT_EQ(EGifPutScreenDesc(gif, screen_w, screen_h, 8, 0, map), GIF_OK);
  if (transparent >= 0) {
    GraphicsControlBlock gcb{};
    gcb.DisposalMode = DISPOSAL_UNSPECIFIED;
    gcb.TransparentColor = transparent;
    GifByteType ext[4];
    size_t n = EGifGCBToExtension(&gcb, ext);
    EXPECT_EQ(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(n), ext), GIF_OK);
  }
  EXPECT_EQ(EGifPutImageDesc(gif, left, top, w, h, interlaced, nullptr), GIF_OK);
  std::vector<int> order;  // giflib writes rows in the order given: interlaced order is ours
  if (interlaced) {
    static constexpr int kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass)
      for (int y = kStart[pass]; y < h; y += kStep[pass])
        order.push_back(y);
  } else {
    for (int y = 0; y < h; ++y)
      order.push_back(y);
  }
  for (int y : order)
    EXPECT_EQ(EGifPutLine(gif, const_cast<GifPixelType*>(&indices[size_t(y) * w]), w), GIF_OK);
  EXPECT_EQ(EGifCloseFile(gif, &err), GIF_OK);
  GifFreeMapObject(map);
  return out;
}

// RGB or RGBA, LZW-compressed strips, with the given orientation tag and Make = "MosaicCam".
inline std::vector<uint8_t> EncodeTiff(const Image& img, int orientation = 1) {
  std::string path = ::testing::TempDir() + "/mosaic_media_" + std::to_string(getpid()) + ".tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  EXPECT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(img.width));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(img.height));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(img.channels));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(8));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, uint32_t(16));
  TIFFSetField(tif, TIFFTAG_ORIENTATION, uint16_t(orientation));
  TIFFSetField(tif, TIFFTAG_MAKE, "MosaicCam");
  if (img.channels == 4) {
    uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, uint16_t(1), &extra);
  }
  for (int y = 0; y < img.height; ++y)
    EXPECT_EQ(TIFFWriteScanline(tif, const_cast<uint8_t*>(img.row(y)), uint32_t(y), 0), 1);
  TIFFClose(tif);
  auto bytes = ReadFileBytes(path);
  std::remove(path.c_str());
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

inline void PutLe(std::vector<uint8_t>& v, uint32_t x, int n) {
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

// Uncompressed BMP: bpp 24 or 32 from RGB, or 8 from one palette index per pixel (channels 1)
// with `palette` as RGB triples.
inline std::vector<uint8_t> EncodeBmp(const Image& img, int bpp, bool top_down,
                                      const std::vector<uint8_t>& palette = {}) {
  uint32_t stride = (uint32_t(img.width) * bpp + 31) / 32 * 4;
  uint32_t colors = bpp == 8 ? 256 : 0;
  uint32_t offset = 14 + 40 + colors * 4;
  std::vector<uint8_t> b = {'B', 'M'};
  PutLe(b, offset + stride * img.height, 4);
  PutLe(b, 0, 4);
  PutLe(b, offset, 4);
  PutLe(b, 40, 4);
  PutLe(b, uint32_t(img.width), 4);
  PutLe(b, uint32_t(top_down ? -img.height : img.height), 4);
  PutLe(b, 1, 2);
  PutLe(b, uint32_t(bpp), 2);
  PutLe(b, 0, 4);  // BI_RGB
  PutLe(b, stride * img.height, 4);
  PutLe(b, 2835, 4);
  PutLe(b, 2835, 4);
  PutLe(b, colors, 4);
  PutLe(b, 0, 4);
  for (uint32_t i = 0; i < colors; ++i) {
    bool have = 3 * i + 2 < palette.size();
    b.insert(b.end(),
             {have ? palette[3 * i + 2] : uint8_t(0), have ? palette[3 * i + 1] : uint8_t(0),
              have ? palette[3 * i] : uint8_t(0), 0});
  }
  for (int r = 0; r < img.height; ++r) {
    const uint8_t* src = img.row(top_down ? r : img.height - 1 - r);
    size_t start = b.size();
    for (int x = 0; x < img.width; ++x) {
      if (bpp == 8) {
        b.push_back(src[x]);
      } else {
        const uint8_t* p = src + 3 * x;
        b.insert(b.end(), {p[2], p[1], p[0]});
        if (bpp == 32) b.push_back(0xEE);  // unused byte of BGRX
      }
    }
    b.resize(start + stride, 0);
  }
  return b;
}

// Little-endian TIFF IFDs: entries hold their value inline (<= 4 bytes) or at an offset into
// the data that follows the IFD.
struct IfdEntry {
  uint16_t tag, type;
  uint32_t count;
  std::vector<uint8_t> value;
};

inline IfdEntry ExifAscii(uint16_t tag, const std::string& s) {
  std::vector<uint8_t> v(s.begin(), s.end());
  v.push_back(0);
  return {tag, 2, uint32_t(v.size()), v};
}
inline IfdEntry ExifShort(uint16_t tag, uint16_t x) {
  std::vector<uint8_t> v;
  PutLe(v, x, 2);
  return {tag, 3, 1, v};
}
inline IfdEntry ExifLong(uint16_t tag, uint32_t x) {
  std::vector<uint8_t> v;
  PutLe(v, x, 4);
  return {tag, 4, 1, v};
}
inline IfdEntry ExifDms(uint16_t tag, double degrees) {
  double d = std::fabs(degrees);
  uint32_t deg = uint32_t(d), min = uint32_t((d - deg) * 60);
  uint32_t sec_x100 = uint32_t(std::lround(((d - deg) * 60 - min) * 60 * 100));
  std::vector<uint8_t> v;
  for (uint32_t x : {deg, 1u, min, 1u, sec_x100, 100u})
    PutLe(v, x, 4);
  return {tag, 5, 3, v};
}

inline size_t IfdSize(const std::vector<IfdEntry>& ifd) {
  size_t n = 2 + 12 * ifd.size() + 4;
  for (const auto& e : ifd)
    if (e.value.size() > 4) n += (e.value.size() + 1) & ~size_t(1);
  return n;
}

inline void PutIfd(std::vector<uint8_t>& out, const std::vector<IfdEntry>& ifd) {
  size_t data_at = out.size() + 2 + 12 * ifd.size() + 4;
  std::vector<uint8_t> data;
  PutLe(out, uint32_t(ifd.size()), 2);
  for (const auto& e : ifd) {
    PutLe(out, e.tag, 2);
    PutLe(out, e.type, 2);
    PutLe(out, e.count, 4);
    if (e.value.size() <= 4) {
      std::vector<uint8_t> inline_value = e.value;
      inline_value.resize(4, 0);
      out.insert(out.end(), inline_value.begin(), inline_value.end());
    } else {
      PutLe(out, uint32_t(data_at + data.size()), 4);
      data.insert(data.end(), e.value.begin(), e.value.end());
      if (data.size() % 2) data.push_back(0);
    }
  }
  PutLe(out, 0, 4);  // no next IFD
  out.insert(out.end(), data.begin(), data.end());
}

struct ExifSpec {
  int orientation = 1;
  std::string make, model, date_time_original;
  // Degrees, written as degree/minute/second rationals with N/S and E/W references.
  std::optional<double> latitude, longitude;
};

// A little-endian TIFF-structured EXIF block (no "Exif\0\0" prefix): IFD0, Exif and GPS IFDs.
inline std::vector<uint8_t> BuildExif(const ExifSpec& spec) {
  std::vector<IfdEntry> ifd0, exif_ifd, gps;
  if (!spec.make.empty()) ifd0.push_back(ExifAscii(0x010F, spec.make));
  if (!spec.model.empty()) ifd0.push_back(ExifAscii(0x0110, spec.model));
  ifd0.push_back(ExifShort(0x0112, uint16_t(spec.orientation)));
  if (!spec.date_time_original.empty())
    exif_ifd.push_back(ExifAscii(0x9003, spec.date_time_original));
  if (spec.latitude && spec.longitude) {
    gps.push_back(ExifAscii(0x0001, *spec.latitude < 0 ? "S" : "N"));
    gps.push_back(ExifDms(0x0002, *spec.latitude));
    gps.push_back(ExifAscii(0x0003, *spec.longitude < 0 ? "W" : "E"));
    gps.push_back(ExifDms(0x0004, *spec.longitude));
  }
  // Sub-IFD pointers: their offsets depend only on the sizes of what precedes them.
  size_t pointers = (exif_ifd.empty() ? 0 : 1) + (gps.empty() ? 0 : 1);
  size_t ifd0_size = IfdSize(ifd0) + 12 * pointers;
  size_t exif_at = 8 + ifd0_size, gps_at = exif_at + (exif_ifd.empty() ? 0 : IfdSize(exif_ifd));
  if (!exif_ifd.empty()) ifd0.push_back(ExifLong(0x8769, uint32_t(exif_at)));
  if (!gps.empty()) ifd0.push_back(ExifLong(0x8825, uint32_t(gps_at)));
  std::vector<uint8_t> out = {'I', 'I', 42, 0, 8, 0, 0, 0};
  PutIfd(out, ifd0);
  if (!exif_ifd.empty()) PutIfd(out, exif_ifd);
  if (!gps.empty()) PutIfd(out, gps);
  return out;
}

inline std::vector<uint8_t> InsertJpegExif(const std::vector<uint8_t>& jpeg,
                                           const std::vector<uint8_t>& exif) {
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  size_t len = 2 + 6 + exif.size();
  out.insert(out.end(),
             {0xFF, 0xE1, uint8_t(len >> 8), uint8_t(len & 0xFF), 'E', 'x', 'i', 'f', 0, 0});
  out.insert(out.end(), exif.begin(), exif.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

inline void PutPngChunk(std::vector<uint8_t>& out, const char type[4],
                        const std::vector<uint8_t>& data) {
  uint32_t n = uint32_t(data.size());
  out.insert(out.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  uint32_t crc = uint32_t(crc32(0, out.data() + start, uInt(out.size() - start)));
  out.insert(out.end(), {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8), uint8_t(crc)});
}

inline std::vector<uint8_t> InsertPngChunk(const std::vector<uint8_t>& png, const char type[4],
                                           const std::vector<uint8_t>& data) {
  constexpr size_t kAfterIhdr = 8 + 8 + 13 + 4;
  std::vector<uint8_t> out(png.begin(), png.begin() + kAfterIhdr);
  PutPngChunk(out, type, data);
  out.insert(out.end(), png.begin() + kAfterIhdr, png.end());
  return out;
}

// IHDR declaring w x h RGB, one IDAT with only `rows` deflated zero rows, IEND: tiny on disk.
inline std::vector<uint8_t> MakePngBomb(uint32_t w, uint32_t h, uint32_t rows) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  for (uint32_t x : {w, h})
    ihdr.insert(ihdr.end(), {uint8_t(x >> 24), uint8_t(x >> 16), uint8_t(x >> 8), uint8_t(x)});
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB
  PutPngChunk(out, "IHDR", ihdr);
  std::vector<uint8_t> raw(size_t(rows) * (1 + 3 * size_t(w)), 0);
  uLongf size = compressBound(uLong(raw.size()));
  std::vector<uint8_t> deflated(size);
  EXPECT_EQ(compress2(deflated.data(), &size, raw.data(), uLong(raw.size()), 9), Z_OK);
  deflated.resize(size);
  PutPngChunk(out, "IDAT", deflated);
  PutPngChunk(out, "IEND", {});
  return out;
}

}  // namespace mosaic::media::testing
