#include "embed/faces/face_alignment.h"

#include <algorithm>
#include <cmath>

#include "embed/ocr/image_sampling.h"
#include "media/image_ops.h"

namespace mosaic::embed::faces {

float EyeAngle(const FaceDetection& face) {
  const Point& r = face.landmark(Landmark::kRightEye);
  const Point& l = face.landmark(Landmark::kLeftEye);
  const float dx = l.x - r.x, dy = l.y - r.y;
  if (dx == 0 && dy == 0) return 0;
  return std::atan2(dy, dx);
}

media::Image AlignFace(const media::Image& image, const FaceDetection& face, int size,
                       const AlignmentOptions& options) {
  const float bw = face.x1 - face.x0, bh = face.y1 - face.y0;
  if (image.empty() || size < 1 || !(bw > 0) || !(bh > 0)) return {};
  const float side = std::max(bw, bh) * options.margin;
  const float cx = (face.x0 + face.x1) / 2, cy = (face.y0 + face.y1) / 2;
  const float angle = options.rotate ? EyeAngle(face) : 0.f;
  const float c = std::cos(angle), s = std::sin(angle);
  // Output (u, v), centred, maps to the image point centre + R(angle) (u, v): the output's x
  // axis runs along the eye line.
  const auto corner = [&](float u, float v) { return ocr::Point{cx + c * u - s * v, cy + s * u + c * v}; };
  const float h = side / 2;
  ocr::Quad quad = {corner(-h, -h), corner(h, -h), corner(h, h), corner(-h, h)};

  // Cut the quad's bounding box (black outside the image) and, for a face larger than the
  // output, shrink it with Resize's antialiasing first.
  float qx0 = quad[0].x, qy0 = quad[0].y, qx1 = quad[0].x, qy1 = quad[0].y;
  for (const ocr::Point& p : quad) {
    qx0 = std::min(qx0, p.x), qy0 = std::min(qy0, p.y);
    qx1 = std::max(qx1, p.x), qy1 = std::max(qy1, p.y);
  }
  const int rx = static_cast<int>(std::floor(qx0)) - 1, ry = static_cast<int>(std::floor(qy0)) - 1;
  const int rw = static_cast<int>(std::ceil(qx1)) + 1 - rx, rh = static_cast<int>(std::ceil(qy1)) + 1 - ry;
  media::Image region = media::Crop(ocr::ToRgb(image), rx, ry, rw, rh);
  const float shrink = std::min(1.f, static_cast<float>(size) / side);
  float sx = 1, sy = 1;
  if (shrink < 1) {
    const int tw = std::max(1, static_cast<int>(std::lround(rw * shrink)));
    const int th = std::max(1, static_cast<int>(std::lround(rh * shrink)));
    region = media::Resize(region, tw, th, media::ResizeFilter::kBilinear);
    sx = static_cast<float>(tw) / static_cast<float>(rw);
    sy = static_cast<float>(th) / static_cast<float>(rh);
  }
  for (ocr::Point& p : quad) p = {(p.x - static_cast<float>(rx)) * sx, (p.y - static_cast<float>(ry)) * sy};
  return ocr::WarpQuad(region, quad, size, size);
}

}  // namespace mosaic::embed::faces
