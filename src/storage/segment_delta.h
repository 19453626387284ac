// SegmentDelta: what changed in a collection's sealed segments since they were written, kept
// beside them so that the segments themselves are never rewritten by a flush. It holds the
// tombstones (sealed slots deleted or replaced since) and the payloads that changed in place,
// plus a copy of the manifest that names it (so a repair that finds CURRENT unreadable can still
// tell which segments were live). One file per generation, written whole at each flush, then
// never changed; the whole file is CRC32C-checked. Format: docs/segment_format.md ("Delta files").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/bitset.h"
#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::storage {

inline constexpr char kDeltaMagic[8] = {'M', 'O', 'S', 'D', 'E', 'L', 'T', 'A'};
inline constexpr uint32_t kDeltaVersion = 1;

struct SegmentDelta {
  Json manifest = Json::object();  // the manifest (CURRENT) that names this file
  Bitset dead;                     // one bit per sealed slot: set when the slot is retired
  // Payloads of sealed slots that changed in place, by ascending slot; each replaces the payload
  // that the slot's segment holds.
  std::vector<std::pair<uint32_t, Json>> payloads;
};

// Writes `delta` to `path` and syncs it. Not atomic: write to a temporary name and rename.
Status WriteDelta(Env* env, const std::string& path, const SegmentDelta& delta);
// Reads and verifies `path`: Corruption naming the file and what is wrong when it is damaged.
Result<SegmentDelta> ReadDelta(Env* env, const std::string& path);
// The same over bytes already read (`path` names them in errors); for the fuzzer.
Result<SegmentDelta> DecodeDelta(std::string_view data, const std::string& path);

}  // namespace mosaic::storage
