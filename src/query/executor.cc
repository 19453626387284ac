#include "query/executor.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "query/filters.h"
#include "query/fusion.h"
#include "query/tag_words.h"
#include "simd/distance.h"

namespace mosaic::query {
namespace {

// The collection's cap on one search's limit.
constexpr size_t kMaxNeed = 1'000'000;
// A tags node re-ranks this many times its need of BM25 candidates by detector confidence.
constexpr size_t kTagPoolFactor = 4;
constexpr size_t kMinTagPool = 200;

Ranked FromHits(const std::vector<ScoredPoint>& hits, bool higher_is_better, size_t need) {
  Ranked out;
  out.higher_is_better = higher_is_better;
  out.items.reserve(hits.size());
  for (const ScoredPoint& h : hits)
    out.items.push_back({h.id, h.score, {}});
  out.complete = hits.size() < need;
  return out;
}

bool AllComplete(const std::vector<Ranked>& lists) {
  return std::all_of(lists.begin(), lists.end(), [](const Ranked& r) { return r.complete; });
}

void Truncate(Ranked* r, size_t need) {
  if (r->items.size() > need) {
    r->items.resize(need);
    r->complete = false;
  }
}

float Similarity(const std::vector<float>& a, const std::vector<float>& b, Metric m) {
  const size_t n = std::min(a.size(), b.size());
  if (m == Metric::kL2) return -std::sqrt(simd::L2Sqr(a.data(), b.data(), n));
  return simd::Dot(a.data(), b.data(), n);  // cosine rows are stored normalized
}

float Sigmoid(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace

std::vector<PointId> UnionIds(std::span<const Ranked> lists) {
  std::vector<PointId> ids;
  std::unordered_set<PointId, PointIdHash> seen;
  for (const Ranked& r : lists)
    for (const Candidate& c : r.items)
      if (seen.insert(c.id).second) ids.push_back(c.id);
  return ids;
}

Status Executor::FetchPayloads(std::span<const PointId> ids) {
  std::vector<PointId> missing;
  for (const PointId& id : ids)
    if (!payloads_.count(id)) missing.push_back(id);
  if (missing.empty()) return Status::OK();
  MOSAIC_ASSIGN_OR_RETURN(auto points,
                          c_.Get(missing, /*with_payload=*/true, /*with_vectors=*/false));
  for (Point& p : points)
    payloads_.emplace(std::move(p.id), std::move(p.payload));
  return Status::OK();
}

const Json* Executor::Payload(const PointId& id) const {
  auto it = payloads_.find(id);
  return it == payloads_.end() ? nullptr : &it->second;
}

Status Executor::FetchVectors(std::span<const PointId> ids, const std::string& name) {
  auto& cache = vectors_[name];
  std::vector<PointId> missing;
  for (const PointId& id : ids)
    if (!cache.count(id)) missing.push_back(id);
  if (missing.empty()) return Status::OK();
  MOSAIC_ASSIGN_OR_RETURN(auto points,
                          c_.Get(missing, /*with_payload=*/false, /*with_vectors=*/true));
  for (Point& p : points) {
    auto v = p.vectors.find(name);
    cache.emplace(p.id, v == p.vectors.end() ? std::vector<float>() : std::move(v->second));
  }
  return Status::OK();
}

const std::vector<float>* Executor::Vector(const PointId& id, const std::string& name) const {
  auto by_name = vectors_.find(name);
  if (by_name == vectors_.end()) return nullptr;
  auto it = by_name->second.find(id);
  return it == by_name->second.end() || it->second.empty() ? nullptr : &it->second;
}

Result<Ranked> Executor::Run(const PlanNode& node, size_t need, size_t scale) {
  if (node.limit) need = *node.limit * scale;
  need = std::clamp<size_t>(need, 1, kMaxNeed);
  MOSAIC_ASSIGN_OR_RETURN(Ranked out, RunNode(node, need, scale));
  if (node.score_threshold) {
    const float t = *node.score_threshold;
    std::erase_if(out.items,
                  [&](const Candidate& c) { return Better(t, c.score, out.higher_is_better); });
  }
  if (explain_)
    for (size_t i = 0; i < out.items.size(); ++i)
      out.items[i].ranks.push_back(
          {node.id, static_cast<uint32_t>(i + 1), out.items[i].score, 0.0f});
  return out;
}

Result<Ranked> Executor::RunNode(const PlanNode& node, size_t need, size_t scale) {
  std::vector<Ranked> children;
  for (const PlanNode& child : node.children) {
    MOSAIC_ASSIGN_OR_RETURN(Ranked r, Run(child, need, scale));
    children.push_back(std::move(r));
  }
  switch (node.kind) {
    case NodeKind::kListing:
      return Listing(node, need);
    case NodeKind::kNearest:
      return Nearest(node, need, children);
    case NodeKind::kText:
      return Text(node, need, children);
    case NodeKind::kTags:
      return Tags(node, need);
    case NodeKind::kBestScore:
      return BestScore(node, need, std::move(children));
    case NodeKind::kOrderBy:
      return children.empty() ? Listing(node, need) : OrderByField(node, need, children);
    case NodeKind::kPass:
      if (children.empty()) return Listing(node, need);
      if (children.size() == 1) {
        Ranked r = std::move(children[0]);
        Truncate(&r, need);
        return r;
      }
      [[fallthrough]];
    case NodeKind::kFusion: {
      std::vector<FusionInput> inputs;
      for (size_t i = 0; i < children.size(); ++i)
        inputs.push_back({&children[i], node.children[i].weight, node.children[i].id});
      const bool dbsf = node.kind == NodeKind::kFusion && node.fusion.method == FusionMethod::kDbsf;
      Ranked r = dbsf ? FuseDbsf(inputs)
                      : FuseRrf(inputs, node.kind == NodeKind::kFusion ? node.fusion.k : 60);
      Truncate(&r, need);
      return r;
    }
  }
  return Status::Internal("unknown plan node kind");
}

Result<Ranked> Executor::Nearest(const PlanNode& node, size_t need,
                                 const std::vector<Ranked>& children) {
  SearchRequest r;
  r.vector_name = node.vector_name;
  r.vector = node.vector;
  r.filter = node.filter;
  r.with_payload = false;
  r.score_threshold = node.score_threshold;
  r.ef = node.params.ef;
  r.exact = node.params.exact;
  const bool higher = node.metric != Metric::kL2;
  if (!node.children.empty()) {
    // Re-score the children's candidates by this vector, exactly.
    std::vector<PointId> ids = UnionIds(children);
    if (ids.empty()) return Ranked{{}, higher, true};
    MOSAIC_ASSIGN_OR_RETURN(r.filter, RestrictToIds(node.filter, ids));
    r.limit = std::min(need, ids.size());
    r.exact = true;
    MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.Search(r));
    Ranked out = FromHits(hits, higher, need);
    out.complete = AllComplete(children) && ids.size() <= need;
    return out;
  }
  r.limit = need;
  MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.Search(r));
  return FromHits(hits, higher, need);
}

Result<Ranked> Executor::Text(const PlanNode& node, size_t need,
                              const std::vector<Ranked>& children) {
  TextSearchRequest r;
  r.fields = node.text.fields;
  r.query = node.text.query;
  r.k1 = node.text.k1;
  r.b = node.text.b;
  r.filter = node.filter;
  r.limit = need;
  r.with_payload = false;
  if (!node.children.empty()) {
    std::vector<PointId> ids = UnionIds(children);
    if (ids.empty()) return Ranked{{}, true, true};
    MOSAIC_ASSIGN_OR_RETURN(r.filter, RestrictToIds(node.filter, ids));
    MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.SearchText(r));
    Ranked out = FromHits(hits, true, need);
    out.complete = AllComplete(children) && hits.size() < need;
    return out;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.SearchText(r));
  return FromHits(hits, true, need);
}

