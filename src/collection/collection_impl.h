// CollectionImpl: the storage engine behind mosaic::Collection.
//
// On disk, a collection directory holds collection.json (name, schema, payload indexes), CURRENT
// (the manifest: the sealed segments, the delta file and the WAL that are live), the sealed
// segments with their graphs, one delta file (tombstones and in-place payload changes of sealed
// points) and one write-ahead log: docs/segment_format.md. In memory, points live in slots,
// numbered across the sealed segments in order and then the growing part; each vector keeps its
// rows and graph per part. A write is validated, appended to the WAL (synced per policy), then
// applied; an upsert of an existing id retires the old slot. A flush seals the growing part as a
// new segment and leaves the others as they are (one that the log's size triggers writes it on a
// thread of its own while writes go on); a merge folds neighbouring segments into one in the
// background; a compaction writes all live points into one segment and merges the graphs. Each
// switches CURRENT, then drops files it no longer names.
//
// The methods are defined by concern: collection_impl.cc (open, config, files), collection_load.cc
// (the manifest, loading segments, graphs and delta, the growing part, reading the WAL),
// collection_write.cc (validation, commit, apply, payload indexes), collection_rewrite.cc (flush,
// compaction), collection_snapshot.cc (snapshot archives), collection_read.cc (get, count, info),
// collection_scroll.cc (scroll, by id or by a payload field), collection_facet.cc,
// collection_search.cc (vector and text search).
//
// Thread-safety: writes queue in writers_ (group commit, after LevelDB's DBImpl::Write) and the
// one at the front commits under write_mu_, which serializes it with flushes, compactions, payload
// index changes and the view of a snapshot. A front upsert leads: it takes the upserts queued
// right behind it into its group, appends each one's record (own LSN) to the WAL, syncs once,
// applies them in order and hands each follower its status. A write whose operation is built from
// the state (delete, replace, payload changes) forms a group of its own, built once every write
// queued before it is applied (WriteTurn). state_mu_ is held shared by readers and exclusive only
// while a writer applies a change or swaps in a new state; graph inserts run outside it. A flush
// or merge building in the background takes write_mu_ only to start and to switch in. A
// snapshot holds write_mu_ only to take its view (mappings of the files CURRENT names and of the
// log, which a flush or merge meanwhile cannot take away); the periodic sync takes neither lock
// (see SyncWal).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "collection/collection_files.h"
#include "collection/db_shared.h"
#include "collection/id_index.h"
#include "collection/operation.h"
#include "collection/payload_store.h"
#include "collection/slot_ids.h"
#include "collection/slot_map.h"
#include "common/bitset.h"
#include "common/thread_pool.h"
#include "index/filter/json_path.h"
#include "index/filter/payload_index.h"
#include "index/filter/payload_index_parts.h"
#include "index/flat/flat_search.h"
#include "index/hnsw/hnsw_index.h"
#include "mosaic/collection.h"
#include "mosaic/db.h"
#include "mosaic/env.h"
#include "mosaic/options.h"
#include "storage/append_rows.h"
#include "storage/log_writer.h"
#include "storage/segment.h"
#include "storage/segment_delta.h"

namespace mosaic::storage {
class SnapshotArchiveReader;
}

