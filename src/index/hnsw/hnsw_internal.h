// Shared by the HnswIndex translation units (hnsw_index.cc: storage, search, insertion;
// hnsw_repair.cc: removal, vacuum, remap): link access, neighbour order, and the neighbour
// selection heuristic that both insertion and repair use. Not part of the index's interface.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/hnsw/hnsw_index.h"

namespace mosaic::index {

namespace hnsw_detail {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Partial sums of an L2 distance are compared with the caller's bound every kAbandonChunk
// dimensions (a multiple of the 16-float AVX-512 register, so no chunk leaves a scalar tail).
// Shorter vectors are computed in one call: the check would cost more than it could save. On
// Fashion-MNIST, 128-dim chunks abandoned 62% of computations but only after 79% of the
// dimensions on average, and the extra calls cost more than the skipped loads saved; at 256,
// 38% are abandoned after 85% and the result is at least even with a single call.
constexpr size_t kAbandonChunk = 256;

// Link words are read while another thread may be rewriting the list, so every access is atomic.
// Acquire/release also carry the happens-before edge from "node X was fully inserted" to "a
// reader found X in a list"; on x86 both compile to plain moves.
inline uint32_t LoadLink(const uint32_t* p) {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(p)).load(std::memory_order_acquire);
}
inline void StoreLink(uint32_t* p, uint32_t v) {
  std::atomic_ref<uint32_t>(*p).store(v, std::memory_order_release);
}

// (distance, slot) lexicographic: the order results are returned in, so ties never depend on
// the traversal. Function objects rather than functions, so that the heap algorithms that take
// them inline the comparison instead of calling through a pointer (a tenth of a build's time).
inline constexpr auto Closer = [](const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
};
inline constexpr auto Farther = [](const Neighbor& a, const Neighbor& b) { return Closer(b, a); };

inline void Prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

// SplitMix64: a well-mixed 64-bit hash of (seed, slot) for the level draw.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace hnsw_detail

// f32 rows, compared with the exact distance (early-abandoned for L2).
template <typename RowFn>
struct HnswIndex::RowPairs {
  const HnswIndex* index;
  const RowFn& row;
  const void* Vector(uint32_t id) const { return row(id); }
  float operator()(const void* a, const void* b, float bound) const {
    return index->Distance(static_cast<const float*>(a), static_cast<const float*>(b), bound);
  }
};

template <typename Pairs>
void HnswIndex::SelectNeighbors(std::vector<Neighbor>* candidates, size_t max, const Pairs& pairs,
                                std::vector<Neighbor>* out) const {
  out->clear();
  if (candidates->size() <= max) {
    out->assign(candidates->begin(), candidates->end());
    return;
  }
  // Malkov & Yashunin's heuristic (Algorithm 4): walking candidates from the closest, keep one
  // only if it is closer to the base than to every neighbour kept so far. Links then point in
  // diverse directions instead of all into the nearest cluster, which is what keeps the graph
  // navigable between clusters. The bound makes each comparison stop as soon as the answer
  // ("not closer to the kept neighbour") is known.
  const void* kept_rows[512];
  for (const Neighbor& c : *candidates) {
    if (out->size() >= max) break;
    const void* c_row = pairs.Vector(c.slot);
    bool keep = true;
    for (size_t j = 0; j < out->size(); ++j) {
      if (pairs(c_row, kept_rows[j], c.distance) < c.distance) {
        keep = false;
        break;
      }
    }
    if (keep) {
      kept_rows[out->size()] = c_row;
      out->push_back(c);
    }
  }
  if (params_.keep_pruned_connections && out->size() < max) {
    std::vector<uint32_t> kept;
    for (const Neighbor& n : *out) kept.push_back(n.slot);
    std::sort(kept.begin(), kept.end());
    for (const Neighbor& c : *candidates) {
      if (out->size() >= max) break;
      if (!std::binary_search(kept.begin(), kept.end(), c.slot)) out->push_back(c);
    }
  }
}

}  // namespace mosaic::index
