#include "index/flat/flat_search.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>

#include "simd/distance.h"

namespace mosaic::index {

namespace {

// Queries scanned together against one tile of rows: the tile is read from memory once per
// block instead of once per query, which turns a bandwidth-bound scan into a compute-bound one.
constexpr size_t kQueryBlock = 16;
// Bytes of rows per tile: small enough that the tile and the query block stay in L2 while the
// block kernel sweeps the tile once per group of four queries.
constexpr size_t kTileBytes = 192 << 10;
constexpr size_t kMaxTileRows = 1024;
// Below this many rows per thread, splitting one query's scan across threads costs more in
// hand-off than it saves.
constexpr size_t kMinRowsPerThread = 4096;
// From this many queries per scan, rows are packed and screened (see ScanScreened); a single
// query is bandwidth-bound and gains nothing from it, and a few cannot repay the packing.
constexpr size_t kMinQueriesForScreening = 4;
// Bytes of packed rows per screened tile: the tile stays in L2 (2 MB a core on the machines we
// measure) next to the queries streaming through it.
constexpr size_t kScreenTileBytes = 1 << 20;
constexpr size_t kMaxScreenTileRows = 4096;
// Screened tiles are whole pairs of panels, the AVX-512 kernel's unit.
constexpr size_t kScreenRowAlign = 32;

// (distance, slot) lexicographic: the strict total order results are sorted by, and the one that
// decides ties at the k-th place, so results never depend on scan or thread order.
inline bool Before(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
}

// Bounded max-heap of the k best candidates seen so far. threshold() lets the scan reject almost
// every row with one comparison instead of touching the heap.
class TopK {
 public:
  TopK() = default;
  TopK(size_t k, size_t max_candidates) : k_(k) { heap_.reserve(std::min(k, max_candidates)); }

  // A candidate with a larger distance can never enter; +inf until k candidates are held.
  float threshold() const { return threshold_; }

  void Push(float distance, uint32_t slot) {
    Neighbor n{slot, distance};
    if (heap_.size() < k_) {
      heap_.push_back(n);
      std::push_heap(heap_.begin(), heap_.end(), Before);
      if (heap_.size() == k_) threshold_ = heap_.front().distance;
      return;
    }
    if (!Before(n, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), Before);
    heap_.back() = n;
    std::push_heap(heap_.begin(), heap_.end(), Before);
    threshold_ = heap_.front().distance;
  }

  void Merge(const TopK& other) {
    for (const Neighbor& n : other.heap_)
      Push(n.distance, n.slot);
  }

  std::vector<Neighbor> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), Before);
    return std::move(heap_);
  }

 private:
  size_t k_ = 0;
  float threshold_ = std::numeric_limits<float>::infinity();
  std::vector<Neighbor> heap_;
};

bool AnyAllowed(const Bitset& allow, size_t begin, size_t end) {
  end = std::min(end, allow.size());
  if (begin >= end) return false;
  const uint64_t* words = allow.words();
  size_t first = begin >> 6, last = (end - 1) >> 6;
  for (size_t w = first; w <= last; ++w) {
    uint64_t bits = words[w];
    if (w == first) bits &= ~uint64_t{0} << (begin & 63);
    if (w == last && (end & 63) != 0) bits &= ~uint64_t{0} >> (64 - (end & 63));
    if (bits != 0) return true;
  }
  return false;
}

// Feeds one query's row of a distance tile into its heap. The kernels compute dot products for
// kInnerProduct and kCosine, negated here so that smaller is better for every metric.
template <bool kNegate>
void Collect(const float* dist, size_t n, uint32_t first_slot, const Bitset* allow, TopK* top) {
  float threshold = top->threshold();
  for (size_t j = 0; j < n; ++j) {
    float d = kNegate ? -dist[j] : dist[j];
    // Written so NaN (which compares false) is rejected too.
    if (!(d <= threshold)) continue;
    uint32_t slot = first_slot + static_cast<uint32_t>(j);
    if (allow != nullptr && (slot >= allow->size() || !allow->Test(slot))) continue;
    top->Push(d, slot);
    threshold = top->threshold();
  }
}

