#include "query/engine.h"

#include <algorithm>
#include <unordered_set>

#include "query/evidence.h"
#include "query/executor.h"
#include "query/shaping.h"

namespace mosaic::query {
namespace {

constexpr size_t kMaxLimit = 1'000'000;
// Deepest level of the page list: base_depth x 2^kMaxLevel candidates.
constexpr size_t kMaxLevel = 20;

void NodeNames(const PlanNode& n, std::map<uint32_t, const PlanNode*>* out) {
  (*out)[n.id] = &n;
  for (const PlanNode& c : n.children)
    NodeNames(c, out);
}

Status Validate(const QueryRequest& r) {
  if (r.limit == 0 || r.limit > kMaxLimit)
    return Status::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxLimit) +
                                   ", got " + std::to_string(r.limit));
  if (r.offset > kMaxLimit)
    return Status::InvalidArgument("offset must be at most " + std::to_string(kMaxLimit) +
                                   ", got " + std::to_string(r.offset));
  if (r.group_by) {
    if (r.group_by->key.empty()) return Status::InvalidArgument("group_by needs a payload key");
    if (r.group_by->group_size == 0 || r.group_by->group_size > 1000)
      return Status::InvalidArgument("group_size must be between 1 and 1000, got " +
                                     std::to_string(r.group_by->group_size));
  }
  if (r.mmr && !(r.mmr->diversity >= 0 && r.mmr->diversity <= 1))
    return Status::InvalidArgument("mmr diversity must be between 0 and 1, got " +
                                   std::to_string(r.mmr->diversity));
  if (r.autocut && r.autocut->jumps == 0)
    return Status::InvalidArgument("autocut needs at least 1 jump");
  for (const FacetSpec& f : r.facets) {
    if (f.key.empty()) return Status::InvalidArgument("a facet needs a payload key");
    if (f.limit == 0)
      return Status::InvalidArgument("facet '" + f.key + "' needs a limit of at least 1");
  }
  return Status::OK();
}

}  // namespace

Json PayloadValue(const Json& payload, const std::string& path) {
  const Json* at = &payload;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t dot = path.find('.', begin);
    const std::string part =
        path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    if (!at->is_object()) return Json();
    auto it = at->find(part);
    if (it == at->end()) return Json();
    at = &*it;
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  return *at;
}

