#include "index/hnsw/hnsw_index.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <type_traits>

#include "common/sync_point.h"
#include "index/hnsw/hnsw_internal.h"
#include "simd/distance.h"

namespace mosaic::index {

using namespace hnsw_detail;

// Per-search working memory, pooled so a search allocates nothing once warm.
struct HnswIndex::Scratch {
  VisitedTable visited;
  std::vector<Neighbor> candidates;  // min-heap (Farther): the frontier
  std::vector<Neighbor> results;     // max-heap (Closer): the best ef found so far
  std::vector<uint32_t> ids;         // unvisited neighbours of the node being expanded
  std::vector<const void*> ptrs;     // their vectors (rows or codes)
  std::vector<std::vector<Neighbor>> selected;  // an insert's chosen links, by layer
  std::vector<Neighbor> work;        // a neighbour's candidates while shrinking its list
  std::vector<Neighbor> work_out;
  std::vector<uint32_t> seeds;       // AddBatchNear: the inserted node's seeds in the graph
  std::vector<Neighbor> entries;     // and their distances to it

  size_t MemoryBytes() const {
    size_t neighbors = candidates.capacity() + results.capacity() + work.capacity() +
                       work_out.capacity();
    for (const auto& layer : selected) neighbors += layer.capacity();
    neighbors += entries.capacity();
    return visited.MemoryBytes() + neighbors * sizeof(Neighbor) +
           selected.capacity() * sizeof(std::vector<Neighbor>) +
           (ids.capacity() + seeds.capacity()) * sizeof(uint32_t) +
           ptrs.capacity() * sizeof(const void*);
  }
};

// The query against f32 rows: the exact distance, with early abandoning for L2.
struct HnswIndex::FloatSpace {
  const HnswIndex* index;
  const float* q;
  static constexpr bool kPrefetchNext = false;
  const void* Vector(uint32_t id) const { return index->rows_->Row(id); }
  // The first line is requested when the id is gathered; this requests the rest.
  void PrefetchRest(const void* v) const {
    const float* row = static_cast<const float*>(v);
    for (size_t off = 16; off < index->dim_; off += 16) __builtin_prefetch(row + off, 0, 2);
  }
  // Node id's distance; v is Vector(id), already fetched by the caller.
  float operator()(uint32_t /*id*/, const void* v, float bound) const {
    return index->Distance(q, static_cast<const float*>(v), bound);
  }
};

// The query against SQ8 codes (asymmetric, approximate): a quarter of the bytes of a row.
struct HnswIndex::CodeSpace {
  const HnswIndex* index;
  const Sq8Codec::Query* q;
  static constexpr bool kPrefetchNext = true;
  const void* Vector(uint32_t id) const { return index->Code(id); }
  void PrefetchRest(const void* v) const {
    const char* code = static_cast<const char*>(v);
    for (size_t off = 64; off < index->code_size_; off += 64) __builtin_prefetch(code + off, 0, 2);
  }
  float operator()(uint32_t id, const void* v, float /*bound*/) const {
    const float norm = index->code_norms_ != nullptr ? index->code_norms_[id] : 0.0f;
    return index->codec_.FastDistance(*q, static_cast<const uint8_t*>(v), norm);
  }
};

// Code against code, both rounded: the heuristic's node-to-node distances when building on codes.
struct HnswIndex::CodePairs {
  const HnswIndex* index;
  const void* Vector(uint32_t id) const { return index->Code(id); }
  float operator()(const void* a, const void* b, float /*bound*/) const {
    return index->codec_.PairDistance(static_cast<const uint8_t*>(a),
                                      static_cast<const uint8_t*>(b));
  }
};

HnswIndex::HnswIndex(uint32_t dim, Metric metric, const HnswParams& params,
                     const VectorRows* rows)
    : dim_(dim),
      metric_(metric),
      params_([&] {
        HnswParams p = params;
        p.M = std::clamp<uint32_t>(p.M, 2, 255);
        p.ef_construction = std::max<uint32_t>(p.ef_construction, 1);
        p.ef_search = std::max<uint32_t>(p.ef_search, 1);
        p.rerank_factor = std::max<uint32_t>(p.rerank_factor, 1);
        return p;
      }()),
      rows_(rows),
      stride0_(1 + 2 * params_.M),
      stride_up_(1 + params_.M),
      level_mult_(1.0 / std::log(static_cast<double>(params_.M))),
      code_size_(dim) {}

HnswIndex::~HnswIndex() {
  if (file_ == nullptr)  // otherwise the upper lists are the file's
    for (size_t i = 0; i < capacity_; ++i) delete[] upper_[i];
}

// ---- storage -----------------------------------------------------------------------------------

uint32_t* HnswIndex::Links(uint32_t slot, int layer) const {
  if (layer == 0) return links0_ + static_cast<size_t>(slot) * stride0_;
  return upper_[slot] + static_cast<size_t>(layer - 1) * stride_up_;
}

int HnswIndex::Level(uint32_t slot) const {
  return std::atomic_ref<int8_t>(levels_[slot]).load(std::memory_order_acquire);
}

bool HnswIndex::IsRemoved(uint32_t slot) const {
  uint64_t w = std::atomic_ref<uint64_t>(removed_[slot >> 6]).load(std::memory_order_relaxed);
  return (w >> (slot & 63)) & 1;
}

uint32_t HnswIndex::InLinks(uint32_t slot) const {
  return std::atomic_ref<uint32_t>(in_links_[slot]).load(std::memory_order_relaxed);
}

void HnswIndex::AddInLink(uint32_t slot) {
  std::atomic_ref<uint32_t>(in_links_[slot]).fetch_add(1, std::memory_order_relaxed);
}

bool HnswIndex::TryDropInLink(uint32_t slot) {
  std::atomic_ref<uint32_t> n(in_links_[slot]);
  uint32_t c = n.load(std::memory_order_relaxed);
  while (c > 1) {
    if (n.compare_exchange_weak(c, c - 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void HnswIndex::CountInLinks() {
  std::fill_n(in_links_.get(), capacity_, 0u);
  for (uint32_t slot = 0; slot < capacity_; ++slot) {
    if (Level(slot) < 0) continue;
    const uint32_t* list = Links(slot, 0);
    const uint32_t count = std::min(list[0], max_links(0));
    for (uint32_t i = 0; i < count; ++i) ++in_links_[list[1 + i]];
  }
}

void HnswIndex::LockNode(uint32_t slot) const {
  std::atomic<uint8_t>& l = locks_[slot];
  while (l.exchange(1, std::memory_order_acquire) != 0) {
    while (l.load(std::memory_order_relaxed) != 0) __builtin_ia32_pause();
  }
}

void HnswIndex::UnlockNode(uint32_t slot) const { locks_[slot].store(0, std::memory_order_release); }

void HnswIndex::GrowLocked(size_t capacity) {
  auto links0 = NewHugeArray<uint32_t>(capacity * stride0_, /*zero=*/false);
  auto levels = std::make_unique<int8_t[]>(capacity);
  auto upper = std::make_unique<uint32_t*[]>(capacity);
  auto locks = std::make_unique<std::atomic<uint8_t>[]>(capacity);
  size_t words = (capacity + 63) / 64;
  auto removed = std::make_unique<uint64_t[]>(words);
  auto in_links = std::make_unique<uint32_t[]>(capacity);
  HugeArray<uint8_t> codes;
  std::unique_ptr<float[]> norms;
  if (params_.sq8) codes = NewHugeArray<uint8_t>(capacity * code_size_, /*zero=*/false);
  if (CodeNormsNeeded()) norms = std::make_unique_for_overwrite<float[]>(capacity);
  std::fill_n(levels.get(), capacity, int8_t{-1});
  // New lists are empty (count 0, unused words 0).
  std::fill(links0.get() + capacity_ * stride0_, links0.get() + capacity * stride0_, 0u);
  if (capacity_ > 0) {
    std::copy_n(links0_, capacity_ * stride0_, links0.get());
    std::copy_n(levels_.get(), capacity_, levels.get());
    std::copy_n(upper_.get(), capacity_, upper.get());
    std::copy_n(removed_.get(), (capacity_ + 63) / 64, removed.get());
    std::copy_n(in_links_.get(), capacity_, in_links.get());
    if (codes != nullptr && codes_ != nullptr) std::copy_n(codes_, capacity_ * code_size_, codes.get());
    if (file_ != nullptr)  // the upper lists were the file's: each gets its own copy
      for (size_t slot = 0; slot < capacity_; ++slot)
        if (upper[slot] != nullptr) {
          const size_t words = static_cast<size_t>(levels_[slot]) * stride_up_;
          uint32_t* own = new uint32_t[words];
          std::copy_n(upper[slot], words, own);
          upper[slot] = own;
        }
    if (norms != nullptr && code_norms_ != nullptr)
      std::copy_n(code_norms_.get(), capacity_, norms.get());
  }
  codes_owned_ = std::move(codes);
  codes_ = codes_owned_.get();
  code_norms_ = std::move(norms);
  links0_owned_ = std::move(links0);
  links0_ = links0_owned_.get();
  file_.reset();
  levels_ = std::move(levels);
  upper_ = std::move(upper);
  locks_ = std::move(locks);
  removed_ = std::move(removed);
  in_links_ = std::move(in_links);
  capacity_ = capacity;
}

Status HnswIndex::EnsureCapacity(size_t capacity) {
  {
    std::shared_lock<std::shared_mutex> l(structure_mu_);
    if (capacity <= capacity_ && file_ == nullptr) return Status::OK();
  }
  std::unique_lock<std::shared_mutex> l(structure_mu_);
  // Doubling keeps the copies amortized O(1) per insert while a collection grows slot by slot.
  if (capacity > capacity_) GrowLocked(std::max({capacity, capacity_ * 2, size_t{1024}}));
  // An insert writes its neighbours' lists: those read in place from a file move to the heap.
  if (file_ != nullptr) GrowLocked(capacity_);
  return Status::OK();
}

void HnswIndex::EnsureTrained(std::span<const uint32_t> slots) {
  if (!params_.sq8 || sq8_trained_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> l(train_mu_);
  if (sq8_trained_.load(std::memory_order_relaxed)) return;
  // One linear pass over the batch, far cheaper than inserting it.
  SetCodec(Sq8Codec::Train(dim_, metric_, slots.size(),
                           [&](size_t i) { return rows_->Row(slots[i]); }, params_.sq8_project));
}

void HnswIndex::AdoptCodec(const HnswIndex& from) {
  if (!params_.sq8 || !from.sq8_trained() || from.dim_ != dim_ || from.metric_ != metric_) return;
  std::lock_guard<std::mutex> l(train_mu_);
  if (sq8_trained_.load(std::memory_order_relaxed)) return;
  SetCodec(from.codec_);
}

bool HnswIndex::CodeNormsNeeded() const {
  if (!params_.sq8) return false;
  return (sq8_trained_.load(std::memory_order_acquire) ? codec_.code_metric() : metric_) ==
         Metric::kL2;
}

void HnswIndex::SetCodec(const Sq8Codec& codec) {
  // Everything changes under the exclusive lock, and the codec is published as trained before
  // it is released: an insert (which holds the lock shared) that sees it trained sees the codes
  // of its size, and a grow sees whether they need norms.
  std::unique_lock<std::shared_mutex> l(structure_mu_);
  codec_ = codec;
  const bool resized = codec_.code_size() != code_size_;
  code_size_ = codec_.code_size();
  sq8_trained_.store(true, std::memory_order_release);
  if (capacity_ == 0) return;
  if (resized) {
    codes_owned_ = NewHugeArray<uint8_t>(capacity_ * code_size_, /*zero=*/false);
    codes_ = codes_owned_.get();
  }
  if (!CodeNormsNeeded()) {
    code_norms_.reset();
  } else if (code_norms_ == nullptr) {
    code_norms_ = std::make_unique_for_overwrite<float[]>(capacity_);
  }
}

void HnswIndex::EncodeSlot(uint32_t slot) {
  uint8_t* code = codes_ + size_t{slot} * code_size_;
  codec_.Encode(rows_->Row(slot), code);
  if (code_norms_ != nullptr) code_norms_[slot] = codec_.CodeNorm(code);
}

int HnswIndex::RandomLevel(uint32_t slot) const {
  uint64_t h = Mix(params_.seed ^ Mix(slot));
  // Uniform in (0, 1]: never 0, so the log is finite.
  double u = (static_cast<double>(h >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  double level = -std::log(u) * level_mult_;
  // Level 32 already has probability M^-32; the cap only guards the int8 storage.
  return static_cast<int>(std::min(level, 32.0));
}

std::unique_ptr<HnswIndex::Scratch> HnswIndex::AcquireScratch() const {
  std::unique_ptr<Scratch> s;
  {
    std::lock_guard<std::mutex> l(scratch_mu_);
    if (!scratch_pool_.empty()) {
      s = std::move(scratch_pool_.back());
      scratch_pool_.pop_back();
    }
  }
  if (s == nullptr) {
    s = std::make_unique<Scratch>();
    s->ids.resize(2 * params_.M);
    s->ptrs.resize(2 * params_.M);
  }
  return s;
}

void HnswIndex::ReleaseScratch(std::unique_ptr<Scratch> s) const {
  std::lock_guard<std::mutex> l(scratch_mu_);
  scratch_pool_.push_back(std::move(s));
}

// ---- distances ---------------------------------------------------------------------------------

float HnswIndex::Distance(const float* a, const float* b, float bound) const {
  if (metric_ != Metric::kL2) return -simd::Dot(a, b, dim_);
  if (dim_ < 2 * kAbandonChunk) return simd::L2Sqr(a, b, dim_);
  // The same chunking whether or not the bound is reached, so a distance computed in full has
  // the same value everywhere in the index (search, heuristic, repair).
  float sum = 0;
  size_t i = 0;
  for (;;) {
    size_t n = dim_ - i < 2 * kAbandonChunk ? dim_ - i : kAbandonChunk;
    sum += simd::L2Sqr(a + i, b + i, n);
    i += n;
    if (i == dim_ || sum > bound) return sum;
  }
}

// ---- search ------------------------------------------------------------------------------------

template <typename Space>
Neighbor HnswIndex::GreedyDescent(const Space& space, Neighbor cur, int from_layer,
                                  int to_layer) const {
  for (int layer = from_layer; layer >= to_layer; --layer) {
    bool changed = true;
    while (changed) {
      changed = false;
      const uint32_t* links = Links(cur.slot, layer);
      uint32_t count = std::min(LoadLink(links), max_links(layer));
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t id = LoadLink(links + 1 + i);
        float d = space(id, space.Vector(id), cur.distance);
        if (d < cur.distance) {
          cur = {id, d};
          changed = true;
        }
      }
    }
  }
  return cur;
}

template <bool kFiltered, typename Space>
void HnswIndex::SearchLayer(const Space& space, std::span<const Neighbor> entries, size_t ef,
                            int layer, const Bitset* allow, Scratch* s) const {
  std::vector<Neighbor>& cand = s->candidates;
  std::vector<Neighbor>& res = s->results;
  cand.clear();
  res.clear();
  s->visited.Reset(capacity_);
  // Unfiltered, every node found is a result; filtered, tombstoned and disallowed nodes are
  // still expanded (the graph stays connected through them) but never enter the results.
  auto returnable = [&](uint32_t id) {
    if constexpr (!kFiltered) {
      return true;
    } else {
      if (IsRemoved(id)) return false;
      return allow == nullptr || (id < allow->size() && allow->Test(id));
    }
  };
  // The worst result once ef are held; until then every candidate is worth keeping.
  float bound = kInf;
  auto offer = [&](Neighbor n) {
    cand.push_back(n);
    std::push_heap(cand.begin(), cand.end(), Farther);
    if (!returnable(n.slot)) return;
    res.push_back(n);
    std::push_heap(res.begin(), res.end(), Closer);
    if (res.size() > ef) {
      std::pop_heap(res.begin(), res.end(), Closer);
      res.pop_back();
    }
    if (res.size() >= ef) bound = res.front().distance;
  };
  for (const Neighbor& e : entries) {
    if (!s->visited.TestAndSet(e.slot)) offer(e);
  }

  const uint32_t max_count = max_links(layer);
  uint32_t* ids = s->ids.data();
  const void** ptrs = s->ptrs.data();
  while (!cand.empty()) {
    Neighbor c = cand.front();
    if (c.distance > bound) break;
    std::pop_heap(cand.begin(), cand.end(), Farther);
    cand.pop_back();
    // The next candidate is usually expanded next: its list is requested while this one's
    // distances are computed.
    if (!cand.empty()) Prefetch(Links(cand.front().slot, layer));

    // Gather the unvisited neighbours first and request all their rows into L2 at once: a row
    // is ~50 cache lines of a base far larger than the caches, and each distance otherwise
    // waits on its first lines before the hardware prefetcher takes over. The visited marks are
    // requested together before any is tested, so their misses overlap.
    const uint32_t* links = Links(c.slot, layer);
    uint32_t count = std::min(LoadLink(links), max_count);
    for (uint32_t i = 0; i < count; ++i) Prefetch(s->visited.address(LoadLink(links + 1 + i)));
    uint32_t fresh = 0;
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t id = LoadLink(links + 1 + i);
      if (s->visited.TestAndSet(id)) continue;
      const void* v = space.Vector(id);
      Prefetch(v);
      ids[fresh] = id;
      ptrs[fresh] = v;
      ++fresh;
    }
    for (uint32_t i = 0; i < fresh; ++i) space.PrefetchRest(ptrs[i]);
    // The candidate expanded next is most often the best one now (unless this hop finds a
    // better one): its neighbours' codes are requested before this hop's distances, so that their
    // misses overlap this hop's work instead of starting with the next hop. Visited neighbours
    // are requested too: testing their marks here cost more than the (mostly cached) lines.
    // Codes only; a row has four times the lines. Measured: docs/benchmarks.md.
    if constexpr (Space::kPrefetchNext) {
      if (!cand.empty()) {
        const uint32_t* next = Links(cand.front().slot, layer);
        const uint32_t n = std::min(LoadLink(next), max_count);
        for (uint32_t i = 0; i < n; ++i) {
          const void* v = space.Vector(LoadLink(next + 1 + i));
          __builtin_prefetch(v, 0, 2);
          space.PrefetchRest(v);
        }
      }
    }
    for (uint32_t i = 0; i < fresh; ++i) {
      float d = space(ids[i], ptrs[i], bound);
      if (d < bound) offer({ids[i], d});
    }
  }
}

std::vector<Neighbor> HnswIndex::Search(const float* query, size_t k, const IndexSearchParams& p,
                                        const Bitset* allow) const {
  std::vector<Neighbor> out;
  if (k == 0) return out;
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  uint64_t e = entry_.load(std::memory_order_acquire);
  if (e == 0) return out;
  const uint32_t entry = static_cast<uint32_t>(e);
  const int top = static_cast<int>(e >> 32) - 1;

  size_t ef = std::max<size_t>(k, p.ef != 0 ? p.ef : params_.ef_search);
  if (allow != nullptr) ef = EffectiveEf(k, ef, allow->Count(), size());
  const bool filtered = allow != nullptr || num_removed_.load(std::memory_order_relaxed) > 0;

  std::unique_ptr<Scratch> s = AcquireScratch();
  auto walk = [&](const auto& space, size_t beam) {
    Neighbor cur{entry, space(entry, space.Vector(entry), kInf)};
    cur = GreedyDescent(space, cur, top, 1);
    if (filtered) {
      SearchLayer<true>(space, {&cur, 1}, beam, 0, allow, s.get());
    } else {
      SearchLayer<false>(space, {&cur, 1}, beam, 0, nullptr, s.get());
    }
  };
  std::vector<Neighbor>& res = s->results;
  if (!sq8_trained_.load(std::memory_order_acquire)) {
    walk(FloatSpace{this, query}, ef);
    std::sort_heap(res.begin(), res.end(), Closer);
  } else {
    const Sq8Codec::Query prepared = codec_.Prepare(query);
    walk(CodeSpace{this, &prepared}, std::max<size_t>(ef, k * params_.rerank_factor));
    // Re-score the whole beam with the f32 rows. Each row is 4 * dim bytes from anywhere in the
    // base: the first line of every row is requested at once (their misses, and the page walks
    // of rows outside huge pages, overlap), then every line of the rows two ahead while one is
    // computed.
    const size_t row_bytes = size_t{dim_} * sizeof(float);
    auto request_row = [&](size_t i) {
      if (i >= res.size()) return;
      const char* row = reinterpret_cast<const char*>(rows_->Row(res[i].slot));
      for (size_t off = 0; off < row_bytes; off += 64) Prefetch(row + off);
      Prefetch(row + row_bytes - 1);
    };
    for (const Neighbor& n : res) Prefetch(rows_->Row(n.slot));
    request_row(0);
    request_row(1);
    for (size_t i = 0; i < res.size(); ++i) {
      request_row(i + 2);
      res[i].distance = Distance(query, rows_->Row(res[i].slot), kInf);
    }
    std::sort(res.begin(), res.end(), Closer);
  }
  out.assign(res.begin(), res.begin() + static_cast<ptrdiff_t>(std::min(k, res.size())));
  ReleaseScratch(std::move(s));
  return out;
}

size_t HnswIndex::EffectiveEf(size_t k, size_t ef, size_t allowed, size_t live) const {
  ef = std::max(ef, k);
  if (live == 0 || allowed >= live) return ef;
  // No widening by selectivity: the beam stops only once it holds ef *allowed* results and its
  // best candidate is farther than the worst of them, so under a selective filter it already
  // explores a radius wide enough to hold ef allowed points, visiting about ef / selectivity
  // nodes. Measured on Fashion-MNIST at ef = 64 (docs/benchmarks.md), widening by
  // selectivity^-0.25 or ^-0.5 raised recall@10 by at most 0.002 (from >= 0.9965 at 50/10/1%,
  // labels and random attributes) while doubling to 30x-ing the cost. The only adjustment is a
  // floor of 2k, so that a caller's small ef (tuned unfiltered) still leaves the beam room for
  // k allowed results plus slack.
  return std::max(ef, 2 * k);
}

// ---- insertion ---------------------------------------------------------------------------------

template <typename Pairs>
void HnswIndex::Connect(const Pairs& pairs, uint32_t node, uint32_t added, float distance,
                        int layer, Scratch* s) {
  const uint32_t max = max_links(layer);
  LockNode(node);
  uint32_t* list = Links(node, layer);
  uint32_t count = std::min(LoadLink(list), max);
  for (uint32_t i = 0; i < count; ++i) {
    if (LoadLink(list + 1 + i) == added) {
      UnlockNode(node);
      return;
    }
  }
  if (count < max) {
    // The id before the count, so a reader that sees the new count sees the new id.
    StoreLink(list + 1 + count, added);
    StoreLink(list, count + 1);
    if (layer == 0) AddInLink(added);
    UnlockNode(node);
    return;
  }
  // Full: re-select among the old links and the new one, as at insertion.
  const void* base = pairs.Vector(node);
  std::vector<Neighbor>& work = s->work;
  work.clear();
  work.push_back({added, distance});
  // Tombstoned links compete like live ones: dropping them unasked cut off what only they led
  // to (Vacuum repairs around them instead).
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = LoadLink(list + 1 + i);
    work.push_back({id, pairs(base, pairs.Vector(id), kInf)});
  }
  std::sort(work.begin(), work.end(), Closer);
  std::vector<Neighbor>& out = s->work_out;
  SelectNeighbors(&work, max, pairs, &out);
  auto kept = [&out](uint32_t id) {
    return std::any_of(out.begin(), out.end(), [id](const Neighbor& n) { return n.slot == id; });
  };
  if (layer == 0) {
    // The heuristic drops whatever the new node occludes, and that can be a node's only way in:
    // with no in-link on layer 0, no search finds it (nor what only it links to). So a node
    // whose last in-link this is stays, in place of the farthest kept link that is not anyone's
    // last (the new node's counts as last until it has another). Only if every kept link is a
    // last one does the dropped node lose it.
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t id = LoadLink(list + 1 + i);
      if (kept(id) || TryDropInLink(id)) continue;
      bool room = out.size() < max;
      for (size_t j = out.size(); !room && j-- > 0;) {
        const uint32_t other = out[j].slot;
        if (other == added ? InLinks(added) > 0 : TryDropInLink(other)) {
          out.erase(out.begin() + static_cast<ptrdiff_t>(j));
          room = true;
        }
      }
      if (room) {
        out.push_back({id, pairs(base, pairs.Vector(id), kInf)});
      } else {
        std::atomic_ref<uint32_t>(in_links_[id]).fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (kept(added)) AddInLink(added);
  }
  for (size_t i = 0; i < out.size(); ++i) StoreLink(list + 1 + i, out[i].slot);
  StoreLink(list, static_cast<uint32_t>(out.size()));
  UnlockNode(node);
}

template <typename Pairs>
void HnswIndex::KeepWayIn(const Pairs& pairs, uint32_t node, uint32_t added) {
  const uint32_t max = max_links(0);
  LockNode(node);
  uint32_t* list = Links(node, 0);
  const uint32_t count = std::min(LoadLink(list), max);
  bool present = false;
  for (uint32_t i = 0; i < count && !present; ++i) present = LoadLink(list + 1 + i) == added;
  if (!present && count < max) {
    StoreLink(list + 1 + count, added);
    StoreLink(list, count + 1);
    AddInLink(added);
  } else if (!present) {
    const void* base = pairs.Vector(node);
    float worst = -kInf;
    uint32_t at = max;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t id = LoadLink(list + 1 + i);
      const float d = pairs(base, pairs.Vector(id), kInf);
      if (d > worst && InLinks(id) > 1) {
        worst = d;
        at = i;
      }
    }
    if (at < max && TryDropInLink(LoadLink(list + 1 + at))) {
      StoreLink(list + 1 + at, added);
      AddInLink(added);
    }
  }
  UnlockNode(node);
}

Status HnswIndex::Insert(uint32_t slot, Scratch* s, const SeedFn* seeds, size_t near_ef) {
  const int level = RandomLevel(slot);
  LockNode(slot);
  if (Level(slot) >= 0) {
    bool removed = IsRemoved(slot);
    UnlockNode(slot);
    return Status::AlreadyExists("slot " + std::to_string(slot) + " is already in the HNSW graph" +
                                 (removed ? " (removed; Vacuum frees it for reuse)" : ""));
  }
  StoreLink(Links(slot, 0), 0);
  // The code is written before the level is published, so any reader that can reach the node
  // sees it (a slot freed by Vacuum and added again gets its new vector's code).
  if (codes_ != nullptr) EncodeSlot(slot);
  if (level > 0) {
    size_t words = static_cast<size_t>(level) * stride_up_;
    upper_[slot] = new uint32_t[words]();
    upper_words_.fetch_add(words, std::memory_order_relaxed);
  }
  std::atomic_ref<int8_t>(levels_[slot]).store(static_cast<int8_t>(level),
                                                std::memory_order_release);
  UnlockNode(slot);
  // Nothing links to the node yet, so no other thread can reach it until Connect below.

  std::unique_lock<std::mutex> top_lock(entry_mu_, std::defer_lock);
  uint64_t e = entry_.load(std::memory_order_acquire);
  if (e == 0 || level > static_cast<int>(e >> 32) - 1) {
    // This node may become the entry point: hold the lock for the whole insert so that a
    // concurrent insert cannot raise the top level meanwhile (as hnswlib does; rare).
    top_lock.lock();
    e = entry_.load(std::memory_order_acquire);
    if (e != 0 && level <= static_cast<int>(e >> 32) - 1) top_lock.unlock();
  }
  if (e == 0) {
    entry_.store((static_cast<uint64_t>(level) + 1) << 32 | slot, std::memory_order_release);
    num_present_.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  }
  const uint32_t entry = static_cast<uint32_t>(e);
  const int top = static_cast<int>(e >> 32) - 1;

  const int top_layer = std::min(level, top);
  // Seeds serve nodes on layer 0 alone (all but ~1/M of them); the graph's upper layers get
  // nodes the usual way, so that they stay a sample of the whole.
  s->seeds.clear();
  if (seeds != nullptr && level == 0) {
    (*seeds)(slot, &s->seeds);
    std::erase_if(s->seeds, [&](uint32_t id) {
      return id == slot || id >= capacity_ || Level(id) < 0 || IsRemoved(id);
    });
  }
  const bool on_codes = codes_ != nullptr && params_.build_on_codes;
  if (on_codes) {
    // The new row is prepared as a query, as in Search: asymmetric distances to the codes.
    const Sq8Codec::Query q = codec_.Prepare(rows_->Row(slot), /*stored=*/true);
    ChooseLinks(CodeSpace{this, &q}, slot, entry, top, level, s->seeds, near_ef, s);
  } else {
    ChooseLinks(FloatSpace{this, rows_->Row(slot)}, slot, entry, top, level, s->seeds, near_ef,
                s);
  }
  LockNode(slot);
  for (int layer = top_layer; layer >= 0; --layer) {
    const std::vector<Neighbor>& selected = s->selected[layer];
    uint32_t* list = Links(slot, layer);
    for (size_t i = 0; i < selected.size(); ++i) StoreLink(list + 1 + i, selected[i].slot);
    StoreLink(list, static_cast<uint32_t>(selected.size()));
  }
  for (const Neighbor& n : s->selected[0]) AddInLink(n.slot);
  UnlockNode(slot);
  auto link_back = [&](const auto& pairs) {
    for (int layer = top_layer; layer >= 0; --layer) {
      for (const Neighbor& n : s->selected[layer]) {
        Connect(pairs, n.slot, slot, n.distance, layer, s);
      }
      sync_point::Reached("HnswIndex::Insert:Connected");
    }
    // Each chosen neighbour's heuristic may have dropped the node (one placed from a few seeds
    // may have chosen a single neighbour): with no in-link on layer 0 no search would find it,
    // so it takes a place in its nearest neighbour's list.
    if (!s->selected[0].empty() && InLinks(slot) == 0)
      KeepWayIn(pairs, s->selected[0].front().slot, slot);
  };
  auto row = [this](uint32_t id) { return rows_->Row(id); };
  if (on_codes && !params_.build_rescore) {
    link_back(CodePairs{this});
  } else {
    link_back(RowPairs<decltype(row)>{this, row});
  }
  if (top_lock.owns_lock()) {
    entry_.store((static_cast<uint64_t>(level) + 1) << 32 | slot, std::memory_order_release);
  }
  num_present_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

template <typename Space>
void HnswIndex::ChooseLinks(const Space& space, uint32_t slot, uint32_t entry, int top,
                            int level, std::span<const uint32_t> near, size_t near_ef,
                            Scratch* s) {
  constexpr bool kOnCodes = std::is_same_v<Space, CodeSpace>;
  const bool rescore = kOnCodes && params_.build_rescore;
  const float* q = rows_->Row(slot);
  auto row = [this](uint32_t id) { return rows_->Row(id); };
  Neighbor cur;
  std::span<const Neighbor> start;
  size_t ef = params_.ef_construction;
  if (near.empty()) {
    cur = {entry, space(entry, space.Vector(entry), kInf)};
    cur = GreedyDescent(space, cur, top, level + 1);
    start = {&cur, 1};
  } else {
    // The seeds are where the descent would have led: the search of layer 0 starts from them.
    s->entries.clear();
    for (uint32_t id : near) s->entries.push_back({id, space(id, space.Vector(id), kInf)});
    start = s->entries;
    ef = std::max<size_t>(near_ef, max_links(0));
    top = 0;
  }
  const bool has_removed = num_removed_.load(std::memory_order_relaxed) > 0;
  // Every layer's links are chosen and written before any node links back. Linking back layer by
  // layer (as the paper's pseudocode reads) made the node reachable on layer L while its lists
  // below were still empty: a concurrent insert that descended through it found no neighbours
  // there but this node, linked only to it, and then lost its one in-link when this insert wrote
  // the node's list over the appended link (or pruned it as the list filled up). Such a node
  // could be found by no search (docs/hnsw_format.md, "Construction"); and a concurrent search
  // that descended through it stopped there with one result. The graph built by one thread is
  // unchanged: a layer's search never reads the layers above it.
  const int top_layer = std::min(level, top);
  if (s->selected.size() < static_cast<size_t>(top_layer) + 1) s->selected.resize(top_layer + 1);
  for (int layer = top_layer; layer >= 0; --layer) {
    std::vector<Neighbor>& selected = s->selected[layer];
    selected.clear();
    SearchLayer<false>(space, start, ef, layer, nullptr, s);
    std::vector<Neighbor>& found = s->results;
    std::sort_heap(found.begin(), found.end(), Closer);
    std::erase_if(found, [slot](const Neighbor& n) { return n.slot == slot; });
    if (found.empty()) continue;
    // The next layer's entry, with its distance in the space that layer is searched in.
    cur = found.front();
    start = {&cur, 1};
    // Tombstoned nodes are traversed but not linked to: Vacuum would only have to undo it.
    if (has_removed && std::any_of(found.begin(), found.end(),
                                   [this](const Neighbor& n) { return !IsRemoved(n.slot); })) {
      std::erase_if(found, [this](const Neighbor& n) { return IsRemoved(n.slot); });
    }
    if (rescore) {
      for (Neighbor& n : found) n.distance = Distance(q, rows_->Row(n.slot), kInf);
      std::sort(found.begin(), found.end(), Closer);
    }
    if (kOnCodes && !rescore) {
      SelectNeighbors(&found, max_links(layer), CodePairs{this}, &selected);
    } else {
      SelectNeighbors(&found, max_links(layer), RowPairs<decltype(row)>{this, row}, &selected);
    }
  }
}

Status HnswIndex::Add(uint32_t slot) {
  if (slot == kNoEntry) return Status::InvalidArgument("slot 4294967295 is reserved");
  std::shared_lock<std::shared_mutex> update(update_mu_);
  MOSAIC_RETURN_IF_ERROR(EnsureCapacity(static_cast<size_t>(slot) + 1));
  EnsureTrained({&slot, 1});
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  std::unique_ptr<Scratch> s = AcquireScratch();
  Status st = Insert(slot, s.get());
  ReleaseScratch(std::move(s));
  return st;
}

Status HnswIndex::AddBatch(std::span<const uint32_t> slots, ThreadPool* pool) {
  return AddBatchNear(slots, nullptr, 0, pool);
}

Status HnswIndex::AddBatchNear(std::span<const uint32_t> slots, const SeedFn& seeds, size_t ef,
                               ThreadPool* pool) {
  if (slots.empty()) return Status::OK();
  const SeedFn* near = seeds ? &seeds : nullptr;
  uint32_t max_slot = *std::max_element(slots.begin(), slots.end());
  if (max_slot == kNoEntry) return Status::InvalidArgument("slot 4294967295 is reserved");
  std::shared_lock<std::shared_mutex> update(update_mu_);
  MOSAIC_RETURN_IF_ERROR(EnsureCapacity(static_cast<size_t>(max_slot) + 1));
  EnsureTrained(slots);

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status error;
  auto worker = [&] {
    std::unique_ptr<Scratch> s = AcquireScratch();
    for (;;) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= slots.size() || failed.load(std::memory_order_relaxed)) break;
      // Per insert, so that a concurrent Add of a larger slot can grow the arrays in between.
      std::shared_lock<std::shared_mutex> lock(structure_mu_);
      Status st = Insert(slots[i], s.get(), near, ef);
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(error_mu);
        if (error.ok()) error = st;
        failed.store(true, std::memory_order_relaxed);
      }
    }
    ReleaseScratch(std::move(s));
  };
  // The first node alone, so that the parallel workers start from an entry point.
  if (entry_.load(std::memory_order_acquire) == 0) {
    next.store(1);
    std::shared_lock<std::shared_mutex> lock(structure_mu_);
    std::unique_ptr<Scratch> s = AcquireScratch();
    Status st = Insert(slots[0], s.get());
    ReleaseScratch(std::move(s));
    MOSAIC_RETURN_IF_ERROR(st);
  }
  if (pool == nullptr || pool->size() <= 1) {
    worker();
  } else {
    pool->ParallelFor(static_cast<size_t>(pool->size()), [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) worker();
    });
  }
  return error;
}

// ---- introspection -----------------------------------------------------------------------------

size_t HnswIndex::size() const {
  return num_present_.load(std::memory_order_relaxed) -
         num_removed_.load(std::memory_order_relaxed);
}

bool HnswIndex::Contains(uint32_t slot) const {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  return slot < capacity_ && Level(slot) >= 0 && !IsRemoved(slot);
}

void HnswIndex::LayerZeroLinks(uint32_t slot, std::vector<uint32_t>* out) const {
  out->clear();
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  if (slot >= capacity_ || Level(slot) < 0) return;
  const uint32_t* list = Links(slot, 0);
  const uint32_t count = std::min(LoadLink(list), max_links(0));
  for (uint32_t i = 0; i < count; ++i) out->push_back(LoadLink(list + 1 + i));
}

bool HnswIndex::NodesWithin(const Bitset& rows) const {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  for (uint32_t slot = 0; slot < capacity_; ++slot)
    if (Level(slot) >= 0 && (slot >= rows.size() || !rows.Test(slot))) return false;
  return true;
}

int HnswIndex::max_level() const {
  return static_cast<int>(entry_.load(std::memory_order_acquire) >> 32) - 1;
}

double HnswIndex::AverageDegree() const {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  size_t nodes = 0, links = 0;
  for (uint32_t slot = 0; slot < capacity_; ++slot) {
    if (Level(slot) < 0) continue;
    ++nodes;
    links += std::min(LoadLink(Links(slot, 0)), max_links(0));
  }
  return nodes == 0 ? 0.0 : static_cast<double>(links) / static_cast<double>(nodes);
}

size_t HnswIndex::CodeBytes() const {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  if (codes_ == nullptr) return 0;
  return capacity_ * (code_size_ + (code_norms_ != nullptr ? sizeof(float) : 0));
}

size_t HnswIndex::code_size() const {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  return code_size_;
}

size_t HnswIndex::CodecBytes() const {
  return sq8_trained_.load(std::memory_order_acquire) ? codec_.MemoryBytes() : 0;
}

size_t HnswIndex::MemoryBytes() const {
  size_t bytes = sizeof(*this) + CodecBytes();
  {
    std::shared_lock<std::shared_mutex> lock(structure_mu_);
    // Lists and codes read in place from the graph file are page cache, not heap.
    const bool own = file_ == nullptr;
    bytes += capacity_ * ((own ? stride0_ * sizeof(uint32_t) : 0) + sizeof(int8_t) +
                          sizeof(uint32_t*) + sizeof(std::atomic<uint8_t>)) +
             (capacity_ + 63) / 64 * sizeof(uint64_t) + capacity_ * sizeof(uint32_t) +
             (own ? upper_words_.load(std::memory_order_relaxed) * sizeof(uint32_t) : 0);
    if (codes_ != nullptr)
      bytes += (own ? capacity_ * code_size_ : 0) + (code_norms_ != nullptr ? capacity_ * sizeof(float) : 0);
  }
  std::lock_guard<std::mutex> l(scratch_mu_);
  for (const auto& s : scratch_pool_) bytes += sizeof(Scratch) + s->MemoryBytes();
  return bytes;
}

}  // namespace mosaic::index
