// Pixel work for the OCR pipeline: perspective crops of detected quadrilaterals, and bilinear
// resizing straight into normalized planar (CHW, BGR) float tensors, so that no intermediate
// resized image is allocated. All functions take RGB8 images (channels == 3) and are pure; safe
// to call from any thread.
#pragma once

#include <array>

#include "embed/ocr/geometry.h"
#include "media/image.h"

namespace mosaic::embed::ocr {

/// Returns `img` as 3-channel RGB (gray is replicated, alpha is dropped). Precondition:
/// channels is 1, 3 or 4.
media::Image ToRgb(const media::Image& img);

/// Samples the quadrilateral `quad` (clockwise from top-left, in `src` pixels) into an upright
/// width x height image: output pixel (x, y) takes the source at H(x, y), where H maps the
/// output rectangle's corners onto the quad's, with bilinear interpolation and edge replication.
/// Returns an empty image if the quad is degenerate.
media::Image WarpQuad(const media::Image& src, const Quad& quad, int width, int height);

/// Per-channel normalization: value = (pixel / 255 - mean[c]) / std[c], c in the tensor's
/// channel order (BGR, as PaddleOCR's OpenCV pipeline feeds its models).
struct Normalization {
  std::array<float, 3> mean;
  std::array<float, 3> std;
};

/// Resizes `src` to out_w x out_h (bilinear, pixel centres aligned as OpenCV's INTER_LINEAR)
/// and writes the normalized BGR planes into `dst`, a [3, plane_h, plane_w] block with
/// plane_w >= out_w and plane_h >= out_h; cells outside out_w x out_h are left untouched.
void ResizeNormalizeInto(const media::Image& src, int out_w, int out_h, const Normalization& norm,
                         float* dst, int plane_w, int plane_h);

}  // namespace mosaic::embed::ocr