namespace mosaic::collection {

// The most points a read returns in one call (scroll, search, facet).
inline constexpr size_t kMaxLimit = 1'000'000;
// Graphs of vectors with SQ8 quantization use it once built over at least this many points.
inline constexpr size_t kMinPointsForSq8 = 1000;
// A segment is merged for its retired slots only once it has at least this many.
inline constexpr uint64_t kMinDeletedForMerge = 1000;

class CollectionImpl final : public Collection {
 public:
  // Writes a new collection's files into `dir`: config, CURRENT and an empty WAL, plus, from
  // `snapshot` when given (a snapshot of version 1 or 2: a segment file), its points as the segment and its graphs as the segment's graph files
  // (which Open loads, or rebuilds if they do not match the schema). A graph section that fails
  // its checksum is left out, said on stderr, and so rebuilt at open: the points are checked on
  // their own. Open it afterwards (after renaming `dir`).
  static Status InitDirectory(Env* env, const std::string& dir, const std::string& name,
                              const CollectionSchema& schema,
                              const std::map<std::string, PayloadIndexType>& indexes,
                              const storage::Segment* snapshot);
  // Writes a new collection `name`'s files into `dir` (made here) from a snapshot archive: its
  // members as they are, and collection.json under the new name. Corruption naming the archive
  // and the member for a member that fails its size or checksum, or a snapshot without CURRENT.
  static Status InitFromArchive(Env* env, const std::string& dir, const std::string& name,
                                storage::SnapshotArchiveReader* archive);
  // `shared` (the Db's lock and thread pool) is kept alive as long as the collection. A
  // collection that fails to open is left as it was: nothing in `dir` is written before its
  // files have been read and checked. With `salvage` (for Db::RepairCollection, after the files
  // were copied aside) damage is survived instead: the segment if unreadable, the log from its
  // first damaged record on, CURRENT if unreadable (the newest generation on disk is used) are
  // dropped and said so in `salvage`, and what remains is written as a new generation.
  static Result<std::shared_ptr<CollectionImpl>> Open(Env* env, const DbOptions& options,
                                                      std::shared_ptr<DbShared> shared,
                                                      const std::string& dir,
                                                      RepairReport* salvage = nullptr);
  ~CollectionImpl() override;

  const std::string& name() const override { return name_; }
  const CollectionSchema& schema() const override { return schema_; }

  Status Upsert(std::span<const Point> points) override;
  Status Replace(std::span<const PointId> remove, std::span<const Point> points) override;
  Result<std::vector<Point>> Get(std::span<const PointId> ids, bool with_payload,
                                 bool with_vectors) const override;
  Result<uint64_t> Delete(std::span<const PointId> ids) override;
  Result<uint64_t> DeleteByFilter(const Filter& filter) override;
  Status SetPayload(std::span<const PointId> ids, const Json& patch) override;
  Status OverwritePayload(std::span<const PointId> ids, const Json& payload) override;
  Status DeletePayloadKeys(std::span<const PointId> ids,
                           std::span<const std::string> keys) override;
  Result<uint64_t> Count(const Filter* filter) const override;
  Result<ScrollPage> Scroll(const ScrollRequest& request) const override;
  Result<std::vector<FacetCount>> Facet(const FacetRequest& request) const override;
  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request) const override;
  Result<std::vector<ScoredPoint>> SearchText(const TextSearchRequest& request) const override;
  Result<std::vector<std::vector<ScoredPoint>>> SearchBatch(
      std::span<const SearchRequest> requests) const override;
  Status CreatePayloadIndex(const std::string& field, PayloadIndexType type) override;
  Status DropPayloadIndex(const std::string& field) override;
  std::map<std::string, PayloadIndexType> PayloadIndexes() const override;
  Status Flush() override;
  // Flush's work, under write_mu_ (`lock`, which it may release while a background flush
  // finishes) on a writable collection; then starts a merge if one is due and `start_merge`.
  Status FlushLocked(std::unique_lock<std::mutex>* lock, bool start_merge);
  Status Compact() override;
  CollectionInfo Info() const override;

  // Writes a snapshot archive (docs/snapshot_format.md) to `path`: the files CURRENT names and
  // the log as far as it is written, mapped under the writer lock (writers wait for those few
  // calls only), then archived from the mappings; a temporary file of its own (removed on
  // failure), synced, renamed over `path`, and the directory synced. A log of at least
  // DbOptions::flush_on_close_bytes is flushed first, as at close, so that the restore loads
  // its graph instead of inserting its points (writers wait for that flush as for any other); a
  // merge that flush makes due waits for the next flush, so as not to take the pool and the disk
  // from writers while the snapshot is written.
  Status WriteSnapshot(const std::string& path);
  // Runs `move_away` (which renames the collection's directory to be deleted) with writers
  // excluded; if it succeeds, every later call fails with NotFound, so no write is acknowledged
  // into files about to be deleted.
  Status Drop(const std::function<Status()>& move_away);
  // Syncs the WAL if writes were appended since the last sync (SyncPolicy::kPeriodic). Takes no
  // collection lock, so a flush or a long write never holds it up.
  Status SyncWal();

