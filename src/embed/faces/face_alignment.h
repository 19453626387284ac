// Face alignment for the embedders: a square crop around a detected face, rotated so that the
// eyes are level, resized to the embedder's input. Embedders are trained on upright crops of
// roughly this framing (the human library feeds FaceRes the detector box enlarged 1.4x and
// squared), so a tilted head otherwise costs similarity. Pure functions; safe from any thread.
#pragma once

#include "embed/faces/face_detector.h"
#include "media/image.h"

namespace mosaic::embed::faces {

struct AlignmentOptions {
  /// The crop's side is the longer side of the detector box times this.
  float margin = 1.4f;
  /// Level the eyes. Off, the crop is axis-aligned.
  bool rotate = true;
};

/// The angle (radians, image coordinates: y down, positive = clockwise) of the line from the
/// subject's right eye to the left eye; 0 for an upright face.
float EyeAngle(const FaceDetection& face);

/// A size x size RGB crop of `face` in `image` (RGB, gray or RGBA), centred on the detector
/// box, rotated by -EyeAngle(face) so the eyes are level. Parts outside the image are black.
/// Large faces are first shrunk with an antialiasing filter so the final resampling does not
/// alias. Returns an empty image for an empty input, a degenerate box, or size < 1.
media::Image AlignFace(const media::Image& image, const FaceDetection& face, int size,
                       const AlignmentOptions& options = {});

}  // namespace mosaic::embed::faces
