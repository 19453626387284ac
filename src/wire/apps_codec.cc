#include "wire/apps_codec.h"

#include <algorithm>
#include <cmath>

#include "wire/json_reader.h"

namespace mosaic::wire {
namespace {

Result<std::vector<query::Input>> Inputs(const Json& j, const std::string& at,
                                         const QueryCodecOptions& o) {
  if (!j.is_array()) return Status::InvalidArgument(at + ": expected an array, got " + Shown(j));
  std::vector<query::Input> out;
  for (size_t i = 0; i < j.size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(query::Input in,
                            InputFromJson(j[i], at + "[" + std::to_string(i) + "]", o));
    out.push_back(std::move(in));
  }
  return out;
}

Result<std::optional<Filter>> FilterField(const JsonReader& r) {
  if (!r.Has("filter") || r.At("filter").is_null()) return std::optional<Filter>();
  auto f = Filter::FromJson(r.At("filter"));
  if (!f.ok()) return Status::InvalidArgument(r.Path("filter") + ": " + f.status().message());
  return std::optional<Filter>(std::move(f).value());
}

// A string that is present and not empty.
Result<std::string> RequiredString(const JsonReader& r, const char* key) {
  MOSAIC_ASSIGN_OR_RETURN(auto v, r.String(key));
  if (!v) return Status::InvalidArgument(r.Path(key) + ": required");
  if (v->empty()) return Status::InvalidArgument(r.Path(key) + ": expected a non-empty string");
  return *v;
}

// An integer in [lo, hi], or nothing when absent (or null).
Result<std::optional<size_t>> SizeIn(const JsonReader& r, const char* key, size_t lo, size_t hi) {
  if (!r.Has(key) || r.At(key).is_null()) return std::optional<size_t>();
  const Json& v = r.At(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi)
    return Status::InvalidArgument(r.Path(key) + ": expected an integer from " +
                                   std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
                                   Shown(v));
  return std::optional<size_t>(static_cast<size_t>(v.get<uint64_t>()));
}

// A payload field to write to: absent, or a non-empty string.
Result<std::string> WriteField(const JsonReader& r) {
  MOSAIC_ASSIGN_OR_RETURN(auto v, r.String("write_field"));
  if (v && v->empty())
    return Status::InvalidArgument(r.Path("write_field") + ": expected a field name, got \"\"");
  return v.value_or("");
}

double Rounded(double x) {
  return std::round(x * 1e4) / 1e4;
}

}  // namespace

Result<query::RecommendRequest> RecommendRequestFromJson(const Json& j,
                                                         const QueryCodecOptions& o) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(
      r.Expect({"positive", "negative", "strategy", "history", "half_life", "exclude_seen", "using",
                "filter", "limit", "offset", "explain"}));
  query::RecommendRequest q;
  if (r.Has("positive")) {
    MOSAIC_ASSIGN_OR_RETURN(q.positive, Inputs(j["positive"], "positive", o));
  }
  if (r.Has("negative")) {
    MOSAIC_ASSIGN_OR_RETURN(q.negative, Inputs(j["negative"], "negative", o));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto strategy, r.String("strategy"));
  if (strategy && *strategy == "best_score") {
    q.strategy = query::RecommendStrategy::kBestScore;
  } else if (strategy && *strategy != "average_vector") {
    return Status::InvalidArgument(
        "strategy: expected \"average_vector\" or \"best_score\", got \"" + *strategy + "\"");
  }
  if (r.Has("history")) {
    const Json& h = j["history"];
    if (!h.is_array())
      return Status::InvalidArgument("history: expected an array, got " + Shown(h));
    std::string lines;  // the same grammar as a history file, one line per element
    for (const Json& e : h)
      lines += e.dump() + "\n";
    auto parsed = query::ParseHistory(lines);
    if (!parsed.ok()) return Status::InvalidArgument("history: " + parsed.status().message());
    q.history = std::move(parsed).value();
  }
  MOSAIC_ASSIGN_OR_RETURN(auto half_life, r.Number("half_life"));
  if (half_life) {
    if (!(*half_life >= 0))
      return Status::InvalidArgument("half_life: expected seconds >= 0, got " +
                                     Shown(j["half_life"]));
    q.half_life_s = *half_life;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto exclude, r.Bool("exclude_seen"));
  if (exclude) q.exclude_seen = *exclude;
  MOSAIC_ASSIGN_OR_RETURN(auto using_vector, r.String("using"));
  if (using_vector) q.using_vector = *using_vector;
  if (r.Has("filter")) {
    auto f = Filter::FromJson(j["filter"]);
    if (!f.ok()) return Status::InvalidArgument("filter: " + f.status().message());
    q.filter = std::move(f).value();
  }
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", 10000));
  if (limit) {
    if (*limit == 0) return Status::InvalidArgument("limit: expected at least 1, got 0");
    q.limit = *limit;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto offset, r.Size("offset", 1000000));
  if (offset) q.offset = *offset;
  MOSAIC_ASSIGN_OR_RETURN(auto explain, r.Bool("explain"));
  if (explain) q.explain = *explain;
  return q;
}

