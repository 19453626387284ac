// Image-level tags from one or two object detectors: which COCO classes an image is tagged with,
// and the confidence each tag carries into search ranking. The rules and their default
// thresholds were chosen by measuring tag precision and recall on hand-labelled photos
// (bench/tag_bench.cc, tests/data/photo_labels.json, docs/benchmarks.md#tag-quality).
// Pure functions: safe from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "embed/objects/coco_labels.h"
#include "embed/objects/nms.h"
#include "mosaic/status.h"

namespace mosaic::embed::objects {

/// A confidence per COCO class; 0 means "not there".
using ClassScores = std::array<float, kCocoClasses>;

/// The best score of each class among `detections` (0 for classes with none).
ClassScores BestPerClass(std::span<const Detection> detections);

/// Which detectors decide the tags.
enum class TagMode : uint8_t {
  kNanoDet,    // NanoDet alone
  kCenterNet,  // CenterNet alone
  kBoth,       // a class both report, each above its threshold
  kEither,     // a class either reports above its threshold
};

/// "nanodet", "centernet", "both", "either".
const char* TagModeName(TagMode mode);

struct TagRule {
  TagMode mode = TagMode::kBoth;
  float nanodet_threshold = 0.3f;    // a NanoDet score below this does not count
  float centernet_threshold = 0.4f;  // a CenterNet score below this does not count
  /// NanoDet fed as before the measurement (ObjectDetectorOptions::nanodet_unit_rgb_input).
  bool legacy_nanodet_input = false;

  bool uses_nanodet() const { return mode != TagMode::kCenterNet; }
  bool uses_centernet() const { return mode != TagMode::kNanoDet; }
  /// The text ParseTagRule reads back: "both:0.3,0.4", "nanodet:0.5", "legacy".
  std::string ToString() const;
};

/// The default rule of each mode: its thresholds as chosen on the dev photos.
TagRule DefaultTagRule(TagMode mode);
/// The rule ingest uses unless told otherwise: NanoDet and CenterNet agreeing.
TagRule DefaultTagRule();
/// The rule before the measurement: NanoDet alone at 0.3, fed RGB 0..1 (the human library's
/// input), for before/after comparisons.
TagRule LegacyTagRule();

/// Reads "MODE", "MODE:T" (one threshold for the detectors the mode uses) or "MODE:TN,TC"
/// (NanoDet's, then CenterNet's), MODE one of nanodet, centernet, both, either; or "legacy".
/// Thresholds lie in (0, 1); omitted ones are the mode's default. InvalidArgument naming the text.
Result<TagRule> ParseTagRule(std::string_view text);

/// The confidence of a tag both detectors agree on: the lower of their two scores (the agreement
/// is as strong as its weaker vote). On the dev photos it ranks true tags above false ones as
/// well as CenterNet's score alone and better than their mean or geometric mean (tag_bench
/// prints the AUC of each).
float AgreedConfidence(float nanodet, float centernet);

/// The tags of one image under `rule`: per class the tag's confidence, 0 when it is not a tag.
/// `nanodet` / `centernet` are BestPerClass of each detector's detections; the one the rule does
/// not use is ignored.
ClassScores FuseTags(const ClassScores& nanodet, const ClassScores& centernet, const TagRule& rule);

}  // namespace mosaic::embed::objects
