// The interface bench/ann_bench drives every ANN library through (Mosaic and each peer), so that
// each cell of a run (engine x ef x threads) is measured the same way, in alternating order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bitset.h"
#include "io/vector_file.h"
#include "mosaic/types.h"

namespace mosaic::bench {

// Build parameters shared by every graph engine in a run.
struct GraphParams {
  uint32_t M = 16;                 // links per node above layer 0 (2 * M on layer 0)
  uint32_t ef_construction = 200;  // beam width while building
};

class AnnEngine {
 public:
  virtual ~AnnEngine() = default;
  // Short column name, e.g. "mosaic-sq8", "usearch-i8", "faiss-avx2".
  virtual std::string name() const = 0;
  // Version and build of the library, printed once per run ("usearch 2.26.2, NumKong dispatch").
  virtual std::string build_info() const = 0;
  // Builds from `base` (rows stay alive for the engine's lifetime) with `threads` threads;
  // a second call replaces the first index. Cosine: base and queries arrive normalized.
  virtual void Build(const io::Matrix& base, Metric metric, const GraphParams& params,
                     int threads) = 0;
  // Bytes the engine holds to answer a search: graph + codes + vectors it reads (the f32 rows
  // count when it reads them, even if it shares ours).
  virtual size_t MemoryBytes() const = 0;
  // The links alone (no vectors, no codes).
  virtual size_t GraphBytes() const = 0;
  virtual void SetEf(size_t ef) = 0;
  // Top-k ids of one query into out[0..k), -1 padded. Called concurrently with distinct
  // `thread` values in [0, threads) after PrepareSearch(threads).
  virtual void PrepareSearch(int threads) { (void)threads; }
  virtual void Search(const float* query, size_t k, int thread, int64_t* out) = 0;
  // Filtered search over the rows set in `allow`; engines without it return false.
  virtual bool SearchFiltered(const float* query, size_t k, const Bitset& allow, int thread,
                              int64_t* out) {
    (void)query, (void)k, (void)allow, (void)thread, (void)out;
    return false;
  }
};

}  // namespace mosaic::bench