Result<ClassifyRequest> ClassifyRequestFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"ids", "filter", "using", "write_field", "limit", "label_field",
                                   "k", "vote", "cv_points", "labels", "prompt"}));
  ClassifyRequest q;
  q.zero_shot = r.Has("labels");
  if (q.zero_shot) {
    for (const char* knn_only : {"label_field", "k", "vote", "cv_points"})
      if (r.Has(knn_only))
        return Status::InvalidArgument(std::string(knn_only) +
                                       ": zero-shot (\"labels\") does not take it; kNN does");
    const Json& labels = j["labels"];
    if (!labels.is_array() || labels.empty())
      return Status::InvalidArgument("labels: expected a non-empty array of texts, got " +
                                     Shown(labels));
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!labels[i].is_string() || labels[i].get<std::string>().empty())
        return Status::InvalidArgument("labels[" + std::to_string(i) +
                                       "]: expected a non-empty text, got " + Shown(labels[i]));
      q.zero_shot_options.labels.push_back(labels[i].get<std::string>());
    }
    MOSAIC_ASSIGN_OR_RETURN(auto prompt, r.String("prompt"));
    if (prompt) q.zero_shot_options.prompt = *prompt;
  } else {
    if (r.Has("prompt"))
      return Status::InvalidArgument("prompt: only zero-shot (\"labels\") takes it");
    MOSAIC_ASSIGN_OR_RETURN(auto field, r.String("label_field"));
    if (field) {
      if (field->empty())
        return Status::InvalidArgument("label_field: expected a field name, got \"\"");
      q.knn.label_field = *field;
    }
    MOSAIC_ASSIGN_OR_RETURN(auto k, r.Size("k", 10000));
    q.knn.k = k.value_or(0);
    MOSAIC_ASSIGN_OR_RETURN(auto vote, r.String("vote"));
    if (vote) {
      if (*vote != "majority" && *vote != "weighted")
        return Status::InvalidArgument("vote: expected \"majority\" or \"weighted\", got \"" +
                                       *vote + "\"");
      q.knn.weighted = *vote == "weighted";
    }
    MOSAIC_ASSIGN_OR_RETURN(auto cv, SizeIn(r, "cv_points", 1, 100000));
    if (cv) q.knn.cv_points = *cv;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto using_vector, r.String("using"));
  q.knn.using_vector = q.zero_shot_options.using_vector = using_vector.value_or("");
  MOSAIC_ASSIGN_OR_RETURN(q.run.write_field, WriteField(r));
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", 1000000));
  if (limit) q.limit = *limit;

  MOSAIC_ASSIGN_OR_RETURN(std::optional<Filter> filter, FilterField(r));
  if (r.Has("ids")) {
    const Json& ids = j["ids"];
    if (!ids.is_array() || ids.empty())
      return Status::InvalidArgument("ids: expected a non-empty array of point ids, got " +
                                     Shown(ids));
    for (size_t i = 0; i < ids.size(); ++i) {
      auto id = PointId::FromJson(ids[i]);
      if (!id.ok())
        return Status::InvalidArgument("ids[" + std::to_string(i) + "]: " + id.status().message());
      q.ids.push_back(std::move(id).value());
    }
    Json must = Json::array({{{"has_id", ids}}});
    if (filter) must.push_back(filter->json());
    MOSAIC_ASSIGN_OR_RETURN(filter, Filter::FromJson({{"must", std::move(must)}}));
  }
  q.run.filter = std::move(filter);
  if (!q.zero_shot) {
    q.run.label_field = q.knn.label_field;
    q.run.skip_labelled = q.ids.empty();
  }
  return q;
}

