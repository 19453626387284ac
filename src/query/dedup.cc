#include "query/dedup.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace mosaic::query {

namespace {

// What dedup keeps of a point: its unit vector (in `Points::vectors`) and the payload fields
// that rank copies; the rest of the payload (thumbnails) is dropped page by page.
struct Candidate {
  DuplicateCopy copy;
  std::string file_id;  // empty: none
};

struct Points {
  std::vector<Candidate> items;
  std::vector<float> vectors;  // items.size() x dim, L2-normalized
  size_t dim = 0;

  const float* row(size_t i) const { return vectors.data() + i * dim; }
  float Similarity(size_t a, size_t b) const {
    double s = 0;
    for (size_t d = 0; d < dim; ++d)
      s += static_cast<double>(row(a)[d]) * row(b)[d];
    return static_cast<float>(s);
  }
  // Parts of one file (a video and its shots) are not copies of each other.
  bool SameFile(size_t a, size_t b) const {
    return !items[a].file_id.empty() && items[a].file_id == items[b].file_id;
  }
};

int64_t IntField(const Json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_number() ? it->get<int64_t>() : 0;
}

Result<Points> LoadPoints(const Collection& c, const DedupOptions& o, size_t dim) {
  Points pts;
  pts.dim = dim;
  ScrollRequest r;
  r.filter = o.filter;
  r.limit = 512;
  r.with_vectors = true;
  while (true) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c.Scroll(r));
    for (Point& p : page.points) {
      auto v = p.vectors.find(o.vector);
      if (v == p.vectors.end() || v->second.size() != dim) continue;
      double norm = 0;
      for (float x : v->second)
        norm += static_cast<double>(x) * x;
      if (!(norm > 0)) continue;
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float x : v->second)
        pts.vectors.push_back(x * inv);
      Candidate cand;
      cand.copy.id = p.id;
      const Json& pl = p.payload;
      cand.copy.width = IntField(pl, "width");
      cand.copy.height = IntField(pl, "height");
      if (auto f = pl.find("file"); f != pl.end() && f->is_object()) {
        cand.copy.path = f->value("path", std::string());
        cand.copy.bytes = static_cast<uint64_t>(std::max<int64_t>(0, IntField(*f, "size")));
      }
      if (auto f = pl.find("file_id"); f != pl.end() && f->is_string()) cand.file_id = *f;
      pts.items.push_back(std::move(cand));
    }
    if (!page.next_offset) break;
    r.offset = page.next_offset;
  }
  return pts;
}

struct Edge {
  size_t a, b;  // a < b
  float similarity;
};

