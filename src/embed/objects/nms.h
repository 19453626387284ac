// Boxes, IoU and greedy non-maximum suppression for object detectors. Pure functions: safe to
// call from any number of threads.
#pragma once

#include <vector>

namespace mosaic::embed::objects {

/// One detection: corners in pixels of the original image (x0 <= x1, y0 <= y1).
struct Detection {
  int class_id = 0;
  float score = 0;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

/// Intersection over union of two boxes; 0 when either is empty.
float IoU(const Detection& a, const Detection& b);

/// Greedy NMS within each class: in descending score order, keeps a detection unless it
/// overlaps an already kept one of the same class by more than `iou_threshold`. Returns at
/// most `max_keep` detections, best first (ties broken by input order).
std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold, int max_keep);

/// Drops a detection when a better one of another class covers nearly the same box (IoU above
/// `iou_threshold`): the model labelling one animal both "horse" and "cow". Input and output
/// are best first.
std::vector<Detection> DropCrossClassDuplicates(std::vector<Detection> detections, float iou_threshold);

}  // namespace mosaic::embed::objects
