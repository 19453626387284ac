// UsearchEngine: USearch's HNSW (unum::usearch::index_dense_t) behind AnnEngine, storing the rows
// as f32 ("usearch"), f16 ("usearch-f16") or i8 ("usearch-i8"). Link bench_usearch
// (bench/CMakeLists.txt: USearch 2.26.2 with NumKong's kernels picked at run time);
// bench/README.md "USearch build" gives the measurements behind the choices below.
//
// Kernels: f16 and i8 use NumKong's (Skylake's f16 -> f32 FMA; Ice Lake's VNNI for i8). f32 uses
// USearch's own f32 loops (metric_l2sq_gt<float>, metric_ip_gt<float>, what it runs without
// NumKong), compiled here for AVX-512 at full width (for AVX2 with FMA on a CPU without
// AVX-512), because NumKong 7's f32 kernels widen every
// lane to f64 and so do half the work per instruction: 2x slower per distance than hnswlib's.
// "usearch-f32-nk" keeps NumKong's f32 kernel, to show that cost in the same run.
//
// Configured as USearch's own benchmarks run it: connectivity = M (2 M on the base layer),
// expansion_add = ef_construction, expansion_search = ef, one entry per key (multi = false),
// thread contexts reserved for the build's and the searches' thread counts, each thread passing
// its own id. Key lookups are off: keys are row numbers, and nothing here maps keys back to
// slots (that hash table would cost memory and a lock per insert and is not part of HNSW).
// Cosine and inner product use USearch's inner-product metric (cosine rows arrive normalized),
// but for i8 under cosine (below).
// i8 codes are made here and handed to USearch as i8. USearch's own f32 -> i8 cast scales each
// vector to norm 127: that keeps angles but not L2 ranks, and on these rows spends 4 of the 8 bits
// (a Fashion-MNIST row's largest code is about 8), so that exact search over its codes finds only
// 0.89 of the true cosine top-10 (bench/README.md). Here, under L2 (and inner product) every row
// shares one scale, 127 / the base's largest |value|, which keeps L2 ranks; under cosine each row
// is scaled to its own largest |value| = 127, and USearch's i8 cosine kernel (which divides by
// the norms) ranks them.
//
// Thread-safety: as AnnEngine. Search and SearchFiltered may run concurrently with distinct
// thread ids after PrepareSearch(threads); everything else from one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <usearch/index_dense.hpp>
#include <vector>

#include "ann/engine.h"

namespace mosaic::bench {

namespace usearch_f32 {

// USearch's f32 loops through its custom-metric signature (two addresses and a length). With
// USEARCH_USE_OPENMP their reduction is an `omp simd` one (bench_usearch passes -fopenmp-simd),
// which GCC vectorizes; the target attributes give them AVX-512 at 512 bits, or AVX2 with FMA
// on a CPU without AVX-512, whatever the including file's flags, and flatten inlines the loop
// so that it is compiled here.
#if USEARCH_USE_OPENMP && defined(__x86_64__) && defined(__GNUC__)
#define MOSAIC_USEARCH_F32_AVX512 1
template <typename Loop>
[[gnu::target("avx512f,avx512bw,avx512dq,avx512vl,fma,prefer-vector-width=512"),
  gnu::flatten]] inline float
Run(size_t a, size_t b, size_t n) {
  return Loop{}(reinterpret_cast<const float*>(a), reinterpret_cast<const float*>(b), n);
}
template <typename Loop>
[[gnu::target("avx2,fma"), gnu::flatten]] inline float RunAvx2(size_t a, size_t b, size_t n) {
  return Loop{}(reinterpret_cast<const float*>(a), reinterpret_cast<const float*>(b), n);
}
// The vector width the loops run at on this CPU: 512, 256, or 0 (NumKong's f32 kernel then).
inline int Width() {
  if (__builtin_cpu_supports("avx512f")) return 512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
  return 0;
}
#else
#define MOSAIC_USEARCH_F32_AVX512 0
#endif

}  // namespace usearch_f32

// The order indexes UsearchEngine::Describe()'s table.
enum class UsearchScalar : uint8_t { kF32, kF32NumKong, kF16, kI8 };

class UsearchEngine final : public AnnEngine {
 public:
  explicit UsearchEngine(UsearchScalar scalar) : scalar_(scalar) {}

  std::string name() const override { return Describe().name; }

  // E.g. "usearch 2.26.2, NumKong run-time dispatch (CPU: serial, haswell, skylake, ...); i8
  // kernels: L2 NumKong icelake, cosine NumKong icelake".
  std::string build_info() const override {
    std::string s = "usearch " + std::to_string(USEARCH_VERSION_MAJOR) + "." +
                    std::to_string(USEARCH_VERSION_MINOR) + "." +
                    std::to_string(USEARCH_VERSION_PATCH) + ", ";
#if USEARCH_USE_NUMKONG
    s += std::string("NumKong run-time dispatch (CPU: ") +
         unum::usearch::hardware_acceleration_available() + ")";
#else
    s += "header-only defaults, no NumKong";
#endif
    s += std::string("; ") + Describe().scalar_name + " kernels: L2 " +
         KernelName(KindFor(Metric::kL2)) + ", cosine " + KernelName(KindFor(Metric::kCosine));
    return s;
  }