Json KnnClassifierToJson(const query::KnnClassifier& knn) {
  Json j = {{"method", "knn"},
            {"k", knn.k()},
            {"vote", knn.weighted() ? "weighted" : "majority"},
            {"labelled", knn.labelled()}};
  if (!knn.cv().empty()) {
    Json rows = Json::array();
    double best = 0;
    for (const query::CvRow& row : knn.cv()) {
      rows.push_back({{"k", row.k},
                      {"vote", row.weighted ? "weighted" : "majority"},
                      {"accuracy", row.accuracy}});
      best = std::max(best, row.accuracy);
    }
    j["cross_validation"] = std::move(rows);
    j["cv_accuracy"] = best;
  }
  return j;
}

Json PredictionToJson(const query::Prediction& p) {
  Json scores = Json::array();
  for (const auto& [label, score] : p.scores)
    scores.push_back({{"label", label}, {"score", score}});
  return {{"id", p.id.ToJson()},
          {"label", p.label},
          {"confidence", p.confidence},
          {"scores", std::move(scores)}};
}

Result<ClusterRequest> ClusterRequestFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"k", "sweep", "using", "filter", "write_field", "centroids",
                                   "seed", "iterations", "sample"}));
  ClusterRequest q;
  query::ClusterOptions& o = q.options;
  if (r.Has("k") == r.Has("sweep"))
    return Status::InvalidArgument(
        "give \"k\" (the number of clusters) or \"sweep\" ({\"from\", "
        "\"to\"}: k is chosen in that range), not both or neither");
  if (r.Has("k")) {
    MOSAIC_ASSIGN_OR_RETURN(auto k, SizeIn(r, "k", 1, 100000));
    o.kmeans.k = *k;
  } else {
    JsonReader s(j["sweep"], "sweep");
    MOSAIC_RETURN_IF_ERROR(s.Expect({"from", "to", "by"}));
    MOSAIC_ASSIGN_OR_RETURN(auto from, SizeIn(s, "from", 2, 100000));
    MOSAIC_ASSIGN_OR_RETURN(auto to, SizeIn(s, "to", 2, 100000));
    if (!from || !to)
      return Status::InvalidArgument("sweep: expected {\"from\", \"to\"}, got " +
                                     Shown(j["sweep"]));
    if (*from > *to)
      return Status::InvalidArgument("sweep: \"from\" " + std::to_string(*from) +
                                     " is larger than \"to\" " + std::to_string(*to));
    o.sweep_from = *from;
    o.sweep_to = *to;
    MOSAIC_ASSIGN_OR_RETURN(auto by, s.String("by"));
    if (by && *by == "elbow") {
      o.sweep_by = query::SweepCriterion::kElbow;
    } else if (by && *by != "silhouette") {
      return Status::InvalidArgument("sweep.by: expected \"silhouette\" or \"elbow\", got \"" +
                                     *by + "\"");
    }
  }
  MOSAIC_ASSIGN_OR_RETURN(auto using_vector, r.String("using"));
  o.using_vector = using_vector.value_or("");
  MOSAIC_ASSIGN_OR_RETURN(o.filter, FilterField(r));
  MOSAIC_ASSIGN_OR_RETURN(o.write_field, WriteField(r));
  MOSAIC_ASSIGN_OR_RETURN(auto centroids, r.Bool("centroids"));
  o.write_centroids = centroids.value_or(false);
  MOSAIC_ASSIGN_OR_RETURN(auto seed, r.Size("seed"));
  if (seed) o.kmeans.seed = *seed;
  MOSAIC_ASSIGN_OR_RETURN(auto iterations, SizeIn(r, "iterations", 1, 1000));
  if (iterations) o.kmeans.max_iterations = *iterations;
  MOSAIC_ASSIGN_OR_RETURN(auto sample, r.Size("sample", 1000));
  if (sample) q.sample = *sample;
  return q;
}

