// Exact (brute-force) k-nearest-neighbour search over vectors held in contiguous blocks.
// Stateless functions; thread-safe as long as the blocks are not written meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/bitset.h"
#include "common/thread_pool.h"
#include "mosaic/types.h"

namespace mosaic::index {

// `count` rows of `dim` floats at `data`; row r is the vector of slot `first_slot + r`.
struct VectorBlock {
  const float* data = nullptr;
  uint32_t first_slot = 0;
  uint32_t count = 0;
};

// `distance` is smaller-is-better for every metric: squared L2 for kL2, minus the dot product for
// kInnerProduct and kCosine (cosine vectors and queries are normalized by the caller).
struct Neighbor {
  uint32_t slot;
  float distance;
};

// Exact top-k for `nq` queries (row-major, `dim` floats each) over all rows of `blocks`, skipping
// slots not set in `allow` (when non-null; slots beyond allow->size() are skipped too).
// (*out)[i] holds query i's hits sorted by distance ascending, then slot ascending; fewer than k
// when fewer rows are allowed. Queries are spread over `pool` when non-null.
void FlatSearch(std::span<const VectorBlock> blocks, size_t dim, Metric metric,
                const float* queries, size_t nq, size_t k, const Bitset* allow, ThreadPool* pool,
                std::vector<std::vector<Neighbor>>* out);

// Exact top-k for one query over an explicit list of slots (a selective filter's survivors);
// row(slot) returns the slot's vector.
std::vector<Neighbor> FlatSearchSlots(std::span<const uint32_t> slots,
                                      const std::function<const float*(uint32_t)>& row,
                                      size_t dim, Metric metric, const float* query, size_t k);

}  // namespace mosaic::index