 private:
  // The rows and graph of one vector over one part of the slots. The parts of a column follow
  // the segments of the manifest, in slot order, and end with the growing part (the slots not yet
  // sealed). A part's rows are in its segment (`base`: read at open, written by a merge, or by
  // the flush that sealed it, from its commit on) or in `tail` (appended while it grew). Its graph
  // numbers nodes from 0 (slot - first); a sealed part's graph changes only by tombstones.
  struct Part {
    uint32_t first = 0;
    std::shared_ptr<const storage::Segment> segment;  // holds `base`; null for a growing part
    const float* base = nullptr;  // rows [0, base_rows) of this part
    size_t base_rows = 0;
    storage::AppendRows tail;     // rows from base_rows on; never move
    std::unique_ptr<index::VectorRows> rows;  // the graph's view: Row(slot - first)
    std::unique_ptr<index::HnswIndex> hnsw;   // HNSW vectors only
    size_t size() const { return base_rows + tail.rows(); }
    const float* Row(uint32_t local) const {
      return local < base_rows ? base + size_t{local} * tail.dim() : tail.Row(local - base_rows);
    }
  };
  class PartRows final : public index::VectorRows {
   public:
    explicit PartRows(const Part* part) : part_(part) {}
    const float* Row(uint32_t local) const override { return part_->Row(local); }

   private:
    const Part* part_;
  };
  struct Column;
  // The rows of one column, by slot.
  class ColumnRows final : public index::VectorRows {
   public:
    explicit ColumnRows(const Column* col) : col_(col) {}
    const float* Row(uint32_t slot) const override;

   private:
    const Column* col_;
  };
  struct Column {
    // By first slot; never empty. Shared with snapshot views and merges, which read rows and
    // graphs of parts the state may have dropped meanwhile.
    std::vector<std::shared_ptr<Part>> parts;
    Bitset present;
    Bitset searchable;  // live and present
    // HNSW vectors only: slots applied but not yet in their part's graph (while opening:
    // inserted by IndexPending once the log is replayed).
    std::vector<uint32_t> unindexed;
    bool rebuilt = false;  // a segment's saved graph was missing or unusable
    Part& growing() const { return *parts.back(); }
    // The part holding `slot`.
    const Part& PartOf(uint32_t slot) const;
  };
  // A sealed segment of the manifest: its file's generation and how many slots it holds.
  struct SealedSegment {
    uint64_t gen = 0;
    uint32_t slots = 0;
  };
  // Everything a reader sees; replaced whole by a compaction or a merge.
  struct State {
    SlotIds ids;
    PayloadStore payloads;
    Bitset live;
    IdIndex id_to_slot;
    std::vector<Column> columns;
    // One part per segment and one for the growing slots, each numbering its slots from 0.
    index::PayloadIndexParts payload_index;
    uint64_t deleted_pending = 0;  // retired slots still in the files
    // Slots [0, sealed) are in sealed segments; `overridden` marks those whose payload changed
    // since (written to the next delta file).
    uint32_t sealed = 0;
    Bitset overridden;
    // While a merge runs: the slots of its range whose payload changed since it started.
    Bitset merge_changed;
    // Slots of the upserts in flight (CommitGroup): stored and in the graphs, not yet visible;
    // searches ask the graphs for this many more results and drop those slots.
    size_t staged = 0;
  };

  CollectionImpl(Env* env, const DbOptions& options, std::shared_ptr<DbShared> shared,
                 std::string dir);

