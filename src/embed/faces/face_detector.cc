#include "embed/faces/face_detector.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "embed/objects/nms.h"
#include "embed/ocr/image_sampling.h"
#include "media/image_ops.h"

namespace mosaic::embed::faces {

namespace {

// Regression values per anchor: centre offset, size, six keypoints.
constexpr int kRegressValues = 4 + 2 * kLandmarkCount;

bool BatchOk(int64_t d) { return d == 1 || d == -1; }

objects::Detection BoxOf(const FaceDetection& f) { return {0, f.score, f.x0, f.y0, f.x1, f.y1}; }

float Sigmoid(float logit) { return 1.f / (1.f + std::exp(-std::clamp(logit, -80.f, 80.f))); }

}  // namespace

Result<std::unique_ptr<FaceDetector>> FaceDetector::Open(const std::string& model_path,
                                                         const FaceDetectorOptions& options,
                                                         const SessionOptions& session_options) {
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(model_path, session_options));
  std::unique_ptr<FaceDetector> det(new FaceDetector());
  det->options_ = options;
  det->session_ = session;
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(model_path + ": not a BlazeFace face detector (" + why + "); graph has " +
                                   session->Signature());
  };
  if (session->inputs().size() != 1) return bad("expected one image input");
  const TensorSpec& in = session->inputs()[0];
  const auto& s = in.shape;
  if (in.type != TensorType::kFloat || s.size() != 4 || !BatchOk(s[0]) || s[3] != 3 || s[1] <= 0 || s[1] != s[2] ||
      s[1] % 16 != 0) {
    return bad("expected a float [1,S,S,3] input with S a multiple of 16");
  }
  det->input_name_ = in.name;
  det->size_ = static_cast<int>(s[1]);

  // The two anchor grids (strides S/16 and S/8 pixels), told apart by their anchor counts.
  const int fine = 16, coarse = 8;
  std::map<int64_t, Level> by_anchors = {
      {int64_t{fine} * fine * 2, Level{"", "", fine, 2}},
      {int64_t{coarse} * coarse * 6, Level{"", "", coarse, 6}},
  };
  for (const auto& out : session->outputs()) {
    const auto& o = out.shape;
    if (out.type != TensorType::kFloat || o.size() != 3 || !BatchOk(o[0])) return bad("unexpected output " + out.name);
    auto it = by_anchors.find(o[1]);
    if (it == by_anchors.end()) return bad("output " + out.name + " matches neither anchor grid");
    if (o[2] == 1 && it->second.scores.empty()) {
      it->second.scores = out.name;
    } else if (o[2] == kRegressValues && it->second.regress.empty()) {
      it->second.regress = out.name;
    } else {
      return bad("output " + out.name + " is neither face logits [1,A,1] nor regressions [1,A,16]");
    }
  }
  // Finest grid first, as the anchors are generated.
  for (int grid : {fine, coarse}) {
    for (auto& [count, level] : by_anchors) {
      if (level.grid != grid) continue;
      if (level.scores.empty() || level.regress.empty()) {
        return bad("the " + std::to_string(grid) + "x" + std::to_string(grid) + " grid lacks its logits or regressions");
      }
      det->levels_.push_back(level);
    }
  }
  return det;
}

