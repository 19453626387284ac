// Plane geometry for OCR post-processing: convex hull, minimum-area rotated rectangle
// (rotating calipers), corner ordering and the 3x3 homography that maps an upright rectangle onto
// a detected quadrilateral. Pure functions on values; safe to call from any thread.
#pragma once

#include <array>
#include <span>
#include <vector>

namespace mosaic::embed::ocr {

struct Point {
  float x = 0;
  float y = 0;
};

/// Four corners, clockwise from top-left (top-left, top-right, bottom-right, bottom-left).
using Quad = std::array<Point, 4>;

/// A rotated rectangle: its four corners (in no particular order) and its side lengths.
struct RotatedRect {
  Quad corners;
  float width = 0;   // length of the side along the first corner-to-corner edge
  float height = 0;  // length of the other side
  float min_side() const { return width < height ? width : height; }
};

/// The convex hull of `points`, counter-clockwise in image coordinates (y down), without
/// collinear points. Fewer than three distinct points give a degenerate hull of those points.
std::vector<Point> ConvexHull(std::vector<Point> points);

/// The smallest-area rectangle enclosing `points` (any rotation). Degenerate inputs (a point,
/// a segment) give a rectangle with a zero side.
RotatedRect MinAreaRect(std::span<const Point> points);

/// Orders four corners clockwise from the top-left the way PaddleOCR does: the two left-most
/// points (by x) become top-left and bottom-left by y, the two others top-right and bottom-right.
Quad OrderClockwise(const Quad& corners);

/// A projective transform (row-major 3x3, h[8] == 1) mapping (u, v) to
/// ((h0 u + h1 v + h2) / w, (h3 u + h4 v + h5) / w) with w = h6 u + h7 v + 1.
struct Homography {
  std::array<double, 9> h{};
  Point Apply(double u, double v) const;
};

/// The homography taking the rectangle corners (0,0), (w,0), (w,h), (0,h) onto `quad`'s corners
/// in order. Returns false when the quadrilateral is degenerate (three corners collinear).
bool RectToQuad(float w, float h, const Quad& quad, Homography* out);

}  // namespace mosaic::embed::ocr