Result<QueryResponse> QueryEngine::Query(const QueryRequest& request) const {
  MOSAIC_RETURN_IF_ERROR(Validate(request));
  Planner planner(c_, encoder_, options_);
  MOSAIC_ASSIGN_OR_RETURN(Plan plan, planner.Build(request));
  PlanNode& root = plan.root;
  const bool listing = root.kind == NodeKind::kListing;
  if (request.cursor) {
    if (!listing)
      return Status::InvalidArgument(
          "a cursor continues an ordered listing (no query, or order_by without "
          "prefetches); page scored queries with offset");
    root.cursor = request.cursor;
  }
  if (request.mmr && listing)
    return Status::InvalidArgument("mmr needs a scored query, not a listing");

  Executor ex(c_, request.explain);
  const size_t wanted = request.offset + request.limit;
  const size_t per_unit = request.group_by ? request.group_by->group_size : 1;
  // A listing is exact and in a fixed order: one pass of what the page needs, plus one to tell
  // where the next page starts.
  const bool exact_listing = listing && !request.group_by;
  // The list behind the pages depends on the query and base_depth only, never on the page asked
  // (limit, offset): levels always start at the base, so any page is a slice of the same list.
  size_t base = exact_listing ? wanted + 1 : std::max<size_t>(1, options_.base_depth);
  // A lone search needs no deeper levels when it is exact (BM25, or a vector searched exactly):
  // a longer exact ranking only extends a shorter one, so the page is taken from a search of
  // just offset + limit. A lone graph search draws its list from the beam it walks anyway (its
  // ef), so a plain vector query costs what Collection::Search does.
  bool lone_exact = false;
  if (root.children.empty() && !request.group_by && !request.mmr && !request.autocut) {
    if (root.kind == NodeKind::kText) lone_exact = true;
    if (root.kind == NodeKind::kNearest) {
      const VectorSpec* spec = c_.schema().Find(root.vector_name);
      if (spec != nullptr && (root.params.exact || spec->index.kind == IndexKind::kFlat)) {
        lone_exact = true;
      } else if (spec != nullptr) {
        base = root.params.ef != 0 ? root.params.ef : spec->index.ef_search;
      }
    }
  }
  if (lone_exact) base = wanted;
  const std::string mmr_vector =
      request.mmr ? (!request.mmr->using_vector.empty() ? request.mmr->using_vector
                     : !request.using_vector.empty()    ? request.using_vector
                                                        : c_.schema().vectors[0].name)
                  : std::string();
  if (request.mmr && c_.schema().Find(mmr_vector) == nullptr)
    return Status::InvalidArgument("mmr: collection '" + c_.name() + "' has no vector named '" +
                                   mmr_vector + "'");

  auto group_key = [&](const Candidate& c) -> Json {
    const Json* p = ex.Payload(c.id);
    return p ? PayloadValue(*p, request.group_by->key) : Json();
  };

  std::vector<Candidate> list;
  std::unordered_set<PointId, PointIdHash> seen;
  seen.reserve(base);
  bool higher_is_better = true;
  size_t levels = 0;
  for (size_t level = 0; level <= kMaxLevel; ++level) {
    const size_t scale = size_t{1} << level;
    const size_t need = std::min(kMaxLimit, base * scale);
    MOSAIC_ASSIGN_OR_RETURN(Ranked r, ex.Run(root, need, scale));
    ++levels;
    higher_is_better = r.higher_is_better;
    if (request.mmr) {
      const size_t pool = std::min(
          r.items.size(), (request.mmr->candidates ? request.mmr->candidates : base) * scale);
      Ranked head;
      head.higher_is_better = r.higher_is_better;
      head.items.assign(r.items.begin(), r.items.begin() + static_cast<std::ptrdiff_t>(pool));
      std::vector<PointId> ids;
      for (const Candidate& c : head.items)
        ids.push_back(c.id);
      MOSAIC_RETURN_IF_ERROR(ex.FetchVectors(ids, mmr_vector));
      const float diversity = request.mmr->diversity;
      std::vector<size_t> order = MmrOrder(
          head, diversity, pool, [&](size_t i) { return ex.Vector(head.items[i].id, mmr_vector); });
      std::vector<Candidate> reordered;
      for (size_t i : order)
        reordered.push_back(std::move(head.items[i]));
      r.complete = r.complete && pool == r.items.size();
      r.items = std::move(reordered);
    }
    for (Candidate& c : r.items) {
      if (list.size() >= need) break;
      if (seen.insert(c.id).second) list.push_back(std::move(c));
    }
    bool done = r.complete || need >= kMaxLimit;
    if (level == 0 && request.autocut) {
      std::vector<float> scores;
      for (const Candidate& c : list)
        scores.push_back(c.score);
      list.resize(AutocutLength(scores, request.autocut->jumps));
      done = true;  // the cut is made on the first level's scores, once
    }
    size_t have = list.size();
    if (request.group_by) {
      std::vector<PointId> ids;
      for (const Candidate& c : list)
        ids.push_back(c.id);
      MOSAIC_RETURN_IF_ERROR(ex.FetchPayloads(ids));
      auto groups = GroupHits(
          list.size(), [&](size_t i) { return group_key(list[i]); }, per_unit, wanted);
      have = groups.size();  // groups still short of group_size keep what the list gave them
    }
    if (done || have >= wanted || exact_listing || lone_exact) break;
  }

  // The page.
  std::vector<std::vector<size_t>> page_groups;  // with group_by: positions in `list` per group
  std::vector<Json> group_keys;
  std::vector<size_t> page;
  if (request.group_by) {
    auto groups = GroupHits(
        list.size(), [&](size_t i) { return group_key(list[i]); }, per_unit, wanted);
    for (size_t g = request.offset; g < groups.size(); ++g) {
      page_groups.push_back(groups[g].members);
      group_keys.push_back(groups[g].key);
      for (size_t i : groups[g].members)
        page.push_back(i);
    }
  } else {
    for (size_t i = request.offset; i < std::min(list.size(), wanted); ++i)
      page.push_back(i);
  }

  std::optional<OrderBy> order_by = root.order_by;
  const bool need_payload = request.with_payload || request.explain || order_by.has_value();
  std::vector<PointId> ids;
  for (size_t i : page)
    ids.push_back(list[i].id);
  MOSAIC_ASSIGN_OR_RETURN(auto points, c_.Get(ids, need_payload, request.with_vectors));
  std::unordered_map<PointId, Point*, PointIdHash> by_id;
  for (Point& p : points)
    by_id[p.id] = &p;

  std::map<uint32_t, const PlanNode*> nodes;
  NodeNames(root, &nodes);
  auto make_hit = [&](const Candidate& c) -> std::optional<Hit> {
    auto it = by_id.find(c.id);
    if (it == by_id.end()) return std::nullopt;  // deleted since it was ranked
    Point& p = *it->second;
    Hit h;
    h.id = c.id;
    h.score = c.score;
    if (order_by) h.order_value = OrderValue(p.payload, *order_by);
    // The evidence gives the snippet its best sentence; without query words there is none.
    Json evidence = need_payload && (request.explain || (request.with_payload && request.snippet &&
                                                         !plan.query_terms.empty()))
                        ? Evidence(p.payload, plan.query_terms, plan.tag_words, request.explain)
                        : Json();
    if (request.with_payload && request.snippet) h.snippet = Snippet(p.payload, evidence);
    if (request.explain) {
      // Every signal of the root, matched or not, then deeper nodes that ranked the hit.
      for (const PlanNode& child : root.children) {
        SignalMatch m{child.name, 0, 0, 0};
        for (const NodeRank& r : c.ranks)
          if (r.node == child.id) m = {child.name, r.rank, r.score, r.contribution};
        h.signals.push_back(std::move(m));
      }
      for (const NodeRank& r : c.ranks) {
        if (r.node == root.id) continue;
        bool direct = std::any_of(root.children.begin(), root.children.end(),
                                  [&](const PlanNode& ch) { return ch.id == r.node; });
        if (!direct)
          h.signals.push_back(
              {nodes.count(r.node) ? nodes[r.node]->name : "?", r.rank, r.score, r.contribution});
      }
      h.evidence = std::move(evidence);
    }
    if (request.with_payload) h.payload = std::move(p.payload);
    if (request.with_vectors) h.vectors = std::move(p.vectors);
    return h;
  };

  QueryResponse resp;
  resp.scored = !listing;
  if (request.group_by) {
    for (size_t g = 0; g < page_groups.size(); ++g) {
      HitGroup group{group_keys[g], {}};
      for (size_t i : page_groups[g])
        if (auto h = make_hit(list[i])) group.hits.push_back(std::move(*h));
      resp.groups.push_back(std::move(group));
    }
  } else {
    for (size_t i : page)
      if (auto h = make_hit(list[i])) resp.hits.push_back(std::move(*h));
  }

  if (exact_listing && list.size() > wanted) {
    const Candidate& next = list[wanted];
    Cursor cur{Json(), next.id};
    if (order_by) {
      std::vector<PointId> one = {next.id};
      MOSAIC_ASSIGN_OR_RETURN(auto p, c_.Get(one, true, false));
      if (!p.empty()) cur.order_value = OrderValue(p[0].payload, *order_by);
    }
    resp.next_cursor = std::move(cur);
  }

  for (const FacetSpec& f : request.facets) {
    FacetRequest fr;
    fr.key = f.key;
    fr.filter = root.filter;
    fr.limit = f.limit;
    fr.bucket = f.bucket;
    MOSAIC_ASSIGN_OR_RETURN(resp.facets[f.key], c_.Facet(fr));
  }

  if (!plan.understood.empty()) resp.explain["understood"] = plan.understood;
  if (request.explain) {
    resp.explain["plan"] = root.Describe();
    resp.explain["terms"] = plan.query_terms;
    resp.explain["depth_levels"] = levels;
    resp.explain["higher_is_better"] = higher_is_better;
  }
  return resp;
}

}  // namespace mosaic::query
