#include "collection/graph_merge.h"

#include <algorithm>

namespace mosaic::collection {

namespace {

size_t NearBeam(const index::HnswParams& params, const GraphMergeOptions& options) {
  return std::min<size_t>(options.beam != 0 ? options.beam : 4 * size_t{params.M},
                          params.ef_construction);
}

}  // namespace

std::unique_ptr<index::HnswIndex> MergeGraphs(std::span<const GraphPart> parts,
                                              const std::vector<int64_t>& old_to_new,
                                              const std::vector<uint32_t>& new_to_old,
                                              const std::function<bool(uint32_t)>& has_vector,
                                              const index::VectorRows* new_rows,
                                              ThreadPool* pool, Status* status,
                                              const GraphMergeOptions& options,
                                              GraphMergeStats* stats) {
  size_t big = 0;
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].graph->size() > parts[big].graph->size()) big = i;
  const GraphPart& b = parts[big];
  // Its tombstones are read once, into the map, so that deletes may go on tombstoning the graph
  // while it is renumbered.
  std::vector<int64_t> local(b.size, -1);
  for (uint32_t l = 0; l < b.size && b.first + l < old_to_new.size(); ++l)
    if (b.graph->Contains(l)) local[l] = old_to_new[b.first + l];
  std::unique_ptr<index::HnswIndex> merged =
      b.graph->Remap(local, new_rows, pool, /*drop_removed=*/false);

  // The new node of part p's local slot l, or -1 if it is not inserted here.
  auto inserted = [&](const GraphPart& p, uint32_t l) -> int64_t {
    if (l >= p.size || p.first + l >= old_to_new.size()) return -1;
    const int64_t j = old_to_new[p.first + l];
    return j >= 0 && has_vector(static_cast<uint32_t>(j)) ? j : -1;
  };
  // Each other part's nodes split in two (Lucene's MergingHnswGraphBuilder, after Ponomarenko,
  // "Three algorithms for merging hierarchical navigable small world graphs", 2025): a join set
  // inserted by full searches, chosen so that every other node has at least k of its old
  // neighbours in it (k = 2 for fewer than 9 links, else a quarter of them); then each other
  // node starts a short search of layer 0 from its old neighbours, which are in the graph by
  // then. The join set is chosen in one pass over the part's slots: a node joins it unless
  // enough of its neighbours already have.
  std::vector<uint32_t> full, near;
  std::vector<uint32_t> links;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == big) continue;
    const GraphPart& p = parts[i];
    std::vector<uint8_t> joined(p.size, 0);
    for (uint32_t l = 0; l < p.size; ++l) {
      const int64_t j = inserted(p, l);
      if (j < 0) continue;
      p.graph->LayerZeroLinks(l, &links);
      size_t degree = 0, in_set = 0;
      for (uint32_t u : links) {
        if (inserted(p, u) < 0) continue;
        ++degree;
        in_set += u < p.size && joined[u];
      }
      const size_t k = degree < 9 ? std::min<size_t>(2, degree) : (degree + 3) / 4;
      if (!options.from_old_neighbours || degree == 0 || in_set < k) {
        joined[l] = 1;
        full.push_back(static_cast<uint32_t>(j));
      } else {
        near.push_back(static_cast<uint32_t>(j));
      }
    }
  }
  // New nodes not in any part's graph range (none today) are inserted in full.
  for (uint32_t j = 0; j < new_to_old.size(); ++j) {
    const uint32_t old = new_to_old[j];
    if (!has_vector(j)) continue;
    bool covered = false;
    for (const GraphPart& p : parts) covered |= old >= p.first && old - p.first < p.size;
    if (!covered) full.push_back(j);
  }
  if (stats != nullptr) {
    stats->renumbered = merged->size();
    stats->full = full.size();
    stats->near = near.size();
  }
  *status = merged->AddBatch(full, pool);
  if (!status->ok()) return merged;
  // A node's seeds: its old links, renumbered.
  auto seeds = [&](uint32_t j, std::vector<uint32_t>* out) {
    const uint32_t old = new_to_old[j];
    for (const GraphPart& p : parts) {
      if (old < p.first || old - p.first >= p.size) continue;
      thread_local std::vector<uint32_t> old_links;
      p.graph->LayerZeroLinks(old - p.first, &old_links);
      for (uint32_t u : old_links)
        if (const int64_t n = inserted(p, u); n >= 0) out->push_back(static_cast<uint32_t>(n));
      return;
    }
  };
  *status = merged->AddBatchNear(near, seeds, NearBeam(merged->params(), options), pool);
  return merged;
}

}  // namespace mosaic::collection
