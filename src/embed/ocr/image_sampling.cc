#include "embed/ocr/image_sampling.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mosaic::embed::ocr {

namespace {

// Source index pairs and weights for one output axis of a bilinear resize.
struct AxisTap {
  int i0;
  int i1;
  float w1;  // weight of i1; i0 gets 1 - w1
};

std::vector<AxisTap> AxisTaps(int src_len, int dst_len) {
  std::vector<AxisTap> taps(static_cast<size_t>(dst_len));
  const double scale = static_cast<double>(src_len) / dst_len;
  for (int d = 0; d < dst_len; ++d) {
    double s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    int i0 = static_cast<int>(s);
    float w1 = static_cast<float>(s - i0);
    if (i0 >= src_len - 1) {
      i0 = src_len - 1;
      w1 = 0;
    }
    taps[static_cast<size_t>(d)] = {i0, std::min(i0 + 1, src_len - 1), w1};
  }
  return taps;
}

}  // namespace

media::Image ToRgb(const media::Image& img) {
  if (img.channels == 3) return img;
  media::Image out(img.width, img.height, 3);
  const size_t n = static_cast<size_t>(img.width) * img.height;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* s = img.pixels.data() + i * img.channels;
    uint8_t* d = out.pixels.data() + i * 3;
    if (img.channels == 1) {
      d[0] = d[1] = d[2] = s[0];
    } else {
      d[0] = s[0], d[1] = s[1], d[2] = s[2];
    }
  }
  return out;
}

media::Image WarpQuad(const media::Image& src, const Quad& quad, int width, int height) {
  Homography hom;
  if (width <= 0 || height <= 0 ||
      !RectToQuad(static_cast<float>(width), static_cast<float>(height), quad, &hom)) {
    return {};
  }
  media::Image out(width, height, 3);
  const int max_x = src.width - 1, max_y = src.height - 1;
  for (int y = 0; y < height; ++y) {
    uint8_t* d = out.row(y);
    for (int x = 0; x < width; ++x, d += 3) {
      const Point p = hom.Apply(x, y);
      const float sx = std::clamp(p.x, 0.0f, static_cast<float>(max_x));
      const float sy = std::clamp(p.y, 0.0f, static_cast<float>(max_y));
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, max_x), y1 = std::min(y0 + 1, max_y);
      const float fx = sx - x0, fy = sy - y0;
      const uint8_t* p00 = src.at(x0, y0);
      const uint8_t* p01 = src.at(x1, y0);
      const uint8_t* p10 = src.at(x0, y1);
      const uint8_t* p11 = src.at(x1, y1);
      for (int c = 0; c < 3; ++c) {
        const float top = p00[c] + (p01[c] - p00[c]) * fx;
        const float bottom = p10[c] + (p11[c] - p10[c]) * fx;
        d[c] = static_cast<uint8_t>(std::lround(top + (bottom - top) * fy));
      }
    }
  }
  return out;
}

void ResizeNormalizeInto(const media::Image& src, int out_w, int out_h, const Normalization& norm,
                         float* dst, int plane_w, int plane_h) {
  const std::vector<AxisTap> xs = AxisTaps(src.width, out_w);
  const std::vector<AxisTap> ys = AxisTaps(src.height, out_h);
  // Folded affine map per tensor channel: value = pixel * scale + bias.
  float scale[3], bias[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * norm.std[c]);
    bias[c] = -norm.mean[c] / norm.std[c];
  }
  const size_t plane = static_cast<size_t>(plane_w) * plane_h;
  for (int y = 0; y < out_h; ++y) {
    const AxisTap ty = ys[static_cast<size_t>(y)];
    const uint8_t* r0 = src.row(ty.i0);
    const uint8_t* r1 = src.row(ty.i1);
    float* out_row = dst + static_cast<size_t>(y) * plane_w;
    for (int x = 0; x < out_w; ++x) {
      const AxisTap tx = xs[static_cast<size_t>(x)];
      const uint8_t* a = r0 + tx.i0 * 3;
      const uint8_t* b = r0 + tx.i1 * 3;
      const uint8_t* c = r1 + tx.i0 * 3;
      const uint8_t* d = r1 + tx.i1 * 3;
      for (int ch = 0; ch < 3; ++ch) {
        const float top = a[ch] + (b[ch] - a[ch]) * tx.w1;
        const float bottom = c[ch] + (d[ch] - c[ch]) * tx.w1;
        const float v = top + (bottom - top) * ty.w1;
        // Image channel ch (RGB) lands in tensor channel 2 - ch (BGR).
        const int t = 2 - ch;
        out_row[plane * t + x] = v * scale[t] + bias[t];
      }
    }
  }
}

}  // namespace mosaic::embed::ocr
