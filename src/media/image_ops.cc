#include "media/image_ops.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <utility>

namespace mosaic::media {

namespace {

// Pillow's fixed point for 8-bit images: 8 bits of pixel, 2 bits of headroom for the overshoot
// of kernels with negative lobes.
constexpr int kPrecisionBits = 32 - 8 - 2;

double BilinearKernel(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Keys' cubic convolution with a = -0.5 (Pillow's BICUBIC).
double BicubicKernel(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output pixel of one axis: the first input pixel it reads, how many it reads, and
// their weights (normalized to sum to one, then in fixed point), ksize weights per pixel.
struct Taps {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

// The arithmetic (order of operations included) follows Pillow's precompute_coeffs and
// normalize_coeffs_8bpc, since a different rounding of one weight changes output pixels.
Taps ComputeTaps(int in_size, int out_size, ResizeFilter filter) {
  double (*kernel)(double) = filter == ResizeFilter::kBicubic ? BicubicKernel : BilinearKernel;
  double support = filter == ResizeFilter::kBicubic ? 2.0 : 1.0;
  double scale = static_cast<double>(in_size) / out_size;
  double filter_scale = std::max(scale, 1.0);  // widen the kernel to antialias a downscale
  support *= filter_scale;
  double inv_filter_scale = 1.0 / filter_scale;

  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> w(t.ksize);
  for (int i = 0; i < out_size; ++i) {
    double center = (i + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    int n = hi - lo;
    assert(n >= 1 && n <= t.ksize);
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      w[j] = kernel((j + lo - center + 0.5) * inv_filter_scale);
      sum += w[j];
    }
    int32_t* k = &t.weights[static_cast<size_t>(i) * t.ksize];
    for (int j = 0; j < n; ++j) {
      double v = sum != 0.0 ? w[j] / sum : w[j];
      k[j] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits)
                                        : 0.5 + v * (1 << kPrecisionBits));
    }
    t.first[i] = lo;
    t.count[i] = n;
  }
  return t;
}

inline uint8_t Clip8(int32_t acc) {
  return static_cast<uint8_t>(std::clamp(acc >> kPrecisionBits, 0, 255));
}

// Rows [row0, row0 + out.height) of `in`, resampled horizontally into `out`.
template <int C>
void ResampleRows(const Image& in, int row0, const Taps& t, Image& out) {
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* src = in.row(row0 + y);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      const int32_t* k = &t.weights[static_cast<size_t>(x) * t.ksize];
      const uint8_t* s = src + static_cast<size_t>(t.first[x]) * C;
      int n = t.count[x];
      for (int c = 0; c < C; ++c) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int j = 0; j < n; ++j)
          acc += s[j * C + c] * k[j];
        dst[x * C + c] = Clip8(acc);
      }
    }
  }
}

// Resamples vertically; tap positions are shifted up by row0 (the rows `in` starts at). Whole
// rows are accumulated at a time, which vectorizes; integer sums make the order irrelevant.
void ResampleColumns(const Image& in, int row0, const Taps& t, Image& out) {
  size_t n = out.row_bytes();
  std::vector<int32_t> acc(n);
  for (int y = 0; y < out.height; ++y) {
    const int32_t* k = &t.weights[static_cast<size_t>(y) * t.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    int32_t* __restrict a = acc.data();
    for (int j = 0; j < t.count[y]; ++j) {
      const uint8_t* __restrict src = in.row(t.first[y] - row0 + j);
      int32_t kj = k[j];
      for (size_t i = 0; i < n; ++i)
        a[i] += src[i] * kj;
    }
    uint8_t* __restrict dst = out.row(y);
    for (size_t i = 0; i < n; ++i)
      dst[i] = Clip8(a[i]);
  }
}

void ResampleRowsAnyChannels(const Image& in, int row0, const Taps& t, Image& out) {
  switch (in.channels) {
    case 1:
      return ResampleRows<1>(in, row0, t, out);
    case 2:
      return ResampleRows<2>(in, row0, t, out);
    case 3:
      return ResampleRows<3>(in, row0, t, out);
    default:
      assert(in.channels == 4);
      return ResampleRows<4>(in, row0, t, out);
  }
}

// Pillow's NEAREST resize is an affine scale: source coordinate (x + 0.5) * scale, accumulated
// step by step in double and truncated.
std::vector<int> NearestIndices(int in_size, int out_size) {
  std::vector<int> idx(out_size);
  double step = static_cast<double>(in_size) / out_size;
  double pos = step * 0.5;
  for (int i = 0; i < out_size; ++i, pos += step)
    idx[i] = std::min(static_cast<int>(pos), in_size - 1);
  return idx;
}

Image ResizeNearest(const Image& in, int w, int h) {
  Image out(w, h, in.channels);
  std::vector<int> xs = NearestIndices(in.width, w), ys = NearestIndices(in.height, h);
  for (int y = 0; y < h; ++y) {
    const uint8_t* src = in.row(ys[y]);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < w; ++x)
      std::memcpy(dst + static_cast<size_t>(x) * in.channels,
                  src + static_cast<size_t>(xs[x]) * in.channels, in.channels);
  }
  return out;
}

// out(x, y) = in(src(x, y)) for an ow x oh output.
template <typename F>
Image Remap(const Image& in, int ow, int oh, F src) {
  Image out(ow, oh, in.channels);
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      auto [sx, sy] = src(x, y);
      std::memcpy(out.at(x, y), in.at(sx, sy), in.channels);
    }
  }
  return out;
}

}  // namespace