  // USearch's metric for ours.
  unum::usearch::metric_kind_t KindFor(Metric metric) const {
    using unum::usearch::metric_kind_t;
    if (metric == Metric::kL2) return metric_kind_t::l2sq_k;
    return scalar_ == UsearchScalar::kI8 && metric == Metric::kCosine ? metric_kind_t::cos_k
                                                                      : metric_kind_t::ip_k;
  }

  // The metric this engine gives USearch for `dim`-d rows under `kind`.
  unum::usearch::metric_punned_t MakeMetric(size_t dim, unum::usearch::metric_kind_t kind) const {
    namespace us = unum::usearch;
#if MOSAIC_USEARCH_F32_AVX512
    if (UsesF32Loop()) {
      const bool l2 = kind == us::metric_kind_t::l2sq_k;
      auto fn = usearch_f32::Width() == 512
                    ? (l2 ? &usearch_f32::Run<us::metric_l2sq_gt<float>>
                          : &usearch_f32::Run<us::metric_ip_gt<float>>)
                    : (l2 ? &usearch_f32::RunAvx2<us::metric_l2sq_gt<float>>
                          : &usearch_f32::RunAvx2<us::metric_ip_gt<float>>);
      return us::metric_punned_t::stateless(dim, reinterpret_cast<std::uintptr_t>(fn),
                                            us::metric_punned_signature_t::array_array_size_k, kind,
                                            us::scalar_kind_t::f32_k);
    }
#endif
    return us::metric_punned_t::builtin(dim, kind, Describe().scalar_kind);
  }

  bool UsesF32Loop() const {
#if MOSAIC_USEARCH_F32_AVX512
    return scalar_ == UsearchScalar::kF32 && usearch_f32::Width() != 0;
#else
    return false;
#endif
  }
  // "NumKong icelake", "USearch's f32 loop, AVX-512", ...
  std::string KernelName(unum::usearch::metric_kind_t kind) const {
#if MOSAIC_USEARCH_F32_AVX512
    if (UsesF32Loop())
      return usearch_f32::Width() == 512 ? "USearch's f32 loop, AVX-512" : "USearch's f32 loop, AVX2";
#endif
    unum::usearch::metric_punned_t m = MakeMetric(dim_ ? dim_ : 64, kind);
#if USEARCH_USE_NUMKONG
    return std::string("NumKong ") + m.isa_name();
#else
    return m.isa_name();
#endif
  }

  void Build(const io::Matrix& base, Metric metric, const GraphParams& params,
             int threads) override {
    Init(base.dim, metric, params, base.rows, threads,
         scalar_ == UsearchScalar::kI8 && metric != Metric::kCosine
             ? ScaleFor(base.data.data(), base.data.size())
             : 0);
    Add(base, 0, threads);
  }

  // A new empty index for up to `capacity` rows of `dim` floats, added from up to `threads`
  // threads. `i8_scale`: i8 under L2 or inner product, 127 / the largest |value| the rows will
  // hold (ScaleFor over them); ignored otherwise.
  void Init(size_t dim, Metric metric, const GraphParams& params, size_t capacity, int threads,
            float i8_scale) {
    namespace us = unum::usearch;
    dim_ = dim;
    quantize_ = scalar_ == UsearchScalar::kI8;
    per_row_scale_ = quantize_ && metric == Metric::kCosine;
    if (quantize_ && !per_row_scale_) shared_scale_ = i8_scale;
    us::metric_punned_t metric_fn = MakeMetric(dim_, KindFor(metric));
    us::index_dense_config_t config(params.M, params.ef_construction, ef_);
    config.connectivity_base = 2 * params.M;
    config.multi = false;
    config.enable_key_lookups = false;
    auto made = us::index_dense_t::make(metric_fn, config, us::default_free_value<uint64_t>(),
                                        us::index_limits_t(us::unreserved_t{}));
    if (!made) Fail("make", made.error.what());
    index_ = std::move(made.index);
    Reserve(capacity, std::max(threads, 1));
  }

  // Adds the rows of `rows` as keys first_key, first_key + 1, ... from `threads` threads (at most
  // Init's); USearch copies them.
  void Add(const io::Matrix& rows, uint64_t first_key, int threads) {
    namespace us = unum::usearch;
    threads = std::max(threads, 1);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&](size_t thread) {
      std::vector<int8_t> codes(quantize_ ? dim_ : 0);
      for (size_t i; !failed && (i = next.fetch_add(1)) < rows.rows;) {
        us::index_dense_t::add_result_t r;
        if (quantize_) {
          Quantize(rows.row(i), codes.data());
          r = index_.add(first_key + i, codes.data(), thread);
        } else {
          r = index_.add(first_key + i, rows.row(i), thread);
        }
        if (!r) {
          std::fprintf(stderr, "%s: add row %zu: %s\n", name().c_str(), i, r.error.what());
          failed = true;
        }
      }
    };
    std::vector<std::thread> extra;
    for (int t = 1; t < threads; ++t)
      extra.emplace_back(work, static_cast<size_t>(t));
    work(0);
    for (auto& t : extra)
      t.join();
    if (failed) std::exit(1);
  }

