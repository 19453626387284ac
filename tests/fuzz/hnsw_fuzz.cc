// Fuzzes the HNSW graph loader (src/index/hnsw/hnsw_index_io.cc, docs/hnsw_format.md): Load on
// the input, and on the input with its whole-file CRC recomputed so mutated graphs get past the
// checksum. A graph that loads must be safe to use: it is searched, vacuumed (its tombstoned
// nodes repaired away) and searched again over synthetic rows. The file is read into the heap
// (fuzz_util.h), where ASan sees any read past its end.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "fuzz/fuzz_util.h"
#include "mosaic/env.h"
#include "index/hnsw/hnsw_index.h"

namespace {

constexpr size_t kCapacityOffset = 40;  // header field, docs/hnsw_format.md
// Larger graphs are only loaded, not searched.
constexpr size_t kMaxValues = 1 << 20;  // rows * dim
constexpr uint32_t kMaxDim = 4096;

// Rows filled in after Load, once the graph's dim and capacity are known.
class Rows final : public mosaic::index::VectorRows {
 public:
  const float* Row(uint32_t slot) const override {
    if (slot >= capacity_) {
      std::fprintf(stderr, "the graph read slot %u of %u\n", slot, capacity_);
      std::abort();
    }
    return values_.data() + static_cast<size_t>(slot) * dim_;
  }
  void Fill(uint32_t capacity, uint32_t dim) {
    capacity_ = capacity;
    dim_ = dim;
    values_.resize(static_cast<size_t>(capacity) * dim);
    for (size_t i = 0; i < values_.size(); ++i) values_[i] = std::sin(static_cast<float>(i));
  }

 private:
  uint32_t capacity_ = 0, dim_ = 0;
  std::vector<float> values_;
};

void Load(std::string_view bytes) {
  const std::string path = mosaic::fuzz::WriteScratchFile("fuzz.hnsw", bytes);
  Rows rows;
  auto index = mosaic::index::HnswIndex::Load(mosaic::fuzz::HeapEnv(), path, &rows);
  if (!index.ok()) return;
  const uint32_t capacity = mosaic::DecodeFixed32(bytes.data() + kCapacityOffset);
  const uint32_t dim = (*index)->dim();
  if (dim > kMaxDim || static_cast<uint64_t>(capacity) * dim > kMaxValues) return;
  rows.Fill(capacity, dim);
  std::vector<float> query(dim);
  for (uint32_t i = 0; i < dim; ++i) query[i] = std::cos(static_cast<float>(i));
  if ((*index)->metric() == mosaic::Metric::kCosine) {
    float norm = 0;
    for (float x : query) norm += x * x;
    for (float& x : query) x /= std::sqrt(norm);
  }
  mosaic::index::IndexSearchParams params;
  params.ef = 16;
  (*index)->Search(query.data(), 5, params, nullptr);
  if ((*index)->Vacuum().ok()) (*index)->Search(query.data(), 5, params, nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Load(in);
  if (size >= 4) {
    std::string fixed(in);
    const uint32_t crc = mosaic::crc32c::Value(fixed.data(), fixed.size() - 4);
    mosaic::EncodeFixed32(fixed.data() + fixed.size() - 4, mosaic::crc32c::Mask(crc));
    if (fixed != in) Load(fixed);
  }
  return 0;
}
