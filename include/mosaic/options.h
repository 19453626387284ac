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
  // true: such a flush writes the new segment, its graphs and index file on a thread of its own
  // while writes go on (into a new growing part and the same log), and holds writers only to
  // switch the manifest and start the next log with the records written meanwhile; false: in the
  // write that passes the threshold (deterministic; tests). Flush(), Compact(), a snapshot and a
  // close wait for a flush in the background, then flush what is left at once.
  bool background_flushes = true;
  // Merges: sealed segments are merged in the background (writes and searches go on; the new
  // segment is switched in at the next flush point, briefly holding writers) when merge_factor
  // neighbours have about the same size (each point is then rewritten about log_merge_factor
  // of (points / points per flush) times), when there are more than max_segments, when one's
  // deleted points pass compact_deleted_ratio of its slots, or to give a graph its SQ8 codes.
  size_t merge_factor = 4;
  size_t max_segments = 8;
  // A merge makes no segment whose live points' vectors (f32, every named vector) take more than
  // this, and merges a segment past half of it only to drop its deleted points: merging large
  // segments again costs more (re-inserting most of their points into a graph) than searching
  // one more graph saves (Lucene's max merged segment size; Milvus seals at 1 GiB likewise).
  // max_segments and merge_factor count the segments under half of it. 0: no limit.
  uint64_t max_segment_bytes = 1ull << 30;
  // While more than this many sealed segments under half of max_segment_bytes wait for merges,
  // each Upsert waits 100 us per point for every segment over (at most 0.5 s a write), so that
  // writers go at the pace merges keep up with instead of leaving ever more graphs for each
  // search to walk (LevelDB's slowdown trigger). 0: never.
  size_t slowdown_segments = 16;
  double compact_deleted_ratio = 0.25;
  // false: a merge runs in the flush that starts it, holding writers (deterministic; tests).
  bool background_merges = true;
  // A flush compacts (all live points into one segment, at once, training SQ8 codes if due) a
  // collection whose live vectors take no more than this many bytes: that costs about what
  // sealing does (measured: up to 2 s at 16 MiB with the SQ8 training, hence 4), and a search
  // then walks one graph instead of several.
  uint64_t compact_below_bytes = 4ull << 20;
  // Closing a collection whose log holds at least this many bytes flushes it first, so that the
  // next open loads sealed segments and their graphs instead of replaying the log into a graph
  // (seconds per 100,000 points; RocksDB flushes at shutdown likewise). A shorter log replays in
  // milliseconds. 0: never; a crash leaves the log to replay either way.
  uint64_t flush_on_close_bytes = 1ull << 20;
  // Sealed segment files (rows, and ids and payloads as stored) are read into this process's
  // memory while the database's in-memory segments total at most this many bytes; a segment
  // that would take the total past it is memory-mapped instead, its rows and payloads served
  // from the page cache, which the kernel fills on demand and evicts under memory pressure
  // (docs/segment_format.md). Small collections stay in memory; a large one opens without
  // reading its files into the heap (measured at 1M points: 3.3 s mapped against 6.3 s read).
  // 0 maps every segment. A mapped file truncated or unreadable underneath makes the reads that
  // need it fail with IOError instead of killing the process; in memory they would go on.
  uint64_t segment_memory_budget_bytes = 256ull << 20;
  // Threads used by batch searches; 0 = one per hardware thread.
  int search_threads = 0;
};

}  // namespace mosaic
