// Merging the HNSW graphs of a column's parts into one graph over a new numbering of the slots
// (compaction, merges and snapshots): the largest part's graph is renumbered, the others' nodes
// are inserted into it, most of them by short searches from their old neighbours.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/thread_pool.h"
#include "index/hnsw/hnsw_index.h"
#include "mosaic/status.h"

namespace mosaic::collection {

// One part's graph and the slots it covers, for MergeGraphs.
struct GraphPart {
  const index::HnswIndex* graph = nullptr;
  uint32_t first = 0;
  uint32_t size = 0;
};

struct GraphMergeOptions {
  // Insert most nodes of the smaller parts by a search of layer 0 from their old neighbours
  // (false: every node by a full insert, as before; kept for bench/merge_bench).
  bool from_old_neighbours = true;
  size_t beam = 0;  // of those searches; 0: 4M (bench/merge_bench), at most ef_construction
};

// How MergeGraphs placed the nodes.
struct GraphMergeStats {
  size_t renumbered = 0;  // nodes of the largest part's graph
  size_t full = 0;        // inserted by a full search (the join sets)
  size_t near = 0;        // inserted by a search from their old neighbours
};

// One graph over all of `parts`, renumbered by `old_to_new` (slot -> new node, -1: dropped;
// `new_to_old` its inverse): the largest part's graph is renumbered (no rebuild, its codec kept),
// and the new nodes of the others that `has_vector` are inserted into it (see the definition).
// `new_rows` reads rows by new node. The parts' graphs are read as they are, without a copy: they
// must get no Add meanwhile (a sealed segment's), but Remove may tombstone them (nodes tombstoned
// after MergeGraphs read them stay in the merged graph, for the caller to tombstone there).
std::unique_ptr<index::HnswIndex> MergeGraphs(std::span<const GraphPart> parts,
                                              const std::vector<int64_t>& old_to_new,
                                              const std::vector<uint32_t>& new_to_old,
                                              const std::function<bool(uint32_t)>& has_vector,
                                              const index::VectorRows* new_rows,
                                              ThreadPool* pool, Status* status,
                                              const GraphMergeOptions& options = {},
                                              GraphMergeStats* stats = nullptr);

}  // namespace mosaic::collection
