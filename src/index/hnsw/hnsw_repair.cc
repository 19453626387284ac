// HnswIndex removal and repair: Remove marks a node; Vacuum re-links the neighbours of removed
// nodes and frees their slots; Remap copies the graph under a new slot numbering (compaction);
// Clone copies it as it is.
#include <algorithm>
#include <bit>
#include <cassert>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_internal.h"

namespace mosaic::index {

using namespace hnsw_detail;

// A rebuilt link list: node `slot`'s links at `layer`.
struct HnswIndex::Repair {
  uint32_t slot;
  int layer;
  std::vector<uint32_t> links;
};

// ---- removal and repair ------------------------------------------------------------------------

void HnswIndex::Remove(uint32_t slot) {
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  if (slot >= capacity_ || Level(slot) < 0) return;
  uint64_t bit = uint64_t{1} << (slot & 63);
  uint64_t old = std::atomic_ref<uint64_t>(removed_[slot >> 6]).fetch_or(bit,
                                                                        std::memory_order_acq_rel);
  if ((old & bit) == 0) num_removed_.fetch_add(1, std::memory_order_relaxed);
}

template <typename GoneFn, typename RowFn>
std::vector<HnswIndex::Repair> HnswIndex::PlanRepairs(const GoneFn& gone, const RowFn& row,
                                                      ThreadPool* pool) const {
  std::vector<uint32_t> nodes;
  for (uint32_t slot = 0; slot < capacity_; ++slot) {
    if (Level(slot) >= 0 && !gone(slot)) nodes.push_back(slot);
  }
  std::mutex out_mu;
  std::vector<Repair> out;
  auto plan = [&](size_t begin, size_t end) {
    std::vector<Repair> local;
    std::vector<uint32_t> ids;
    std::vector<Neighbor> cands, selected;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t node = nodes[i];
      for (int layer = Level(node); layer >= 0; --layer) {
        const uint32_t* list = Links(node, layer);
        const uint32_t count = std::min(LoadLink(list), max_links(layer));
        bool lost = false;
        for (uint32_t j = 0; j < count && !lost; ++j) lost = gone(LoadLink(list + 1 + j));
        if (!lost) continue;
        // Candidates: the surviving links, plus what the lost neighbours linked to (one hop
        // through them, two if that still leaves fewer candidates than places).
        ids.clear();
        std::vector<uint32_t> frontier;
        for (uint32_t j = 0; j < count; ++j) {
          uint32_t id = LoadLink(list + 1 + j);
          (gone(id) ? frontier : ids).push_back(id);
        }
        for (int hop = 0; hop < 2 && !frontier.empty(); ++hop) {
          std::vector<uint32_t> next;
          for (uint32_t r : frontier) {
            const uint32_t* rl = Links(r, layer);
            const uint32_t rc = std::min(LoadLink(rl), max_links(layer));
            for (uint32_t j = 0; j < rc; ++j) {
              uint32_t id = LoadLink(rl + 1 + j);
              if (id == node) continue;
              (gone(id) ? next : ids).push_back(id);
            }
          }
          std::sort(ids.begin(), ids.end());
          ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
          if (ids.size() >= max_links(layer)) break;
          frontier = std::move(next);
        }
        const float* base = row(node);
        cands.clear();
        for (uint32_t id : ids) cands.push_back({id, Distance(base, row(id), kInf)});
        std::sort(cands.begin(), cands.end(), Closer);
        SelectNeighbors(&cands, max_links(layer), RowPairs<RowFn>{this, row}, &selected);
        Repair r{node, layer, {}};
        for (const Neighbor& n : selected) r.links.push_back(n.slot);
        local.push_back(std::move(r));
      }
    }
    std::lock_guard<std::mutex> l(out_mu);
    for (Repair& r : local) out.push_back(std::move(r));
  };
  if (pool != nullptr) {
    pool->ParallelFor(nodes.size(), plan, 256);
  } else {
    plan(0, nodes.size());
  }
  return out;
}

