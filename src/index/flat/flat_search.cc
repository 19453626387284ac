#include "index/flat/flat_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
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
// From this many queries per scan, squared L2 is screened through dot products (see
// CollectScreened); a single query is bandwidth-bound and gains nothing from it.
constexpr size_t kMinQueriesForScreening = 4;

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

// L2 batches are screened with ||x||^2 + ||q||^2 - 2 x.q, which costs one FMA per component
// instead of a subtraction and an FMA, but cancels badly in float and would misorder near-ties.
// So it only decides which rows are worth an exact look: a row whose screened distance is within
// `margin` of the current k-th exact distance is rescored with the direct (x - q)^2 kernel, and
// only exact distances enter the heap. Results are therefore identical to a direct scan.
//
// The margin is a rigorous bound: any float evaluation order of a length-n sum of products has
// error at most ~n * 2^-24 * sum|x_i q_i|, and every term involved (both norms, the dot product,
// the exact distance itself) is at most (||x|| + ||q||)^2, so a bound of
// 4 (dim + 8) 2^-24 (||x|| + ||q||)^2 covers them all with a factor-of-two reserve. On real data
// the margin is far smaller than the gaps between neighbours, and rescoring stays rare.
float ScreeningMarginFactor(size_t dim) {
  return 4.0f * static_cast<float>(dim + 8) * 0x1p-24f;
}

void CollectScreened(const float* dots, size_t n, const float* row_norms, float query_norm,
                     float margin, const float* query, const float* rows, size_t dim,
                     uint32_t first_slot, const Bitset* allow, TopK* top) {
  // Row j is a candidate when row_norms[j] - 2 dots[j] <= threshold - query_norm + margin.
  float limit = top->threshold() - query_norm + margin;
  for (size_t j = 0; j < n; ++j) {
    if (!(row_norms[j] - 2 * dots[j] <= limit)) continue;
    uint32_t slot = first_slot + static_cast<uint32_t>(j);
    if (allow != nullptr && (slot >= allow->size() || !allow->Test(slot))) continue;
    float d;
    simd::L2SqrBatch(query, rows + j * dim, 1, dim, &d);
    if (!(d <= top->threshold())) continue;
    top->Push(d, slot);
    limit = top->threshold() - query_norm + margin;
  }
}

class Scanner {
 public:
  Scanner(std::span<const VectorBlock> blocks, size_t dim, Metric metric, const float* queries,
          const Bitset* allow)
      : blocks_(blocks),
        dim_(dim),
        dot_(metric != Metric::kL2),
        queries_(queries),
        allow_(allow),
        tile_rows_(std::clamp<size_t>(kTileBytes / (dim * sizeof(float)), 8, kMaxTileRows)) {}

  size_t tile_rows() const { return tile_rows_; }

  // Scans queries [q_begin, q_end) against the rows [row_begin, row_end) of the concatenated
  // blocks, pushing into tops[0 .. q_end - q_begin). `dist` holds kQueryBlock * tile_rows().
  void Scan(size_t q_begin, size_t q_end, size_t row_begin, size_t row_end, TopK* tops,
            float* dist) const {
    const bool screen = !dot_ && q_end - q_begin >= kMinQueriesForScreening;
    // Screening state: norms of the scanned rows, filled while the first query block has each
    // tile in cache and reused by the later blocks; the largest row norm of each tile.
    std::vector<float> query_norms, row_norms, tile_max_norm;
    if (screen) {
      for (size_t i = q_begin; i < q_end; ++i) {
        query_norms.push_back(simd::NormSqr(queries_ + i * dim_, dim_));
      }
      row_norms.resize(row_end - row_begin);
    }
    const float margin_factor = ScreeningMarginFactor(dim_);

    for (size_t qb = q_begin; qb < q_end; qb += kQueryBlock) {
      size_t nq = std::min(kQueryBlock, q_end - qb);
      const float* q = queries_ + qb * dim_;
      TopK* block_tops = tops + (qb - q_begin);
      size_t block_start = 0, tile = 0;
      for (const VectorBlock& block : blocks_) {
        size_t begin = std::max(row_begin, block_start);
        size_t end = std::min(row_end, block_start + block.count);
        for (size_t r = begin; r < end; r += tile_rows_, ++tile) {
          size_t n = std::min(tile_rows_, end - r);
          size_t local = r - block_start;
          uint32_t first_slot = block.first_slot + static_cast<uint32_t>(local);
          if (allow_ != nullptr && !AnyAllowed(*allow_, first_slot, first_slot + n)) continue;
          const float* rows = block.data + local * dim_;
          if (dot_) {
            simd::DotBlock(q, nq, rows, n, dim_, dist, tile_rows_);
            for (size_t i = 0; i < nq; ++i) {
              Collect<true>(dist + i * tile_rows_, n, first_slot, allow_, &block_tops[i]);
            }
          } else if (!screen) {
            simd::L2SqrBlock(q, nq, rows, n, dim_, dist, tile_rows_);
            for (size_t i = 0; i < nq; ++i) {
              Collect<false>(dist + i * tile_rows_, n, first_slot, allow_, &block_tops[i]);
            }
          } else {
            float* norms = row_norms.data() + (r - row_begin);
            if (qb == q_begin) {
              float max_norm = 0;
              for (size_t j = 0; j < n; ++j) {
                norms[j] = simd::NormSqr(rows + j * dim_, dim_);
                max_norm = std::max(max_norm, norms[j]);
              }
              tile_max_norm.resize(tile + 1);
              tile_max_norm[tile] = std::sqrt(max_norm);
            }
            simd::DotBlock(q, nq, rows, n, dim_, dist, tile_rows_);
            for (size_t i = 0; i < nq; ++i) {
              float query_norm = query_norms[qb - q_begin + i];
              float reach = std::sqrt(query_norm) + tile_max_norm[tile];
              CollectScreened(dist + i * tile_rows_, n, norms, query_norm,
                              margin_factor * reach * reach, q + i * dim_, rows, dim_, first_slot,
                              allow_, &block_tops[i]);
            }
          }
        }
        block_start += block.count;
      }
    }
  }

 private:
  std::span<const VectorBlock> blocks_;
  size_t dim_;
  bool dot_;
  const float* queries_;
  const Bitset* allow_;
  size_t tile_rows_;
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
