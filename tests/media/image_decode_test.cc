#include "media/image_decode.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "media/image_encode.h"
#include "media/image_ops.h"
#include "test_images.h"

namespace mosaic::media {
namespace {

using namespace mosaic::media::testing;  // NOLINT: fixtures

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Image MustDecode(const std::vector<uint8_t>& bytes, const DecodeOptions& opts = {}) {
  auto img = DecodeImage(bytes, opts);
  EXPECT_TRUE(img.ok()) << img.status().ToString();
  return img.ok() ? *img : Image();
}

std::vector<uint8_t> MustEncodePng(const Image& img) {
  auto bytes = EncodePng(img);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

std::vector<uint8_t> MustEncodeJpeg(const Image& img, int quality = 90) {
  auto bytes = EncodeJpeg(img, quality);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

double MeanAbsDiff(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double s = 0;
  for (size_t i = 0; i < std::min(a.pixels.size(), b.pixels.size()); ++i)
    s += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return s / std::max<size_t>(a.pixels.size(), 1);
}

Image Downscaled(const Image& img, int w) {
  return Resize(img, w, img.height * w / img.width, ResizeFilter::kBilinear);
}

// Four flat quadrants (red, green / blue, white): survive JPEG and show every rotation.
Image Quadrants(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      static constexpr uint8_t kColors[4][3] = {
          {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
      const uint8_t* c = kColors[(y >= h / 2) * 2 + (x >= w / 2)];
      std::copy_n(c, 3, img.at(x, y));
    }
  return img;
}

void ExpectNear(const uint8_t* p, int r, int g, int b, int tol = 40) {
  EXPECT_NEAR(p[0], r, tol);
  EXPECT_NEAR(p[1], g, tol);
  EXPECT_NEAR(p[2], b, tol);
}

// One file of each format, made by an encoder that is not ours, with its expected pixels.
struct FormatCase {
  ImageFormat format;
  std::vector<uint8_t> bytes;
  Image expected;  // exact unless lossy
  bool lossy = false;
};

std::vector<FormatCase> AllFormats() {
  Image photo = Downscaled(LoadSkimage("chelsea.png"), 150);  // 150x99
  std::vector<FormatCase> cases;
  cases.push_back({ImageFormat::kJpeg, MustEncodeJpeg(photo, 95), photo, true});
  cases.push_back({ImageFormat::kPng, MustEncodePng(photo), photo});
  cases.push_back({ImageFormat::kWebp, EncodeWebpLossless(photo), photo});
  cases.push_back({ImageFormat::kTiff, EncodeTiff(photo), photo});
  cases.push_back({ImageFormat::kBmp, EncodeBmp(photo, 24, false), photo});
  // GIF: an 8-level quantization of the photo's green channel, as a palette image.
  std::vector<uint8_t> indices(size_t(photo.width) * photo.height), palette;
  for (int i = 0; i < 8; ++i)
    palette.insert(palette.end(), {uint8_t(i * 36), uint8_t(255 - i * 36), 90});
  Image gif_expected(photo.width, photo.height);
  for (size_t i = 0; i < indices.size(); ++i) {
    indices[i] = photo.pixels[3 * i + 1] / 32;
    std::copy_n(&palette[3 * indices[i]], 3, &gif_expected.pixels[3 * i]);
  }
  cases.push_back({ImageFormat::kGif,
                   EncodeGif(photo.width, photo.height, 0, 0, photo.width, photo.height, indices,
                             palette, -1, false),
                   gif_expected});
  return cases;
}

TEST(SniffImageFormat, RecognizesMagicBytesNotNames) {
  for (const FormatCase& c : AllFormats()) {
    EXPECT_EQ(SniffImageFormat(c.bytes), c.format) << ImageFormatName(c.format);
  }
  EXPECT_EQ(SniffImageFormat(Bytes("<html>")), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat(Bytes("\xFF\xD8")), ImageFormat::kUnknown);  // too short
  EXPECT_EQ(SniffImageFormat(Bytes("RIFF\x10\0\0\0WAVE")), ImageFormat::kUnknown);
  EXPECT_STREQ(ImageFormatName(ImageFormat::kWebp), "webp");
}

TEST(DecodeImage, EveryFormatDecodesToTheEncodedPixels) {
  for (const FormatCase& c : AllFormats()) {
    SCOPED_TRACE(ImageFormatName(c.format));
    Image img = MustDecode(c.bytes);
    ASSERT_EQ(img.width, c.expected.width);
    ASSERT_EQ(img.height, c.expected.height);
    ASSERT_EQ(img.channels, 3);
    if (c.lossy) {
      EXPECT_LT(MeanAbsDiff(img, c.expected), 3.0);
    } else {
      EXPECT_EQ(img.pixels, c.expected.pixels);
    }
    auto info = ProbeImage(c.bytes);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->format, c.format);
    EXPECT_EQ(info->width, c.expected.width);
    EXPECT_EQ(info->height, c.expected.height);
    EXPECT_EQ(info->orientation, 1);
  }
}

TEST(DecodeImage, RealFilesFromSkimage) {
  struct Want {
    const char* name;
    int w, h;
  };
  for (Want want : {Want{"rocket.jpg", 640, 427}, Want{"retina.jpg", 1411, 1411},
                    Want{"hubble_deep_field.jpg", 1000, 872}, Want{"astronaut.png", 512, 512},
                    Want{"camera.png", 512, 512}, Want{"palette_color.png", 10, 10},
                    Want{"foo3x5x4indexed.png", 5, 3}, Want{"logo.png", 500, 500}}) {
    SCOPED_TRACE(want.name);
    Image img = LoadSkimage(want.name);
    EXPECT_EQ(img.width, want.w);
    EXPECT_EQ(img.height, want.h);
    EXPECT_EQ(img.channels, 3);
    EXPECT_EQ(img.pixels.size(), size_t(want.w) * want.h * 3);
  }
  // camera.png is grayscale: expanded to three equal channels.
  Image camera = LoadSkimage("camera.png");
  for (size_t i = 0; i < camera.pixels.size(); i += 3) {
    ASSERT_EQ(camera.pixels[i], camera.pixels[i + 1]);
    ASSERT_EQ(camera.pixels[i], camera.pixels[i + 2]);
  }
  // A palette image decodes to its palette colours, several of them.
  Image palette = LoadSkimage("palette_color.png");
  std::set<std::array<uint8_t, 3>> colors;
  for (size_t i = 0; i < palette.pixels.size(); i += 3)
    colors.insert({palette.pixels[i], palette.pixels[i + 1], palette.pixels[i + 2]});
  EXPECT_GT(colors.size(), 2u);
}

TEST(DecodeImage, AlphaIsCompositedOverWhite) {
  Image rgba(3, 1, 4);
  uint8_t px[] = {200, 10, 10, 255, 200, 10, 10, 0, 0, 0, 0, 128};
  std::copy(std::begin(px), std::end(px), rgba.pixels.begin());
  std::vector<uint8_t> want = {200, 10, 10, 255, 255, 255, 127, 127, 127};
  EXPECT_EQ(MustDecode(MustEncodePng(rgba)).pixels, want);
  EXPECT_EQ(MustDecode(EncodeWebpLossless(rgba)).pixels, want);
  EXPECT_EQ(MustDecode(EncodeTiff(rgba)).pixels, want);
  // logo.png: a fully transparent corner becomes white.
  Image logo = LoadSkimage("logo.png");
  ExpectNear(logo.at(0, 0), 255, 255, 255, 0);
}

TEST(DecodeImage, GrayAndGrayAlphaPng) {
  Image gray(2, 1, 1);
  gray.pixels = {0, 77};
  EXPECT_EQ(MustDecode(MustEncodePng(gray)).pixels, (std::vector<uint8_t>{0, 0, 0, 77, 77, 77}));
  Image ga(2, 1, 2);
  ga.pixels = {0, 0, 77, 255};
  EXPECT_EQ(MustDecode(MustEncodePng(ga)).pixels,
            (std::vector<uint8_t>{255, 255, 255, 77, 77, 77}));
}

TEST(DecodeImage, JpegRoundTripIsClose) {
  Image photo = LoadSkimage("astronaut.png");
  Image back = MustDecode(MustEncodeJpeg(photo, 90));
  ASSERT_EQ(back.width, 512);
  EXPECT_LT(MeanAbsDiff(back, photo), 4.0);
  // Grayscale JPEG: three equal channels.
  Image gray(64, 32, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i)
    gray.pixels[i] = uint8_t(i * 7);
  Image g = MustDecode(MustEncodeJpeg(gray));
  ASSERT_EQ(g.channels, 3);
  for (size_t i = 0; i < g.pixels.size(); i += 3)
    ASSERT_EQ(g.pixels[i], g.pixels[i + 2]);
}

TEST(DecodeImage, LossyWebpAndAnimatedWebpFirstFrame) {
  Image photo = Downscaled(LoadSkimage("coffee.png"), 200);
  EXPECT_LT(MeanAbsDiff(MustDecode(EncodeWebpLossy(photo, 90)), photo), 4.0);

  Image first = Gradient(40, 30), second = Quadrants(40, 30);
  std::vector<uint8_t> anim = EncodeWebpAnimation({first, second});
  auto info = ProbeImage(anim);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->width, 40);
  EXPECT_EQ(MustDecode(anim).pixels, first.pixels);
}

TEST(DecodeImage, GifTransparencyOffsetFramesAndInterlace) {
  // A 6x5 frame at (2, 1) on a 10x8 screen, index 3 transparent.
  int w = 6, h = 5;
  std::vector<uint8_t> palette = {0, 0, 0, 255, 0, 0, 0, 255, 0, 9, 9, 9};
  std::vector<uint8_t> idx(size_t(w) * h);
  for (size_t i = 0; i < idx.size(); ++i)
    idx[i] = uint8_t(i % 4);
  Image img = MustDecode(EncodeGif(10, 8, 2, 1, w, h, idx, palette, 3, false));
  ASSERT_EQ(img.width, 10);
  ASSERT_EQ(img.height, 8);
  ExpectNear(img.at(0, 0), 255, 255, 255, 0);  // outside the frame
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int i = idx[size_t(y) * w + x];
      const uint8_t* p = img.at(2 + x, 1 + y);
      if (i == 3) {
        ExpectNear(p, 255, 255, 255, 0);
      } else {
        ExpectNear(p, palette[3 * i], palette[3 * i + 1], palette[3 * i + 2], 0);
      }
    }
  // Interlaced rows land in the right places.
  std::vector<uint8_t> rows(size_t(3) * 20);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 3; ++x)
      rows[size_t(y) * 3 + x] = uint8_t(y % 3);
  Image plain = MustDecode(EncodeGif(3, 20, 0, 0, 3, 20, rows, palette, -1, false));
  Image interlaced = MustDecode(EncodeGif(3, 20, 0, 0, 3, 20, rows, palette, -1, true));
  EXPECT_EQ(plain.pixels, interlaced.pixels);
}

TEST(DecodeImage, BmpVariants) {
  Image photo = Downscaled(LoadSkimage("astronaut.png"), 37);  // odd width: row padding
  EXPECT_EQ(MustDecode(EncodeBmp(photo, 24, true)).pixels, photo.pixels);
  EXPECT_EQ(MustDecode(EncodeBmp(photo, 32, false)).pixels, photo.pixels);
  EXPECT_EQ(MustDecode(EncodeBmp(photo, 32, true)).pixels, photo.pixels);
  Image indexed(5, 3, 1);
  std::vector<uint8_t> palette = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  for (size_t i = 0; i < indexed.pixels.size(); ++i)
    indexed.pixels[i] = uint8_t(i % 3);
  Image img = MustDecode(EncodeBmp(indexed, 8, false, palette));
  for (size_t i = 0; i < indexed.pixels.size(); ++i)
    ExpectNear(&img.pixels[3 * i], palette[3 * (i % 3)], palette[3 * (i % 3) + 1],
               palette[3 * (i % 3) + 2], 0);
}

TEST(ExifOrientation, JpegOrientation6IsRotatedClockwise) {
  std::vector<uint8_t> plain = MustEncodeJpeg(Quadrants(64, 32), 95);
  std::vector<uint8_t> jpeg = InsertJpegExif(plain, BuildExif({.orientation = 6}));
  auto info = ProbeImage(jpeg);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->orientation, 6);
  EXPECT_EQ(info->width, 64);  // as stored

