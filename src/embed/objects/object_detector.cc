#include "embed/objects/object_detector.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "embed/objects/coco_labels.h"
#include "media/image_ops.h"
#include "text/wordnet.h"

namespace mosaic::embed {

using objects::Detection;
using objects::kCocoClasses;
using objects::kCocoLabels;

namespace {

bool BatchOk(int64_t d) { return d == 1 || d == -1; }

// COCO classes whose WordNet noun is not simply the label in sense 1. WordNet numbers senses by
// frequency in ordinary text, where a "mouse" is mostly the rodent; in a photo detector's output it
// is the thing beside the keyboard. Each entry says why.
struct WordNetSense {
  std::string_view label;
  std::string_view lemma;
  int sense;  // 1-based, as in WordNet
};
constexpr WordNetSense kSenseOverrides[] = {
    {"stop sign", "street_sign", 1},          // no "stop sign" in WordNet 3.0
    {"sports ball", "ball", 1},               // no "sports ball"; 1 = ball hit or thrown in games
    {"skis", "ski", 1},                       // the index holds singulars
    {"wine glass", "wineglass", 1},           // one word in WordNet
    {"potted plant", "pot_plant", 1},         // no "potted plant"
    {"cell phone", "cellular_telephone", 1},  // no "cell phone"
    {"kite", "kite", 3},                      // 1, 2: fraudulent bank checks; 3: the toy
    {"banana", "banana", 2},                  // 1: the tree; 2: the fruit
    {"broccoli", "broccoli", 2},              // 1: the plant; 2: the vegetable
    {"carrot", "carrot", 3},                  // 1: the plant's root; 3: the root vegetable
    {"hot dog", "hot_dog", 2},                // 1: a show-off; 2: frankfurter on a bun
    {"cake", "cake", 3},                      // 1: a block, as of soap; 3: baked goods
    {"toilet", "toilet", 2},                  // 1: the room; 2: the fixture
    {"tv", "tv", 2},                          // 1: broadcasting; 2: the television set
    {"mouse", "mouse", 4},                    // 1: the rodent; 4: the computer mouse
    {"microwave", "microwave", 2},            // 1: the wave; 2: the oven
    {"toaster", "toaster", 2},                // 1: someone proposing a toast; 2: the appliance
    {"book", "book", 2},                      // 1: the written work; 2: the bound volume
    // Sense 1 is already the COCO meaning for the other labels, among them the ambiguous "tie"
    // (necktie), "remote" (remote control), "keyboard", "baseball bat" (not the animal "bat")
    // and "bear", "orange", "apple", "bed", "bench" (the seat).
};

// Hypernyms so general that they would match a large share of all tags: the top two or three
// levels of the noun hierarchy, named by each synset's first word (the synset's other words go
// with it: "unit", "physical object", "cause", ...).
constexpr std::string_view kTooGeneral[] = {
    "entity", "physical entity", "abstraction", "object",       "whole",         "thing",
    "matter", "substance",       "solid",       "causal agent", "communication",
};

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool TooGeneral(const text::WordNetSynset& s) {
  return std::find(std::begin(kTooGeneral), std::end(kTooGeneral), Lower(s.words.front())) !=
         std::end(kTooGeneral);
}

}  // namespace

Status ObjectDetector::LoadTagTerms(const std::string& dir) {
  MOSAIC_ASSIGN_OR_RETURN(auto wordnet, text::WordNet::Open(dir));
  for (int c = 0; c < kCocoClasses; ++c) {
    const std::string label(kCocoLabels[c]);
    std::string lemma = label;
    int sense = 1;
    for (const WordNetSense& o : kSenseOverrides) {
      if (o.label == label) {
        lemma = o.lemma;
        sense = o.sense;
      }
    }
    const std::vector<uint32_t> senses = wordnet->Senses(lemma);
    if (static_cast<int>(senses.size()) < sense) {
      return Status::NotFound("WordNet in " + dir + " has no sense " + std::to_string(sense) +
                              " of noun '" + lemma + "' for COCO class '" + label + "'");
    }
    MOSAIC_ASSIGN_OR_RETURN(auto synset, wordnet->Synset(senses[sense - 1]));
    MOSAIC_ASSIGN_OR_RETURN(auto hypernyms, wordnet->Hypernyms(synset.offset));
    std::vector<std::string>& terms = tag_terms_[c];
    const auto add = [&](const std::string& word) {
      std::string t = Lower(word);
      if (std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(std::move(t));
    };
    // The label as COCO spells it, then the synset's own words, then the broader ones nearest
    // first, so that a consumer that keeps only the first few terms keeps the most specific.
    add(label);
    for (const auto& w : synset.words) {
      add(w);
    }
    for (const auto& h : hypernyms) {
      if (TooGeneral(h)) continue;
      for (const auto& w : h.words) {
        add(w);
      }
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<ObjectDetector>> ObjectDetector::Open(const std::string& model_path,
                                                             const ObjectDetectorOptions& options,
                                                             const SessionOptions& session_options) {
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(model_path, session_options));
  std::unique_ptr<ObjectDetector> det(new ObjectDetector());
  det->options_ = options;
  det->session_ = session;
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(model_path + ": not a CenterNet or NanoDet detector (" + why +
                                   "); graph has " + session->Signature());
  };
  if (session->inputs().size() != 1) return bad("expected one image input");
  const TensorSpec& in = session->inputs()[0];
  const auto& s = in.shape;
  if (in.type != TensorType::kFloat || s.size() != 4 || !BatchOk(s[0])) return bad("expected a float [1,H,W,C] input");
  det->input_name_ = in.name;

  if (s[3] == 3 && s[1] > 0 && s[1] == s[2]) {
    // CenterNet: NHWC, decoded detections [1,K,6].
    for (const auto& out : session->outputs()) {
      if (out.shape.size() == 3 && BatchOk(out.shape[0]) && out.shape[2] == 6 &&
          (det->centernet_output_.empty() || out.name == "tower_0_detections")) {
        det->centernet_output_ = out.name;
      }
    }
    if (det->centernet_output_.empty()) return bad("no [1,K,6] detections output");
    det->arch_ = Architecture::kCenterNet;
    det->size_ = static_cast<int>(s[1]);
  } else if (s[1] == 3 && s[2] > 0 && s[2] == s[3]) {
    // NanoDet: NCHW, per level class scores [1,HW,80] and box distributions [1,HW,4*bins].
    det->arch_ = Architecture::kNanoDet;
    det->size_ = static_cast<int>(s[2]);
    std::map<int64_t, NanoDetLevel> by_cells;
    for (const auto& out : session->outputs()) {
      if (out.shape.size() != 3 || !BatchOk(out.shape[0]) || out.shape[1] <= 0) return bad("unexpected output " + out.name);
      const int64_t cells = out.shape[1];
      const int grid = static_cast<int>(std::lround(std::sqrt(static_cast<double>(cells))));
      if (int64_t{grid} * grid != cells || det->size_ % grid != 0) return bad("output " + out.name + " is not a square grid");
      NanoDetLevel& level = by_cells[cells];
      level.grid = grid;
      if (out.shape[2] == kCocoClasses) {
        level.scores = out.name;
      } else if (out.shape[2] % 4 == 0 && out.shape[2] >= 8) {
        level.boxes = out.name;
        level.bins = static_cast<int>(out.shape[2] / 4);
      } else {
        return bad("output " + out.name + " is neither 80 class scores nor 4 box distributions");
      }
    }
    for (auto& [cells, level] : by_cells) {
      if (level.scores.empty() || level.boxes.empty()) return bad("a grid level lacks its scores or boxes output");
      det->levels_.push_back(level);
    }
    if (det->levels_.empty()) return bad("no outputs");
  } else {
    return bad("input is neither [1,S,S,3] nor [1,3,S,S]");
  }
  det->info_.model = options.model_name;
  det->info_.family = det->arch_ == Architecture::kCenterNet ? "centernet" : "nanodet";
  det->info_.modality = Modality::kImage;
  det->info_.dim = 0;
  if (!options.wordnet_dir.empty()) {
    det->wordnet_status_ = det->LoadTagTerms(options.wordnet_dir);
    if (!det->wordnet_status_.ok()) det->tag_terms_ = {};
  }
  return det;
}

Result<std::vector<Detection>> ObjectDetector::RunCenterNet(const media::Image& resized) {
  // NHWC floats 0..255, as the human library feeds resizeBilinear output straight in.
  std::vector<float> pixels(resized.pixels.begin(), resized.pixels.end());
  const Tensor x = Tensor::Float({1, size_, size_, 3}, std::move(pixels));
  MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &x}}, {centernet_output_}));
  const Tensor& d = outs[0];
  std::vector<Detection> found;
  for (int64_t k = 0; k + 6 <= d.elements(); k += 6) {
    const float* r = d.f32.data() + k;
    const float cls = r[5];
    if (!(r[4] >= options_.score_threshold) || !(cls >= 0 && cls < kCocoClasses)) continue;
    found.push_back({static_cast<int>(cls), r[4], r[0], r[1], r[2], r[3]});
  }
  return found;
}

