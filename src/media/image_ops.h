// Geometric and pixel transforms on Image: resampling, crops, the eight EXIF orientations, and
// the float tensor layout that CLIP-style image encoders take.
//
// Resize reproduces Pillow's Image.resize for 8-bit images bit for bit (separable convolution,
// horizontal pass first, antialiased on downscale, fixed-point coefficients), so that embeddings
// computed here match those of the Python reference pipelines. ResizeShortestSide and CenterCrop
// follow torchvision's Resize(int) and CenterCrop on PIL images. Every function works on any
// channel count (1 to 4) unless noted. All functions are pure: they are safe to call from any
// number of threads on shared inputs.
#pragma once

#include <array>
#include <span>

#include "media/image.h"

namespace mosaic::media {

enum class ResizeFilter { kNearest, kBilinear, kBicubic };

/// Resamples to w x h (both >= 1) exactly like PIL.Image.resize((w, h), filter).
Image Resize(const Image& in, int w, int h, ResizeFilter filter);

/// The short side becomes `size`, the long side int(size * long / short) (torchvision Resize(int)).
Image ResizeShortestSide(const Image& in, int size, ResizeFilter filter);

/// Shrinks so that the longer side is at most max_side, keeping the aspect ratio (bicubic).
/// Never enlarges: a smaller image is returned as a copy.
Image Thumbnail(const Image& in, int max_side);

/// The w x h rectangle at (x, y); parts outside the image are black (as PIL.Image.crop).
Image Crop(const Image& in, int x, int y, int w, int h);

/// torchvision CenterCrop: top = round((H - h) / 2), left likewise (round half to even); an image
/// smaller than the crop is padded with black.
Image CenterCrop(const Image& in, int w, int h);

Image FlipHorizontal(const Image& in);
Image FlipVertical(const Image& in);
Image Rotate90(const Image& in);  // clockwise
Image Rotate180(const Image& in);
Image Rotate270(const Image& in);   // clockwise (= 90 counter-clockwise)
Image Transpose(const Image& in);   // mirror along the main diagonal
Image Transverse(const Image& in);  // mirror along the anti-diagonal

/// Turns an image stored with EXIF orientation 1..8 upright; other values return a copy.
Image ApplyExifOrientation(const Image& in, int orientation);

/// Writes planar CHW floats (x / 255 - mean[c]) / std[c], computed in float32 like
/// torchvision ToTensor + Normalize. `in` must have 3 channels; out holds 3 * width * height.
void ToChwNormalized(const Image& in, std::span<const float, 3> mean, std::span<const float, 3> std,
                     float* out);

/// The preprocessing of OpenAI CLIP's _transform(size).
struct ClipTransform {
  int size = 224;
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
};

/// ResizeShortestSide(bicubic) -> CenterCrop -> ToChwNormalized; out holds 3 * size * size.
void ApplyClipTransform(const Image& in, const ClipTransform& t, float* out);

}  // namespace mosaic::media