  Image img = MustDecode(jpeg);
  ASSERT_EQ(img.width, 32);
  ASSERT_EQ(img.height, 64);
  // Turned clockwise: the stored bottom-left (blue) is now top-left, top-left (red) top-right.
  ExpectNear(img.at(2, 2), 0, 0, 255);
  ExpectNear(img.at(29, 2), 255, 0, 0);
  ExpectNear(img.at(2, 61), 255, 255, 255);
  ExpectNear(img.at(29, 61), 0, 255, 0);

  Image raw = MustDecode(jpeg, {.apply_exif_orientation = false});
  EXPECT_EQ(raw.width, 64);
  EXPECT_EQ(raw.pixels, MustDecode(plain).pixels);
}

TEST(ExifOrientation, AllEightJpegOrientationsMatchTheTransforms) {
  std::vector<uint8_t> plain = MustEncodeJpeg(Gradient(24, 16));
  Image stored = MustDecode(plain);
  for (int o = 1; o <= 8; ++o) {
    Image img = MustDecode(InsertJpegExif(plain, BuildExif({.orientation = o})));
    EXPECT_EQ(img.pixels, ApplyExifOrientation(stored, o).pixels) << o;
    EXPECT_EQ(img.width, o >= 5 ? 16 : 24) << o;
  }
}

