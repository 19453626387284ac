// Fuzzes the payload index file reader (PayloadIndexSet::Load; docs/segment_format.md, "Index
// files"): each input is loaded as it is, and again with its trailing checksum recomputed so that
// mutated bodies reach the checks behind it, into a set with one index of every type. A file that
// loads is saved again and must load to the same bytes; a failed load must say whether it changed
// the set.
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "index/filter/payload_index.h"
#include "mosaic/env.h"

namespace {

using mosaic::PayloadIndexType;
using mosaic::index::PayloadIndexSet;

constexpr uint32_t kSlots = 64;

PayloadIndexSet MakeSet() {
  PayloadIndexSet set;
  set.Create("k", PayloadIndexType::kKeyword).ok();
  set.Create("i", PayloadIndexType::kInteger).ok();
  set.Create("f", PayloadIndexType::kFloat).ok();
  set.Create("d", PayloadIndexType::kDatetime).ok();
  set.Create("t", PayloadIndexType::kText).ok();
  return set;
}

std::string SaveBytes(const PayloadIndexSet& set, const std::string& name) {
  const std::string path = mosaic::fuzz::WriteScratchFile(name, "");
  if (!set.Save(mosaic::fuzz::HeapEnv(), path, kSlots, {0, {}, kSlots}).ok()) std::abort();
  auto bytes = mosaic::fuzz::HeapEnv()->ReadFile(path);
  if (!bytes.ok()) std::abort();
  return *bytes;
}

void Load(std::string_view bytes) {
  const std::string path = mosaic::fuzz::WriteScratchFile("fuzz.idx", bytes);
  PayloadIndexSet set = MakeSet();
  bool partial = false;
  auto got = set.Load(mosaic::fuzz::HeapEnv(), path, kSlots, {}, &partial);
  if (!got.ok()) return;
  // What loaded saves and loads again to the same.
  const std::string saved = SaveBytes(set, "again.idx");
  PayloadIndexSet again = MakeSet();
  const std::string again_path = mosaic::fuzz::WriteScratchFile("again.idx", saved);
  if (!again.Load(mosaic::fuzz::HeapEnv(), again_path, kSlots, {}, &partial).ok()) std::abort();
  if (SaveBytes(again, "third.idx") != saved) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mosaic::fuzz::WithTrailingCrcFixed({reinterpret_cast<const char*>(data), size}, Load);
  return 0;
}
