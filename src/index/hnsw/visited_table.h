// VisitedTable: the "seen this node?" set of one graph search, over dense slot numbers.
//
// Each slot holds the epoch in which it was last marked; a new search bumps the epoch instead of
// clearing the array, so starting a search costs O(1) rather than O(capacity). The array is
// cleared only when the 16-bit epoch wraps (once every 65,535 searches). 16-bit stamps keep the
// table at 2 bytes per slot, so it stays cache-resident for larger graphs than 4-byte stamps.
// Not synchronized: one search uses one table at a time (HnswIndex keeps a pool of them).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

namespace mosaic::index {

class VisitedTable {
 public:
  VisitedTable() = default;
  VisitedTable(const VisitedTable&) = delete;
  VisitedTable& operator=(const VisitedTable&) = delete;

  size_t capacity() const { return capacity_; }
  size_t MemoryBytes() const { return capacity_ * sizeof(uint16_t); }

  // Starts a new search over slots [0, capacity); previous marks are forgotten.
  void Reset(size_t capacity) {
    if (capacity > capacity_) {
      // Grow with headroom: the graph grows one slot at a time during a build.
      size_t grown = capacity + capacity / 2;
      marks_ = std::make_unique<uint16_t[]>(grown);  // value-initialized: all zero
      capacity_ = grown;
      epoch_ = 0;
    }
    if (++epoch_ == 0) {
      std::memset(marks_.get(), 0, capacity_ * sizeof(uint16_t));
      epoch_ = 1;
    }
  }

  bool Test(uint32_t slot) const { return marks_[slot] == epoch_; }
  void Set(uint32_t slot) { marks_[slot] = epoch_; }
  // Marks `slot` and reports whether it was already marked.
  bool TestAndSet(uint32_t slot) {
    bool seen = marks_[slot] == epoch_;
    marks_[slot] = epoch_;
    return seen;
  }
  // For prefetching the mark of a slot about to be tested.
  const uint16_t* address(uint32_t slot) const { return marks_.get() + slot; }

 private:
  std::unique_ptr<uint16_t[]> marks_;
  size_t capacity_ = 0;
  uint16_t epoch_ = 0;
};

}  // namespace mosaic::index