TEST(ExifOrientation, PngExifWebpExifAndTiffTag) {
  Image q = Quadrants(20, 10);
  Image png = MustDecode(InsertPngChunk(MustEncodePng(q), "eXIf", BuildExif({.orientation = 8})));
  EXPECT_EQ(png.pixels, Rotate270(q).pixels);
  Image webp = MustDecode(EncodeWebpWithExif(q, BuildExif({.orientation = 3})));
  EXPECT_EQ(webp.pixels, Rotate180(q).pixels);
  Image tiff = MustDecode(EncodeTiff(q, 6));
  EXPECT_EQ(tiff.pixels, Rotate90(q).pixels);
  auto info = ProbeImage(EncodeTiff(q, 6));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->orientation, 6);
}

TEST(ReadExif, FieldsFromAHandMadeBlock) {
  ExifSpec spec{.orientation = 3,
                .make = "Mosaic",
                .model = "TestCam 1",
                .date_time_original = "2021:07:04 12:34:56",
                .latitude = -33.8678,
                .longitude = 151.21};
  std::vector<uint8_t> jpeg = InsertJpegExif(MustEncodeJpeg(Gradient(8, 8)), BuildExif(spec));
  auto f = ReadExif(jpeg);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->make, "Mosaic");
  EXPECT_EQ(f->model, "TestCam 1");
  EXPECT_EQ(f->date_taken, "2021:07:04 12:34:56");
  EXPECT_EQ(f->orientation, 3);
  ASSERT_TRUE(f->latitude.has_value());
  EXPECT_NEAR(*f->latitude, -33.8678, 1e-4);
  EXPECT_NEAR(*f->longitude, 151.21, 1e-4);

  // The same block in a PNG eXIf chunk.
  auto p = ReadExif(InsertPngChunk(MustEncodePng(Gradient(8, 8)), "eXIf", BuildExif(spec)));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->model, "TestCam 1");
  EXPECT_NEAR(p->longitude.value_or(0), 151.21, 1e-4);
}