  Status LoadConfig();
  Status SaveConfig() const;
  // What CURRENT (the manifest) names: docs/segment_format.md.
  struct Current {
    uint32_t version = kManifestVersion;  // as read; 1 knows no slot counts nor last_lsn
    uint64_t generation = 0;
    std::vector<SealedSegment> segments;  // in slot order
    std::string wal;
    std::string delta;      // empty: none
    uint64_t last_lsn = 0;  // the last log record reflected in the segments and delta
  };
  static Result<Current> ParseManifest(const Json& j);
  // A segment read at open (null if lost in a salvage: its slots come back retired).
  struct LoadedSegment {
    SealedSegment ref;
    std::shared_ptr<storage::Segment> segment;
  };
  // With `salvage`, a live id found twice (the delta that retired the older slot was lost) keeps
  // its newer slot, and says so; otherwise that is Corruption. With `train_sq8` (a compaction), a
  // graph that lacks the SQ8 codes its vector asks for is rebuilt with them; otherwise (open) it
  // serves as it is until a merge rewrites it.
  Result<std::unique_ptr<State>> LoadState(std::vector<LoadedSegment> segments,
                                           const storage::SegmentDelta* delta,
                                           RepairReport* salvage = nullptr,
                                           bool train_sq8 = false) const;
  // A graph of the column whose SQ8 codec the others share, or null (none trained yet).
  static const index::HnswIndex* CodecDonor(const Column& col);
  // Whether a flush should compact instead of sealing: a small collection, no merge running, no
  // flush taken (callers hold write_mu_).
  bool NeedsCompaction() const;
  // Adds a part from slot `first` on to every column of `s` (the growing part of a new state, or
  // after a flush sealed the last one); its graph shares the codes of the collection's graphs.
  void AddGrowingPart(State* s, uint32_t first) const;
  // Inserts the slots applied since the last call into the HNSW graphs (concurrent searches go on).
  Status IndexPending(State* s) const;
  // Inserts `slots` (ascending) into the graphs of the parts that hold them.
  Status AddToGraphs(Column* col, std::span<const uint32_t> slots) const;
  std::string GraphPath(uint64_t generation, size_t v) const;
  std::string IndexPath(uint64_t generation) const;
  // Fills part k of s->payload_index from segment k's index file, which holds the index of its
  // payloads as written; a field the file lacks (or a missing or damaged file) is built from
  // those payloads and the file saved again. The delta is applied afterwards. Parts load in
  // parallel.
  void LoadPayloadIndex(State* s, const LoadedSegment& segment, size_t k) const;
  // An empty payload index set with the collection's index definitions.
  std::shared_ptr<index::PayloadIndexSet> NewIndexSet() const;
  index::HnswParams HnswParamsFor(size_t v, size_t points) const;
  static Json ManifestJson(const Current& cur);
  Result<Current> ReadCurrent(RepairReport* salvage) const;
  // A log read and decoded whole: its operations, where its valid part ends, its version.
  struct WalContents {
    std::vector<Operation> ops;
    uint64_t valid_end = 0;
    uint32_t version = 0;
  };
  Result<WalContents> ReadWal(const std::string& wal_path, RepairReport* salvage) const;
  void RemoveUnusedFiles();
  // The files of the directory that CURRENT, a running merge and a taken flush do not use
  // (callers hold write_mu_; the names are by generation, so they stay unused once unused).
  std::vector<std::string> UnusedFiles() const;

  Status CheckUsable() const;
  // CheckUsable, and not refusing writes after a flush of unknown outcome (callers hold write_mu_).
  Status CheckWritable() const;
  Result<LoggedPoint> ValidatePoint(const Point& p, size_t index) const;
  // Validates all of `points` into op->points (the first invalid one fails the call).
  Status ValidatePoints(std::span<const Point> points, Operation* op) const;

  // One write of a commit group: its operation, its encoded record, and its outcome. An error
  // means the write was not made (unless its message says it may appear after a reopen).
  struct PendingWrite {
    Operation op;
    std::string record;  // EncodeOperation(op); the LSN is set when it is logged
    Status status;
  };
  // A write waiting in writers_; on the stack of its thread.
  struct Writer {
    PendingWrite* write = nullptr;  // an upsert; null for a WriteTurn (a group of its own)
    bool done = false;              // committed by a leader; guarded by queue_mu_
    std::condition_variable cv;
  };
  // The turn of a write built from the state: queues behind every write before it and, once they
  // are applied, holds write_mu_ until destroyed.
  class WriteTurn {
   public:
    explicit WriteTurn(CollectionImpl* c);
    ~WriteTurn();
    WriteTurn(const WriteTurn&) = delete;
    WriteTurn& operator=(const WriteTurn&) = delete;