Result<std::vector<Detection>> ObjectDetector::RunNanoDet(const media::Image& resized) {
  // NCHW, BGR, each channel standardized with the mean and deviation NanoDet was trained with
  // (its configs' `normalize`; OpenCV images are BGR). The human library feeds RGB 0..1 instead,
  // which the graph takes without complaint but answers worse: at 0.3 on the hand-labelled dev
  // photos it found 10 of 28 labels with 31% of its tags right, against 17 and 40% fed this way
  // (docs/benchmarks.md#tag-quality).
  static constexpr float kMean[3] = {103.53f, 116.28f, 123.675f};  // B, G, R
  static constexpr float kStd[3] = {57.375f, 57.12f, 58.395f};
  const size_t plane = static_cast<size_t>(size_) * size_;
  std::vector<float> pixels(3 * plane);
  if (options_.nanodet_unit_rgb_input) {
    for (size_t i = 0; i < plane; ++i) {
      for (int c = 0; c < 3; ++c) pixels[c * plane + i] = resized.pixels[3 * i + c] / 255.f;
    }
  } else {
    for (size_t i = 0; i < plane; ++i) {
      for (int c = 0; c < 3; ++c) pixels[c * plane + i] = (resized.pixels[3 * i + (2 - c)] - kMean[c]) / kStd[c];
    }
  }
  const Tensor x = Tensor::Float({1, 3, size_, size_}, std::move(pixels));
  std::vector<std::string> names;
  for (const auto& l : levels_) {
    names.push_back(l.scores);
    names.push_back(l.boxes);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &x}}, names));
  std::vector<Detection> found;
  std::vector<float> prob;
  for (size_t li = 0; li < levels_.size(); ++li) {
    const NanoDetLevel& l = levels_[li];
    const float* scores = outs[2 * li].f32.data();
    const float* dist = outs[2 * li + 1].f32.data();
    const float stride = static_cast<float>(size_) / l.grid;
    const int cells = l.grid * l.grid;
    for (int i = 0; i < cells; ++i) {
      const float* sc = scores + static_cast<size_t>(i) * kCocoClasses;
      const int best = static_cast<int>(std::max_element(sc, sc + kCocoClasses) - sc);
      if (!(sc[best] >= options_.score_threshold)) continue;
      // Each side's distance is the expectation of a softmax over bins 0..bins-1, in strides
      // (Generalized Focal Loss), measured from the cell centre.
      float side[4];
      for (int k = 0; k < 4; ++k) {
        const float* logits = dist + (static_cast<size_t>(i) * 4 + k) * l.bins;
        const float m = *std::max_element(logits, logits + l.bins);
        float sum = 0, acc = 0;
        for (int b = 0; b < l.bins; ++b) {
          const float e = std::exp(logits[b] - m);
          sum += e;
          acc += e * b;
        }
        side[k] = acc / sum * stride;
      }
      const float cx = (static_cast<float>(i % l.grid) + 0.5f) * stride;
      const float cy = (static_cast<float>(i / l.grid) + 0.5f) * stride;
      for (int c = 0; c < kCocoClasses; ++c) {
        if (sc[c] >= options_.score_threshold) {
          found.push_back({c, sc[c], cx - side[0], cy - side[1], cx + side[2], cy + side[3]});
        }
      }
    }
  }
  return found;
}

