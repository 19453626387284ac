// Planner: turns a QueryRequest into a PlanNode tree for one collection. It resolves inputs
// (point ids to their vectors, texts and media through the InputEncoder), merges filters
// top-down (the request's filter applies to every node; ids used as examples are excluded from
// the results, as Qdrant does), and expands an AutoQuery into one node per signal the collection
// has: a nearest search per vector space its inputs can be encoded into (inputs in the same space
// combined into one vector), BM25 over its text-indexed fields and a tags search for each text,
// fused by RRF or DBSF with per-signal weights (defaults measured, docs/query.md). Query
// understanding runs on AutoQuery texts. Not thread-safe (one planner per query).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "query/input.h"
#include "query/plan.h"
#include "query/request.h"

namespace mosaic::query {

// How an AutoQuery is expanded. The defaults were chosen by measurement (docs/query.md).
struct SignalDefaults {
  FusionMethod fusion = FusionMethod::kRrf;
  float rrf_k = 60;
  float vector_weight = 1;  // each vector space
  // Per vector space, times vector_weight: fastText's text vectors (text_vectors.h) rank below
  // BM25 on their own, and at weight 1 pull the fusion under BM25 alone; the weight was chosen
  // on SciFact's train queries (docs/benchmarks.md).
  std::map<std::string, float> vector_weights = {{"fasttext", 0.05f}};
  float text_weight = 1;    // BM25 over the text fields
  float tags_weight = 1;    // object tags
  // BM25 field weights ("title^0.5"); text-indexed fields not listed weigh 1.
  std::map<std::string, float> field_weights = {{"title", 0.5f}, {"names", 0.5f}};
  std::string tags_field = "tag_terms";         // text-indexed tag words, for the tags signal
  std::string tag_scores_field = "tag_scores";  // {tag: confidence}
  std::string date_field = "date";              // what understood dates filter on
  std::string kind_field = "kind";              // what understood kinds filter on
};

struct EngineOptions {
  SignalDefaults signals;
  // Candidates a query's first page is drawn from (at least its limit); deeper pages double it.
  size_t base_depth = 100;
  int64_t now_unix_s = 0;  // "today" for understood dates; 0: the clock
};

struct Plan {
  PlanNode root;
  std::vector<std::string> query_terms;  // terms of the positive texts, for explain's evidence
  std::vector<std::string> tag_words;    // their words for matching tags (query/tag_words.h)
  Json understood = Json::array();
  std::vector<PointId> referenced;  // example points, excluded from the results
};

class Planner {
 public:
  Planner(const Collection& collection, InputEncoder* encoder, const EngineOptions& options)
      : c_(collection), encoder_(encoder), options_(options) {}

  Result<Plan> Build(const QueryRequest& request);

 private:
  struct Spec {  // the parts of a request or prefetch that make one node
    const std::vector<Prefetch>* prefetch;
    const Query* query;
    const std::string* using_vector;
    const std::optional<Filter>* filter;
    std::optional<float> score_threshold;
    std::optional<size_t> limit;
    SearchParams params;
    std::string name;
    float weight;
  };

  Result<PlanNode> BuildNode(const Spec& spec, const std::optional<Filter>& inherited,
                             bool understand);
  Result<PlanNode> ExpandAuto(const AutoQuery& q, PlanNode node, bool understand);
  Result<const VectorSpec*> VectorSpecFor(const std::string& name) const;
  // The vector of `input` in vector `spec` (resolving ids and encoding media).
  Result<std::vector<float>> VectorOf(const Input& input, const VectorSpec& spec);
  // `inputs` combined in vector `spec`: one input as is; several normalized and summed by weight.
  Result<std::vector<float>> Combine(const std::vector<Input>& inputs, const VectorSpec& spec);
  Result<const EncodedInput*> Encoded(const Input& input);
  Result<const Point*> ExamplePoint(const PointId& id);
  uint32_t NextId() { return next_id_++; }

  const Collection& c_;
  InputEncoder* encoder_;
  const EngineOptions& options_;
  uint32_t next_id_ = 0;
  std::vector<std::string> query_terms_;
  std::vector<std::string> tag_words_;
  Json understood_ = Json::array();
  std::map<std::string, EncodedInput> encoded_;  // by input key
  std::map<PointId, Point> examples_;
};

}  // namespace mosaic::query
