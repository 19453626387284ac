#include "embed/ocr/db_postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace mosaic::embed::ocr {

namespace {

// Regions whose fitted rectangle has a side shorter than this (in map pixels) are noise.
constexpr float kMinSize = 3;

// A region's outline as its left-most and right-most pixel per row (enough for the convex hull,
// far fewer than all pixels), and the mean probability over those row spans (the region's
// polygon with holes filled).
struct Region {
  std::vector<Point> extremes;
  float mean_prob = 0;
};

// Calls fn(region) for every 8-connected region of `mask`, in raster order of first pixels.
template <typename Fn>
void ForEachRegion(const std::vector<uint8_t>& mask, std::span<const float> prob, int w, int h,
                   int max_regions, Fn&& fn) {
  std::vector<uint8_t> seen(mask.size(), 0);
  std::vector<int32_t> stack;
  std::vector<std::pair<int, int>> pixels;  // (x, y)
  Region region;
  int regions = 0;
  for (int y0 = 0; y0 < h; ++y0) {
    for (int x0 = 0; x0 < w; ++x0) {
      const size_t start = static_cast<size_t>(y0) * w + x0;
      if (!mask[start] || seen[start]) continue;
      if (regions++ >= max_regions) return;
      pixels.clear();
      stack.assign(1, static_cast<int32_t>(start));
      seen[start] = 1;
      int min_y = y0, max_y = y0;
      while (!stack.empty()) {
        const int32_t idx = stack.back();
        stack.pop_back();
        const int x = idx % w, y = idx / w;
        pixels.emplace_back(x, y);
        min_y = std::min(min_y, y);
        max_y = std::max(max_y, y);
        for (int dy = -1; dy <= 1; ++dy) {
          const int ny = y + dy;
          if (ny < 0 || ny >= h) continue;
          for (int dx = -1; dx <= 1; ++dx) {
            const int nx = x + dx;
            if (nx < 0 || nx >= w) continue;
            const size_t n = static_cast<size_t>(ny) * w + nx;
            if (mask[n] && !seen[n]) {
              seen[n] = 1;
              stack.push_back(static_cast<int32_t>(n));
            }
          }
        }
      }
      const int rows = max_y - min_y + 1;
      std::vector<std::pair<int, int>> span(static_cast<size_t>(rows),
                                            {std::numeric_limits<int>::max(), -1});
      for (const auto& [x, y] : pixels) {
        auto& s = span[static_cast<size_t>(y - min_y)];
        s.first = std::min(s.first, x);
        s.second = std::max(s.second, x);
      }
      region.extremes.clear();
      double sum = 0;
      size_t count = 0;
      for (int r = 0; r < rows; ++r) {
        const auto& s = span[static_cast<size_t>(r)];
        if (s.second < 0) continue;
        const int y = min_y + r;
        region.extremes.push_back({static_cast<float>(s.first), static_cast<float>(y)});
        if (s.second != s.first) {
          region.extremes.push_back({static_cast<float>(s.second), static_cast<float>(y)});
        }
        const float* row = prob.data() + static_cast<size_t>(y) * w;
        for (int x = s.first; x <= s.second; ++x)
          sum += row[x];
        count += static_cast<size_t>(s.second - s.first + 1);
      }
      region.mean_prob = static_cast<float>(sum / count);
      fn(region);
    }
  }
}

// Mean of `prob` over the pixels inside the rectangle (corners truncated to integers, edges
// included), over the rectangle's clipped bounding box, as PaddleOCR's box_score_fast.
float BoxScore(std::span<const float> prob, int w, int h, const Quad& q) {
  float fx_min = q[0].x, fx_max = q[0].x, fy_min = q[0].y, fy_max = q[0].y;
  for (const Point& p : q) {
    fx_min = std::min(fx_min, p.x), fx_max = std::max(fx_max, p.x);
    fy_min = std::min(fy_min, p.y), fy_max = std::max(fy_max, p.y);
  }
  const int x_min = std::clamp(static_cast<int>(std::floor(fx_min)), 0, w - 1);
  const int x_max = std::clamp(static_cast<int>(std::ceil(fx_max)), 0, w - 1);
  const int y_min = std::clamp(static_cast<int>(std::floor(fy_min)), 0, h - 1);
  const int y_max = std::clamp(static_cast<int>(std::ceil(fy_max)), 0, h - 1);
  Point v[4];
  for (int i = 0; i < 4; ++i)
    v[i] = {std::trunc(q[i].x), std::trunc(q[i].y)};
  // Signed area tells the winding; a pixel is inside when it is on the inner side of every edge.
  double area2 = 0;
  for (int i = 0; i < 4; ++i) {
    const Point& a = v[i];
    const Point& b = v[(i + 1) % 4];
    area2 += static_cast<double>(a.x) * b.y - static_cast<double>(b.x) * a.y;
  }
  const double sign = area2 >= 0 ? 1.0 : -1.0;
  double sum = 0;
  int count = 0;
  for (int y = y_min; y <= y_max; ++y) {
    for (int x = x_min; x <= x_max; ++x) {
      bool inside = true;
      for (int i = 0; i < 4 && inside; ++i) {
        const Point& a = v[i];
        const Point& b = v[(i + 1) % 4];
        const double len = std::hypot(b.x - a.x, b.y - a.y);
        const double cross = (static_cast<double>(b.x) - a.x) * (y - a.y) -
                             (static_cast<double>(b.y) - a.y) * (x - a.x);
        // Within half a pixel outside an edge still counts: the rasterizer draws edges.
        inside = sign * cross >= -0.5 * len;
      }
      if (inside) {
        sum += prob[static_cast<size_t>(y) * w + x];
        ++count;
      }
    }
  }
  return count == 0 ? 0.0f : static_cast<float>(sum / count);
}

// Grows a rectangle (corners in MinAreaRect order) by `d` on every side. For a rectangle this
// is what a round-joined polygon offset followed by a minimum-area rectangle gives.
Quad GrowRect(const RotatedRect& r, float d) {
  const Quad& c = r.corners;
  const float ux = (c[1].x - c[0].x) / r.width, uy = (c[1].y - c[0].y) / r.width;
  const float vx = (c[3].x - c[0].x) / r.height, vy = (c[3].y - c[0].y) / r.height;
  auto move = [&](const Point& p, float su, float sv) {
    return Point{p.x + d * (su * ux + sv * vx), p.y + d * (su * uy + sv * vy)};
  };
  return {move(c[0], -1, -1), move(c[1], 1, -1), move(c[2], 1, 1), move(c[3], -1, 1)};
}

}  // namespace

