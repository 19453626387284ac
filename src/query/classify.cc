#include "query/classify.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "query/engine.h"
#include "query/filters.h"
#include "query/vector_math.h"

namespace mosaic::query {
namespace {

Result<const VectorSpec*> SpecFor(const Collection& c, const std::string& name) {
  if (name.empty()) return &c.schema().vectors[0];
  const VectorSpec* spec = c.schema().Find(name);
  if (spec == nullptr)
    return Status::InvalidArgument("collection '" + c.name() + "' has no vector named '" + name +
                                   "'; it has: " + VectorNames(c.schema()));
  return spec;
}

Result<Filter> HasField(const std::string& field) {
  return Filter::FromJson({{"must_not", Json::array({{{"is_empty", {{"key", field}}}}})}});
}

}  // namespace

Result<KnnClassifier> KnnClassifier::Fit(const Collection& collection, const KnnOptions& options) {
  KnnClassifier k(collection, options);
  MOSAIC_ASSIGN_OR_RETURN(const VectorSpec* spec, SpecFor(collection, options.using_vector));
  k.options_.using_vector = spec->name;
  k.metric_ = spec->metric;
  if (options.label_field.empty()) return Status::InvalidArgument("kNN needs a label field");
  MOSAIC_ASSIGN_OR_RETURN(Filter has_label, HasField(options.label_field));
  MOSAIC_ASSIGN_OR_RETURN(k.examples_, AndFilters(options.examples, has_label));
  MOSAIC_ASSIGN_OR_RETURN(k.labelled_, collection.Count(&*k.examples_));
  if (k.labelled_ < 2)
    return Status::InvalidArgument("kNN needs at least 2 points with a '" + options.label_field +
                                   "' to learn from; collection '" + collection.name() + "' has " +
                                   std::to_string(k.labelled_));
  if (options.k > k.labelled_)
    return Status::InvalidArgument("k = " + std::to_string(options.k) + " is larger than the " +
                                   std::to_string(k.labelled_) + " labelled points");
  k.k_ = options.k;
  k.weighted_ = options.weighted.value_or(true);
  if (options.k > 0 && options.weighted) return k;

  // Leave-one-out on a seeded sample of the labelled points: each searched among all labelled
  // points with one more neighbour than the largest k, itself left out of the vote.
  std::vector<PointId> ids;
  ScrollRequest sr;
  sr.filter = k.examples_;
  sr.limit = 4096;
  sr.with_payload = false;
  for (;;) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, collection.Scroll(sr));
    for (Point& p : page.points)
      ids.push_back(std::move(p.id));
    if (!page.next_offset) break;
    sr.offset = page.next_offset;
  }
  std::mt19937_64 rng(options.seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  if (ids.size() > options.cv_points) ids.resize(std::max<size_t>(options.cv_points, 1));
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Point> held, collection.Get(ids, true, true));
  const size_t k_max = options.k > 0 ? options.k : std::min<size_t>(31, k.labelled_ - 1);
  std::vector<SearchRequest> requests;
  std::vector<const Point*> queries;
  for (const Point& p : held) {
    auto v = p.vectors.find(spec->name);
    if (v == p.vectors.end()) continue;
    SearchRequest q;
    q.vector_name = spec->name;
    q.vector = v->second;
    q.limit = k_max + 1;
    q.filter = k.examples_;
    q.with_payload = true;
    requests.push_back(std::move(q));
    queries.push_back(&p);
  }
  if (requests.empty())
    return Status::InvalidArgument("no labelled point has vector '" + spec->name + "'");
  MOSAIC_ASSIGN_OR_RETURN(auto results, collection.SearchBatch(requests));

  std::vector<size_t> ks;
  if (options.k > 0) {
    ks = {options.k};
  } else {
    for (size_t c = 1; c <= k_max; c += 2)
      ks.push_back(c);
  }
  std::vector<bool> votes;
  if (options.weighted) {
    votes = {*options.weighted};
  } else {
    votes = {false, true};
  }
  const CvRow* best = nullptr;
  for (size_t c : ks)
    for (bool w : votes) {
      size_t right = 0;
      for (size_t i = 0; i < results.size(); ++i) {
        Prediction p = k.Vote(results[i], c, w, &queries[i]->id);
        if (p.label == PayloadValue(queries[i]->payload, options.label_field)) ++right;
      }
      k.cv_.push_back({c, w, static_cast<double>(right) / results.size()});
    }
  for (const CvRow& row : k.cv_)
    if (best == nullptr || row.accuracy > best->accuracy + 1e-12) best = &row;
  k.k_ = best->k;
  k.weighted_ = best->weighted;
  return k;
}