   private:
    CollectionImpl* const c_;
    Writer w_;
    std::unique_lock<std::mutex> lock_;
  };
  // Queues `w` and waits until it is at the front of writers_ (true: it commits next) or a leader
  // committed it (false).
  bool AwaitTurn(Writer* w);
  // The group of the writer at the front: it and the upserts right behind it, within
  // max_write_group_bytes (callers hold write_mu_).
  std::vector<PendingWrite*> TakeGroup();
  // Removes the first `n` writers (committed) from writers_, wakes them and the next front.
  void FinishTurn(size_t n);
  // Upserts `op` through the writer queue, as a leader or a follower.
  Status CommitUpsert(Operation op);
  // Commits `op` alone (callers hold a WriteTurn).
  Status Commit(Operation op);
  // Logs the group's writes in order (each its own record and LSN), syncs once per policy, then
  // applies them; the only path by which state changes. Sets each write's status (callers hold
  // write_mu_).
  void CommitGroup(std::span<PendingWrite* const> group);
  // Records the outcome of a flush or compaction (callers hold write_mu_).
  void NoteRewrite(const Status& s);
  // Applies `op` at once (replay; and writes that add no points), queueing new slots for
  // IndexPending.
  void Apply(const Operation& op, State* s) const;
  // An upsert or replace in two steps, so that a re-upserted id switches from its old slot to its
  // new one in a single step for readers, after the new slot is in the graphs: StageSlots stores
  // the points in new slots no reader sees (returns the first); PublishSlots retires what they
  // replace and makes them visible. Several operations may be staged, then published in order.
  uint32_t StageSlots(const Operation& op, State* s) const;
  // `prepared`, when given, holds each point's PayloadIndexParts::Prepare.
  void PublishSlots(const Operation& op, State* s, uint32_t first,
                    std::span<const index::PayloadIndexSet::Prepared> prepared = {}) const;
  // Inserts the staged slots of `ops` (staged in this order from slot `first`) into the HNSW
  // graphs, in one batch per graph (concurrent searches go on).
  Status IndexStaged(std::span<const Operation* const> ops, State* s, uint32_t first) const;
  void RetireSlot(State* s, uint32_t slot) const;
  // Sets (or with nullopt removes) a payload index definition; callers hold write_mu_.
  void SetIndexDef(const std::string& field, std::optional<PayloadIndexType> type);
  // Flushes (or compacts) once the log is past wal_flush_bytes, and starts a merge if one is due;
  // `*deferred`: the flush runs (or was already running) on seal_thread_, which reports it.
  Status MaybeFlushOrCompact(bool* deferred);

