// Post-processing of a DB (Differentiable Binarization) text detector's probability map into
// text boxes, following PaddleOCR's DBPostProcess in its "quad" configuration:
// binarize, take connected regions, fit a minimum-area rectangle, score it by the mean
// probability inside, grow it by the unclip distance, and map it back to image pixels.
// Pure functions; safe to call from any thread.
#pragma once

#include <span>
#include <vector>

#include "embed/ocr/geometry.h"

namespace mosaic::embed::ocr {

/// How a region is scored against box_thresh: kFast averages the probability over the region's
/// fitted rectangle (PaddleOCR's default; penalizes curved or slanted lines, whose rectangle
/// takes in background), kSlow over the region itself with holes filled (PaddleOCR's "slow",
/// which here costs nothing extra).
enum class DbScoreMode { kFast, kSlow };

struct DbParams {
  float thresh = 0.3f;        // binarization threshold on the probability map
  float box_thresh = 0.6f;    // minimum mean probability inside a box
  float unclip_ratio = 1.5f;  // growth distance = area * ratio / perimeter
  int max_candidates = 1000;  // regions examined, in raster order of their first pixel
  DbScoreMode score_mode = DbScoreMode::kFast;
};

struct TextBox {
  Quad quad;  // clockwise from top-left, in destination (original image) pixels
  float score = 0;
};

/// Boxes found in `prob` (map_h x map_w, row-major), scaled to a dest_w x dest_h image.
std::vector<TextBox> DbBoxes(std::span<const float> prob, int map_w, int map_h, int dest_w,
                             int dest_h, const DbParams& params);

/// Reading order as PaddleOCR's sorted_boxes: by the top-left corner's y then x, then boxes
/// whose top-left y differ by less than 10 px are put left to right.
void SortReadingOrder(std::vector<TextBox>& boxes);

}  // namespace mosaic::embed::ocr