Prediction KnnClassifier::Vote(const std::vector<ScoredPoint>& hits, size_t k, bool weighted,
                               const PointId* skip) const {
  // Labels keyed by their JSON text, in the order of their nearest voter (which breaks ties).
  std::vector<std::pair<Json, float>> tally;
  std::map<std::string, size_t> at;
  size_t used = 0;
  double total = 0;
  for (const ScoredPoint& h : hits) {
    if (used == k) break;
    if (skip != nullptr && h.id == *skip) continue;
    ++used;
    Json label = h.payload ? PayloadValue(*h.payload, options_.label_field) : Json();
    if (label.is_null()) continue;
    // Distance-weighted (1 / distance): a near neighbour outvotes several far ones.
    const double distance = metric_ == Metric::kL2 ? h.score : 1.0 - h.score;
    const double w = weighted ? 1.0 / (std::max(distance, 0.0) + 1e-6) : 1.0;
    auto [it, fresh] = at.emplace(label.dump(), tally.size());
    if (fresh) tally.emplace_back(std::move(label), 0.0f);
    tally[it->second].second += static_cast<float>(w);
    total += w;
  }
  std::stable_sort(tally.begin(), tally.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  Prediction p;
  if (tally.empty()) return p;
  p.label = tally[0].first;
  p.confidence = static_cast<float>(tally[0].second / total);
  for (auto& [label, score] : tally)
    p.scores.emplace_back(label, static_cast<float>(score / total));
  return p;
}

Result<std::vector<Prediction>> KnnClassifier::PredictBatch(
    const std::vector<std::vector<float>>& vectors) const {
  std::vector<SearchRequest> requests(vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    requests[i].vector_name = options_.using_vector;
    requests[i].vector = vectors[i];
    requests[i].limit = k_;
    requests[i].filter = examples_;
    requests[i].with_payload = true;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto results, c_->SearchBatch(requests));
  std::vector<Prediction> out;
  out.reserve(results.size());
  for (const auto& hits : results)
    out.push_back(Vote(hits, k_, weighted_, nullptr));
  return out;
}

Result<Prediction> KnnClassifier::Predict(const std::vector<float>& vector) const {
  MOSAIC_ASSIGN_OR_RETURN(auto out, PredictBatch({vector}));
  return out[0];
}

Result<ZeroShotClassifier> ZeroShotClassifier::Create(const Collection& collection,
                                                      InputEncoder& encoder,
                                                      const ZeroShotOptions& options) {
  const std::vector<std::string> text_vectors = encoder.TextVectors();
  ZeroShotClassifier z;
  z.using_ = options.using_vector.empty() && !text_vectors.empty() ? text_vectors[0]
                                                                   : options.using_vector;
  if (!z.using_.empty()) MOSAIC_RETURN_IF_ERROR(SpecFor(collection, z.using_).status());
  if (std::find(text_vectors.begin(), text_vectors.end(), z.using_) == text_vectors.end())
    return Status::InvalidArgument(
        "zero-shot classification needs a text model that shares a vector space with the "
        "collection's media" +
        (z.using_.empty() ? std::string() : " (vector '" + z.using_ + "')") + "; collection '" +
        collection.name() +
        "' has none: ingest it with a CLIP model installed (mosaic models pull clip-vit-b32), or "
        "classify by kNN "
        "from labelled points");
  if (options.labels.size() < 2)
    return Status::InvalidArgument("zero-shot classification needs at least 2 labels, got " +
                                   std::to_string(options.labels.size()));
  for (const std::string& label : options.labels) {
    if (label.empty()) return Status::InvalidArgument("a zero-shot label is empty");
    if (std::count(options.labels.begin(), options.labels.end(), label) > 1)
      return Status::InvalidArgument("zero-shot label '" + label + "' is given twice");
    std::string text = options.prompt;
    const size_t at = text.find("{}");
    text = at == std::string::npos ? text + " " + label : text.replace(at, 2, label);
    MOSAIC_ASSIGN_OR_RETURN(EncodedInput e, encoder.Encode(Input::Text(text)));
    auto v = e.vectors.find(z.using_);
    if (v == e.vectors.end())
      return Status::Internal("the text model gave no '" + z.using_ + "' vector for '" + text +
                              "'");
    z.labels_.push_back(label);
    z.label_vectors_.push_back(Normalized(v->second));
  }
  z.logit_scale_ = options.logit_scale;
  return z;
}

Prediction ZeroShotClassifier::Predict(const std::vector<float>& vector) const {
  const std::vector<float> v = Normalized(vector);
  std::vector<double> logits(labels_.size());
  double top = -1e300;
  for (size_t i = 0; i < labels_.size(); ++i) {
    double dot = 0;
    for (size_t d = 0; d < v.size() && d < label_vectors_[i].size(); ++d)
      dot += static_cast<double>(v[d]) * label_vectors_[i][d];
    logits[i] = logit_scale_ * dot;
    top = std::max(top, logits[i]);
  }
  double sum = 0;
  for (double& l : logits)
    sum += (l = std::exp(l - top));
  Prediction p;
  for (size_t i = 0; i < labels_.size(); ++i)
    p.scores.emplace_back(Json(labels_[i]), static_cast<float>(logits[i] / sum));
  std::stable_sort(p.scores.begin(), p.scores.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  p.label = p.scores[0].first;
  p.confidence = p.scores[0].second;
  return p;
}

Result<std::vector<Prediction>> ClassifyPoints(
    Collection& collection, const std::string& using_vector, const ClassifyRun& run,
    const std::function<Result<std::vector<Prediction>>(const std::vector<std::vector<float>>&)>&
        predict) {
  MOSAIC_ASSIGN_OR_RETURN(const VectorSpec* spec, SpecFor(collection, using_vector));
  std::optional<Filter> filter = run.filter;
  if (run.skip_labelled && !run.label_field.empty()) {
    MOSAIC_ASSIGN_OR_RETURN(
        Filter unlabelled,
        Filter::FromJson({{"must", Json::array({{{"is_empty", {{"key", run.label_field}}}}})}}));
    MOSAIC_ASSIGN_OR_RETURN(filter, AndFilters(filter, unlabelled));
  }
  std::vector<Prediction> out;
  ScrollRequest sr;
  sr.filter = filter;
  sr.limit = std::max<size_t>(run.batch, 1);
  sr.with_payload = false;
  sr.with_vectors = true;
  for (;;) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, collection.Scroll(sr));
    std::vector<std::vector<float>> vectors;
    std::vector<PointId> ids;
    for (Point& p : page.points) {
      auto v = p.vectors.find(spec->name);
      if (v == p.vectors.end()) continue;
      vectors.push_back(std::move(v->second));
      ids.push_back(std::move(p.id));
    }
    if (!vectors.empty()) {
      MOSAIC_ASSIGN_OR_RETURN(std::vector<Prediction> got, predict(vectors));
      for (size_t i = 0; i < got.size(); ++i) {
        got[i].id = ids[i];
        out.push_back(std::move(got[i]));
      }
    }
    if (!page.next_offset) break;
    sr.offset = page.next_offset;
  }
  if (run.write_field.empty()) return out;
  // One write per (label, confidence to two places), not one per point: a small log.
  std::map<std::pair<std::string, int>, std::vector<PointId>> writes;
  for (const Prediction& p : out)
    if (!p.label.is_null())
      writes[{p.label.dump(), static_cast<int>(std::lround(p.confidence * 100))}].push_back(p.id);
  for (const auto& [key, ids] : writes) {
    Json patch = {{run.write_field, Json::parse(key.first)},
                  {run.write_field + "_confidence", key.second / 100.0}};
    MOSAIC_RETURN_IF_ERROR(collection.SetPayload(ids, patch));
  }
  return out;
}

}  // namespace mosaic::query
