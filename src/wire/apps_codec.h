// JSON codecs of the applications (src/query: recommend, classify, cluster, dedup, people,
// passages, ask), shared by the CLI's --json output and the server. Layouts:
// docs/applications.md and the server's routes (docs/server.md). Requests are read strictly: an
// unknown key, a wrong type or a bad value is an InvalidArgument naming the key and the value.
#pragma once

#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "query/classify.h"
#include "query/cluster.h"
#include "query/dedup.h"
#include "query/passages.h"
#include "query/people.h"
#include "query/qa.h"
#include "query/recommend.h"
#include "wire/query_codec.h"

namespace mosaic::wire {

// {"positive": [input...], "negative": [...], "strategy": "average_vector"|"best_score",
//  "history": [{"id", "time", "weight"}...], "half_life": seconds, "exclude_seen": bool,
//  "using": name, "filter": {...}, "limit": n, "offset": n, "explain": bool}; inputs as in a
// query request (ids, vectors, texts, files). InvalidArgument naming the field.
Result<query::RecommendRequest> RecommendRequestFromJson(const Json& j,
                                                         const QueryCodecOptions& options = {});

// kNN: {"label_field", "k" (0: chosen by cross-validation), "vote": "majority"|"weighted",
// "cv_points"}; zero-shot: {"labels": [text...], "prompt": "a photo of a {}"}; both:
// {"ids": [id...], "filter", "using", "write_field", "limit"}. Without "ids" kNN labels the points
// that lack the label field; "ids" are labelled whatever they carry. "limit" caps the predictions
// returned (default 1000), not those written.
struct ClassifyRequest {
  bool zero_shot = false;
  query::KnnOptions knn;
  query::ZeroShotOptions zero_shot_options;
  query::ClassifyRun run;    // "ids" and "filter" ANDed into run.filter
  std::vector<PointId> ids;  // empty: every point that matches
  size_t limit = 1000;
};
Result<ClassifyRequest> ClassifyRequestFromJson(const Json& j);

// {"method": "knn", "k", "vote", "labelled", "cross_validation": [{"k", "vote", "accuracy"}...],
//  "cv_accuracy"} (the last two when k was chosen).
Json KnnClassifierToJson(const query::KnnClassifier& knn);
// {"id", "label", "confidence", "scores": [{"label", "score"}...]}
Json PredictionToJson(const query::Prediction& p);

// {"k" | "sweep": {"from", "to", "by": "silhouette"|"elbow"}, "using", "filter", "write_field",
//  "centroids": bool (write <name>-clusters; default false), "seed", "iterations", "sample": n}
struct ClusterRequest {
  query::ClusterOptions options;
  size_t sample = 10;  // members listed per cluster, nearest its centroid first
};
Result<ClusterRequest> ClusterRequestFromJson(const Json& j);
// {"collection", "vector", "points", "without_vector", "k", "inertia", "iterations", "splits",
//  "centroids_collection", "written", "clusters": [{"id", "size", "sample": [id...]}...],
//  "sweep"?: {"by", "best_k", "curve": [{"k", "inertia", "silhouette"}...]}}
Json ClusterResultToJson(const query::ClusterResult& r, const query::ClusterOptions& o,
                         size_t sample);

// {"threshold", "using" (default "visual"), "filter", "linkage": "complete"|"single",
//  "neighbours", "exact"}
Result<query::DedupOptions> DedupOptionsFromJson(const Json& j);
// {"vector", "threshold", "linkage", "points", "pairs", "groups": [{"min_similarity",
//  "copies": [{"id", "path", "width", "height", "bytes", "similarity"}...]}...]}
Json DedupResultToJson(const query::DedupResult& r, const query::DedupOptions& o);

// People: {"threshold", "reset"}.
Result<query::PeopleClusterOptions> PeopleClusterOptionsFromJson(const Json& j);
// {"faces", "clustered", "joined", "new_persons", "persons"}
Json PeopleClusterReportToJson(const query::ClusterReport& r);
// {"id", "name", "faces", "sample_file"}
Json PersonSummaryToJson(const query::PersonSummary& p);
// {"id", "parent", "file", "box", "score", "time"?}
Json PersonFaceToJson(const query::PersonFace& f);

// {"query", "documents", "per_document", "filter"}
Result<query::PassageRequest> PassageRequestFromJson(const Json& j);
// {"question", "limit", "filter"}
Result<query::AskRequest> AskRequestFromJson(const Json& j);
// {"document", "title", "path", "passages": [{"id", "score", "text", "sentence", "page",
//  "headings"}...]}
Json DocumentPassagesToJson(const query::DocumentPassages& d);
// {"id", "score", "source", "answer", "question" | "sentence", "title", "page", "signals"}
Json AnswerToJson(const query::Answer& a);

}  // namespace mosaic::wire
