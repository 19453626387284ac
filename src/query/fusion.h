// Rank fusion of several candidate lists into one (the final stage of a hybrid query):
// reciprocal rank fusion and distribution-based score fusion, as in Qdrant
// (lib/segment/src/common/{reciprocal_rank_fusion,score_fusion}.rs) but with weights that may be
// negative, so that a list of what the user does not want pushes its hits down.
#pragma once

#include <span>

#include "query/ranked.h"

namespace mosaic::query {

struct FusionInput {
  const Ranked* list = nullptr;
  float weight = 1;
  uint32_t node = 0;  // the list's node: its NodeRank on each candidate gets the contribution
};

// score(d) = sum over lists holding d of weight / (k + rank(d)), rank from 1 (Cormack et al.).
// Ties by id ascending. The result holds every candidate of a positively weighted list (not
// truncated); candidates only negative lists found are left out.
Ranked FuseRrf(std::span<const FusionInput> lists, float k);

// Each list's scores are scaled so that mean - 3 sd maps to 0 and mean + 3 sd to 1 (a distance
// list is negated first; a list of one scores 0.5, a list of equal scores 0.5 each), then
// score(d) = sum of weight x scaled score over the lists holding d. Ties by id ascending.
Ranked FuseDbsf(std::span<const FusionInput> lists);

}  // namespace mosaic::query
