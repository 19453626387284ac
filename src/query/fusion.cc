#include "query/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace mosaic::query {
namespace {

// Gathers the candidates of all lists, once each, adding `score(list, position)` to each and
// recording it as the contribution of that list's node.
template <typename ScoreFn>
Ranked Accumulate(std::span<const FusionInput> lists, const ScoreFn& score) {
  Ranked out;
  out.higher_is_better = true;
  out.complete = true;
  std::unordered_map<PointId, size_t, PointIdHash> at;
  // Candidates found only by negative lists are not results: they are what to avoid.
  std::vector<bool> wanted;
  const bool any_positive =
      std::any_of(lists.begin(), lists.end(), [](const FusionInput& f) { return f.weight > 0; });
  for (size_t l = 0; l < lists.size(); ++l) {
    const Ranked& list = *lists[l].list;
    out.complete = out.complete && list.complete;
    for (size_t pos = 0; pos < list.items.size(); ++pos) {
      const Candidate& c = list.items[pos];
      const float s = score(l, pos);
      auto [it, fresh] = at.emplace(c.id, out.items.size());
      if (fresh) {
        out.items.push_back({c.id, 0.0f, {}});
        wanted.push_back(!any_positive);
      }
      if (lists[l].weight > 0) wanted[it->second] = true;
      Candidate& dst = out.items[it->second];
      dst.score += s;
      for (const NodeRank& r : c.ranks) {
        auto same = std::find_if(dst.ranks.begin(), dst.ranks.end(),
                                 [&](const NodeRank& x) { return x.node == r.node; });
        if (same == dst.ranks.end()) dst.ranks.push_back(r);
      }
      for (NodeRank& r : dst.ranks)
        if (r.node == lists[l].node) r.contribution = s;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < out.items.size(); ++i)
    if (wanted[i]) {
      if (kept != i) out.items[kept] = std::move(out.items[i]);
      ++kept;
    }
  out.items.resize(kept);
  std::sort(out.items.begin(), out.items.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  return out;
}

}  // namespace

Ranked FuseRrf(std::span<const FusionInput> lists, float k) {
  return Accumulate(lists, [&](size_t l, size_t pos) {
    return lists[l].weight / (k + static_cast<float>(pos + 1));
  });
}

Ranked FuseDbsf(std::span<const FusionInput> lists) {
  // Per list: the affine map of its scores (negated for distances) onto mean +- 3 sd -> 0..1.
  std::vector<std::pair<double, double>> maps(lists.size(), {0.0, 0.0});  // (offset, scale)
  for (size_t l = 0; l < lists.size(); ++l) {
    const Ranked& list = *lists[l].list;
    const double sign = list.higher_is_better ? 1.0 : -1.0;
    const size_t n = list.items.size();
    if (n < 2) continue;
    double mean = 0, m2 = 0;  // Welford
    for (size_t i = 0; i < n; ++i) {
      const double x = sign * list.items[i].score;
      const double delta = x - mean;
      mean += delta / static_cast<double>(i + 1);
      m2 += delta * (x - mean);
    }
    const double sd = std::sqrt(m2 / static_cast<double>(n - 1));
    if (sd > 0) maps[l] = {mean - 3 * sd, 6 * sd};
  }
  return Accumulate(lists, [&](size_t l, size_t pos) {
    const auto [lo, range] = maps[l];
    if (range == 0) return lists[l].weight * 0.5f;
    const double sign = lists[l].list->higher_is_better ? 1.0 : -1.0;
    const double x = sign * lists[l].list->items[pos].score;
    return static_cast<float>(lists[l].weight * (x - lo) / range);
  });
}

}  // namespace mosaic::query
