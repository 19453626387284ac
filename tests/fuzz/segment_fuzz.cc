// Fuzzes the segment loader (src/storage/segment.h, docs/segment_format.md): Segment::Open on the
// input, then every id, payload, vector row and graph section of a segment that opens is read. Each input is
// opened twice: as it is, and with the section table's and every section's CRC recomputed, so
// that mutated sections reach the checks behind the checksums. The file is read into the heap
// (fuzz_util.h), where ASan sees any read past its end.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "mosaic/env.h"
#include "util/segment_file.h"
#include "storage/segment.h"

namespace {

void Open(std::string_view bytes) {
  const std::string path = mosaic::fuzz::WriteScratchFile("fuzz.seg", bytes);
  auto seg = mosaic::storage::Segment::Open(mosaic::fuzz::HeapEnv(), path);
  if (!seg.ok()) return;
  const mosaic::storage::Segment& s = **seg;
  s.DecodeIds().ok();
  for (size_t i = 0; i < s.num_points(); ++i) s.DecodePayload(i).ok();
  float sum = 0;
  for (size_t v = 0; v < s.num_vectors(); ++v) {
    const size_t values = s.num_points() * s.dim(v);
    for (size_t i = 0; i < values; ++i) sum += s.vectors(v)[i];
    for (size_t i = 0; i < s.num_points(); ++i) sum += s.has_vector(i, v) ? 1.0f : 0.0f;
    if (auto graph = s.graph(v); graph.ok())
      for (char b : *graph) sum += static_cast<float>(b);
  }
  // Keeps the reads above from being optimized away.
  if (sum == 1.5e38f) std::fprintf(stderr, "%g\n", sum);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Open(in);
  const std::string fixed = mosaic::testing::RecomputeSegmentChecksums(in);
  if (fixed != in) Open(fixed);
  return 0;
}
