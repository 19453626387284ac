// ObjectTagger: the objects and tags of an image under a TagRule (tag_fusion.h), from one or
// both of the COCO detectors (NanoDet, CenterNet). This is the "objects" encoder ingest runs.
// Encode() gives no vectors; its data is
//   {"objects": [{"label": "dog", "confidence": 0.62, "box": [x0, y0, x1, y1]}, ...],
//    "tags": ["dog", "bicycle"],                       (best first)
//    "tag_terms": ["dog", "domestic dog", "canine", ..., "bicycle", "wheeled vehicle", ...],
//    "tag_scores": {"dog": 0.62, "canine": 0.62, ..., "bicycle": 0.55, "wheeled vehicle": 0.55}}
// A tag's score is its confidence under the rule; a WordNet term's score is the best of the tags
// it comes from. The objects are the boxes behind the tags, and a tag's score is the best
// confidence among its objects: with one detector its boxes and scores; with "both", CenterNet's
// boxes (the more precise detector alone) with the agreed confidence min(box score, NanoDet's
// best for the class); with "either", the boxes of both detectors that pass their thresholds.
// Thread-safety: Encode/Tag may be called from several threads at once (the detectors are).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "embed/encoder.h"
#include "embed/objects/object_detector.h"
#include "embed/objects/tag_fusion.h"
#include "media/image.h"

namespace mosaic::embed {

class ObjectTagger final : public Encoder {
 public:
  /// The tagger for `rule` over the detectors it uses (the other may be null). The detectors
  /// should have been opened with the rule's thresholds (ObjectDetectorOptions::score_threshold)
  /// or lower. InvalidArgument when a detector the rule needs is missing or of the other family.
  static Result<std::unique_ptr<ObjectTagger>> Create(const objects::TagRule& rule,
                                                      std::unique_ptr<ObjectDetector> nanodet,
                                                      std::unique_ptr<ObjectDetector> centernet);

  struct Tagged {
    objects::ClassScores tags{};              // per class the tag's confidence; 0: not a tag
    std::vector<objects::Detection> objects;  // the boxes behind the tags, best first
  };
  /// The tags and objects of `image` (boxes in its pixels).
  Result<Tagged> Tag(const media::Image& image) const;

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return 1; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  const objects::TagRule& rule() const { return rule_; }

 private:
  ObjectTagger() = default;

  objects::TagRule rule_;
  std::unique_ptr<ObjectDetector> nanodet_, centernet_;
  const ObjectDetector* terms_ = nullptr;  // the detector whose WordNet terms are used
  EncoderInfo info_;
};

}  // namespace mosaic::embed