std::vector<TextBox> DbBoxes(std::span<const float> prob, int map_w, int map_h, int dest_w,
                             int dest_h, const DbParams& params) {
  std::vector<TextBox> boxes;
  if (map_w <= 0 || map_h <= 0 || prob.size() < static_cast<size_t>(map_w) * map_h) return boxes;
  std::vector<uint8_t> mask(static_cast<size_t>(map_w) * map_h);
  for (size_t i = 0; i < mask.size(); ++i)
    mask[i] = prob[i] > params.thresh ? 1 : 0;

  const float sx = static_cast<float>(dest_w) / map_w, sy = static_cast<float>(dest_h) / map_h;
  ForEachRegion(mask, prob, map_w, map_h, params.max_candidates, [&](const Region& region) {
    const RotatedRect rect = MinAreaRect(region.extremes);
    if (rect.min_side() < kMinSize) return;
    const float score = params.score_mode == DbScoreMode::kFast
                            ? BoxScore(prob, map_w, map_h, rect.corners)
                            : region.mean_prob;
    if (score < params.box_thresh) return;
    const float area = rect.width * rect.height;
    const float perimeter = 2 * (rect.width + rect.height);
    const float distance = area * params.unclip_ratio / perimeter;
    const Quad grown = GrowRect(rect, distance);
    if (rect.min_side() + 2 * distance < kMinSize + 2) return;

    TextBox box;
    box.score = score;
    for (int i = 0; i < 4; ++i) {
      // Scale, round and clip as PaddleOCR (to [0, dest] and then to the last pixel).
      const float x = std::clamp(std::round(grown[i].x * sx), 0.0f, static_cast<float>(dest_w));
      const float y = std::clamp(std::round(grown[i].y * sy), 0.0f, static_cast<float>(dest_h));
      box.quad[i] = {std::min(x, static_cast<float>(dest_w - 1)),
                     std::min(y, static_cast<float>(dest_h - 1))};
    }
    box.quad = OrderClockwise(box.quad);
    const Quad& q = box.quad;
    const int top = static_cast<int>(std::hypot(q[1].x - q[0].x, q[1].y - q[0].y));
    const int left = static_cast<int>(std::hypot(q[3].x - q[0].x, q[3].y - q[0].y));
    if (top <= 3 || left <= 3) return;
    boxes.push_back(box);
  });
  return boxes;
}

void SortReadingOrder(std::vector<TextBox>& boxes) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const TextBox& a, const TextBox& b) {
    const Point& p = a.quad[0];
    const Point& q = b.quad[0];
    return p.y < q.y || (p.y == q.y && p.x < q.x);
  });
  // One insertion pass within a line: swap back while the previous box is on the same line
  // (top-left y within 10 px) and further right.
  for (size_t i = 0; i + 1 < boxes.size(); ++i) {
    for (size_t j = i + 1; j-- > 0;) {
      const Point& cur = boxes[j + 1].quad[0];
      const Point& prev = boxes[j].quad[0];
      if (std::abs(cur.y - prev.y) < 10 && cur.x < prev.x) {
        std::swap(boxes[j], boxes[j + 1]);
      } else {
        break;
      }
    }
  }
}

}  // namespace mosaic::embed::ocr
