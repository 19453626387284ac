#include "embed/ocr/geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mosaic::embed::ocr {

namespace {

double Cross(const Point& o, const Point& a, const Point& b) {
  return static_cast<double>(a.x - o.x) * (b.y - o.y) -
         static_cast<double>(a.y - o.y) * (b.x - o.x);
}

}  // namespace

std::vector<Point> ConvexHull(std::vector<Point> points) {
  std::sort(points.begin(), points.end(),
            [](const Point& a, const Point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  points.erase(std::unique(points.begin(), points.end(),
                           [](const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }),
               points.end());
  if (points.size() < 3) return points;
  // Andrew's monotone chain: lower then upper chain, dropping non-left turns.
  std::vector<Point> hull(2 * points.size());
  size_t k = 0;
  for (const Point& p : points) {
    while (k >= 2 && Cross(hull[k - 2], hull[k - 1], p) <= 0)
      --k;
    hull[k++] = p;
  }
  const size_t lower = k + 1;
  for (size_t i = points.size() - 1; i-- > 0;) {
    while (k >= lower && Cross(hull[k - 2], hull[k - 1], points[i]) <= 0)
      --k;
    hull[k++] = points[i];
  }
  hull.resize(k - 1);
  return hull;
}

RotatedRect MinAreaRect(std::span<const Point> points) {
  RotatedRect best;
  if (points.empty()) return best;
  std::vector<Point> hull = ConvexHull(std::vector<Point>(points.begin(), points.end()));
  if (hull.size() == 1) {
    best.corners.fill(hull[0]);
    return best;
  }
  // Rotating calipers, in its simple O(h^2) form: the optimal rectangle has a side on a hull
  // edge, and hulls of text blobs have few vertices.
  double best_area = std::numeric_limits<double>::infinity();
  const size_t n = hull.size();
  for (size_t i = 0; i < n; ++i) {
    const Point& a = hull[i];
    const Point& b = hull[(i + 1) % n];
    const double ex = b.x - a.x, ey = b.y - a.y;
    const double len = std::hypot(ex, ey);
    if (len == 0) continue;
    const double ux = ex / len, uy = ey / len;  // along the edge
    const double vx = -uy, vy = ux;             // normal
    double min_u = std::numeric_limits<double>::infinity(), max_u = -min_u;
    double min_v = min_u, max_v = -min_u;
    for (const Point& p : hull) {
      const double dx = p.x - a.x, dy = p.y - a.y;
      const double u = dx * ux + dy * uy, v = dx * vx + dy * vy;
      min_u = std::min(min_u, u);
      max_u = std::max(max_u, u);
      min_v = std::min(min_v, v);
      max_v = std::max(max_v, v);
    }
    const double area = (max_u - min_u) * (max_v - min_v);
    if (area < best_area) {
      best_area = area;
      auto corner = [&](double u, double v) {
        return Point{static_cast<float>(a.x + u * ux + v * vx),
                     static_cast<float>(a.y + u * uy + v * vy)};
      };
      best.corners = {corner(min_u, min_v), corner(max_u, min_v), corner(max_u, max_v),
                      corner(min_u, max_v)};
      best.width = static_cast<float>(max_u - min_u);
      best.height = static_cast<float>(max_v - min_v);
    }
  }
  return best;
}

Quad OrderClockwise(const Quad& corners) {
  Quad p = corners;
  std::stable_sort(p.begin(), p.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  const auto [tl, bl] = p[0].y <= p[1].y ? std::pair{p[0], p[1]} : std::pair{p[1], p[0]};
  const auto [tr, br] = p[2].y <= p[3].y ? std::pair{p[2], p[3]} : std::pair{p[3], p[2]};
  return {tl, tr, br, bl};
}

Point Homography::Apply(double u, double v) const {
  const double w = h[6] * u + h[7] * v + h[8];
  return {static_cast<float>((h[0] * u + h[1] * v + h[2]) / w),
          static_cast<float>((h[3] * u + h[4] * v + h[5]) / w)};
}

bool RectToQuad(float w, float h, const Quad& quad, Homography* out) {
  // Eight equations in the eight unknowns h0..h7, solved by Gaussian elimination with partial
  // pivoting: for each correspondence (u,v) -> (x,y),
  //   h0 u + h1 v + h2 - x h6 u - x h7 v = x   and   h3 u + h4 v + h5 - y h6 u - y h7 v = y.
  const double src[4][2] = {{0, 0}, {w, 0}, {w, h}, {0, h}};
  double a[8][9] = {};
  for (int i = 0; i < 4; ++i) {
    const double u = src[i][0], v = src[i][1], x = quad[i].x, y = quad[i].y;
    double* r0 = a[2 * i];
    double* r1 = a[2 * i + 1];
    r0[0] = u, r0[1] = v, r0[2] = 1, r0[6] = -x * u, r0[7] = -x * v, r0[8] = x;
    r1[3] = u, r1[4] = v, r1[5] = 1, r1[6] = -y * u, r1[7] = -y * v, r1[8] = y;
  }
  for (int col = 0; col < 8; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 8; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    if (std::abs(a[pivot][col]) < 1e-12) return false;
    if (pivot != col) std::swap(a[pivot], a[col]);
    for (int r = 0; r < 8; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      if (f == 0) continue;
      for (int c = col; c < 9; ++c)
        a[r][c] -= f * a[col][c];
    }
  }
  for (int i = 0; i < 8; ++i)
    out->h[i] = a[i][8] / a[i][i];
  out->h[8] = 1;
  return true;
}

}  // namespace mosaic::embed::ocr