// Batches are screened through a packed dot-product kernel (simd::ScreenPacked), whose GEMM-style
// summation order differs from the Dot/L2Sqr kernels that score a single query. For L2 it also
// uses ||x||^2 + ||q||^2 - 2 x.q, which costs one FMA per component instead of a subtraction and
// an FMA, but cancels badly in float and would misorder near-ties. So the screened value only
// decides which rows are worth an exact look: a row whose screened distance is within `margin`
// of the current k-th exact distance is rescored with the same kernel a single-query scan uses,
// and only exact distances enter the heap. Results are therefore identical to a direct scan.
//
// The margin is a rigorous bound: any float evaluation order of a length-n sum of products has
// error at most ~n * 2^-24 * sum|x_i q_i|. For L2 every term involved (both norms, the dot
// product, the exact distance itself) is at most (||x|| + ||q||)^2; for inner products both the
// screened and the exact dot product are within n * 2^-24 ||x|| ||q|| of the true one. So
// 4 (dim + 8) 2^-24 times those covers them all with a factor-of-two reserve. On real data the
// margin is far smaller than the gaps between neighbours, and rescoring stays rare.
float ScreeningMarginFactor(size_t dim) {
  return 4.0f * static_cast<float>(dim + 8) * 0x1p-24f;
}

// Per-thread buffers of the screened scan, sized for one tile of `tile_rows` (a multiple of
// kScreenRowAlign) rows.
struct ScreenBuffers {
  ScreenBuffers(size_t tile_rows, size_t dim)
      : packed_storage(simd::PackedFloats(tile_rows, dim) + kAlignFloats),
        norms(tile_rows),
        values(kScreenQueries * tile_rows),
        limits(kScreenQueries),
        hits(kScreenQueries * tile_rows / simd::kPanelRows) {
    // Panels start on a cache line, so no kernel load straddles two lines.
    void* p = packed_storage.data();
    size_t space = packed_storage.size() * sizeof(float);
    packed = static_cast<float*>(std::align(64, sizeof(float), p, space));
  }

  static constexpr size_t kAlignFloats = 64 / sizeof(float);
  // Queries screened per kernel call: their limits are refreshed from the heaps between calls.
  static constexpr size_t kScreenQueries = 24;

  std::vector<float> packed_storage;
  float* packed = nullptr;
  std::vector<float> norms;
  std::vector<float> values;
  std::vector<float> limits;
  std::vector<uint16_t> hits;
};

class Scanner {
 public:
  Scanner(std::span<const VectorBlock> blocks, size_t dim, Metric metric, const float* queries,
          const Bitset* allow)
      : blocks_(blocks),
        dim_(dim),
        dot_(metric != Metric::kL2),
        queries_(queries),
        allow_(allow),
        tile_rows_(std::clamp<size_t>(kTileBytes / (dim * sizeof(float)), 8, kMaxTileRows)),
        screen_tile_rows_(std::clamp<size_t>(
            kScreenTileBytes / (dim * sizeof(float)) / kScreenRowAlign * kScreenRowAlign,
            kScreenRowAlign, kMaxScreenTileRows)) {}

  size_t tile_rows() const { return tile_rows_; }

  // Scans queries [q_begin, q_end) against the rows [row_begin, row_end) of the concatenated
  // blocks, pushing into tops[0 .. q_end - q_begin). `dist` holds kQueryBlock * tile_rows().
  void Scan(size_t q_begin, size_t q_end, size_t row_begin, size_t row_end, TopK* tops,
            float* dist) const {
    if (q_end - q_begin >= kMinQueriesForScreening) {
      ScanScreened(q_begin, q_end, row_begin, row_end, tops);
      return;
    }
    for (size_t qb = q_begin; qb < q_end; qb += kQueryBlock) {
      size_t nq = std::min(kQueryBlock, q_end - qb);
      const float* q = queries_ + qb * dim_;
      TopK* block_tops = tops + (qb - q_begin);
      ForEachTile(
          row_begin, row_end, tile_rows_, [&](const float* rows, size_t n, uint32_t first_slot) {
            if (dot_) {
              simd::DotBlock(q, nq, rows, n, dim_, dist, tile_rows_);
              for (size_t i = 0; i < nq; ++i) {
                Collect<true>(dist + i * tile_rows_, n, first_slot, allow_, &block_tops[i]);
              }
            } else {
              simd::L2SqrBlock(q, nq, rows, n, dim_, dist, tile_rows_);
              for (size_t i = 0; i < nq; ++i) {
                Collect<false>(dist + i * tile_rows_, n, first_slot, allow_, &block_tops[i]);
              }
            }
          });
    }
  }

