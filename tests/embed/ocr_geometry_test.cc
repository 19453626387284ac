// The OCR pipeline's geometry and post-processing on constructed inputs with known answers:
// minimum-area rectangles, homographies, perspective crops, DB boxes and reading order, CTC.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "embed/ocr/ctc_decoder.h"
#include "embed/ocr/db_postprocess.h"
#include "embed/ocr/geometry.h"
#include "embed/ocr/image_sampling.h"

namespace mosaic::embed::ocr {
namespace {

TEST(OcrGeometryTest, MinAreaRectOfARotatedRectangle) {
  // Points filling a 40 x 10 rectangle turned by 30 degrees about (50, 50).
  const double a = M_PI / 6;
  std::vector<Point> pts;
  for (int u = 0; u <= 40; ++u) {
    for (int v = 0; v <= 10; ++v) {
      const double x = u - 20.0, y = v - 5.0;
      pts.push_back({static_cast<float>(50 + x * std::cos(a) - y * std::sin(a)),
                     static_cast<float>(50 + x * std::sin(a) + y * std::cos(a))});
    }
  }
  const RotatedRect r = MinAreaRect(pts);
  const float longer = std::max(r.width, r.height), shorter = std::min(r.width, r.height);
  EXPECT_NEAR(longer, 40, 1e-3);
  EXPECT_NEAR(shorter, 10, 1e-3);
  float cx = 0, cy = 0;
  for (const Point& p : r.corners)
    cx += p.x / 4, cy += p.y / 4;
  EXPECT_NEAR(cx, 50, 1e-3);
  EXPECT_NEAR(cy, 50, 1e-3);
}

TEST(OcrGeometryTest, ConvexHullDropsInteriorPoints) {
  const std::vector<Point> hull =
      ConvexHull({{0, 0}, {4, 0}, {4, 4}, {0, 4}, {2, 2}, {1, 3}, {2, 0}});
  EXPECT_EQ(hull.size(), 4u);
}

TEST(OcrGeometryTest, OrderClockwiseFromTopLeft) {
  const Quad q = OrderClockwise({Point{10, 20}, Point{0, 0}, Point{0, 20}, Point{10, 0}});
  EXPECT_EQ(q[0].x, 0);
  EXPECT_EQ(q[0].y, 0);
  EXPECT_EQ(q[1].x, 10);
  EXPECT_EQ(q[1].y, 0);
  EXPECT_EQ(q[2].x, 10);
  EXPECT_EQ(q[2].y, 20);
  EXPECT_EQ(q[3].x, 0);
  EXPECT_EQ(q[3].y, 20);
}

TEST(OcrGeometryTest, HomographyMapsCornersAndKeepsLinesStraight) {
  const Quad quad = {Point{10, 5}, Point{90, 15}, Point{85, 60}, Point{5, 40}};
  Homography h;
  ASSERT_TRUE(RectToQuad(100, 50, quad, &h));
  const double corners[4][2] = {{0, 0}, {100, 0}, {100, 50}, {0, 50}};
  for (int i = 0; i < 4; ++i) {
    const Point p = h.Apply(corners[i][0], corners[i][1]);
    EXPECT_NEAR(p.x, quad[i].x, 1e-3);
    EXPECT_NEAR(p.y, quad[i].y, 1e-3);
  }
  // The rectangle's top edge midpoint lands on the quad's top edge.
  const Point m = h.Apply(50, 0);
  const double cross =
      (quad[1].x - quad[0].x) * (m.y - quad[0].y) - (quad[1].y - quad[0].y) * (m.x - quad[0].x);
  EXPECT_NEAR(cross, 0, 1e-2);

  Homography bad;
  EXPECT_FALSE(RectToQuad(10, 10, {Point{0, 0}, Point{5, 0}, Point{10, 0}, Point{0, 0}}, &bad));
}

TEST(OcrGeometryTest, WarpQuadOfAnAxisAlignedBoxIsACrop) {
  media::Image img(20, 10);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 20; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(x * 10), p[1] = static_cast<uint8_t>(y * 20), p[2] = 7;
    }
  }
  const media::Image crop =
      WarpQuad(img, {Point{4, 2}, Point{12, 2}, Point{12, 7}, Point{4, 7}}, 8, 5);
  ASSERT_EQ(crop.width, 8);
  ASSERT_EQ(crop.height, 5);
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 8; ++x) {
      EXPECT_EQ(crop.at(x, y)[0], img.at(x + 4, y + 2)[0]);
      EXPECT_EQ(crop.at(x, y)[1], img.at(x + 4, y + 2)[1]);
    }
  }
}

