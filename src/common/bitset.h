// Bitset: a growable dense bitset over slot numbers (allow-sets, live points, vector presence).
// Not synchronized: guard with the owner's lock.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mosaic {

class Bitset {
 public:
  Bitset() = default;
  explicit Bitset(size_t n, bool value = false) { Resize(n, value); }

  size_t size() const { return size_; }
  void Resize(size_t n, bool value = false) {
    size_t old = size_;
    words_.resize((n + 63) / 64, value ? ~uint64_t{0} : 0);
    if (value) {
      for (size_t i = old; i < n && i < ((old + 63) / 64) * 64; ++i) Set(i);
    }
    size_ = n;
    ClearTail();
  }
  bool Test(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void Set(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Reset(size_t i) { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  void Assign(size_t i, bool v) { v ? Set(i) : Reset(i); }
  size_t Count() const {
    size_t c = 0;
    for (uint64_t w : words_) c += std::popcount(w);
    return c;
  }
  // this &= other (sizes must match).
  void And(const Bitset& other) {
    for (size_t i = 0; i < words_.size() && i < other.words_.size(); ++i) words_[i] &= other.words_[i];
  }
  // Set bits in [begin, end).
  size_t CountRange(size_t begin, size_t end) const {
    size_t c = 0;
    for (size_t i = begin; i < end && i % 64 != 0; ++i) c += Test(i);
    size_t i = std::max(begin, ((begin + 63) / 64) * 64);
    for (; i + 64 <= end; i += 64) c += std::popcount(words_[i >> 6]);
    for (; i < end; ++i) c += Test(i);
    return c;
  }
  // Bits [from, from + count) of `src` copied to [to, to + count) of this, a word at a time
  // (both ranges must lie within their bitsets; this and `src` must differ).
  void CopyRange(const Bitset& src, size_t from, size_t count, size_t to) {
    while (count > 0 && to % 64 != 0) {  // up to the next word of this
      Assign(to++, src.Test(from++));
      --count;
    }
    for (; count >= 64; count -= 64, from += 64, to += 64) words_[to >> 6] = src.Word64(from);
    for (; count > 0; --count) Assign(to++, src.Test(from++));
  }
  const uint64_t* words() const { return words_.data(); }
  size_t num_words() const { return words_.size(); }
  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

  // Calls fn(i) for every set bit, in increasing order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t w = 0; w < words_.size(); ++w) {
      uint64_t bits = words_[w];
      while (bits) {
        fn(w * 64 + std::countr_zero(bits));
        bits &= bits - 1;
      }
    }
  }

 private:
  // The 64 bits from bit `i` on (i + 64 <= size()).
  uint64_t Word64(size_t i) const {
    const size_t w = i >> 6, b = i & 63;
    return b == 0 ? words_[w] : words_[w] >> b | words_[w + 1] << (64 - b);
  }
  void ClearTail() {
    if (size_ % 64 && !words_.empty()) words_.back() &= (uint64_t{1} << (size_ % 64)) - 1;
  }
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace mosaic
