// hnswlib (Debian libhnswlib-dev, header-only) as an ann_bench engine. It picks its SIMD kernels
// at compile time: the translation unit that includes this must be built with -march=native.
// Debian's 0.6.2 has no filtered search.
#pragma once

#include <hnswlib/hnswlib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ann/engine.h"

namespace mosaic::bench {

// Runs fn(i) for i in [0, n) on `threads` threads pulling indexes from a shared counter; fn gets
// (i, thread).
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&](int t) {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i, t);
  };
  std::vector<std::thread> extra;
  for (int t = 1; t < threads; ++t) extra.emplace_back(work, t);
  work(0);
  for (auto& t : extra) t.join();
}

class HnswlibEngine final : public AnnEngine {
 public:
  std::string name() const override { return "hnswlib"; }
  std::string build_info() const override {
#if defined(__AVX512F__)
    return "0.6.2 (Debian libhnswlib-dev), -march=native: AVX-512 kernels";
#elif defined(__AVX__)
    return "0.6.2 (Debian libhnswlib-dev), AVX kernels";
#else
    return "0.6.2 (Debian libhnswlib-dev), SSE kernels";
#endif
  }
  void Build(const io::Matrix& base, Metric metric, const GraphParams& g, int threads) override {
    index_.reset();
    if (metric == Metric::kL2) {
      space_ = std::make_unique<hnswlib::L2Space>(base.dim);
    } else {
      space_ = std::make_unique<hnswlib::InnerProductSpace>(base.dim);
    }
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), base.rows, g.M,
                                                               g.ef_construction);
    // hnswlib's own examples insert the first point alone before going parallel.
    index_->addPoint(base.row(0), 0);
    ParallelFor(base.rows - 1, threads,
                [&](size_t i, int) { index_->addPoint(base.row(i + 1), i + 1); });
    vector_bytes_ = base.rows * base.dim * sizeof(float);
  }
  // hnswlib keeps its own copy of the vectors inside its level-0 blocks.
  size_t MemoryBytes() const override { return GraphBytes() + vector_bytes_; }
  size_t GraphBytes() const override {
    size_t bytes = index_->max_elements_ * index_->size_data_per_element_ - vector_bytes_;
    for (size_t i = 0; i < index_->cur_element_count; ++i) {
      bytes += index_->element_levels_[i] * index_->size_links_per_element_;
    }
    return bytes + index_->max_elements_ * (sizeof(int) + sizeof(std::mutex)) +
           index_->label_lookup_.size() * (sizeof(size_t) + sizeof(uint32_t) + 16);
  }
  void SetEf(size_t ef) override { index_->setEf(ef); }
  // The built index, for drivers that instrument it (bench/ann/usearch_check.cc).
  hnswlib::HierarchicalNSW<float>& index() { return *index_; }
  void Search(const float* q, size_t k, int /*thread*/, int64_t* out) override {
    Copy(index_->searchKnn(q, k), k, out);
  }
 private:
  template <typename Queue>
  static void Copy(Queue pq, size_t k, int64_t* out) {
    size_t n = pq.size();
    for (size_t j = n; j < k; ++j) out[j] = -1;
    while (!pq.empty()) {
      out[--n] = static_cast<int64_t>(pq.top().second);
      pq.pop();
    }
  }

  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
  size_t vector_bytes_ = 0;
};

}  // namespace mosaic::bench
