// Classification of a collection's points: kNN from the points that carry a label (majority or
// distance-weighted vote, k and the vote chosen by leave-one-out cross-validation on the labelled
// points), and zero-shot against text labels through a text model that shares the vector space
// (CLIP). Predictions can be written back to the payload (docs/applications.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "query/input.h"

namespace mosaic::query {

struct Prediction {
  PointId id;
  Json label;            // the label's value as stored (string or number)
  float confidence = 0;  // the winner's share of the vote (kNN) or its softmax probability
  std::vector<std::pair<Json, float>> scores;  // every label voted for, best first
};

struct KnnOptions {
  std::string using_vector;  // "": the schema's first vector
  std::string label_field = "label";
  std::optional<Filter> examples;  // restricts the labelled examples (ANDed with "has a label")
  size_t k = 0;                    // 0: chosen by cross-validation from {1, 3, 5, ..., 31}
  std::optional<bool> weighted;    // unset: chosen by cross-validation with k
  size_t cv_points = 2000;         // labelled points held out one at a time to choose k
  uint64_t seed = 1;               // which labelled points are held out
};

// One row of the cross-validation: leave-one-out accuracy of k neighbours with a vote.
struct CvRow {
  size_t k = 0;
  bool weighted = false;
  double accuracy = 0;
};

class KnnClassifier {
 public:
  // Reads the labelled examples' count and, unless k and the vote are given, chooses them by
  // leave-one-out accuracy on up to cv_points labelled points. InvalidArgument for an unknown
  // vector (listing the collection's) or when fewer than 2 points carry a label; k larger than
  // the labelled points is InvalidArgument naming both.
  static Result<KnnClassifier> Fit(const Collection& collection, const KnnOptions& options);

  // The label of a vector of the classifier's space.
  Result<Prediction> Predict(const std::vector<float>& vector) const;
  // Labels for many vectors (one batched search).
  Result<std::vector<Prediction>> PredictBatch(
      const std::vector<std::vector<float>>& vectors) const;

  size_t k() const { return k_; }
  bool weighted() const { return weighted_; }
  uint64_t labelled() const { return labelled_; }
  const std::vector<CvRow>& cv() const { return cv_; }  // empty when nothing was chosen

 private:
  KnnClassifier(const Collection& c, KnnOptions o) : c_(&c), options_(std::move(o)) {}
  // Votes of `hits` (best first; `skip` is left out: a held-out point itself).
  Prediction Vote(const std::vector<ScoredPoint>& hits, size_t k, bool weighted,
                  const PointId* skip) const;

  const Collection* c_;
  KnnOptions options_;
  Metric metric_ = Metric::kCosine;
  std::optional<Filter> examples_;  // has a label, and options.examples
  size_t k_ = 0;
  bool weighted_ = true;
  uint64_t labelled_ = 0;
  std::vector<CvRow> cv_;
};

// Zero-shot: each label as a text ("a photo of a {label}" by default) through the encoder's text
// model, each point's vector compared with every label by cosine, probabilities by a softmax at
// CLIP's temperature (logit scale 100). InvalidArgument when the collection has no text model in
// the vector's space, naming the vector.
struct ZeroShotOptions {
  std::string using_vector;  // "": the first of encoder.TextVectors()
  std::vector<std::string> labels;
  std::string prompt = "a photo of a {}";
  float logit_scale = 100;
};

class ZeroShotClassifier {
 public:
  static Result<ZeroShotClassifier> Create(const Collection& collection, InputEncoder& encoder,
                                           const ZeroShotOptions& options);
  Prediction Predict(const std::vector<float>& vector) const;
  const std::string& using_vector() const { return using_; }

 private:
  std::string using_;
  std::vector<std::string> labels_;
  std::vector<std::vector<float>> label_vectors_;  // normalized
  float logit_scale_ = 100;
};

// Which points to classify and where the labels go.
struct ClassifyRun {
  std::optional<Filter> filter;  // the points to label (those with the vector)
  bool skip_labelled = true;     // leave points that already carry `label_field` alone (kNN)
  std::string label_field;       // kNN's label field (for skip_labelled)
  std::string write_field;       // "": only report; else {FIELD: label, FIELD_confidence: p}
  size_t batch = 256;
};

// Runs `predict` over the points (in id order, by pages) and writes back on request. Returns
// the predictions in id order.
Result<std::vector<Prediction>> ClassifyPoints(
    Collection& collection, const std::string& using_vector, const ClassifyRun& run,
    const std::function<Result<std::vector<Prediction>>(const std::vector<std::vector<float>>&)>&
        predict);

}  // namespace mosaic::query