TEST(OcrGeometryTest, ResizeNormalizeWritesBgrPlanes) {
  media::Image img(2, 1);
  img.at(0, 0)[0] = 255, img.at(0, 0)[1] = 0, img.at(0, 0)[2] = 0;  // red
  img.at(1, 0)[0] = 0, img.at(1, 0)[1] = 0, img.at(1, 0)[2] = 255;  // blue
  std::vector<float> t(3 * 1 * 3, -9.0f);  // planes 3 wide, 1 high; the third column is padding
  ResizeNormalizeInto(img, 2, 1, {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}}, t.data(), 3, 1);
  // Plane 0 is blue, plane 2 is red.
  EXPECT_FLOAT_EQ(t[0], -1);
  EXPECT_FLOAT_EQ(t[1], 1);
  EXPECT_FLOAT_EQ(t[2], -9);
  EXPECT_FLOAT_EQ(t[3], -1);
  EXPECT_FLOAT_EQ(t[4], -1);
  EXPECT_FLOAT_EQ(t[6], 1);
  EXPECT_FLOAT_EQ(t[7], -1);
  EXPECT_FLOAT_EQ(t[8], -9);
}

TEST(OcrDbTest, TwoBlobsBecomeTwoBoxesInReadingOrder) {
  // A 100 x 60 map with a high-probability bar on the right of row band 10..19 and one on
  // the left of band 40..49; the box image is twice the map's size.
  const int w = 100, h = 60;
  std::vector<float> prob(w * h, 0.05f);
  auto fill = [&](int x0, int y0, int x1, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x)
        prob[y * w + x] = 0.9f;
  };
  fill(10, 40, 60, 50);
  fill(50, 10, 90, 20);
  fill(3, 3, 5, 5);  // too small: dropped
  std::vector<TextBox> boxes = DbBoxes(prob, w, h, 2 * w, 2 * h, DbParams{});
  ASSERT_EQ(boxes.size(), 2u);
  SortReadingOrder(boxes);
  // The upper bar comes first; its box encloses the bar (scaled x2) with the unclip margin.
  const Quad& top = boxes[0].quad;
  EXPECT_LT(top[0].x, 100);
  EXPECT_LT(top[0].y, 20);
  EXPECT_GT(top[2].x, 178);
  EXPECT_GT(top[2].y, 38);
  EXPECT_GT(boxes[0].score, 0.85f);
  // Unclip distance for the 39 x 9 (pixel-centre) rectangle: area * 1.5 / perimeter.
  const float d = 39.0f * 9 * 1.5f / (2 * (39 + 9));
  EXPECT_NEAR(top[3].y - top[0].y, std::round(2 * (9 + 2 * d)), 2.0f);
  EXPECT_NEAR(boxes[1].quad[0].y, std::round(2 * (40 - d)), 1.0f);

  // Same line (top-left y within 10 px): left to right even if the right one is higher.
  std::vector<TextBox> line = {boxes[0], boxes[0]};
  line[0].quad[0] = {300, 100};
  line[1].quad[0] = {10, 105};
  SortReadingOrder(line);
  EXPECT_EQ(line[0].quad[0].x, 10);
}

TEST(OcrCtcTest, GreedyDecodeMergesRepeatsAndDropsBlanks) {
  const std::string path = ::testing::TempDir() + "/ocr_ctc_keys.txt";
  std::ofstream(path) << "a\nb\nc";
  auto d = CtcDecoder::Load(path);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->dictionary_size(), 3u);
  EXPECT_TRUE(d->SetClassCount(7, "rec.onnx").IsInvalidArgument());
  ASSERT_TRUE(d->SetClassCount(5, "rec.onnx").ok());  // blank a b c space
  // Steps: a a blank a space b b  ->  "aa b"
  const int classes = 5;
  const int seq[] = {1, 1, 0, 1, 4, 2, 2};
  std::vector<float> probs;
  for (int s : seq) {
    for (int c = 0; c < classes; ++c)
      probs.push_back(c == s ? 0.8f : 0.05f);
  }
  const DecodedText t = d->Decode(probs.data(), 7);
  EXPECT_EQ(t.text, "aa b");
  EXPECT_FLOAT_EQ(t.confidence, 0.8f);
  // Each kept character keeps the run of steps it was read over.
  ASSERT_EQ(t.chars.size(), 4u);
  const int runs[4][2] = {{0, 1}, {3, 3}, {4, 4}, {5, 6}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(t.chars[i].first_step, runs[i][0]) << i;
    EXPECT_EQ(t.chars[i].last_step, runs[i][1]) << i;
  }
  EXPECT_EQ(t.chars[2].text, " ");
  EXPECT_EQ(d->Decode(probs.data(), 0).text, "");
}

}  // namespace
}  // namespace mosaic::embed::ocr
