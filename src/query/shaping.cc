#include "query/shaping.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mosaic::query {

size_t AutocutLength(std::span<const float> scores, size_t jumps) {
  const size_t n = scores.size();
  if (n < 3 || jumps == 0) return n;
  const double best = scores.front(), worst = scores.back();
  if (best == worst) return n;
  // How far each score has fallen (0 at the best, 1 at the worst, whichever way scores run),
  // minus how far a steady fall would have got by then: it peaks just after a sudden drop.
  std::vector<double> fall(n);
  for (size_t i = 0; i < n; ++i)
    fall[i] =
        (scores[i] - best) / (worst - best) - static_cast<double>(i) / static_cast<double>(n - 1);
  size_t found = 0;
  for (size_t i = 1; i < n; ++i) {
    const bool peak =
        i + 1 < n ? fall[i] > fall[i - 1] && fall[i] > fall[i + 1]
                  : fall[i] > fall[i - 1] && fall[i] > fall[i - 2];  // a drop at the very end
    if (peak && ++found == jumps) return i;  // keep what came before the drop
  }
  return n;
}

std::vector<size_t> MmrOrder(const Ranked& candidates, float diversity, size_t count,
                             const std::function<const std::vector<float>*(size_t)>& vector) {
  const size_t n = candidates.items.size();
  count = std::min(count, n);
  std::vector<size_t> picked;
  if (n == 0) return picked;
  float lo = candidates.items[0].score, hi = lo;
  for (const Candidate& c : candidates.items) {
    lo = std::min(lo, c.score);
    hi = std::max(hi, c.score);
  }
  auto relevance = [&](size_t i) -> double {
    if (hi == lo) return 1.0;
    double r =
        (static_cast<double>(candidates.items[i].score) - lo) / (static_cast<double>(hi) - lo);
    return candidates.higher_is_better ? r : 1.0 - r;
  };
  // Unit vectors once; the most similar pick so far per candidate, updated after each pick.
  std::vector<std::vector<float>> unit(n);
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float>* v = vector(i);
    if (v == nullptr) continue;
    double norm = 0;
    for (float x : *v)
      norm += static_cast<double>(x) * x;
    if (!(norm > 0)) continue;
    norm = std::sqrt(norm);
    unit[i].resize(v->size());
    for (size_t d = 0; d < v->size(); ++d)
      unit[i][d] = static_cast<float>((*v)[d] / norm);
  }
  std::vector<double> max_sim(n, -1.0);  // nothing picked yet: no penalty beyond -1
  std::vector<bool> taken(n, false);
  const double lambda = 1.0 - diversity;
  while (picked.size() < count) {
    size_t best = n;
    double best_value = -INFINITY;
    for (size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      const double penalty = picked.empty() ? 0.0 : std::max(0.0, max_sim[i]);
      const double value = lambda * relevance(i) - diversity * penalty;
      if (value > best_value) {
        best_value = value;
        best = i;
      }
    }
    taken[best] = true;
    picked.push_back(best);
    if (unit[best].empty()) continue;
    for (size_t i = 0; i < n; ++i) {
      if (taken[i] || unit[i].size() != unit[best].size()) continue;
      double dot = 0;
      for (size_t d = 0; d < unit[i].size(); ++d)
        dot += static_cast<double>(unit[i][d]) * unit[best][d];
      max_sim[i] = std::max(max_sim[i], dot);
    }
  }
  return picked;
}

std::vector<Group> GroupHits(size_t count, const std::function<Json(size_t)>& key_of,
                             size_t group_size, size_t max_groups) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;  // key dump -> group
  size_t full = 0;
  for (size_t i = 0; i < count && full < max_groups; ++i) {
    Json key = key_of(i);
    std::vector<Json> keys;
    if (key.is_array()) {
      for (const Json& k : key)
        keys.push_back(k);
    } else {
      keys.push_back(std::move(key));
    }
    std::vector<std::string> seen;
    for (const Json& k : keys) {
      if (!(k.is_string() || k.is_number_integer() || k.is_number_unsigned() || k.is_boolean()))
        continue;
      std::string dump = k.dump();
      if (std::find(seen.begin(), seen.end(), dump) != seen.end()) continue;
      seen.push_back(dump);
      auto it = index.find(dump);
      if (it == index.end()) {
        if (groups.size() == max_groups) continue;  // only the groups already begun may grow
        it = index.emplace(dump, groups.size()).first;
        groups.push_back({k, {}});
      }
      Group& g = groups[it->second];
      if (g.members.size() < group_size) {
        g.members.push_back(i);
        if (g.members.size() == group_size) ++full;
      }
    }
  }
  return groups;
}

}  // namespace mosaic::query