  // 127 / the largest |value| among n: the shared i8 scale Init takes.
  static float ScaleFor(const float* values, size_t n) {
    float max_abs = 0;
    for (size_t i = 0; i < n; ++i)
      max_abs = std::max(max_abs, std::fabs(values[i]));
    return max_abs > 0 ? 127.0f / max_abs : 1.0f;
  }

  // What index_dense_t holds in use: nodes (key, level, neighbour lists), node table, thread
  // contexts, vectors, and the per-slot vector pointers (which its memory_usage() leaves out).
  // memory_usage() also counts the unused tails of its doubling arenas (up to half the vector
  // arena, never written, so never backed by the OS); they are left out here.
  size_t MemoryBytes() const override {
    auto m = index_.memory_stats();
    return index_.memory_usage() - m.graph_reserved - m.vectors_reserved +
           index_.capacity() * sizeof(void*);
  }
  // The same without the vectors and their pointers.
  size_t GraphBytes() const override {
    auto m = index_.memory_stats();
    return index_.memory_usage() - m.graph_reserved - m.vectors_allocated;
  }

  void SetEf(size_t ef) override {
    ef_ = ef;
    index_.change_expansion_search(ef);
  }

  void PrepareSearch(int threads) override {
    Reserve(index_.size(), std::max(threads, 1));
  }

  void Search(const float* query, size_t k, int thread, int64_t* out) override {
    Emit(quantize_ ? index_.search(QuantizeQuery(query, thread), k, thread)
                   : index_.search(query, k, thread),
         k, out);
  }

  bool SearchFiltered(const float* query, size_t k, const Bitset& allow, int thread,
                      int64_t* out) override {
    auto pred = [&allow](uint64_t key) { return allow.Test(key); };
    Emit(quantize_ ? index_.filtered_search(QuantizeQuery(query, thread), k, pred, thread)
                   : index_.filtered_search(query, k, pred, thread),
         k, out);
    return true;
  }

  const unum::usearch::index_dense_t& index() const {
    return index_;
  }

 private:
  struct Variant {
    const char* name;
    const char* scalar_name;
    unum::usearch::scalar_kind_t scalar_kind;
  };
  const Variant& Describe() const {
    using unum::usearch::scalar_kind_t;
    static const Variant kVariants[] = {{"usearch", "f32", scalar_kind_t::f32_k},
                                        {"usearch-f32-nk", "f32", scalar_kind_t::f32_k},
                                        {"usearch-f16", "f16", scalar_kind_t::f16_k},
                                        {"usearch-i8", "i8", scalar_kind_t::i8_k}};
    return kVariants[static_cast<size_t>(scalar_)];
  }
  [[noreturn]] void Fail(const char* what, const char* why) const {
    std::fprintf(stderr, "%s: %s: %s\n", name().c_str(), what, why);
    std::exit(1);
  }

  // Thread contexts (and cast buffers, and our query codes) for `threads` concurrent callers;
  // reserve() never shrinks the member storage, so this is safe between builds and searches.
  void Reserve(size_t rows, int threads) {
    if (!index_.try_reserve(unum::usearch::index_limits_t(rows, static_cast<size_t>(threads)))) {
      Fail("reserve", "out of memory");
    }
    query_codes_.assign(quantize_ ? threads * dim_ : 0, 0);
  }

  void Quantize(const float* row, int8_t* codes) const {
    const float scale = per_row_scale_ ? ScaleFor(row, dim_) : shared_scale_;
    for (size_t d = 0; d < dim_; ++d) {
      float v = std::nearbyint(row[d] * scale);
      codes[d] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
  }
  const int8_t* QuantizeQuery(const float* query, int thread) {
    int8_t* codes = query_codes_.data() + static_cast<size_t>(thread) * dim_;
    Quantize(query, codes);
    return codes;
  }

  void Emit(const unum::usearch::index_dense_t::search_result_t& r, size_t k, int64_t* out) {
    if (!r) Fail("search", r.error.what());
    size_t n = std::min(r.size(), k);
    for (size_t j = 0; j < n; ++j)
      out[j] = static_cast<int64_t>(r[j].member.key);
    for (size_t j = n; j < k; ++j)
      out[j] = -1;
  }

  UsearchScalar scalar_;
  unum::usearch::index_dense_t index_;
  size_t dim_ = 0;
  size_t ef_ = unum::usearch::default_expansion_search();
  bool quantize_ = false;            // i8: rows and queries are quantized here, not by USearch
  bool per_row_scale_ = false;       // cosine: each row scaled to its own largest |value|
  float shared_scale_ = 0;           // L2, inner product: one scale for every row
  std::vector<int8_t> query_codes_;  // threads x dim_
};

}  // namespace mosaic::bench
