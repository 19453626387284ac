// A ranked candidate list, the currency between the stages of a query: ids with scores, best
// first, each remembering where it ranked in the plan's nodes (for explain). Plain values.
#pragma once

#include <cstdint>
#include <vector>

#include "mosaic/types.h"

namespace mosaic::query {

// A hit's place in one node of the plan: its rank there (from 1), its score there, and what it
// contributed to its parent's fusion.
struct NodeRank {
  uint32_t node = 0;
  uint32_t rank = 0;
  float score = 0;
  float contribution = 0;
};

struct Candidate {
  PointId id;
  float score = 0;
  std::vector<NodeRank> ranks;
};

struct Ranked {
  std::vector<Candidate> items;  // best first
  // Scores are similarities (larger is better) or distances (smaller is better: l2 searches).
  bool higher_is_better = true;
  // Every candidate the node could produce is here (nothing was cut by a limit), so asking for
  // a larger limit would give the same list.
  bool complete = false;
};

// Whether score `a` is better than `b` in a list ordered as `higher_is_better` says.
inline bool Better(float a, float b, bool higher_is_better) {
  return higher_is_better ? a > b : a < b;
}

}  // namespace mosaic::query