Status HnswIndex::Vacuum(ThreadPool* pool) {
  std::unique_lock<std::shared_mutex> update(update_mu_);
  // Planning reads the graph alongside searches; only applying the plan excludes them. Nodes
  // removed while planning stay tombstoned for the next Vacuum.
  std::vector<uint32_t> gone_list;
  Bitset gone;
  {
    std::shared_lock<std::shared_mutex> lock(structure_mu_);
    gone.Resize(capacity_);
    for (uint32_t slot = 0; slot < capacity_; ++slot) {
      if (Level(slot) >= 0 && IsRemoved(slot)) {
        gone.Set(slot);
        gone_list.push_back(slot);
      }
    }
  }
  if (gone_list.empty()) return Status::OK();
  std::vector<Repair> repairs;
  {
    std::shared_lock<std::shared_mutex> lock(structure_mu_);
    repairs = PlanRepairs([&](uint32_t id) { return gone.Test(id); },
                          [this](uint32_t id) { return rows_->Row(id); }, pool);
  }

  std::unique_lock<std::shared_mutex> lock(structure_mu_);
  if (file_ != nullptr) GrowLocked(capacity_);  // the repairs write lists
  for (const Repair& r : repairs) {
    uint32_t* list = Links(r.slot, r.layer);
    for (size_t i = 0; i < r.links.size(); ++i) StoreLink(list + 1 + i, r.links[i]);
    StoreLink(list, static_cast<uint32_t>(r.links.size()));
  }
  for (uint32_t slot : gone_list) {
    int level = Level(slot);
    if (level > 0) upper_words_.fetch_sub(static_cast<size_t>(level) * stride_up_);
    delete[] upper_[slot];
    upper_[slot] = nullptr;
    StoreLink(Links(slot, 0), 0);
    levels_[slot] = -1;
    removed_[slot >> 6] &= ~(uint64_t{1} << (slot & 63));
  }
  num_present_.fetch_sub(gone_list.size());
  num_removed_.fetch_sub(gone_list.size());
  CountInLinks();
  uint64_t e = entry_.load();
  if (e != 0 && gone.Test(static_cast<uint32_t>(e))) {
    // The new entry point is a highest-level survivor; a removed-but-not-gone node is still a
    // fine entry (it is traversed), but prefer a live one at the same level.
    int best_level = -1;
    uint32_t best = kNoEntry;
    for (uint32_t slot = 0; slot < capacity_; ++slot) {
      int level = Level(slot);
      if (level > best_level || (level == best_level && best != kNoEntry && IsRemoved(best) &&
                                 !IsRemoved(slot))) {
        best_level = level;
        best = slot;
      }
    }
    e = best_level < 0 ? 0 : (static_cast<uint64_t>(best_level) + 1) << 32 | best;
    entry_.store(e, std::memory_order_release);
  }
  return Status::OK();
}

std::unique_ptr<HnswIndex> HnswIndex::Clone() const {
  // Exclusive on update_mu_ waits for Adds in flight (and keeps Vacuum out), so no list is
  // half-written; Remove may still tombstone meanwhile, so those words are read atomically.
  std::unique_lock<std::shared_mutex> update(update_mu_);
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  auto out = std::make_unique<HnswIndex>(dim_, metric_, params_, rows_);
  if (sq8_trained_.load(std::memory_order_acquire)) out->SetCodec(codec_);
  size_t used = capacity_;  // trailing never-used slots are not copied
  while (used > 0 && Level(static_cast<uint32_t>(used - 1)) < 0) --used;
  if (used == 0) return out;
  out->GrowLocked(used);
  std::copy_n(links0_, used * stride0_, out->links0_);
  std::copy_n(levels_.get(), used, out->levels_.get());
  std::copy_n(in_links_.get(), used, out->in_links_.get());
  for (size_t w = 0; w < (used + 63) / 64; ++w)
    out->removed_[w] = std::atomic_ref<uint64_t>(removed_[w]).load(std::memory_order_relaxed);
  if (used % 64 != 0) out->removed_[used / 64] &= (uint64_t{1} << (used % 64)) - 1;
  if (codes_ != nullptr) std::copy_n(codes_, used * code_size_, out->codes_);
  if (code_norms_ != nullptr) std::copy_n(code_norms_.get(), used, out->code_norms_.get());
  for (uint32_t slot = 0; slot < used; ++slot) {
    const int level = Level(slot);
    if (level <= 0) continue;
    const size_t words = static_cast<size_t>(level) * stride_up_;
    out->upper_[slot] = new uint32_t[words];
    std::copy_n(upper_[slot], words, out->upper_[slot]);
    out->upper_words_ += words;
  }
  out->entry_.store(entry_.load(std::memory_order_acquire));
  out->num_present_.store(num_present_.load());
  size_t removed = 0;
  for (size_t w = 0; w < (used + 63) / 64; ++w) removed += std::popcount(out->removed_[w]);
  out->num_removed_.store(removed);
  return out;
}