Json ClusterResultToJson(const query::ClusterResult& r, const query::ClusterOptions& o,
                         size_t sample) {
  const query::KMeansResult& km = r.kmeans;
  // Per cluster, the members nearest its centroid (ties by scroll order).
  std::vector<std::vector<std::pair<float, size_t>>> by_cluster(km.k);
  for (size_t i = 0; i < r.ids.size(); ++i)
    by_cluster[km.labels[i]].emplace_back(km.distances[i], i);
  Json clusters = Json::array();
  for (size_t c = 0; c < km.k; ++c) {
    auto& members = by_cluster[c];
    const size_t take = std::min(sample, members.size());
    std::partial_sort(members.begin(), members.begin() + take, members.end());
    Json ids = Json::array();
    for (size_t t = 0; t < take; ++t)
      ids.push_back(r.ids[members[t].second].ToJson());
    clusters.push_back({{"id", c}, {"size", km.sizes[c]}, {"sample", std::move(ids)}});
  }
  Json j = {{"collection", r.collection},
            {"vector", r.using_vector},
            {"points", r.ids.size()},
            {"without_vector", r.without_vector},
            {"k", km.k},
            {"inertia", km.inertia},
            {"iterations", km.iterations},
            {"splits", km.splits},
            {"centroids_collection",
             r.centroids_collection.empty() ? Json(nullptr) : Json(r.centroids_collection)},
            {"written", o.write_field.empty() ? Json(nullptr) : Json(o.write_field)},
            {"clusters", std::move(clusters)}};
  if (r.sweep) {
    Json curve = Json::array();
    for (const auto& p : r.sweep->curve)
      curve.push_back({{"k", p.k}, {"inertia", p.inertia}, {"silhouette", p.silhouette}});
    j["sweep"] = {{"by", query::SweepCriterionName(r.sweep->by)},
                  {"best_k", r.sweep->best_k},
                  {"curve", std::move(curve)}};
  }
  return j;
}

Result<query::DedupOptions> DedupOptionsFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(
      r.Expect({"threshold", "using", "filter", "linkage", "neighbours", "exact"}));
  query::DedupOptions o;
  MOSAIC_ASSIGN_OR_RETURN(auto threshold, r.Number("threshold"));
  if (threshold) {
    if (!(*threshold > 0 && *threshold <= 1))
      return Status::InvalidArgument("threshold: expected a cosine similarity in (0, 1], got " +
                                     Shown(j["threshold"]));
    o.threshold = static_cast<float>(*threshold);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto using_vector, r.String("using"));
  if (using_vector) o.vector = *using_vector;
  MOSAIC_ASSIGN_OR_RETURN(o.filter, FilterField(r));
  MOSAIC_ASSIGN_OR_RETURN(auto linkage, r.String("linkage"));
  if (linkage) {
    auto parsed = query::ParseDedupLinkage(*linkage);
    if (!parsed.ok()) return Status::InvalidArgument("linkage: " + parsed.status().message());
    o.linkage = *parsed;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto neighbours, SizeIn(r, "neighbours", 1, 10000));
  if (neighbours) o.max_neighbours = *neighbours;
  MOSAIC_ASSIGN_OR_RETURN(auto exact, r.Bool("exact"));
  if (exact) o.exact = *exact;
  return o;
}

