#include "embed/objects/object_tagger.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "mosaic/json.h"

namespace mosaic::embed {

using objects::ClassScores;
using objects::Detection;
using objects::kCocoClasses;
using objects::kCocoLabels;
using objects::TagMode;

Result<std::unique_ptr<ObjectTagger>> ObjectTagger::Create(
    const objects::TagRule& rule, std::unique_ptr<ObjectDetector> nanodet,
    std::unique_ptr<ObjectDetector> centernet) {
  const std::string name = rule.ToString();
  if (rule.uses_nanodet() && nanodet == nullptr)
    return Status::InvalidArgument("object tag rule " + name + " needs the NanoDet detector");
  if (rule.uses_centernet() && centernet == nullptr)
    return Status::InvalidArgument("object tag rule " + name + " needs the CenterNet detector");
  if (nanodet != nullptr && nanodet->architecture() != ObjectDetector::Architecture::kNanoDet)
    return Status::InvalidArgument("object tag rule " + name +
                                   ": the NanoDet detector given is a " + nanodet->info().family +
                                   " graph");
  if (centernet != nullptr && centernet->architecture() != ObjectDetector::Architecture::kCenterNet)
    return Status::InvalidArgument("object tag rule " + name +
                                   ": the CenterNet detector given is a " +
                                   centernet->info().family + " graph");
  std::unique_ptr<ObjectTagger> t(new ObjectTagger());
  t->rule_ = rule;
  if (rule.uses_nanodet()) t->nanodet_ = std::move(nanodet);
  if (rule.uses_centernet()) t->centernet_ = std::move(centernet);
  for (const ObjectDetector* d : {t->nanodet_.get(), t->centernet_.get()}) {
    if (d != nullptr && t->terms_ == nullptr && d->wordnet_status().ok() && !d->TagTerms(0).empty())
      t->terms_ = d;
  }
  std::string model;
  for (const ObjectDetector* d : {t->nanodet_.get(), t->centernet_.get()})
    if (d != nullptr) model += (model.empty() ? "" : "+") + d->info().model;
  t->info_.model = model;
  t->info_.family = "objects";
  t->info_.modality = Modality::kImage;
  t->info_.dim = 0;
  return t;
}

Result<ObjectTagger::Tagged> ObjectTagger::Tag(const media::Image& image) const {
  std::vector<Detection> from_nanodet, from_centernet;
  if (nanodet_ != nullptr) {
    MOSAIC_ASSIGN_OR_RETURN(from_nanodet, nanodet_->Detect(image));
  }
  if (centernet_ != nullptr) {
    MOSAIC_ASSIGN_OR_RETURN(from_centernet, centernet_->Detect(image));
  }
  const ClassScores best_n = objects::BestPerClass(from_nanodet);
  const ClassScores best_c = objects::BestPerClass(from_centernet);
  Tagged out;
  out.tags = objects::FuseTags(best_n, best_c, rule_);
  const auto keep = [&](const std::vector<Detection>& from, float threshold) {
    for (const Detection& d : from)
      if (out.tags[d.class_id] > 0 && d.score >= threshold) out.objects.push_back(d);
  };
  switch (rule_.mode) {
    case TagMode::kNanoDet:
      keep(from_nanodet, rule_.nanodet_threshold);
      break;
    case TagMode::kCenterNet:
      keep(from_centernet, rule_.centernet_threshold);
      break;
    case TagMode::kEither:
      keep(from_nanodet, rule_.nanodet_threshold);
      keep(from_centernet, rule_.centernet_threshold);
      break;
    case TagMode::kBoth:
      keep(from_centernet, rule_.centernet_threshold);
      for (Detection& d : out.objects)
        d.score = objects::AgreedConfidence(best_n[d.class_id], d.score);
      break;
  }
  std::stable_sort(out.objects.begin(), out.objects.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

Result<std::vector<EncoderOutput>> ObjectTagger::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].image == nullptr)
      return Status::InvalidArgument("input " + std::to_string(i) + " has no image");
    auto tagged = Tag(*batch[i].image);
    if (!tagged.ok()) return tagged.status().WithContext("input " + std::to_string(i));
    // Scores are rounded as the objects' confidences are, so a tag's score equals its best box's.
    const auto round3 = [](float v) { return std::round(double(v) * 1000) / 1000; };
    std::vector<int> order(kCocoClasses);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return tagged->tags[a] > tagged->tags[b]; });
    Json tags = Json::array();
    Json terms = Json::array();
    Json scores = Json::object();
    for (int c : order) {
      if (tagged->tags[c] <= 0) break;
      const std::string label(kCocoLabels[c]);
      const double score = round3(tagged->tags[c]);
      tags.push_back(label);
      scores[label] = std::max(scores.value(label, 0.0), score);
      if (terms_ == nullptr) continue;
      for (const std::string& term : terms_->TagTerms(c)) {
        if (std::find(terms.begin(), terms.end(), term) == terms.end()) terms.push_back(term);
        scores[term] = std::max(scores.value(term, 0.0), score);
      }
    }
    Json data = ObjectDetector::ToJson(tagged->objects);
    data["tags"] = std::move(tags);
    if (terms_ != nullptr) data["tag_terms"] = std::move(terms);
    data["tag_scores"] = std::move(scores);
    out[i].data = std::move(data);
  }
  return out;
}

}  // namespace mosaic::embed