 private:
  // Calls fn(rows, n, first_slot) for each tile of at most `tile_rows` rows of [row_begin,
  // row_end) that holds at least one allowed slot; tiles never span two blocks.
  template <typename Fn>
  void ForEachTile(size_t row_begin, size_t row_end, size_t tile_rows, Fn&& fn) const {
    size_t block_start = 0;
    for (const VectorBlock& block : blocks_) {
      size_t begin = std::max(row_begin, block_start);
      size_t end = std::min(row_end, block_start + block.count);
      for (size_t r = begin; r < end; r += tile_rows) {
        size_t n = std::min(tile_rows, end - r);
        size_t local = r - block_start;
        uint32_t first_slot = block.first_slot + static_cast<uint32_t>(local);
        if (allow_ != nullptr && !AnyAllowed(*allow_, first_slot, first_slot + n)) continue;
        fn(block.data + local * dim_, n, first_slot);
      }
      block_start += block.count;
    }
  }

  // Row tiles outer, queries inner: each tile is packed once, stays in L2 and is swept by every
  // query of this thread, kScreenQueries at a time.
  void ScanScreened(size_t q_begin, size_t q_end, size_t row_begin, size_t row_end,
                    TopK* tops) const {
    const size_t nq = q_end - q_begin;
    const float* queries = queries_ + q_begin * dim_;
    std::vector<float> query_norms(nq), query_lengths(nq);
    for (size_t i = 0; i < nq; ++i) {
      query_norms[i] = simd::NormSqr(queries + i * dim_, dim_);
      query_lengths[i] = std::sqrt(query_norms[i]);
    }
    const float margin_factor = ScreeningMarginFactor(dim_);
    const size_t stride = screen_tile_rows_;
    const size_t hits_stride = stride / simd::kPanelRows;
    ScreenBuffers buf(stride, dim_);

    ForEachTile(row_begin, row_end, stride, [&](const float* rows, size_t n, uint32_t first_slot) {
      simd::PackRows(rows, n, dim_, buf.packed);
      float max_norm = 0;
      for (size_t j = 0; j < n; ++j) {
        buf.norms[j] = simd::NormSqr(rows + j * dim_, dim_);
        max_norm = std::max(max_norm, buf.norms[j]);
      }
      std::fill(buf.norms.begin() + n, buf.norms.end(), 0.0f);
      const float max_length = std::sqrt(max_norm);

      for (size_t qb = 0; qb < nq; qb += ScreenBuffers::kScreenQueries) {
        const size_t group = std::min(ScreenBuffers::kScreenQueries, nq - qb);
        for (size_t i = 0; i < group; ++i)
          buf.limits[i] = Limit(tops[qb + i], query_norms[qb + i], query_lengths[qb + i],
                                max_length, margin_factor);
        simd::ScreenPacked(queries + qb * dim_, group, dim_, buf.packed, n,
                           dot_ ? nullptr : buf.norms.data(), dot_ ? 1.0f : 2.0f, buf.limits.data(),
                           buf.values.data(), stride, buf.hits.data(), hits_stride);
        for (size_t i = 0; i < group; ++i) {
          const size_t qi = qb + i;
          CollectHits(buf.values.data() + i * stride, buf.hits.data() + i * hits_stride, n,
                      queries + qi * dim_, rows, first_slot, query_norms[qi], query_lengths[qi],
                      max_length, margin_factor, &tops[qi]);
        }
      }
    });
  }

  // The screened value a row must not exceed to be rescored, given the heap's current threshold.
  float Limit(const TopK& top, float query_norm, float query_length, float max_length,
              float margin_factor) const {
    if (dot_) return top.threshold() + margin_factor * query_length * max_length;
    float reach = query_length + max_length;
    return top.threshold() - query_norm + margin_factor * reach * reach;
  }