  // A merge of the sealed segments [seg_begin, seg_end) of current_ (slots [a, b)) into one new
  // segment `gen` holding the slots live when it started: taken under write_mu_ (StartMerge),
  // built without it while writes and searches go on (BuildMerge), switched in under it once no
  // flush is taken (InstallMerge: a new delta and manifest; the log and growing part stay).
  struct Merge {
    size_t seg_begin = 0, seg_end = 0;
    uint32_t a = 0, b = 0;
    uint64_t gen = 0;
    uint64_t last_lsn = 0;
    Json meta;
    std::vector<uint32_t> slots;  // the live slots of [a, b) at the start, ascending
    std::vector<Bitset> present;  // per vector, by position in `slots`
    std::vector<std::vector<std::shared_ptr<Part>>> parts;  // per vector, the range's parts
    std::vector<std::shared_ptr<Part>> donors;  // per vector, a part with trained SQ8 codes, or null
    std::vector<std::shared_ptr<Part>> merged;  // per vector, built by BuildMerge
    // The payload indexes of the merged segment's points as it holds them (BuildMerge); brought
    // up to date with the changes since at the switch.
    std::shared_ptr<index::PayloadIndexSet> indexes;
    std::shared_ptr<const storage::Segment> segment;  // written by BuildMerge
    SlotIds::Run ids;                                 // of `slots` (BuildMerge)
    std::vector<uint64_t> seg_gens;             // the generations of the run's segments
    std::map<std::string, PayloadIndexType> index_defs;  // the payload indexes at the start
  };
  // The run [begin, end) of sealed segments to merge next, if any (callers hold write_mu_): one
  // whose graph lacks the SQ8 codes it should have, one with too many retired slots,
  // merge_factor neighbours of about the same size, or enough neighbours to get back within
  // max_segments.
  std::optional<std::pair<size_t, size_t>> PickMerge() const;
  // Bytes of one point's f32 vectors (every named vector): a segment's size for
  // max_segment_bytes.
  uint64_t PointVectorBytes() const;
  // Whether a sealed segment of `points` is under half of max_segment_bytes: one that merges
  // may still grow, and that max_segments, merge_factor and slowdown_segments count.
  bool SegmentHasRoom(uint64_t points) const;
  // How long the write of `points` points waits for merges to catch up (slowdown_segments),
  // from the segments now sealed (callers hold write_mu_).
  std::chrono::microseconds WriteSlowdown(size_t points) const;
  // Starts the merge PickMerge finds, unless one runs: on merge_thread_, or at once without
  // background_merges (callers hold write_mu_).
  Status MaybeStartMerge();
  std::unique_ptr<Merge> StartMerge(size_t begin, size_t end);
  Status BuildMerge(Merge* m) const;
  // What a switch leaves to release: the state it replaced (freeing the merged segments' graphs
  // and runs takes ~0.1 s at 1M points) and the files no longer used. The caller releases them
  // after letting go of write_mu_.
  struct Retired {
    std::shared_ptr<State> state;
    std::vector<std::string> files;
  };
  Status InstallMerge(const Merge& m, Retired* retired);
  // Removes a merge's files after it failed or was cancelled (callers hold write_mu_).
  void AbandonMerge(const Merge& m);
  // merge_thread_: builds `m` and switches it in, then the next merge due, until none is.
  void MergeLoop(std::unique_ptr<Merge> m);
  // Cancels a running merge and waits until it has stopped, then for a flush in the background
  // (`lock` holds write_mu_; on return neither runs, though a failed flush may be taken).
  void StopMerge(std::unique_lock<std::mutex>* lock);
  // The slot map of a merge over `end` slots.
  static SlotMap MergeSlotMap(const Merge& m, uint32_t end);
  // The state after merge `m` switched in: `st` renumbered by `map`, with the merged parts; `st`
  // is left as it is (callers hold write_mu_). The parts of `st` after the run (the growing part
  // among them), which both states share, still need their `first` moved down.
  std::shared_ptr<State> RenumberedState(const State& st, const Merge& m,
                                         const SlotMap& map) const;
  // Brings m.indexes (the merged segment's payloads as written) to the points of `st`: index
  // definitions made or dropped since the merge started, points retired or changed since.
  void UpdateMergedIndexes(const State& st, const Merge& m) const;
  // The delta file of manifest `next`: the retired slots and the payloads changed in place of
  // the sealed slots of `st` before `end`, renumbered by `map` (null: as they are).
  storage::SegmentDelta MakeDelta(const State& st, const Current& next, uint32_t end,
                                  const SlotMap* map) const;
  // Writes the live points of `s` to a new segment file at `path` (callers hold write_mu_).
  Status WriteLiveSegment(const State& s, const std::string& path) const;
  // Compaction: all live points into one new segment (callers hold write_mu_).
  Status Rewrite();
  // A flush: the growing part [first, end) sealed as segment `gen`, leaving the sealed segments as
  // they are. Taken under write_mu_ (StartSeal: the part takes no more points, a new growing part
  // does), its segment, graph and index files written without write_mu_ (BuildSeal), then
  // switched in under it (CommitSeal) with a delta file and a new log holding the records logged
  // since it was taken. A flush that the log's size triggers builds on seal_thread_ while writes
  // go on (DbOptions::background_flushes); the others (Flush, Compact, a snapshot, close) wait
  // for it and build at once. docs/segment_format.md, "Flushes".
  struct SealJob {
    uint64_t gen = 0;  // of the segment's files; 0 when the part holds no slot
    uint32_t first = 0, end = 0;
    uint64_t last_lsn = 0;  // the last log record its points reflect
    Json meta;
    SlotIds::Run ids;                          // of slots [first, end)
    std::vector<Bitset> present;               // per vector, by slot - first
    std::vector<std::shared_ptr<Part>> parts;  // per vector
    std::shared_ptr<index::PayloadIndexSet> indexes;  // the part's payload indexes
    bool built = false;                        // its files are written
    // The written segment, opened (in memory or mapped, as the budget says): when the commit
    // switches it in, the part's rows and payloads are read from it instead of the heap.
    std::shared_ptr<const storage::Segment> segment;
  };
  // Takes seal_ from the growing part (callers hold write_mu_; none is taken).
  void StartSeal();
  // Writes the segment, graph and index files of `job` (reads the state under state_mu_).
  Status BuildSeal(SealJob* job) const;
  // Switches CURRENT to the sealed segments and seal_'s (built), with a new delta and a new log
  // holding seal_tail_; then drops seal_ (callers hold write_mu_).
  Status CommitSeal();
  // After the commit: the sealed part reads its rows and unchanged payloads from job.segment
  // (takes state_mu_; the rows and payloads it held are freed after letting it go).
  void UseSealedSegment(const SealJob& job);
  // After a failure: removes seal_'s files (unless CURRENT may name them) so that it is built
  // again; seal_ and seal_tail_ stay, for the retry (callers hold write_mu_).
  void AbandonSeal();
  // Flush: seal_ (taken here if none is) built and committed at once (callers hold write_mu_,
  // and seal_thread_ is not running).
  Status Seal();
  // Waits (releasing `lock`, which holds write_mu_) until seal_thread_ is done, then commits
  // seal_ at once if it failed there.
  Status FinishSeal(std::unique_lock<std::mutex>* lock);
  // seal_thread_: builds seal_ and switches it in; then starts a merge if one is due.
  void SealLoop();
  // The manifest of the next flush: the sealed segments as they are, the next generation's log
  // and delta (callers hold write_mu_).
  Current NextManifest() const;
  // Switches CURRENT to `next` (files written and synced) and, given `wal`, retires the old log
  // for it; on failure removes `written` unless CURRENT may name them (then writes are refused
  // until a reopen).
  Status SwitchTo(const Current& next, std::unique_ptr<storage::LogWriter> wal,
                const std::vector<std::string>& written, const char* what);
  // Writes `delta` as the collection's file `name` (a temporary file, synced, renamed).
  Status WriteDeltaFile(const std::string& name, const storage::SegmentDelta& delta) const;
  // Removes the collection's files `names` (those missing are no error).
  void RemoveFiles(const std::vector<std::string>& names) const;
  // Removes segment `gen`'s files (segment, index, graphs, and their temporary files).
  void RemoveSegmentFiles(uint64_t gen) const;
  // Writes the delta file of `next` from `st` (slots before `end` renumbered by `map`) and
  // switches to `next`, keeping the log; `written` (with the delta) is removed on failure. For
  // merges.
  Status SwitchKeepingLog(const State& st, const Current& next, uint32_t end,
                          const SlotMap& map, std::vector<std::string> written,
                          const char* what);
  // Replaces the WAL (callers hold write_mu_).
  void SetWal(std::unique_ptr<storage::LogWriter> wal);
  Status SaveRemappedGraphs(const State& s, uint64_t gen) const;
  // The sealed segments, the delta and the log that CURRENT names; guarded by write_mu_.
  Current current_;
  // Payload index fields built from payloads while loading sealed segments (Info()); filled by
  // the pool's loading tasks.
  mutable std::mutex indexes_rebuilt_mu_;
  mutable std::set<std::string> indexes_rebuilt_;