Result<std::vector<FaceDetection>> FaceDetector::Detect(const media::Image& image) const {
  if (image.empty() || !(image.channels == 1 || image.channels == 3 || image.channels == 4)) {
    return Status::InvalidArgument("face detector needs a non-empty image, got " + std::to_string(image.width) + "x" +
                                   std::to_string(image.height) + "x" + std::to_string(image.channels));
  }
  // Letterbox: scale the longer side to size_, centre, pad with black (-1 after normalization).
  const float scale = static_cast<float>(size_) / static_cast<float>(std::max(image.width, image.height));
  const int rw = std::clamp(static_cast<int>(std::lround(image.width * scale)), 1, size_);
  const int rh = std::clamp(static_cast<int>(std::lround(image.height * scale)), 1, size_);
  const int ox = (size_ - rw) / 2, oy = (size_ - rh) / 2;
  const media::Image resized = media::Resize(ocr::ToRgb(image), rw, rh, media::ResizeFilter::kBilinear);
  std::vector<float> pixels(static_cast<size_t>(size_) * size_ * 3, -1.f);
  for (int y = 0; y < rh; ++y) {
    const uint8_t* src = resized.row(y);
    float* dst = pixels.data() + (static_cast<size_t>(y + oy) * size_ + ox) * 3;
    for (int i = 0; i < rw * 3; ++i) dst[i] = static_cast<float>(src[i]) / 127.5f - 1.f;
  }
  const Tensor x = Tensor::Float({1, size_, size_, 3}, std::move(pixels));
  std::vector<std::string> names;
  for (const Level& l : levels_) {
    names.push_back(l.scores);
    names.push_back(l.regress);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &x}}, names));

  // Input pixels -> original pixels.
  const auto unmap_x = [&](float v) { return (v - static_cast<float>(ox)) / scale; };
  const auto unmap_y = [&](float v) { return (v - static_cast<float>(oy)) / scale; };
  std::vector<FaceDetection> candidates;
  for (size_t li = 0; li < levels_.size(); ++li) {
    const Level& l = levels_[li];
    const float* logits = outs[2 * li].f32.data();
    const float* reg = outs[2 * li + 1].f32.data();
    const float stride = static_cast<float>(size_) / static_cast<float>(l.grid);
    const int anchors = l.grid * l.grid * l.anchors_per_cell;
    for (int a = 0; a < anchors; ++a) {
      const float score = Sigmoid(logits[a]);
      if (!(score >= options_.score_threshold)) continue;
      const int cell = a / l.anchors_per_cell;
      const float ax = (static_cast<float>(cell % l.grid) + 0.5f) * stride;
      const float ay = (static_cast<float>(cell / l.grid) + 0.5f) * stride;
      const float* r = reg + static_cast<size_t>(a) * kRegressValues;
      const float cx = ax + r[0], cy = ay + r[1];
      const float hw = std::abs(r[2]) / 2, hh = std::abs(r[3]) / 2;
      FaceDetection f;
      f.score = score;
      f.x0 = unmap_x(cx - hw);
      f.y0 = unmap_y(cy - hh);
      f.x1 = unmap_x(cx + hw);
      f.y1 = unmap_y(cy + hh);
      for (int k = 0; k < kLandmarkCount; ++k) {
        f.landmarks[k] = {unmap_x(ax + r[4 + 2 * k]), unmap_y(ay + r[5 + 2 * k])};
      }
      if (std::isfinite(f.x0) && std::isfinite(f.y0) && std::isfinite(f.x1) && std::isfinite(f.y1)) {
        candidates.push_back(f);
      }
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
  auto faces = WeightedNonMaxSuppression(std::move(candidates), options_.iou_threshold, options_.max_faces);
  const float w = static_cast<float>(image.width), h = static_cast<float>(image.height);
  for (FaceDetection& f : faces) {
    f.x0 = std::clamp(f.x0, 0.f, w);
    f.x1 = std::clamp(f.x1, 0.f, w);
    f.y0 = std::clamp(f.y0, 0.f, h);
    f.y1 = std::clamp(f.y1, 0.f, h);
  }
  std::erase_if(faces, [&](const FaceDetection& f) {
    return f.x1 <= f.x0 || f.y1 <= f.y0 || f.x1 - f.x0 < options_.min_face_size;
  });
  return faces;
}

std::vector<FaceDetection> WeightedNonMaxSuppression(std::vector<FaceDetection> candidates, float iou_threshold,
                                                     int max_keep) {
  std::vector<FaceDetection> kept;
  std::vector<bool> used(candidates.size(), false);
  for (size_t i = 0; i < candidates.size() && static_cast<int>(kept.size()) < max_keep; ++i) {
    if (used[i]) continue;
    const objects::Detection best = BoxOf(candidates[i]);
    FaceDetection sum;  // score-weighted sums of the cluster's coordinates
    float total = 0;
    for (size_t j = i; j < candidates.size(); ++j) {
      if (used[j] || (j != i && objects::IoU(best, BoxOf(candidates[j])) <= iou_threshold)) continue;
      used[j] = true;
      const FaceDetection& c = candidates[j];
      const float wgt = c.score;
      total += wgt;
      sum.x0 += wgt * c.x0;
      sum.y0 += wgt * c.y0;
      sum.x1 += wgt * c.x1;
      sum.y1 += wgt * c.y1;
      for (int k = 0; k < kLandmarkCount; ++k) {
        sum.landmarks[k].x += wgt * c.landmarks[k].x;
        sum.landmarks[k].y += wgt * c.landmarks[k].y;
      }
    }
    FaceDetection merged = candidates[i];
    if (total > 0) {
      merged.x0 = sum.x0 / total;
      merged.y0 = sum.y0 / total;
      merged.x1 = sum.x1 / total;
      merged.y1 = sum.y1 / total;
      for (int k = 0; k < kLandmarkCount; ++k) {
        merged.landmarks[k] = {sum.landmarks[k].x / total, sum.landmarks[k].y / total};
      }
    }
    kept.push_back(merged);
  }
  return kept;
}

}  // namespace mosaic::embed::faces
