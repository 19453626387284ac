// Faiss's HNSW behind bench/ann's AnnEngine: IndexHNSWFlat ("faiss", f32 rows) and IndexHNSWSQ
// with 8-bit scalar quantization ("faiss-sq8", one byte per dimension, ranges trained per
// dimension on the base), both with the run's M and ef_construction. Which Faiss build is linked
// (the AVX2 build from Debian's source, or Debian's scalar libfaiss-dev) comes from bench/'s CMake
// as MOSAIC_FAISS_BUILD and is reported by build_info().
//
// Thread-safety: Build, SetEf and PrepareSearch run alone; Search and SearchFiltered may run
// concurrently, each caller with its own `thread`. Each search passes its ef and filter in a
// SearchParametersHNSW of its own and runs with one OpenMP thread (set per calling thread: the
// OpenMP thread count is a per-thread setting), so calls share nothing but the read-only index.
//
// Faiss 1.7.3 (Debian's source, 1.7.3-2), checked in faiss/impl/HNSW.cpp and IndexHNSW.cpp:
// - SearchParametersHNSW exists and IndexHNSW::search honours its efSearch and sel, but
//   HNSW::search sizes the candidate queue from the index's own hnsw.efSearch, not from the
//   parameters; SetEf therefore sets both (it never runs during searches).
// - Every search adds to the global faiss::hnsw_stats without a lock, so concurrent searches race
//   on those statistics counters (results are unaffected; ThreadSanitizer would flag it).
// - A filtered search walks the whole graph as usual and keeps only allowed ids in the top-k;
//   with a selective filter the beam fills with rejected nodes and recall drops.
#pragma once

#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <omp.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ann/engine.h"
#include "bench_util.h"

#ifndef MOSAIC_FAISS_BUILD
#define MOSAIC_FAISS_BUILD "build not labelled"
#endif

namespace mosaic::bench {

class FaissHnswEngine final : public AnnEngine {
 public:
  // sq8: IndexHNSWSQ (QT_8bit codes) instead of IndexHNSWFlat.
  explicit FaissHnswEngine(bool sq8) : sq8_(sq8) {}

  std::string name() const override { return sq8_ ? "faiss-sq8" : "faiss"; }
  std::string build_info() const override {
    return "faiss " + std::to_string(FAISS_VERSION_MAJOR) + "." +
           std::to_string(FAISS_VERSION_MINOR) + "." + std::to_string(FAISS_VERSION_PATCH) + ", " +
           MOSAIC_FAISS_BUILD;
  }

  void Build(const io::Matrix& base, Metric metric, const GraphParams& params,
             int threads) override {
    // Cosine arrives normalized: inner product on the unit vectors.
    const faiss::MetricType faiss_metric =
        metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    const int dim = static_cast<int>(base.dim), m = static_cast<int>(params.M);
    const auto n = static_cast<faiss::Index::idx_t>(base.rows);
    try {
      if (sq8_) {
        index_ = std::make_unique<faiss::IndexHNSWSQ>(dim, faiss::ScalarQuantizer::QT_8bit, m,
                                                      faiss_metric);
      } else {
        index_ = std::make_unique<faiss::IndexHNSWFlat>(dim, m, faiss_metric);
      }
      index_->hnsw.efConstruction = static_cast<int>(params.ef_construction);
      omp_set_num_threads(threads);
      index_->train(n, base.data.data());  // SQ8: per-dimension ranges; nothing for f32 rows
      index_->add(n, base.data.data());
      omp_set_num_threads(1);
    } catch (const faiss::FaissException& e) {
      Die("ann_bench", name() + " build: " + e.what());
    }
  }

  size_t GraphBytes() const override {
    const faiss::HNSW& h = index_->hnsw;
    return h.neighbors.size() * sizeof(h.neighbors[0]) + h.offsets.size() * sizeof(h.offsets[0]) +
           h.levels.size() * sizeof(h.levels[0]) +
           h.assign_probas.size() * sizeof(h.assign_probas[0]) +
           h.cum_nneighbor_per_level.size() * sizeof(h.cum_nneighbor_per_level[0]);
  }
  // Graph + the storage index's codes (f32 rows, or SQ8 codes and their trained ranges).
  size_t MemoryBytes() const override {
    size_t bytes = GraphBytes();
    if (const auto* codes = dynamic_cast<const faiss::IndexFlatCodes*>(index_->storage)) {
      bytes += codes->codes.size();
    }
    if (const auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(index_->storage)) {
      bytes += sq->sq.trained.size() * sizeof(float);
    }
    return bytes;
  }

  void SetEf(size_t ef) override {
    ef_ = static_cast<int>(ef);
    index_->hnsw.efSearch = ef_;  // sizes the candidate queue in 1.7.3 (see the header comment)
  }
  void PrepareSearch(int threads) override { distances_.assign(static_cast<size_t>(threads), {}); }
  void Search(const float* query, size_t k, int thread, int64_t* out) override {
    Run(query, k, nullptr, thread, out);
  }
  // Faiss's IDSelectorBitmap reads bit i%8 of byte i/8; Bitset's little-endian 64-bit words have
  // that byte layout, so the allow-set is passed as it is, with no conversion to cache.
  bool SearchFiltered(const float* query, size_t k, const Bitset& allow, int thread,
                      int64_t* out) override {
    static_assert(std::endian::native == std::endian::little);
    faiss::IDSelectorBitmap selector(allow.num_words() * sizeof(uint64_t),
                                     reinterpret_cast<const uint8_t*>(allow.words()));
    Run(query, k, &selector, thread, out);
    return true;
  }

 private:
  void Run(const float* query, size_t k, faiss::IDSelector* selector, int thread, int64_t* out) {
    // IndexHNSW::search opens an OpenMP parallel region per call: one thread per caller.
    if (omp_get_max_threads() != 1) omp_set_num_threads(1);
    faiss::SearchParametersHNSW params;
    params.efSearch = ef_;
    params.sel = selector;
    std::vector<float>& distances = distances_[static_cast<size_t>(thread)];
    distances.resize(k);
    index_->search(1, query, static_cast<faiss::Index::idx_t>(k), distances.data(), out, &params);
  }

  bool sq8_;
  int ef_ = 16;  // Faiss's default efSearch
  std::unique_ptr<faiss::IndexHNSW> index_;
  std::vector<std::vector<float>> distances_;  // per search thread
};

}  // namespace mosaic::bench