std::unique_ptr<HnswIndex> HnswIndex::Remap(const std::vector<int64_t>& old_to_new,
                                            const VectorRows* new_rows, ThreadPool* pool,
                                            bool drop_removed) const {
  std::unique_lock<std::shared_mutex> update(update_mu_);
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  auto target = [&](uint32_t old) -> int64_t {
    return old < old_to_new.size() ? old_to_new[old] : -1;
  };
  auto gone = [&](uint32_t old) { return target(old) < 0 || (drop_removed && IsRemoved(old)); };
  // Distances are taken on the new rows (by new slot): the old storage may already be retired.
  auto row = [&](uint32_t old) { return new_rows->Row(static_cast<uint32_t>(target(old))); };
  std::vector<Repair> repairs = PlanRepairs(gone, row, pool);

  auto out = std::make_unique<HnswIndex>(dim_, metric_, params_, new_rows);
  int64_t max_new = -1;
  for (uint32_t old = 0; old < capacity_; ++old) {
    if (Level(old) >= 0 && !gone(old)) max_new = std::max(max_new, target(old));
  }
  if (sq8_trained_.load(std::memory_order_acquire)) out->SetCodec(codec_);
  if (max_new < 0) return out;
  out->GrowLocked(static_cast<size_t>(max_new) + 1);
  int best_level = -1;
  uint32_t best = kNoEntry;
  size_t present = 0;
  for (uint32_t old = 0; old < capacity_; ++old) {
    int level = Level(old);
    if (level < 0 || gone(old)) continue;
    const uint32_t now = static_cast<uint32_t>(target(old));
    assert(out->levels_[now] < 0 && "old_to_new maps two slots to one");
    out->levels_[now] = static_cast<int8_t>(level);
    if (codes_ != nullptr) std::copy_n(Code(old), code_size_, out->codes_ + size_t{now} * code_size_);
    if (code_norms_ != nullptr) out->code_norms_[now] = code_norms_[old];
    if (level > 0) {
      size_t words = static_cast<size_t>(level) * stride_up_;
      out->upper_[now] = new uint32_t[words]();
      out->upper_words_ += words;
    }
    for (int layer = 0; layer <= level; ++layer) {
      const uint32_t* from = Links(old, layer);
      uint32_t* to = out->Links(now, layer);
      uint32_t count = std::min(LoadLink(from), max_links(layer));
      uint32_t n = 0;
      for (uint32_t j = 0; j < count; ++j) {
        uint32_t id = LoadLink(from + 1 + j);
        if (!gone(id)) to[1 + n++] = static_cast<uint32_t>(target(id));
      }
      to[0] = n;
    }
    ++present;
    if (level > best_level) {
      best_level = level;
      best = now;
    }
  }
  for (const Repair& r : repairs) {
    uint32_t* to = out->Links(static_cast<uint32_t>(target(r.slot)), r.layer);
    for (size_t i = 0; i < r.links.size(); ++i) to[1 + i] = static_cast<uint32_t>(target(r.links[i]));
    to[0] = static_cast<uint32_t>(r.links.size());
  }
  uint64_t e = entry_.load(std::memory_order_acquire);
  if (e != 0 && !gone(static_cast<uint32_t>(e))) {
    best = static_cast<uint32_t>(target(static_cast<uint32_t>(e)));
    best_level = static_cast<int>(e >> 32) - 1;
  }
  out->entry_.store((static_cast<uint64_t>(best_level) + 1) << 32 | best);
  out->num_present_.store(present);
  out->CountInLinks();
  return out;
}

}  // namespace mosaic::index
