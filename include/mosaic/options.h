// Options for opening a database. Plain values.
#pragma once

#include <cstdint>

namespace mosaic {

class Env;

// When an acknowledged write is fsynced to the write-ahead log.
enum class SyncPolicy : uint8_t {
  kAlways = 0,    // before the write returns (default: no acknowledged write is ever lost)
  kPeriodic = 1,  // at most every sync_interval_ms (a crash may lose that window)
  kNever = 2,     // left to the OS (a process crash loses nothing, a power loss may)
};

struct DbOptions {
  Env* env = nullptr;  // nullptr: Env::Default()
  SyncPolicy sync = SyncPolicy::kAlways;
  uint32_t sync_interval_ms = 1000;
  // Group commit: upserts to one collection that wait behind each other are logged and synced
  // together, one fsync for the group, up to this many bytes of log records (a larger upsert is a
  // group of its own). 0: every write is logged and synced alone (for comparison).
  uint64_t max_write_group_bytes = 1ull << 20;
  bool create_if_missing = true;
  // When the write-ahead log of a collection passes this size, the points written since the last
  // flush are sealed into a new on-disk segment (the others are left as they are) and the log
  // starts afresh.
  uint64_t wal_flush_bytes = 64ull << 20;
  // Compaction (every live point rewritten into one segment) runs when a flush would leave more
  // sealed segments than this, or deleted points pass compact_deleted_ratio of the points.
  size_t max_segments = 8;
  double compact_deleted_ratio = 0.25;
  // Threads used by batch searches; 0 = one per hardware thread.
  int search_threads = 0;
};

}  // namespace mosaic
