// Fuzzes restoring a snapshot (Db::RestoreSnapshot): a snapshot archive (docs/snapshot_format.md:
// tar, its member list, each member's checksum; the members' own formats have fuzzers of their
// own) or a snapshot of versions 1 and 2 (a segment file whose metadata holds the schema and
// payload indexes, docs/segment_format.md; its checksums recomputed, util/segment_file.h, so that
// mutations reach the metadata). What restores is counted, scrolled to the end, searched and
// dropped.
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "mosaic/env.h"
#include "util/segment_file.h"
#include "mosaic/collection.h"
#include "mosaic/db.h"

namespace {

mosaic::Db& TheDb() {
  static mosaic::Db* db = [] {
    mosaic::DbOptions options;
    options.env = mosaic::fuzz::HeapEnv();
    options.sync = mosaic::SyncPolicy::kNever;
    options.search_threads = 1;
    auto opened = mosaic::Db::Open(mosaic::fuzz::ScratchDir() + "/db", options);
    if (!opened.ok()) std::abort();
    return opened->release();
  }();
  return *db;
}

void Use(mosaic::Collection& c) {
  c.Count().ok();
  mosaic::ScrollRequest scroll;
  scroll.limit = 64;
  scroll.with_vectors = true;
  for (int page = 0; page < 64; ++page) {
    auto p = c.Scroll(scroll);
    if (!p.ok() || !p->next_offset) break;
    scroll.offset = p->next_offset;
  }
  for (const mosaic::VectorSpec& v : c.schema().vectors) {
    if (v.dim > 4096) continue;
    mosaic::SearchRequest search;
    search.vector_name = v.name;
    search.vector.assign(v.dim, 0.5f);
    c.Search(search).ok();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mosaic::Db& db = TheDb();
  const std::string path = mosaic::fuzz::WriteScratchFile(
      "fuzz.snapshot",
      mosaic::testing::RecomputeSegmentChecksums({reinterpret_cast<const char*>(data), size}));
  auto restored = db.RestoreSnapshot(path, "restored");
  if (!restored.ok()) return 0;
  Use(**restored);
  restored->reset();
  if (!db.DropCollection("restored").ok()) std::abort();
  return 0;
}
