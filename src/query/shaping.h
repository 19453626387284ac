// The shaping stages applied to a query's final ranked list: autocut (cut at the first large
// score drop), MMR (diversify), and group by a payload field. Each is a pure function of its
// inputs and prefix-stable: shaping a longer list of the same candidates yields the same head.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "mosaic/json.h"
#include "query/ranked.h"

namespace mosaic::query {

// How many of `scores` (best first, similarities or distances) to keep: the fall of the scores
// from the best is compared with a steady fall from the best to the worst, and the list is cut
// before the `jumps`-th point where it has fallen furthest ahead of that line (a sudden drop,
// after Weaviate's autocut). All of them when the scores have no such drop (or are fewer than 3).
size_t AutocutLength(std::span<const float> scores, size_t jumps);

// The order in which MMR picks `count` of the candidates: each next pick maximizes
// (1 - diversity) * relevance - diversity * max similarity to the picks so far, relevance the
// score scaled to 0..1 over the candidates. `vector(i)` is candidate i's vector (nullptr: none,
// then it is similar to nothing); similarity is cosine. Returns candidate positions.
std::vector<size_t> MmrOrder(const Ranked& candidates, float diversity, size_t count,
                             const std::function<const std::vector<float>*(size_t)>& vector);

struct Group {
  Json key;
  std::vector<size_t> members;  // positions in the ranked list, best first
};

// Groups by `key_of(i)` (a string, integer or boolean; an array puts the hit in each of its
// values' groups; null or other types: in none), in the order of each group's best hit, each
// with at most `group_size` members; stops once `max_groups` groups are full or the list ends.
std::vector<Group> GroupHits(size_t count, const std::function<Json(size_t)>& key_of,
                             size_t group_size, size_t max_groups);

}  // namespace mosaic::query
