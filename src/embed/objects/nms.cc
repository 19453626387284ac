#include "embed/objects/nms.h"

#include <algorithm>

namespace mosaic::embed::objects {

float IoU(const Detection& a, const Detection& b) {
  const float area_a = std::max(0.f, a.x1 - a.x0) * std::max(0.f, a.y1 - a.y0);
  const float area_b = std::max(0.f, b.x1 - b.x0) * std::max(0.f, b.y1 - b.y0);
  if (area_a <= 0 || area_b <= 0) return 0;
  const float iw = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float ih = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = iw * ih;
  return inter / (area_a + area_b - inter);
}

std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold, int max_keep) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : detections) {
    if (static_cast<int>(kept.size()) >= max_keep) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.class_id == d.class_id && IoU(k, d) > iou_threshold;
    });
    if (!suppressed) kept.push_back(d);
  }
  return kept;
}

std::vector<Detection> DropCrossClassDuplicates(std::vector<Detection> detections, float iou_threshold) {
  std::vector<Detection> kept;
  for (const Detection& d : detections) {
    const bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.class_id != d.class_id && IoU(k, d) > iou_threshold;
    });
    if (!duplicate) kept.push_back(d);
  }
  return kept;
}

}  // namespace mosaic::embed::objects