Result<Ranked> Executor::Tags(const PlanNode& node, size_t need) {
  TextSearchRequest r;
  r.fields = {node.tags.field};
  r.query = node.tags.query;
  r.filter = node.filter;
  r.limit = std::min(kMaxNeed, std::max(kMinTagPool, need * kTagPoolFactor));
  r.with_payload = false;
  MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.SearchText(r));
  const size_t pool = r.limit;
  if (node.tags.scores_field.empty()) {  // no confidences: BM25's order
    Ranked out = FromHits(hits, true, pool);
    Truncate(&out, need);
    return out;
  }
  std::vector<PointId> ids;
  for (const ScoredPoint& h : hits)
    ids.push_back(h.id);
  MOSAIC_RETURN_IF_ERROR(FetchPayloads(ids));
  // A query word's confidence in a point: the best score among its tags and tag terms that
  // contain the word ("canine" in {"dog": 0.9, "canine": 0.9}). The point's score sums them. A
  // point whose tags match no word is dropped: BM25 over stems found it ("animal" and "animate").
  const std::vector<std::string> terms = TagWords(node.tags.query);
  std::unordered_map<std::string, std::vector<std::string>> key_terms;
  Ranked out;
  out.higher_is_better = true;
  std::vector<std::pair<float, size_t>> scored;  // (confidence sum, BM25 rank)
  for (size_t i = 0; i < hits.size(); ++i) {
    float sum = 0;
    const Json* payload = Payload(hits[i].id);
    const Json* scores = nullptr;
    if (payload != nullptr) {
      auto it = payload->find(node.tags.scores_field);
      if (it != payload->end() && it->is_object()) scores = &*it;
    }
    if (scores != nullptr) {
      for (const std::string& t : terms) {
        float best = 0;
        for (const auto& [key, value] : scores->items()) {
          if (!value.is_number()) continue;
          auto kt = key_terms.find(key);
          if (kt == key_terms.end()) kt = key_terms.emplace(key, TagWords(key)).first;
          if (std::find(kt->second.begin(), kt->second.end(), t) != kt->second.end())
            best = std::max(best, value.get<float>());
        }
        sum += best;
      }
      if (sum == 0) continue;
    }
    scored.emplace_back(sum, i);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [sum, i] : scored) {
    if (out.items.size() == need) break;
    out.items.push_back({hits[i].id, sum, {}});
  }
  out.complete = hits.size() < pool && out.items.size() == hits.size();
  return out;
}

