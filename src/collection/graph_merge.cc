#include "collection/graph_merge.h"

namespace mosaic::collection {

std::unique_ptr<index::HnswIndex> MergeGraphs(std::span<const GraphPart> parts,
                                              const std::vector<int64_t>& old_to_new,
                                              const std::vector<uint32_t>& new_to_old,
                                              const std::function<bool(uint32_t)>& has_vector,
                                              const index::VectorRows* new_rows,
                                              ThreadPool* pool, Status* status) {
  size_t big = 0;
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].graph->size() > parts[big].graph->size()) big = i;
  const GraphPart& b = parts[big];
  std::vector<int64_t> local(b.size, -1);
  for (uint32_t l = 0; l < b.size && b.first + l < old_to_new.size(); ++l)
    local[l] = old_to_new[b.first + l];
  std::unique_ptr<index::HnswIndex> merged = b.graph->Remap(local, new_rows, pool);
  std::vector<uint32_t> others;
  for (uint32_t j = 0; j < new_to_old.size(); ++j) {
    const uint32_t old = new_to_old[j];
    if ((old < b.first || old - b.first >= b.size) && has_vector(j)) others.push_back(j);
  }
  *status = merged->AddBatch(others, pool);
  return merged;
}

}  // namespace mosaic::collection