Image Resize(const Image& in, int w, int h, ResizeFilter filter) {
  assert(w >= 1 && h >= 1 && !in.empty());
  if (w == in.width && h == in.height) return in;
  if (filter == ResizeFilter::kNearest) return ResizeNearest(in, w, h);

  Taps vertical = ComputeTaps(in.height, h, filter);
  const Image* src = &in;
  int row0 = 0;
  Image tmp;
  if (w != in.width) {
    // Only the rows the vertical pass will read.
    row0 = vertical.first.front();
    int row_end = vertical.first.back() + vertical.count.back();
    tmp = Image(w, row_end - row0, in.channels);
    ResampleRowsAnyChannels(in, row0, ComputeTaps(in.width, w, filter), tmp);
    src = &tmp;
  }
  if (h == in.height) return tmp;
  Image out(w, h, in.channels);
  ResampleColumns(*src, row0, vertical, out);
  return out;
}

Image ResizeShortestSide(const Image& in, int size, ResizeFilter filter) {
  bool portrait = in.width <= in.height;
  int short_side = portrait ? in.width : in.height;
  int long_side = portrait ? in.height : in.width;
  // int(size * long / short) in Python: an exact product, one correctly rounded division.
  int new_long =
      static_cast<int>(static_cast<double>(static_cast<int64_t>(size) * long_side) / short_side);
  return portrait ? Resize(in, size, new_long, filter) : Resize(in, new_long, size, filter);
}

Image Thumbnail(const Image& in, int max_side) {
  int long_side = std::max(in.width, in.height);
  if (long_side <= max_side) return in;
  double scale = static_cast<double>(max_side) / long_side;
  int w = std::max(1, static_cast<int>(std::lround(in.width * scale)));
  int h = std::max(1, static_cast<int>(std::lround(in.height * scale)));
  return Resize(in, std::min(w, max_side), std::min(h, max_side), ResizeFilter::kBicubic);
}

Image Crop(const Image& in, int x, int y, int w, int h) {
  Image out(w, h, in.channels);  // zero-filled: black outside `in`
  int x0 = std::max(x, 0), x1 = std::min(x + w, in.width);
  if (x1 <= x0) return out;
  for (int oy = 0; oy < h; ++oy) {
    int sy = y + oy;
    if (sy < 0 || sy >= in.height) continue;
    std::memcpy(out.at(x0 - x, oy), in.at(x0, sy), static_cast<size_t>(x1 - x0) * in.channels);
  }
  return out;
}

Image CenterCrop(const Image& in, int w, int h) {
  // torchvision pads (size - crop) // 2 on the left/top when the crop is larger, and otherwise
  // starts at int(round((size - crop) / 2.0)) with Python's round half to even.
  auto offset = [](int size, int crop) {
    if (crop > size) return -((crop - size) / 2);
    return static_cast<int>(std::nearbyint((size - crop) / 2.0));
  };
  return Crop(in, offset(in.width, w), offset(in.height, h), w, h);
}

Image FlipHorizontal(const Image& in) {
  return Remap(in, in.width, in.height,
               [&](int x, int y) { return std::pair(in.width - 1 - x, y); });
}

Image FlipVertical(const Image& in) {
  return Remap(in, in.width, in.height,
               [&](int x, int y) { return std::pair(x, in.height - 1 - y); });
}

Image Rotate90(const Image& in) {
  return Remap(in, in.height, in.width,
               [&](int x, int y) { return std::pair(y, in.height - 1 - x); });
}

Image Rotate180(const Image& in) {
  return Remap(in, in.width, in.height,
               [&](int x, int y) { return std::pair(in.width - 1 - x, in.height - 1 - y); });
}

Image Rotate270(const Image& in) {
  return Remap(in, in.height, in.width,
               [&](int x, int y) { return std::pair(in.width - 1 - y, x); });
}

Image Transpose(const Image& in) {
  return Remap(in, in.height, in.width, [](int x, int y) { return std::pair(y, x); });
}

Image Transverse(const Image& in) {
  return Remap(in, in.height, in.width,
               [&](int x, int y) { return std::pair(in.width - 1 - y, in.height - 1 - x); });
}

Image ApplyExifOrientation(const Image& in, int orientation) {
  switch (orientation) {
    case 2:
      return FlipHorizontal(in);
    case 3:
      return Rotate180(in);
    case 4:
      return FlipVertical(in);
    case 5:
      return Transpose(in);
    case 6:
      return Rotate90(in);
    case 7:
      return Transverse(in);
    case 8:
      return Rotate270(in);
    default:
      return in;
  }
}

void ToChwNormalized(const Image& in, std::span<const float, 3> mean, std::span<const float, 3> std,
                     float* out) {
  assert(in.channels == 3);
  size_t plane = static_cast<size_t>(in.width) * in.height;
  const uint8_t* p = in.pixels.data();
  for (size_t i = 0; i < plane; ++i, p += 3) {
    for (int c = 0; c < 3; ++c) {
      float v = static_cast<float>(p[c]) / 255.0f;  // same float32 steps as torchvision
      out[c * plane + i] = (v - mean[c]) / std[c];
    }
  }
}

void ApplyClipTransform(const Image& in, const ClipTransform& t, float* out) {
  Image resized = ResizeShortestSide(in, t.size, ResizeFilter::kBicubic);
  ToChwNormalized(CenterCrop(resized, t.size, t.size), t.mean, t.std, out);
}

}  // namespace mosaic::media