Result<Ranked> Executor::BestScore(const PlanNode& node, size_t need,
                                   std::vector<Ranked> children) {
  // The candidate pool: the children's candidates, else the neighbours of each positive.
  std::vector<PointId> ids;
  bool complete = true;
  if (!children.empty()) {
    ids = UnionIds(children);
    complete = AllComplete(children);
  } else {
    for (const auto& p : node.positives) {
      SearchRequest r;
      r.vector_name = node.vector_name;
      r.vector = p;
      r.filter = node.filter;
      r.limit = need;
      r.with_payload = false;
      r.ef = node.params.ef;
      r.exact = node.params.exact;
      MOSAIC_ASSIGN_OR_RETURN(auto hits, c_.Search(r));
      children.push_back(FromHits(hits, true, need));
      complete = complete && hits.size() < need;
    }
    ids = UnionIds(children);
  }
  MOSAIC_RETURN_IF_ERROR(FetchVectors(ids, node.vector_name));
  Ranked out;
  out.higher_is_better = true;
  // Ranked by the raw similarities, not by the sigmoid-squashed score: the sigmoid saturates
  // (every l2 distance of raw pixels gives 0), the order it implies does not.
  struct Keyed {
    bool positive;  // closer to a positive than to any negative
    float key;      // best_pos when positive, else -best_neg; larger is better
    Candidate c;
  };
  std::vector<Keyed> keyed;
  for (const PointId& id : ids) {
    const std::vector<float>* v = Vector(id, node.vector_name);
    if (v == nullptr) continue;
    float best_pos = -INFINITY, best_neg = -INFINITY;
    for (const auto& p : node.positives)
      best_pos = std::max(best_pos, Similarity(*v, p, node.metric));
    for (const auto& n : node.negatives)
      best_neg = std::max(best_neg, Similarity(*v, n, node.metric));
    const bool positive = best_pos > best_neg;
    const float score = positive ? Sigmoid(best_pos) : -Sigmoid(best_neg);
    keyed.push_back({positive, positive ? best_pos : -best_neg, {id, score, {}}});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.positive != b.positive) return a.positive;
    return a.key != b.key ? a.key > b.key : a.c.id < b.c.id;
  });
  for (auto& k : keyed) out.items.push_back(std::move(k.c));
  out.complete = complete && out.items.size() <= need;
  Truncate(&out, need);
  return out;
}

Result<Ranked> Executor::OrderByField(const PlanNode& node, size_t need,
                                      const std::vector<Ranked>& children) {
  std::vector<PointId> ids = UnionIds(children);
  MOSAIC_RETURN_IF_ERROR(FetchPayloads(ids));
  const OrderBy& ob = *node.order_by;
  struct Keyed {
    Json value;
    Candidate c;
  };
  std::vector<Keyed> keyed;
  std::unordered_map<PointId, float, PointIdHash> score;
  for (const Ranked& r : children)
    for (const Candidate& c : r.items)
      score.emplace(c.id, c.score);
  for (const PointId& id : ids) {
    const Json* p = Payload(id);
    keyed.push_back({p ? OrderValue(*p, ob) : Json(), {id, score[id], {}}});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    if (a.value.is_null() || b.value.is_null()) {
      if (a.value.is_null() != b.value.is_null()) return b.value.is_null();
      return a.c.id < b.c.id;
    }
    int cmp = CompareOrderValues(a.value, b.value);
    if (ob.descending) cmp = -cmp;
    return cmp != 0 ? cmp < 0 : a.c.id < b.c.id;
  });
  Ranked out;
  out.higher_is_better = true;
  for (Keyed& k : keyed)
    out.items.push_back(std::move(k.c));
  out.complete = AllComplete(children) && out.items.size() <= need;
  Truncate(&out, need);
  return out;
}

Result<Ranked> Executor::Listing(const PlanNode& node, size_t need) {
  ScrollRequest r;
  r.filter = node.filter;
  r.limit = need;
  r.with_payload = false;
  r.order_by = node.order_by;
  if (node.cursor) {
    r.offset = node.cursor->id;
    if (node.order_by) r.order_value = node.cursor->order_value;
  }
  MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c_.Scroll(r));
  Ranked out;
  out.higher_is_better = true;
  for (const Point& p : page.points)
    out.items.push_back({p.id, 0.0f, {}});
  out.complete = !page.next_offset.has_value();
  return out;
}

}  // namespace mosaic::query