Result<std::vector<Detection>> ObjectDetector::Detect(const media::Image& image) {
  if (image.empty() || image.channels != 3) {
    return Status::InvalidArgument("object detector needs a non-empty RGB image, got " + std::to_string(image.width) +
                                   "x" + std::to_string(image.height) + "x" + std::to_string(image.channels));
  }
  const media::Image resized = media::Resize(image, size_, size_, media::ResizeFilter::kBilinear);
  std::vector<Detection> found;
  if (arch_ == Architecture::kCenterNet) {
    MOSAIC_ASSIGN_OR_RETURN(found, RunCenterNet(resized));
  } else {
    MOSAIC_ASSIGN_OR_RETURN(found, RunNanoDet(resized));
  }
  const float sx = static_cast<float>(image.width) / size_;
  const float sy = static_cast<float>(image.height) / size_;
  for (Detection& d : found) {
    d.x0 = std::clamp(d.x0 * sx, 0.f, static_cast<float>(image.width));
    d.x1 = std::clamp(d.x1 * sx, 0.f, static_cast<float>(image.width));
    d.y0 = std::clamp(d.y0 * sy, 0.f, static_cast<float>(image.height));
    d.y1 = std::clamp(d.y1 * sy, 0.f, static_cast<float>(image.height));
  }
  std::erase_if(found, [](const Detection& d) { return d.x1 <= d.x0 || d.y1 <= d.y0; });
  // NMS keeps up to 4x max_objects so that dropping double labels still leaves max_objects.
  auto kept = objects::NonMaxSuppression(std::move(found), options_.iou_threshold, 4 * options_.max_objects);
  kept = objects::DropCrossClassDuplicates(std::move(kept), options_.duplicate_iou);
  if (static_cast<int>(kept.size()) > options_.max_objects) kept.resize(options_.max_objects);
  return kept;
}

