// AppendRows: append-only storage of fixed-width float rows whose addresses never change, so an
// index may keep reading rows while new ones are appended. Chunk c holds kFirstChunkRows << c
// rows, so a small collection stays small and a large one needs few chunks (at most 32).
// Not synchronized: appends are serialized by the owner; reads of rows that exist are safe
// concurrently with appends (each chunk is allocated whole before rows go into it, and the chunk
// table has a fixed capacity so it never reallocates).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

namespace mosaic::storage {

class AppendRows {
 public:
  static constexpr size_t kFirstChunkRows = 64;
  static constexpr size_t kMaxChunks = 32;

  explicit AppendRows(size_t dim = 0) : dim_(dim) {}
  AppendRows(AppendRows&&) = default;
  AppendRows& operator=(AppendRows&&) = default;

  size_t dim() const { return dim_; }
  size_t rows() const { return rows_; }

  // Appends a row (zeros when `row` is null).
  void Append(const float* row) {
    auto [c, at] = Locate(rows_);
    if (!chunks_[c]) chunks_[c].reset(new float[ChunkRows(c) * dim_]);
    float* dst = chunks_[c].get() + at * dim_;
    if (row != nullptr) {
      std::memcpy(dst, row, dim_ * sizeof(float));
    } else {
      std::memset(dst, 0, dim_ * sizeof(float));
    }
    ++rows_;
  }

  const float* Row(size_t i) const {
    auto [c, at] = Locate(i);
    return chunks_[c].get() + at * dim_;
  }

  // Calls fn(rows pointer, first row index, row count) for each chunk in order.
  template <typename Fn>
  void ForEachBlock(Fn&& fn) const {
    size_t first = 0;
    for (size_t c = 0; c < kMaxChunks && first < rows_; ++c) {
      size_t n = std::min(ChunkRows(c), rows_ - first);
      fn(chunks_[c].get(), first, n);
      first += n;
    }
  }

  size_t MemoryBytes() const {
    size_t bytes = 0;
    for (size_t c = 0; c < kMaxChunks && chunks_[c]; ++c) bytes += ChunkRows(c) * dim_ * sizeof(float);
    return bytes;
  }

 private:
  static size_t ChunkRows(size_t c) { return kFirstChunkRows << c; }
  // Chunk c starts at row kFirstChunkRows * (2^c - 1).
  static std::pair<size_t, size_t> Locate(size_t i) {
    size_t q = i / kFirstChunkRows + 1;
    size_t c = static_cast<size_t>(std::bit_width(q)) - 1;
    return {c, i - kFirstChunkRows * ((size_t{1} << c) - 1)};
  }

  size_t dim_;
  size_t rows_ = 0;
  std::array<std::unique_ptr<float[]>, kMaxChunks> chunks_;
};

}  // namespace mosaic::storage