  const float* Row(const State& s, size_t v, uint32_t slot) const;
  static std::vector<index::VectorBlock> Blocks(const Column& col);
  ScoredPoint MakeHit(const State& s, size_t v, uint32_t slot, float score,
                      const SearchRequest& r) const;
  std::vector<uint32_t> FilterSlots(const State& s, const Filter& f) const;
  Result<std::vector<ScoredPoint>> SearchLocked(const State& s, const SearchRequest& r,
                                                ThreadPool* pool) const;
  Result<std::pair<size_t, std::vector<float>>> PrepareQuery(const SearchRequest& r) const;
  Point MakePoint(const State& s, uint32_t slot, bool with_payload, bool with_vectors) const;
  // Scroll with order_by (the request is validated, the key parsed).
  ScrollPage ScrollOrdered(const State& s, const ScrollRequest& r,
                           const index::JsonPath& path) const;
  // Scroll by id (the request is validated).
  ScrollPage ScrollById(const State& s, const ScrollRequest& r) const;
  // OK, or IOError if a mapped segment of `s` lost pages since it was opened (truncated from
  // outside, a disk error): rows and payloads read from it may be zeros, so whatever was
  // computed from them is dropped. Every read that touched rows or payloads calls it.
  Status CheckSegmentsReadable(const State& s) const;
  static Status CheckSegmentsReadable(const Part& part) {
    return part.segment == nullptr ? Status::OK() : part.segment->CheckReadable();
  }
  // Opens a sealed segment file: read into memory while the database's in-memory segments stay
  // within DbOptions::segment_memory_budget_bytes (the reservation is returned when the segment
  // is freed), memory-mapped otherwise.
  Result<std::shared_ptr<storage::Segment>> OpenSegment(const std::string& path) const;
  // The two steps of OpenSegment: whether a file of `size` bytes fits the budget (and if so it
  // is counted in it), then the open, which gives the reservation back if it fails.
  bool ReserveSegmentHeap(uint64_t size) const;
  Result<std::shared_ptr<storage::Segment>> OpenSegment(const std::string& path, uint64_t size,
                                                        bool in_memory) const;

