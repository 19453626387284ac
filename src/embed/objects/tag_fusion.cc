#include "embed/objects/tag_fusion.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace mosaic::embed::objects {

ClassScores BestPerClass(std::span<const Detection> detections) {
  ClassScores best{};
  for (const Detection& d : detections) {
    if (d.class_id >= 0 && d.class_id < kCocoClasses)
      best[d.class_id] = std::max(best[d.class_id], d.score);
  }
  return best;
}

const char* TagModeName(TagMode mode) {
  switch (mode) {
    case TagMode::kNanoDet:
      return "nanodet";
    case TagMode::kCenterNet:
      return "centernet";
    case TagMode::kBoth:
      return "both";
    case TagMode::kEither:
      return "either";
  }
  return "?";
}

std::string TagRule::ToString() const {
  if (legacy_nanodet_input && mode == TagMode::kNanoDet &&
      nanodet_threshold == LegacyTagRule().nanodet_threshold)
    return "legacy";
  char buf[64];
  switch (mode) {
    case TagMode::kNanoDet:
      std::snprintf(buf, sizeof buf, "nanodet:%g", nanodet_threshold);
      break;
    case TagMode::kCenterNet:
      std::snprintf(buf, sizeof buf, "centernet:%g", centernet_threshold);
      break;
    case TagMode::kBoth:
    case TagMode::kEither:
      std::snprintf(buf, sizeof buf, "%s:%g,%g", TagModeName(mode), nanodet_threshold,
                    centernet_threshold);
      break;
  }
  return buf;
}

// Each mode's thresholds: its best F0.5 on the dev photos (bench/tag_bench.cc checks these
// against the measurement and says when they differ).
TagRule DefaultTagRule(TagMode mode) {
  switch (mode) {
    case TagMode::kNanoDet:
      return {TagMode::kNanoDet, 0.5f, 0.5f};
    case TagMode::kCenterNet:
      return {TagMode::kCenterNet, 0.4f, 0.4f};
    case TagMode::kBoth:
      return {TagMode::kBoth, 0.3f, 0.4f};
    case TagMode::kEither:
      return {TagMode::kEither, 0.8f, 0.4f};
  }
  return {};
}

TagRule DefaultTagRule() {
  return DefaultTagRule(TagMode::kBoth);
}

TagRule LegacyTagRule() {
  return {TagMode::kNanoDet, 0.3f, 0.3f, /*legacy_nanodet_input=*/true};
}

Result<TagRule> ParseTagRule(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(
        "object tag rule '" + std::string(text) + "': " + why +
        " (expected legacy, or MODE[:T[,T]] with MODE nanodet, centernet, both or either)");
  };
  if (text == "legacy") return LegacyTagRule();
  const size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  TagRule rule;
  bool known = false;
  for (TagMode m : {TagMode::kNanoDet, TagMode::kCenterNet, TagMode::kBoth, TagMode::kEither}) {
    if (name == TagModeName(m)) {
      rule = DefaultTagRule(m);
      known = true;
    }
  }
  if (!known) return bad("unknown mode '" + std::string(name) + "'");
  if (colon == std::string_view::npos) return rule;
  float t[2];
  int n = 0;
  std::string rest(text.substr(colon + 1));
  size_t pos = 0;
  while (n < 2) {
    const size_t comma = rest.find(',', pos);
    const std::string part =
        rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    const float v = std::strtof(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !(v > 0 && v < 1))
      return bad("threshold '" + part + "' is not a number between 0 and 1");
    t[n++] = v;
    if (comma == std::string::npos) break;
    pos = comma + 1;
    if (n == 2) return bad("more than two thresholds");
  }
  const bool two_detectors = rule.mode == TagMode::kBoth || rule.mode == TagMode::kEither;
  if (n == 2 && !two_detectors)
    return bad("mode " + std::string(name) + " uses one detector, so one threshold");
  if (rule.uses_nanodet()) rule.nanodet_threshold = t[0];
  if (rule.uses_centernet()) rule.centernet_threshold = t[n - 1];
  return rule;
}

float AgreedConfidence(float nanodet, float centernet) {
  return std::min(nanodet, centernet);
}

ClassScores FuseTags(const ClassScores& nanodet, const ClassScores& centernet,
                     const TagRule& rule) {
  ClassScores out{};
  for (int c = 0; c < kCocoClasses; ++c) {
    const float n = nanodet[c] >= rule.nanodet_threshold ? nanodet[c] : 0.f;
    const float k = centernet[c] >= rule.centernet_threshold ? centernet[c] : 0.f;
    switch (rule.mode) {
      case TagMode::kNanoDet:
        out[c] = n;
        break;
      case TagMode::kCenterNet:
        out[c] = k;
        break;
      case TagMode::kBoth:
        out[c] = n > 0 && k > 0 ? AgreedConfidence(n, k) : 0.f;
        break;
      case TagMode::kEither:
        out[c] = std::max(n, k);
        break;
    }
  }
  return out;
}

}  // namespace mosaic::embed::objects