Json DedupResultToJson(const query::DedupResult& r, const query::DedupOptions& o) {
  Json groups = Json::array();
  for (const query::DuplicateGroup& g : r.groups) {
    Json copies = Json::array();
    for (const query::DuplicateCopy& c : g.copies)
      copies.push_back({{"id", c.id.ToJson()},
                        {"path", c.path},
                        {"width", c.width},
                        {"height", c.height},
                        {"bytes", c.bytes},
                        {"similarity", Rounded(c.similarity)}});
    groups.push_back(
        {{"min_similarity", Rounded(g.min_similarity)}, {"copies", std::move(copies)}});
  }
  return {{"vector", o.vector},
          {"threshold", o.threshold},
          {"linkage", query::DedupLinkageName(o.linkage)},
          {"points", r.points},
          {"pairs", r.pairs},
          {"groups", std::move(groups)}};
}

Result<query::PeopleClusterOptions> PeopleClusterOptionsFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"threshold", "reset"}));
  query::PeopleClusterOptions o;
  MOSAIC_ASSIGN_OR_RETURN(auto threshold, r.Number("threshold"));
  if (threshold) o.threshold = static_cast<float>(*threshold);
  MOSAIC_ASSIGN_OR_RETURN(auto reset, r.Bool("reset"));
  if (reset) o.reset = *reset;
  return o;
}

Json PeopleClusterReportToJson(const query::ClusterReport& r) {
  return {{"faces", r.faces},
          {"clustered", r.clustered},
          {"joined", r.joined},
          {"new_persons", r.new_persons},
          {"persons", r.persons}};
}

Json PersonSummaryToJson(const query::PersonSummary& p) {
  return {{"id", p.id}, {"name", p.name}, {"faces", p.faces}, {"sample_file", p.sample_file}};
}

Json PersonFaceToJson(const query::PersonFace& f) {
  Json j = {{"id", f.id.ToJson()},
            {"parent", f.parent.ToJson()},
            {"file", f.file},
            {"box", f.box},
            {"score", f.score}};
  if (f.time) j["time"] = *f.time;
  return j;
}

Result<query::PassageRequest> PassageRequestFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"query", "documents", "per_document", "filter"}));
  query::PassageRequest q;
  MOSAIC_ASSIGN_OR_RETURN(q.query, RequiredString(r, "query"));
  MOSAIC_ASSIGN_OR_RETURN(auto documents, SizeIn(r, "documents", 1, 1000));
  if (documents) q.documents = *documents;
  MOSAIC_ASSIGN_OR_RETURN(auto per, SizeIn(r, "per_document", 1, 100));
  if (per) q.per_document = *per;
  MOSAIC_ASSIGN_OR_RETURN(q.filter, FilterField(r));
  return q;
}

Result<query::AskRequest> AskRequestFromJson(const Json& j) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"question", "limit", "filter"}));
  query::AskRequest q;
  MOSAIC_ASSIGN_OR_RETURN(q.question, RequiredString(r, "question"));
  MOSAIC_ASSIGN_OR_RETURN(auto limit, SizeIn(r, "limit", 1, 1000));
  if (limit) q.limit = *limit;
  MOSAIC_ASSIGN_OR_RETURN(q.filter, FilterField(r));
  return q;
}

Json DocumentPassagesToJson(const query::DocumentPassages& d) {
  Json passages = Json::array();
  for (const query::Passage& p : d.passages)
    passages.push_back({{"id", p.id.ToJson()},
                        {"score", p.score},
                        {"text", p.text},
                        {"sentence", p.sentence},
                        {"page", p.page},
                        {"headings", p.headings}});
  return {{"document", d.document},
          {"title", d.title},
          {"path", d.path},
          {"passages", std::move(passages)}};
}

Json AnswerToJson(const query::Answer& a) {
  Json j = {{"id", a.id.ToJson()}, {"score", a.score}, {"source", a.source}, {"answer", a.answer}};
  if (a.source == "qa") {
    j["question"] = a.question;
  } else {
    j["sentence"] = a.sentence;
    j["title"] = a.title;
    j["page"] = a.page;
  }
  Json signals = Json::array();
  for (const query::SignalMatch& s : a.signals)
    if (s.rank > 0) signals.push_back({{"signal", s.signal}, {"rank", s.rank}, {"score", s.score}});
  if (!signals.empty()) j["signals"] = std::move(signals);
  return j;
}

}  // namespace mosaic::wire