  Env* const env_;
  const DbOptions options_;
  const std::shared_ptr<DbShared> shared_;
  ThreadPool* const pool_;  // &shared_->pool
  const std::string dir_;
  std::string name_;
  CollectionSchema schema_;
  std::vector<uint32_t> dims_;

  // Writers in arrival order; the front one commits (for its group) while the others wait.
  std::mutex queue_mu_;  // taken after write_mu_ when both are held
  std::deque<Writer*> writers_;  // guarded by queue_mu_
  mutable std::mutex write_mu_;
  // Changed under both write_mu_ and defs_mu_, so either one suffices to read it: writers read it
  // freely, PayloadIndexes() takes only defs_mu_ and so never waits behind a slow write.
  mutable std::mutex defs_mu_;
  std::map<std::string, PayloadIndexType> index_defs_;
  // Changed under both write_mu_ and wal_ptr_mu_ (so either suffices to read it): SyncWal takes
  // only wal_ptr_mu_, for as long as it takes to copy the pointer.
  mutable std::mutex wal_ptr_mu_;
  std::shared_ptr<storage::LogWriter> wal_;
  uint64_t generation_ = 0;                  // of CURRENT and the WAL; guarded by write_mu_
  uint64_t last_lsn_ = 0;                    // guarded by write_mu_
  std::atomic<std::chrono::steady_clock::time_point> last_sync_;
  std::atomic<bool> unsynced_{false};  // appended to wal_ since its last sync
  // Non-OK once a flush's commit is uncertain: every later write returns it (LevelDB's bg_error_).
  Status write_error_;  // guarded by write_mu_
  // The last flush or compaction that a write triggered, if it failed, and how many failed in a
  // row; guarded by write_mu_.
  Status rewrite_error_;
  int rewrite_failures_ = 0;
  static constexpr int kMaxRewriteFailures = 3;

  // Merges. A running merge's files (generation merge_gen_) are kept by RemoveUnusedFiles.
  std::thread merge_thread_;
  bool merging_ = false;      // guarded by write_mu_
  uint64_t merge_gen_ = 0;    // guarded by write_mu_
  uint64_t merges_done_ = 0;  // guarded by write_mu_
  // Writes slowed down by WriteSlowdown and the microseconds they waited.
  std::atomic<uint64_t> writes_slowed_{0};
  std::atomic<uint64_t> write_slowdown_us_{0};
  uint64_t deleted_at_pick_ = 0;  // deleted_pending when PickMerge last ran; guarded by write_mu_
  std::atomic<bool> merge_cancel_{false};
  std::condition_variable merge_done_;  // notified under write_mu_ when a merge stops

  // Flushes. seal_ is taken and not yet committed; seal_thread_ builds it while sealing_. The
  // records logged since it was taken (type, record) are kept in seal_tail_ for its new log.
  std::unique_ptr<SealJob> seal_;  // guarded by write_mu_
  bool sealing_ = false;           // guarded by write_mu_
  std::vector<std::pair<uint8_t, std::string>> seal_tail_;  // guarded by write_mu_
  std::thread seal_thread_;
  std::condition_variable seal_done_;  // notified under write_mu_ when seal_thread_ stops

  mutable std::shared_mutex state_mu_;
  // Guarded by state_mu_; shared so that a snapshot keeps the state it reads alive.
  std::shared_ptr<State> state_;
  std::atomic<bool> dropped_{false};
};

}  // namespace mosaic::collection
