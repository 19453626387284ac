#include "query/request.h"

#include <cstdio>

#include "query/plan.h"

namespace mosaic::query {

const char* InputKindName(InputKind k) {
  switch (k) {
    case InputKind::kText:
      return "text";
    case InputKind::kImage:
      return "image";
    case InputKind::kVideo:
      return "video";
    case InputKind::kAudio:
      return "audio";
    case InputKind::kPoint:
      return "point";
    case InputKind::kVector:
      return "vector";
  }
  return "?";
}

Input Input::Text(std::string text, float weight) {
  Input in;
  in.kind = InputKind::kText;
  in.text = std::move(text);
  in.weight = weight;
  return in;
}

Input Input::Point(PointId id, float weight) {
  Input in;
  in.kind = InputKind::kPoint;
  in.id = std::move(id);
  in.weight = weight;
  return in;
}

Input Input::Vector(std::vector<float> v, float weight) {
  Input in;
  in.kind = InputKind::kVector;
  in.vector = std::move(v);
  in.weight = weight;
  return in;
}

Input Input::File(InputKind kind, std::string path, float weight) {
  Input in;
  in.kind = kind;
  in.path = std::move(path);
  in.weight = weight;
  return in;
}

std::string Input::Describe() const {
  switch (kind) {
    case InputKind::kText:
      return "\"" + text + "\"";
    case InputKind::kPoint:
      return "point " + id.ToString();
    case InputKind::kVector:
      return "a " + std::to_string(vector.size()) + "-d vector";
    default:
      if (!path.empty()) return path;
      return std::string("an uploaded ") + InputKindName(kind) + " of " +
             std::to_string(bytes.size()) + " bytes";
  }
}

const char* QueryKindName(const Query& q) {
  static const char* kNames[] = {"none",      "nearest", "text",     "tags",
                                 "recommend", "fusion",  "order_by", "auto"};
  return kNames[q.index()];
}

namespace {

bool Encodes(const std::vector<Input>& inputs) {
  for (const Input& in : inputs)
    if (in.kind != InputKind::kPoint && in.kind != InputKind::kVector) return true;
  return false;
}

bool NeedsEncoder(const Query& q, const std::vector<Prefetch>& prefetch) {
  bool encodes = false;
  if (auto* n = std::get_if<NearestQuery>(&q)) encodes = Encodes(n->inputs);
  if (auto* r = std::get_if<RecommendQuery>(&q)) encodes = Encodes(r->positive) || Encodes(r->negative);
  if (auto* a = std::get_if<AutoQuery>(&q)) encodes = Encodes(a->inputs);
  if (encodes) return true;
  for (const Prefetch& p : prefetch)
    if (NeedsEncoder(p.query, p.prefetch)) return true;
  return false;
}

}  // namespace

bool NeedsEncoder(const QueryRequest& r) { return NeedsEncoder(r.query, r.prefetch); }

const char* NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kListing:
      return "listing";
    case NodeKind::kPass:
      return "prefetch";
    case NodeKind::kNearest:
      return "nearest";
    case NodeKind::kText:
      return "bm25";
    case NodeKind::kTags:
      return "tags";
    case NodeKind::kBestScore:
      return "recommend_best_score";
    case NodeKind::kFusion:
      return "fusion";
    case NodeKind::kOrderBy:
      return "order_by";
  }
  return "?";
}

Json PlanNode::Describe() const {
  Json j = {{"id", id}, {"name", name}, {"kind", NodeKindName(kind)}, {"weight", weight}};
  if (!inputs.empty()) j["inputs"] = inputs;
  if (!vector_name.empty()) j["using"] = vector_name;
  if (kind == NodeKind::kText) j["fields"] = text.fields;
  if (kind == NodeKind::kTags) j["field"] = tags.field;
  if (kind == NodeKind::kFusion) {
    j["method"] = fusion.method == FusionMethod::kRrf ? "rrf" : "dbsf";
    if (fusion.method == FusionMethod::kRrf) j["k"] = fusion.k;
  }
  if (order_by)
    j["order_by"] = {{"key", order_by->key}, {"direction", order_by->descending ? "desc" : "asc"}};
  if (filter) j["filter"] = filter->json();
  if (limit) j["limit"] = *limit;
  if (score_threshold) j["score_threshold"] = *score_threshold;
  if (!children.empty()) {
    j["children"] = Json::array();
    for (const PlanNode& c : children)
      j["children"].push_back(c.Describe());
  }
  return j;
}

}  // namespace mosaic::query