nlohmann::json ObjectDetector::ToJson(const std::vector<Detection>& detections) {
  nlohmann::json objs = nlohmann::json::array();
  nlohmann::json tags = nlohmann::json::array();
  for (const Detection& d : detections) {
    const std::string label(kCocoLabels[d.class_id]);
    const auto round1 = [](float v) { return std::round(double(v) * 10) / 10; };  // 76.6, not 76.59999
    objs.push_back({{"label", label},
                    {"confidence", std::round(double(d.score) * 1000) / 1000},
                    {"box", {round1(d.x0), round1(d.y0), round1(d.x1), round1(d.y1)}}});
    if (std::find(tags.begin(), tags.end(), label) == tags.end()) tags.push_back(label);
  }
  return {{"objects", std::move(objs)}, {"tags", std::move(tags)}};
}

Result<std::vector<EncoderOutput>> ObjectDetector::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].image == nullptr) {
      return Status::InvalidArgument("input " + std::to_string(i) + " has no image");
    }
    auto found = Detect(*batch[i].image);
    if (!found.ok()) return found.status().WithContext("input " + std::to_string(i));
    out[i].data = ToJson(*found);
    if (wordnet_status_.ok() && !options_.wordnet_dir.empty()) {
      std::vector<std::string> terms;
      for (const Detection& d : *found) {
        for (const std::string& t : tag_terms_[d.class_id]) {
          if (std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(t);
        }
      }
      out[i].data["tag_terms"] = std::move(terms);
    }
  }
  return out;
}

}  // namespace mosaic::embed