TEST(ReadExif, NoExifGivesDefaultsAndNoInventedDate) {
  auto f = ReadExif(MustEncodeJpeg(Gradient(8, 8)));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->date_taken, "");
  EXPECT_EQ(f->orientation, 1);
  EXPECT_FALSE(f->latitude.has_value());
  // A block with only an orientation: libexif must not fill in mandatory tags.
  auto g = ReadExif(InsertJpegExif(MustEncodeJpeg(Gradient(8, 8)), BuildExif({.orientation = 2})));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->date_taken, "");
  EXPECT_EQ(g->orientation, 2);
}

TEST(ReadExif, RealPhotoshopFile) {
  auto f = ReadExif(ReadSkimageBytes("hubble_deep_field.jpg"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  // Photoshop wrote an ISO 8601 DateTime instead of EXIF's "YYYY:MM:DD HH:MM:SS"; kept as is.
  EXPECT_EQ(f->date_taken, "2012-09-17T15:53:45-04:00");
  EXPECT_EQ(f->orientation, 1);
}

// ---- Bad input ----

TEST(DecodeErrors, EmptyInput) {
  auto r = DecodeImage(std::span<const uint8_t>());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "empty file");
  EXPECT_TRUE(ProbeImage({}).status().IsInvalidArgument());
}

TEST(DecodeErrors, UnknownFormatNamesTheFirstBytes) {
  auto r = DecodeImage(Bytes("<html><body>"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("3c 68 74 6d 6c 3e"), std::string::npos)
      << r.status().message();
}

TEST(DecodeErrors, TruncatedJpegIsAnErrorNotAGreyImage) {
  std::vector<uint8_t> rocket = ReadSkimageBytes("rocket.jpg");
  for (double frac : {0.001, 0.05, 0.3, 0.6, 0.9, 0.99}) {
    std::vector<uint8_t> cut(rocket.begin(), rocket.begin() + size_t(rocket.size() * frac));
    auto r = DecodeImage(cut);
    ASSERT_FALSE(r.ok()) << frac;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("JPEG"), std::string::npos) << r.status().message();
  }
  // Cut short but closed with an EOI marker, as a broken download tool might leave it.
  std::vector<uint8_t> closed(rocket.begin(), rocket.begin() + rocket.size() / 2);
  closed.insert(closed.end(), {0xFF, 0xD9});
  auto c = DecodeImage(closed);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsCorruption()) << c.status().ToString();
  EXPECT_NE(c.status().message().find("premature end of data segment"), std::string::npos)
      << c.status().message();

  auto r = DecodeImage(ReadSkimageBytes("truncated.jpg"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("Premature end of JPEG file"), std::string::npos)
      << r.status().message();
}

TEST(DecodeErrors, EveryFormatRejectsTruncation) {
  for (const FormatCase& c : AllFormats()) {
    for (double frac : {0.1, 0.5, 0.9}) {
      std::vector<uint8_t> cut(c.bytes.begin(), c.bytes.begin() + size_t(c.bytes.size() * frac));
      auto r = DecodeImage(cut);
      ASSERT_FALSE(r.ok()) << ImageFormatName(c.format) << " at " << frac;
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
  }
}

TEST(DecodeErrors, GarbageAfterAValidMagic) {
  std::string junk(4000, '\x5a');
  for (std::string magic :
       {std::string("\xFF\xD8\xFF\xE0"), std::string("\x89PNG\r\n\x1A\n"), std::string("GIF89a"),
        std::string("RIFF\x10\0\0\0WEBP", 12), std::string("II*\0", 4), std::string("BM")}) {
    auto r = DecodeImage(Bytes(magic + junk));
    ASSERT_FALSE(r.ok()) << magic;
    EXPECT_TRUE(r.status().IsCorruption() || r.status().IsInvalidArgument())
        << r.status().ToString();
  }
}

TEST(DecodeErrors, PngBombIsRefusedBeforeAllocating) {
  std::vector<uint8_t> bomb = MakePngBomb(20000, 20000, 64);
  EXPECT_LT(bomb.size(), 4096u);
  auto info = ProbeImage(bomb);  // the header itself is fine
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->width, 20000);
  auto r = DecodeImage(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
  EXPECT_EQ(r.status().message(),
            "image is 20000x20000 = 400000000 pixels, over the limit of 178956970 "
            "(DecodeOptions::max_pixels)");
  auto huge = DecodeImage(MakePngBomb(50000, 50000, 1));
  EXPECT_TRUE(huge.status().IsResourceExhausted()) << huge.status().ToString();
}

TEST(DecodeErrors, PixelLimitAppliesToEveryFormat) {
  for (const FormatCase& c : AllFormats()) {
    uint64_t pixels = uint64_t(c.expected.width) * c.expected.height;
    auto r = DecodeImage(c.bytes, {.max_pixels = pixels - 1});
    ASSERT_FALSE(r.ok()) << ImageFormatName(c.format);
    EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(std::to_string(pixels) + " pixels"), std::string::npos);
    EXPECT_TRUE(DecodeImage(c.bytes, {.max_pixels = pixels}).ok()) << ImageFormatName(c.format);
  }
}

TEST(DecodeErrors, FilesNameThePath) {
  std::string missing = ::testing::TempDir() + "/no_such_image.jpg";
  auto r = DecodeImageFile(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(missing), std::string::npos);

  auto dir = DecodeImageFile(::testing::TempDir());
  EXPECT_TRUE(dir.status().IsInvalidArgument()) << dir.status().ToString();
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos);

  std::string bad = ::testing::TempDir() + "/mosaic_not_an_image.png";
  std::ofstream(bad) << "hello";
  auto b = DecodeImageFile(bad);
  std::remove(bad.c_str());
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().IsInvalidArgument());
  EXPECT_EQ(b.status().message().rfind(bad + ": ", 0), 0u) << b.status().message();
}

}  // namespace
}  // namespace mosaic::media
