// VectorIndex: an approximate or exact index over one named vector of a collection, keyed by the
// collection's slot numbers (after Faiss's Index with its IDSelector hook). The index does not own
// the f32 vectors: it reads them through VectorRows, so the collection's storage (loaded segment
// + in-memory tail) is the single copy. An index may keep compact codes of its own (SQ8, PQ).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/bitset.h"
#include "index/flat/flat_search.h"
#include "mosaic/env.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::index {

// Where an index reads the vector of a slot. Row(slot) must stay valid while the index uses it;
// the collection guarantees that by not moving rows while any search or insert runs.
class VectorRows {
 public:
  virtual ~VectorRows() = default;
  virtual const float* Row(uint32_t slot) const = 0;
};

struct IndexSearchParams {
  size_t ef = 0;  // HNSW beam width; 0: the index's default (max(k, ef_search default))
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  // Adds `slot`, whose vector rows.Row(slot) is already set (normalized for cosine).
  virtual Status Add(uint32_t slot) = 0;
  // Excludes `slot` from every later result at once; its place in the graph is repaired/reused.
  virtual void Remove(uint32_t slot) = 0;
  // Top-k by the Neighbor distance convention (smaller is better), restricted to `allow` when
  // non-null. Thread-safe with concurrent Search and Add.
  virtual std::vector<Neighbor> Search(const float* query, size_t k, const IndexSearchParams& p,
                                       const Bitset* allow) const = 0;
  virtual size_t size() const = 0;  // live (not removed) entries
  virtual size_t MemoryBytes() const = 0;
};

}  // namespace mosaic::index
