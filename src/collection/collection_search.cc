// CollectionImpl searches: vector search (single and batched, with the filter planner) and BM25
// text search.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "collection/collection_impl.h"
#include "index/flat/flat_search.h"
#include "simd/distance.h"

namespace mosaic::collection {
namespace {

// A filtered search on a graph-indexed vector scores its survivors exactly when there are at most
// this many of them, or at most 10% of the points: measured on Fashion-MNIST (bench/ann_bench),
// the graph walk under an allow-set wins at 50%, breaks even near 10%, and loses below.
constexpr size_t kExactSurvivorsMin = 4096;

// Applies offset, limit and score_threshold to sorted hits; returns (slot, score) pairs.
std::vector<std::pair<uint32_t, float>> Rank(const std::vector<index::Neighbor>& hits,
                                             Metric metric, const SearchRequest& r) {
  std::vector<std::pair<uint32_t, float>> out;
  for (size_t i = r.offset; i < hits.size() && out.size() < r.limit; ++i) {
    float score = metric == Metric::kL2 ? std::sqrt(std::max(0.0f, hits[i].distance))
                                        : -hits[i].distance;
    if (r.score_threshold) {
      bool worse = metric == Metric::kL2 ? score > *r.score_threshold : score < *r.score_threshold;
      if (worse) break;  // hits are sorted best first
    }
    out.emplace_back(hits[i].slot, score);
  }
  return out;
}

}  // namespace

Result<std::pair<size_t, std::vector<float>>> CollectionImpl::PrepareQuery(
    const SearchRequest& r) const {
  const VectorSpec* spec =
      r.vector_name.empty() ? &schema_.vectors[0] : schema_.Find(r.vector_name);
  if (spec == nullptr)
    return Status::InvalidArgument("collection '" + name_ + "' has no vector named '" +
                                   r.vector_name + "'");
  if (r.limit == 0 || r.limit > kMaxLimit || r.offset > kMaxLimit)
    return Status::InvalidArgument("search limit must be between 1 and " +
                                   std::to_string(kMaxLimit) + " and offset at most " +
                                   std::to_string(kMaxLimit) + ", got limit " +
                                   std::to_string(r.limit) + ", offset " + std::to_string(r.offset));
  if (r.vector.size() != spec->dim)
    return Status::InvalidArgument("query vector has " + std::to_string(r.vector.size()) +
                                   " dims, vector '" + spec->name + "' of collection '" + name_ +
                                   "' expects " + std::to_string(spec->dim));
  for (size_t i = 0; i < r.vector.size(); ++i)
    if (!std::isfinite(r.vector[i]))
      return Status::InvalidArgument(std::string("query vector has ") +
                                     (std::isnan(r.vector[i]) ? "NaN" : "Inf") + " at index " +
                                     std::to_string(i));
  std::vector<float> q = r.vector;
  if (spec->metric == Metric::kCosine) {
    double norm = std::sqrt(static_cast<double>(simd::NormSqr(q.data(), q.size())));
    if (!(norm > 0))
      return Status::InvalidArgument("query vector has zero norm; the cosine metric needs a "
                                     "non-zero vector");
    for (float& x : q) x = static_cast<float>(x / norm);
  }
  return std::make_pair(static_cast<size_t>(spec - schema_.vectors.data()), std::move(q));
}

ScoredPoint CollectionImpl::MakeHit(const State& s, size_t v, uint32_t slot, float score,
                                    const SearchRequest& r) const {
  ScoredPoint sp;
  sp.id = s.ids[slot];
  sp.score = score;
  if (r.with_payload) sp.payload = s.payloads.Copy(slot);
  if (r.with_vectors) {
    const float* row = Row(s, v, slot);
    sp.vectors[schema_.vectors[v].name].assign(row, row + dims_[v]);
  }
  return sp;
}

Result<std::vector<ScoredPoint>> CollectionImpl::SearchLocked(const State& s,
                                                              const SearchRequest& r,
                                                              ThreadPool* pool) const {
  MOSAIC_ASSIGN_OR_RETURN(auto prepared, PrepareQuery(r));
  const size_t v = prepared.first;
  const std::vector<float>& q = prepared.second;
  const Metric metric = schema_.vectors[v].metric;
  const Column& col = s.columns[v];
  const size_t k = r.offset + r.limit;
  std::vector<index::Neighbor> hits;

  const std::vector<index::VectorBlock> blocks = Blocks(col);

  const bool use_graph = col.parts[0]->hnsw != nullptr && !r.exact;
  index::IndexSearchParams graph_params;
  graph_params.ef = r.ef;
  // Each part's graph gives its top k; the best k of those are the result. `allowed` (sorted
  // slots) is each graph's allow-set, translated to its nodes; null: every live node.
  auto search_graphs = [&](size_t want, const std::vector<uint32_t>* allowed) {
    std::vector<index::Neighbor> all;
    for (const auto& part : col.parts) {
      if (part->hnsw->size() == 0) continue;
      std::vector<index::Neighbor> found;
      if (allowed != nullptr) {
        const uint32_t end = part->first + static_cast<uint32_t>(part->size());
        auto b = std::lower_bound(allowed->begin(), allowed->end(), part->first);
        auto e = std::lower_bound(b, allowed->end(), end);
        if (b == e) continue;
        Bitset allow(part->size());
        for (; b != e; ++b) allow.Set(*b - part->first);
        found = part->hnsw->Search(q.data(), want, graph_params, &allow);
      } else {
        found = part->hnsw->Search(q.data(), want, graph_params, nullptr);
      }
      for (index::Neighbor& nb : found) nb.slot += part->first;
      all.insert(all.end(), found.begin(), found.end());
    }
    if (col.parts.size() > 1)
      std::sort(all.begin(), all.end(), [](const index::Neighbor& a, const index::Neighbor& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
      });
    return all;
  };
  if (r.filter) {
    std::vector<uint32_t> slots = FilterSlots(s, *r.filter);
    std::erase_if(slots, [&](uint32_t slot) { return !col.present.Test(slot); });
    // The planner. The filter's survivors are known exactly, so the choice is by their count:
    // few survivors are scored exactly (cheaper than a graph walk that must skip most nodes, and
    // recall 1.0); many go through the graph with the survivors as its allow-set (the graph
    // widens its beam as the allowed share falls). Without a graph: visit just the surviving
    // rows when they are under 3/4 of the points, else scan everything with an allow-set (a
    // row visited alone costs about 1.3x a row of the tiled scan: bench/filter_bench, 50% and
    // 90% survivors).
    const size_t exact_limit = std::max<size_t>(kExactSurvivorsMin, s.ids.size() / 10);
    if (use_graph && slots.size() > exact_limit) {
      std::sort(slots.begin(), slots.end());
      hits = search_graphs(k, &slots);
      if (hits.size() > k) hits.resize(k);
    } else if (slots.size() * 4 < s.ids.size() * 3) {
      hits = index::FlatSearchSlots(
          slots, [&](uint32_t slot) { return Row(s, v, slot); }, dims_[v], metric, q.data(), k);
    } else {
      Bitset allow(s.ids.size());
      for (uint32_t slot : slots) allow.Set(slot);
      std::vector<std::vector<index::Neighbor>> out;
      index::FlatSearch(blocks, dims_[v], metric, q.data(), 1, k, &allow, pool, &out);
      hits = std::move(out[0]);
    }
  } else if (use_graph) {
    hits = search_graphs(k + s.staged, nullptr);
    if (s.staged > 0)  // slots of an upsert in flight: in the graph, not yet visible
      std::erase_if(hits, [&](const index::Neighbor& n) { return !col.searchable.Test(n.slot); });
    if (hits.size() > k) hits.resize(k);
  } else {
    std::vector<std::vector<index::Neighbor>> out;
    index::FlatSearch(blocks, dims_[v], metric, q.data(), 1, k, &col.searchable, pool, &out);
    hits = std::move(out[0]);
  }
  std::vector<ScoredPoint> result;
  for (auto [slot, score] : Rank(hits, metric, r)) result.push_back(MakeHit(s, v, slot, score, r));
  return result;
}

Result<std::vector<ScoredPoint>> CollectionImpl::Search(const SearchRequest& request) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  auto result = SearchLocked(*state_, request, nullptr);
  MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(*state_));
  return result;
}

