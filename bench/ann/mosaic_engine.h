// Mosaic's HnswIndex as an ann_bench engine: "mosaic" walks the f32 rows, "mosaic-sq8" walks
// 8-bit codes and re-scores the beam with the f32 rows (HnswParams::sq8). The SQ8 build
// variants: "mosaic-sq8-f32build" builds the graph from the f32 rows, "mosaic-sq8-codes" over
// the codes, "mosaic-sq8-rescore" over the codes with each layer's beam re-scored with f32
// (HnswParams::build_on_codes, build_rescore); "mosaic-sq8-dims" codes every dimension, never
// principal components (HnswParams::sq8_project off); "mosaic-sq8" takes the defaults.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ann/engine.h"
#include "bench_util.h"
#include "common/thread_pool.h"
#include "index/hnsw/hnsw_index.h"
#include "simd/distance.h"

namespace mosaic::bench {

class MosaicEngine final : public AnnEngine {
 public:
  enum class Sq8Build { kDefault, kF32, kCodes, kCodesRescored, kPerDimension };
  explicit MosaicEngine(bool sq8, Sq8Build build = Sq8Build::kDefault)
      : sq8_(sq8), build_(build) {}
  std::string name() const override {
    if (!sq8_) return "mosaic";
    switch (build_) {
      case Sq8Build::kF32: return "mosaic-sq8-f32build";
      case Sq8Build::kCodes: return "mosaic-sq8-codes";
      case Sq8Build::kCodesRescored: return "mosaic-sq8-rescore";
      case Sq8Build::kPerDimension: return "mosaic-sq8-dims";
      default: return "mosaic-sq8";
    }
  }
  std::string build_info() const override {
    return std::string("this tree, run-time SIMD dispatch (") +
           simd::LevelName(simd::ActiveLevel()) + ")";
  }
  void Build(const io::Matrix& base, Metric metric, const GraphParams& g, int threads) override {
    index_.reset();
    rows_ = std::make_unique<Rows>(base);
    index::HnswParams p;
    p.M = g.M;
    p.ef_construction = g.ef_construction;
    p.sq8 = sq8_;
    p.sq8_project = build_ != Sq8Build::kPerDimension;
    if (build_ != Sq8Build::kDefault && build_ != Sq8Build::kPerDimension) {
      p.build_on_codes = build_ != Sq8Build::kF32;
      p.build_rescore = build_ == Sq8Build::kCodesRescored;
    }
    index_ = std::make_unique<index::HnswIndex>(static_cast<uint32_t>(base.dim), metric, p,
                                                rows_.get());
    std::vector<uint32_t> slots(base.rows);
    for (size_t i = 0; i < slots.size(); ++i) slots[i] = static_cast<uint32_t>(i);
    ThreadPool pool(threads);
    Status st = index_->AddBatch(slots, threads > 1 ? &pool : nullptr);
    if (!st.ok()) Die("mosaic build", st.ToString());
    row_bytes_ = base.rows * base.dim * sizeof(float);
  }
  // The f32 rows count for both: the walk reads them (f32) or re-scores with them (SQ8).
  size_t MemoryBytes() const override { return index_->MemoryBytes() + row_bytes_; }
  size_t GraphBytes() const override {
    return index_->MemoryBytes() - index_->CodeBytes() - index_->CodecBytes();
  }
  void SetEf(size_t ef) override { params_.ef = ef; }
  void Search(const float* q, size_t k, int /*thread*/, int64_t* out) override {
    Copy(index_->Search(q, k, params_, nullptr), k, out);
  }
  bool SearchFiltered(const float* q, size_t k, const Bitset& allow, int /*thread*/,
                      int64_t* out) override {
    Copy(index_->Search(q, k, params_, &allow), k, out);
    return true;
  }

 private:
  class Rows final : public index::VectorRows {
   public:
    explicit Rows(const io::Matrix& m) : m_(m) {}
    const float* Row(uint32_t slot) const override { return m_.row(slot); }

   private:
    const io::Matrix& m_;
  };
  static void Copy(const std::vector<index::Neighbor>& r, size_t k, int64_t* out) {
    for (size_t j = 0; j < k; ++j) out[j] = j < r.size() ? r[j].slot : -1;
  }

  bool sq8_;
  Sq8Build build_;
  std::unique_ptr<Rows> rows_;
  std::unique_ptr<index::HnswIndex> index_;
  index::IndexSearchParams params_;
  size_t row_bytes_ = 0;
};

}  // namespace mosaic::bench