// The neighbour pairs above the threshold, each once, most similar first.
Result<std::vector<Edge>> FindPairs(const Collection& c, const DedupOptions& o, const Points& pts,
                                    bool graph) {
  std::unordered_map<PointId, size_t, PointIdHash> slot;
  for (size_t i = 0; i < pts.items.size(); ++i)
    slot.emplace(pts.items[i].copy.id, i);
  std::vector<Edge> edges;
  constexpr size_t kQueriesPerBatch = 256;
  for (size_t b = 0; b < pts.items.size(); b += kQueriesPerBatch) {
    const size_t n = std::min(kQueriesPerBatch, pts.items.size() - b);
    std::vector<SearchRequest> reqs(n);
    for (size_t i = 0; i < n; ++i) {
      SearchRequest& q = reqs[i];
      q.vector_name = o.vector;
      q.vector.assign(pts.row(b + i), pts.row(b + i) + pts.dim);
      q.limit = o.max_neighbours + 1;  // the point itself comes back too
      q.filter = o.filter;
      q.with_payload = false;
      q.score_threshold = o.threshold;
      q.exact = !graph;
      q.ef = graph ? std::max<size_t>(128, 2 * q.limit) : 0;
    }
    MOSAIC_ASSIGN_OR_RETURN(auto hits, c.SearchBatch(reqs));
    for (size_t i = 0; i < n; ++i) {
      for (const ScoredPoint& h : hits[i]) {
        auto it = slot.find(h.id);
        if (it == slot.end() || it->second == b + i || pts.SameFile(b + i, it->second)) continue;
        edges.push_back({std::min(b + i, it->second), std::max(b + i, it->second), h.score});
      }
    }
  }
  // Both directions of a pair are usually found: keep one, with the exact similarity.
  std::sort(edges.begin(), edges.end(),
            [](const Edge& x, const Edge& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
  edges.erase(std::unique(edges.begin(), edges.end(),
                          [](const Edge& x, const Edge& y) { return x.a == y.a && x.b == y.b; }),
              edges.end());
  for (Edge& e : edges)
    e.similarity = pts.Similarity(e.a, e.b);
  std::erase_if(edges, [&](const Edge& e) { return e.similarity < o.threshold; });
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
    if (x.similarity != y.similarity) return x.similarity > y.similarity;
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  return edges;
}

// Groups as lists of point positions: agglomerative merging along the edges, best first.
std::vector<std::vector<size_t>> Link(const Points& pts, const std::vector<Edge>& edges,
                                      const DedupOptions& o) {
  std::vector<size_t> group(pts.items.size());
  std::iota(group.begin(), group.end(), 0);
  std::vector<std::vector<size_t>> members(pts.items.size());
  for (size_t i = 0; i < members.size(); ++i)
    members[i] = {i};
  for (const Edge& e : edges) {
    size_t ga = group[e.a], gb = group[e.b];
    if (ga == gb) continue;
    bool ok = true;
    for (size_t x : members[ga]) {
      for (size_t y : members[gb]) {
        // Single linkage still keeps pieces of one file apart; complete linkage wants every
        // pair across the two groups above the threshold.
        ok = !pts.SameFile(x, y) &&
             (o.linkage == DedupLinkage::kSingle || pts.Similarity(x, y) >= o.threshold);
        if (!ok) break;
      }
      if (!ok) break;
    }
    if (!ok) continue;
    if (members[ga].size() < members[gb].size()) std::swap(ga, gb);
    for (size_t y : members[gb])
      group[y] = ga;
    members[ga].insert(members[ga].end(), members[gb].begin(), members[gb].end());
    members[gb].clear();
  }
  std::vector<std::vector<size_t>> out;
  for (auto& m : members)
    if (m.size() >= 2) out.push_back(std::move(m));
  return out;
}

bool BetterCopy(const DuplicateCopy& a, const DuplicateCopy& b) {
  const int64_t pa = a.width * a.height, pb = b.width * b.height;
  if (pa != pb) return pa > pb;
  if (a.bytes != b.bytes) return a.bytes > b.bytes;
  if (a.path != b.path) return a.path < b.path;
  return a.id < b.id;
}

}  // namespace

const char* DedupLinkageName(DedupLinkage linkage) {
  return linkage == DedupLinkage::kComplete ? "complete" : "single";
}

Result<DedupLinkage> ParseDedupLinkage(const std::string& name) {
  if (name == "complete") return DedupLinkage::kComplete;
  if (name == "single") return DedupLinkage::kSingle;
  return Status::InvalidArgument("unknown dedup linkage '" + name +
                                 "' (expected complete or single)");
}

Result<DedupResult> FindDuplicates(const Collection& collection, const DedupOptions& options) {
  if (!(options.threshold > 0.0f && options.threshold <= 1.0f))
    return Status::InvalidArgument("dedup threshold " + std::to_string(options.threshold) +
                                   " is out of range: a cosine similarity in (0, 1]");
  if (options.max_neighbours == 0)
    return Status::InvalidArgument("dedup max_neighbours must be at least 1, got 0");
  const VectorSpec* spec = collection.schema().Find(options.vector);
  if (spec == nullptr) {
    std::string have;
    for (const auto& v : collection.schema().vectors)
      have += (have.empty() ? "" : ", ") + v.name;
    return Status::NotFound("collection '" + collection.name() + "' has no vector '" +
                            options.vector + "' (it has: " + have + ")");
  }
  if (spec->metric != Metric::kCosine)
    return Status::InvalidArgument("vector '" + options.vector + "' of collection '" +
                                   collection.name() + "' is " + MetricName(spec->metric) +
                                   "; dedup compares cosine similarities");
  MOSAIC_ASSIGN_OR_RETURN(Points pts, LoadPoints(collection, options, spec->dim));
  const bool graph = spec->index.kind == IndexKind::kHnsw && !options.exact &&
                     pts.items.size() > kDedupExactPoints;
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Edge> edges, FindPairs(collection, options, pts, graph));

  DedupResult result;
  result.points = pts.items.size();
  result.pairs = edges.size();
  for (const std::vector<size_t>& m : Link(pts, edges, options)) {
    std::vector<size_t> order = m;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return BetterCopy(pts.items[a].copy, pts.items[b].copy); });
    DuplicateGroup g;
    for (size_t k = 0; k < order.size(); ++k) {
      DuplicateCopy c = pts.items[order[k]].copy;
      c.similarity = k == 0 ? 1.0f : pts.Similarity(order[0], order[k]);
      g.copies.push_back(std::move(c));
      for (size_t j = 0; j < k; ++j)
        g.min_similarity = std::min(g.min_similarity, pts.Similarity(order[j], order[k]));
    }
    result.groups.push_back(std::move(g));
  }
  std::sort(result.groups.begin(), result.groups.end(),
            [](const DuplicateGroup& a, const DuplicateGroup& b) {
              if (a.copies.size() != b.copies.size()) return a.copies.size() > b.copies.size();
              const DuplicateCopy &x = a.copies[0], &y = b.copies[0];
              return std::tie(x.path, x.id) < std::tie(y.path, y.id);
            });
  return result;
}

}  // namespace mosaic::query