Result<std::vector<std::vector<ScoredPoint>>> CollectionImpl::SearchBatch(
    std::span<const SearchRequest> requests) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  std::vector<std::vector<ScoredPoint>> results(requests.size());

  // Unfiltered requests on the same vector share one blocked scan over the data.
  std::map<size_t, std::vector<size_t>> by_vector;
  std::vector<size_t> others;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto prepared = PrepareQuery(requests[i]);
    if (!prepared.ok()) return prepared.status().WithContext("request " + std::to_string(i));
    const bool graph = s.columns[prepared->first].parts[0]->hnsw != nullptr && !requests[i].exact;
    if (requests[i].filter || graph)
      others.push_back(i);
    else
      by_vector[prepared->first].push_back(i);
  }
  for (const auto& [v, idx] : by_vector) {
    const Column& col = s.columns[v];
    const Metric metric = schema_.vectors[v].metric;
    std::vector<float> queries;
    size_t k = 0;
    for (size_t i : idx) {
      auto prepared = PrepareQuery(requests[i]);
      queries.insert(queries.end(), prepared->second.begin(), prepared->second.end());
      k = std::max(k, requests[i].offset + requests[i].limit);
    }
    const std::vector<index::VectorBlock> blocks = Blocks(col);
    std::vector<std::vector<index::Neighbor>> out;
    index::FlatSearch(blocks, dims_[v], metric, queries.data(), idx.size(), k, &col.searchable,
                      pool_, &out);
    for (size_t j = 0; j < idx.size(); ++j) {
      const SearchRequest& r = requests[idx[j]];
      for (auto [slot, score] : Rank(out[j], metric, r))
        results[idx[j]].push_back(MakeHit(s, v, slot, score, r));
    }
  }
  std::vector<Status> errors(requests.size());
  auto run = [&](size_t b, size_t e) {
    for (size_t j = b; j < e; ++j) {
      auto res = SearchLocked(s, requests[others[j]], nullptr);
      if (res.ok())
        results[others[j]] = std::move(res).value();
      else
        errors[others[j]] = res.status();
    }
  };
  if (pool_ != nullptr)
    pool_->ParallelFor(others.size(), run);
  else
    run(0, others.size());
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].ok()) return errors[i].WithContext("request " + std::to_string(i));
  MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(s));
  return results;
}