  // Rescores the rows a screening pass flagged, re-checking each against the heap's threshold as
  // it tightens; only exact distances enter the heap.
  void CollectHits(const float* values, const uint16_t* hits, size_t n, const float* query,
                   const float* rows, uint32_t first_slot, float query_norm, float query_length,
                   float max_length, float margin_factor, TopK* top) const {
    float limit = Limit(*top, query_norm, query_length, max_length, margin_factor);
    const size_t words = (n + simd::kPanelRows - 1) / simd::kPanelRows;
    for (size_t w = 0; w < words; ++w) {
      for (unsigned bits = hits[w]; bits != 0; bits &= bits - 1) {
        const size_t j = w * simd::kPanelRows + static_cast<size_t>(std::countr_zero(bits));
        // NaN screened values (from infinite inputs) are rescored rather than dropped.
        if (values[j] > limit) continue;
        uint32_t slot = first_slot + static_cast<uint32_t>(j);
        if (allow_ != nullptr && (slot >= allow_->size() || !allow_->Test(slot))) continue;
        float d;
        if (dot_) {
          simd::DotBatch(query, rows + j * dim_, 1, dim_, &d);
          d = -d;
        } else {
          simd::L2SqrBatch(query, rows + j * dim_, 1, dim_, &d);
        }
        if (!(d <= top->threshold())) continue;
        top->Push(d, slot);
        limit = Limit(*top, query_norm, query_length, max_length, margin_factor);
      }
    }
  }

  std::span<const VectorBlock> blocks_;
  size_t dim_;
  bool dot_;
  const float* queries_;
  const Bitset* allow_;
  size_t tile_rows_;
  size_t screen_tile_rows_;
};

}  // namespace

void FlatSearch(std::span<const VectorBlock> blocks, size_t dim, Metric metric,
                const float* queries, size_t nq, size_t k, const Bitset* allow, ThreadPool* pool,
                std::vector<std::vector<Neighbor>>* out) {
  out->assign(nq, {});
  size_t total_rows = 0;
  for (const VectorBlock& b : blocks)
    total_rows += b.count;
  if (nq == 0 || k == 0 || total_rows == 0 || dim == 0) return;

  Scanner scanner(blocks, dim, metric, queries, allow);
  const size_t dist_floats = kQueryBlock * scanner.tile_rows();
  std::vector<TopK> tops(nq, TopK(k, total_rows));
  size_t threads = pool != nullptr ? static_cast<size_t>(pool->size()) : 1;

  if (threads <= 1) {
    std::vector<float> dist(dist_floats);
    scanner.Scan(0, nq, 0, total_rows, tops.data(), dist.data());
  } else if (nq >= threads || total_rows < 2 * kMinRowsPerThread) {
    // Enough queries to go round: each thread takes whole queries and scans every row.
    pool->ParallelFor(nq, [&](size_t begin, size_t end) {
      std::vector<float> dist(dist_floats);
      scanner.Scan(begin, end, 0, total_rows, tops.data() + begin, dist.data());
    });
  } else {
    // Fewer queries than threads (the latency path): split the rows instead and merge each
    // thread's heaps. Merging under the (distance, slot) order gives the single-thread result.
    std::mutex mu;
    pool->ParallelFor(
        total_rows,
        [&](size_t begin, size_t end) {
          std::vector<float> dist(dist_floats);
          std::vector<TopK> local(nq, TopK(k, end - begin));
          scanner.Scan(0, nq, begin, end, local.data(), dist.data());
          std::lock_guard<std::mutex> lock(mu);
          for (size_t i = 0; i < nq; ++i)
            tops[i].Merge(local[i]);
        },
        kMinRowsPerThread);
  }
  for (size_t i = 0; i < nq; ++i)
    (*out)[i] = tops[i].TakeSorted();
}

std::vector<Neighbor> FlatSearchSlots(std::span<const uint32_t> slots,
                                      const std::function<const float*(uint32_t)>& row, size_t dim,
                                      Metric metric, const float* query, size_t k) {
  TopK top(k, slots.size());
  if (k == 0) return {};
  const bool dot = metric != Metric::kL2;
  // The Batch kernels with n = 1 give bit-identical distances to FlatSearch's tiles, so a slot
  // scores the same whichever path found it.
  for (uint32_t slot : slots) {
    const float* v = row(slot);
    float d;
    if (dot) {
      simd::DotBatch(query, v, 1, dim, &d);
      d = -d;
    } else {
      simd::L2SqrBatch(query, v, 1, dim, &d);
    }
    if (d <= top.threshold()) top.Push(d, slot);
  }
  return top.TakeSorted();
}

}  // namespace mosaic::index