Result<std::vector<ScoredPoint>> CollectionImpl::SearchText(const TextSearchRequest& r) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (r.fields.empty()) return Status::InvalidArgument("text search needs at least one field");
  if (!(r.k1 >= 0) || !(r.b >= 0 && r.b <= 1))
    return Status::InvalidArgument("BM25 parameters out of range: k1 = " + std::to_string(r.k1) +
                                   " (>= 0), b = " + std::to_string(r.b) + " (0..1)");
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  index::ScoreAccumulator scores(s.ids.size());
  for (const std::string& spec : r.fields) {
    // "field^weight": the field's scores times weight.
    std::string field = spec;
    float weight = 1;
    if (size_t caret = spec.rfind('^'); caret != std::string::npos) {
      field = spec.substr(0, caret);
      const std::string w = spec.substr(caret + 1);
      char* end = nullptr;
      weight = std::strtof(w.c_str(), &end);
      if (w.empty() || *end != '\0' || !(weight > 0) || !std::isfinite(weight))
        return Status::InvalidArgument("field weight must be a positive number: '" + spec + "'");
    }
    if (!s.payload_index.ScoreText(field, r.query, r.k1, r.b, weight, &scores))
      return Status::InvalidArgument("field '" + field +
                                     "' has no text index (create one with type text)");
  }
  Bitset survivors;
  if (r.filter) {
    survivors.Resize(s.ids.size());
    for (uint32_t slot : FilterSlots(s, *r.filter))
      survivors.Set(slot);
  }
  // Best first; ties by id, so pages are stable.
  const std::vector<std::pair<uint32_t, float>> hits =
      scores.Top(r.offset + r.limit, r.filter ? &survivors : &s.live,
                 [&](uint32_t a, uint32_t b) { return s.ids[a] < s.ids[b]; });
  std::vector<ScoredPoint> out;
  for (size_t i = r.offset; i < hits.size(); ++i) {
    Point p = MakePoint(s, hits[i].first, r.with_payload, r.with_vectors);
    ScoredPoint sp;
    sp.id = std::move(p.id);
    sp.score = hits[i].second;
    if (r.with_payload) sp.payload = std::move(p.payload);
    sp.vectors = std::move(p.vectors);
    out.push_back(std::move(sp));
  }
  MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(s));
  return out;
}

}  // namespace mosaic::collection
