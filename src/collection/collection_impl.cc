// CollectionImpl: creating a collection's directory, open, config, files, syncing the WAL, drop.
#include "collection/collection_impl.h"

#include <atomic>
#include <cstdio>
#include <optional>
#include <set>

#include "collection/collection_files.h"
#include "storage/log_format.h"

namespace mosaic::collection {

Status CollectionImpl::InitDirectory(Env* env, const std::string& dir, const std::string& name,
                                     const CollectionSchema& schema,
                                     const std::map<std::string, PayloadIndexType>& indexes,
                                     const storage::Segment* snapshot) {
  MOSAIC_RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  MOSAIC_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/" + kConfigFile,
                                             ConfigJson(name, schema, indexes).dump(2) + "\n"));
  if (snapshot != nullptr) {
    // The graphs go to files of their own, as a flush leaves them; the segment keeps only the
    // points, so they are not held in memory twice.
    MOSAIC_RETURN_IF_ERROR(snapshot->WritePoints(env, dir + "/" + SegmentName(1)));
    MOSAIC_RETURN_IF_ERROR(snapshot->CheckReadable());
    for (size_t v = 0; v < schema.vectors.size() && v < snapshot->num_vectors(); ++v) {
      Result<std::string_view> graph = snapshot->graph(v);
      if (!graph.ok()) {
        std::fprintf(stderr, "mosaic: restoring collection '%s': %s; the graph of vector '%s' "
                             "is rebuilt from its vectors\n",
                     name.c_str(), graph.status().ToString().c_str(),
                     schema.vectors[v].name.c_str());
        continue;
      }
      if (graph->empty()) continue;  // none (a version-1 snapshot): rebuilt at open
      MOSAIC_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/" + GraphName(1, v), *graph));
      MOSAIC_RETURN_IF_ERROR(snapshot->CheckReadable());
    }
  }
  MOSAIC_ASSIGN_OR_RETURN(auto wal, storage::LogWriter::Create(env, dir + "/" + WalName(1)));
  MOSAIC_RETURN_IF_ERROR(wal->Close());
  Current cur;
  cur.generation = 1;
  cur.wal = WalName(1);
  if (snapshot != nullptr) {
    cur.segments.push_back({1, static_cast<uint32_t>(snapshot->num_points())});
    cur.last_lsn = snapshot->last_lsn();
  }
  MOSAIC_RETURN_IF_ERROR(WriteCurrent(env, dir, ManifestJson(cur)));
  return env->SyncDir(dir);
}

CollectionImpl::CollectionImpl(Env* env, const DbOptions& options,
                               std::shared_ptr<DbShared> shared, std::string dir)
    : env_(env),
      options_(options),
      shared_(std::move(shared)),
      pool_(&shared_->pool),
      dir_(std::move(dir)) {}

CollectionImpl::~CollectionImpl() {
  {
    // Cancelled under the lock: a flush committing now starts no merge (MaybeStartMerge), so
    // merge_thread_ is not assigned while it is joined below.
    std::unique_lock<std::mutex> w(write_mu_);
    merge_cancel_ = true;
    seal_done_.wait(w, [&] { return !sealing_; });
  }
  if (seal_thread_.joinable()) seal_thread_.join();
  if (merge_thread_.joinable()) merge_thread_.join();
  if (!wal_) return;
  if (options_.flush_on_close_bytes > 0 && !dropped_.load() && write_error_.ok() &&
      (seal_ || wal_->size() >= options_.flush_on_close_bytes)) {
    std::unique_lock<std::mutex> w(write_mu_);
    Status s = FinishSeal(&w);  // a background flush that failed, retried
    if (s.ok() && write_error_.ok() && wal_->size() >= options_.flush_on_close_bytes)
      s = NeedsCompaction() ? Rewrite() : Seal();
    if (!s.ok())  // nothing is lost: the log replays at the next open
      std::fprintf(stderr, "mosaic: flushing collection '%s' at close failed: %s\n", name_.c_str(),
                   s.ToString().c_str());
  }
  // A periodic policy promises at most one interval of loss: sync what is pending on close.
  if (unsynced_ && options_.sync == SyncPolicy::kPeriodic) wal_->Sync().ok();
  wal_->Close().ok();  // nothing left to report to
}

Status CollectionImpl::SyncWal() {
  // Cleared before the sync: a write appended meanwhile sets it again, for the next pass.
  if (dropped_.load() || !unsynced_.exchange(false)) return Status::OK();
  std::shared_ptr<storage::LogWriter> wal;
  {
    std::lock_guard<std::mutex> l(wal_ptr_mu_);
    wal = wal_;
  }
  // A log replaced by a flush meanwhile is closed: its records are in the synced segment, and
  // Sync does nothing.
  if (Status s = wal ? wal->Sync() : Status::OK(); !s.ok()) {
    unsynced_ = true;
    return s;
  }
  last_sync_ = std::chrono::steady_clock::now();
  return Status::OK();
}

void CollectionImpl::SetWal(std::unique_ptr<storage::LogWriter> wal) {
  std::lock_guard<std::mutex> l(wal_ptr_mu_);
  wal_ = std::move(wal);
}

Result<std::shared_ptr<storage::Segment>> CollectionImpl::OpenSegment(
    const std::string& path) const {
  MOSAIC_ASSIGN_OR_RETURN(const uint64_t size, env_->GetFileSize(path));
  return OpenSegment(path, size, ReserveSegmentHeap(size));
}

bool CollectionImpl::ReserveSegmentHeap(uint64_t size) const {
  const uint64_t budget = options_.segment_memory_budget_bytes;
  std::atomic<uint64_t>& used = shared_->segment_heap_bytes;
  uint64_t now = used.load();
  bool in_memory = false;
  while (size <= budget && now <= budget - size && !in_memory)
    in_memory = used.compare_exchange_weak(now, now + size);
  return in_memory;
}

Result<std::shared_ptr<storage::Segment>> CollectionImpl::OpenSegment(const std::string& path,
                                                                      uint64_t size,
                                                                      bool in_memory) const {
  auto seg = storage::Segment::Open(env_, path, /*map=*/!in_memory);
  if (!in_memory) {
    if (!seg.ok()) return seg.status();
    return std::shared_ptr<storage::Segment>(std::move(seg).value());
  }
  if (!seg.ok()) {
    shared_->segment_heap_bytes -= size;
    return seg.status();
  }
  std::shared_ptr<DbShared> shared = shared_;
  return std::shared_ptr<storage::Segment>(std::move(seg).value().release(),
                                           [shared, size](storage::Segment* s) {
                                             delete s;
                                             shared->segment_heap_bytes -= size;
                                           });
}

Result<std::shared_ptr<CollectionImpl>> CollectionImpl::Open(Env* env, const DbOptions& options,
                                                             std::shared_ptr<DbShared> shared,
                                                             const std::string& dir,
                                                             RepairReport* salvage) {
  std::shared_ptr<CollectionImpl> c(new CollectionImpl(env, options, std::move(shared), dir));
  MOSAIC_RETURN_IF_ERROR(c->LoadConfig());
  MOSAIC_ASSIGN_OR_RETURN(Current cur, c->ReadCurrent(salvage));
  c->generation_ = cur.generation;

  // Everything is read and checked before anything is written (LoadState may save a rebuilt
  // graph), so a collection found damaged stays exactly as it was.
  const std::string wal_path = dir + "/" + cur.wal;
  MOSAIC_ASSIGN_OR_RETURN(WalContents wal, c->ReadWal(wal_path, salvage));
  // The segments are read (and their checksums verified) on the pool, each whole; which of them
  // go into memory is decided first, in order, as one at a time would.
  std::vector<Result<std::shared_ptr<storage::Segment>>> opened;
  {
    struct Placement {
      bool sized = false;
      uint64_t size = 0;
      bool in_memory = false;
    };
    std::vector<Placement> placement;
    for (const SealedSegment& ref : cur.segments) {
      auto size = env->GetFileSize(dir + "/" + SegmentName(ref.gen));
      if (!size.ok()) {
        placement.push_back({});
        opened.emplace_back(size.status());
        continue;
      }
      placement.push_back({true, *size, c->ReserveSegmentHeap(*size)});
      opened.emplace_back(Status::Internal("not opened"));
    }
    std::atomic<size_t> next{0};
    c->pool_->ParallelFor(static_cast<size_t>(c->pool_->size()), [&](size_t, size_t) {
      for (size_t i = next++; i < opened.size(); i = next++)
        if (placement[i].sized)
          opened[i] = c->OpenSegment(dir + "/" + SegmentName(cur.segments[i].gen),
                                     placement[i].size, placement[i].in_memory);
    });
  }
  std::vector<LoadedSegment> segments;
  for (size_t i = 0; i < cur.segments.size(); ++i) {
    SealedSegment& ref = cur.segments[i];
    const std::string name = SegmentName(ref.gen);
    Result<std::shared_ptr<storage::Segment>> seg = std::move(opened[i]);
    if (seg.ok() && cur.version == 1) ref.slots = static_cast<uint32_t>((*seg)->num_points());
    if (seg.ok() && (*seg)->num_points() != ref.slots)
      seg = Status::Corruption(dir + "/" + name + " holds " +
                               std::to_string((*seg)->num_points()) + " points, CURRENT says " +
                               std::to_string(ref.slots));
    if (seg.ok()) {
      if (cur.version == 1) cur.last_lsn = (*seg)->last_lsn();
      segments.push_back({ref, std::move(seg).value()});
      continue;
    }
    if (salvage == nullptr) return seg.status();
    salvage->segment_lost = true;
    salvage->notes.push_back("lost: the points of segment " + name + " (unreadable: " +
                             seg.status().message() + ")");
    segments.push_back({ref, nullptr});
  }
  std::optional<storage::SegmentDelta> delta;
  if (!cur.delta.empty()) {
    auto d = storage::ReadDelta(env, dir + "/" + cur.delta);
    if (d.ok()) {
      delta = std::move(d).value();
    } else if (salvage == nullptr) {
      return d.status();
    } else {
      salvage->notes.push_back("lost: the deletes and payload changes of the sealed segments "
                               "since they were written (" + d.status().message() +
                               "): deleted points may be back");
    }
  }
  c->current_ = cur;
  c->last_lsn_ = cur.last_lsn;
  MOSAIC_ASSIGN_OR_RETURN(auto state,
                          c->LoadState(std::move(segments), delta ? &*delta : nullptr, salvage));
  for (const Operation& op : wal.ops) {
    if (op.lsn <= c->last_lsn_) continue;  // already in the segments
    c->Apply(op, state.get());
    c->last_lsn_ = op.lsn;
  }
  MOSAIC_RETURN_IF_ERROR(c->IndexPending(state.get()));
  c->state_ = std::move(state);
  c->last_sync_ = std::chrono::steady_clock::now();
  if (salvage != nullptr) {
    // The salvaged points become a new generation; the damaged files are replaced, not reopened.
    std::lock_guard<std::mutex> w(c->write_mu_);
    MOSAIC_RETURN_IF_ERROR(c->Rewrite());
    salvage->points = c->state_->id_to_slot.size();
    return c;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto writer,
                          storage::LogWriter::Reopen(env, wal_path, wal.valid_end, wal.version));
  c->SetWal(std::move(writer));
  c->RemoveUnusedFiles();
  if (wal.version != storage::kLogVersion) {
    // A log of an older format is replaced at once (a flush starts a new log in the current one),
    // so new writes get its better damage detection. If that fails, appends keep the old format.
    std::lock_guard<std::mutex> w(c->write_mu_);
    if (Status s = c->Rewrite(); !s.ok())
      std::fprintf(stderr, "mosaic: %s: could not move to WAL version %u: %s\n", wal_path.c_str(),
                   storage::kLogVersion, s.ToString().c_str());
  }
  return c;
}

Status CollectionImpl::LoadConfig() {
  std::string path = dir_ + "/" + kConfigFile;
  MOSAIC_ASSIGN_OR_RETURN(std::string text, env_->ReadFile(path));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string() ||
      !j.contains("schema"))
    return Status::Corruption(path + " is not a valid collection config");
  if (j.value("format_version", 0u) != kCollectionFormatVersion)
    return Status::Corruption(path + ": unsupported format_version " +
                              j.value("format_version", Json(nullptr)).dump());
  name_ = j["name"].get<std::string>();
  auto schema = CollectionSchema::FromJson(j["schema"]);
  if (!schema.ok()) return Status::Corruption(path + ": " + schema.status().message());
  schema_ = std::move(schema).value();
  for (const auto& v : schema_.vectors) dims_.push_back(v.dim);
  auto defs = ParseIndexDefs(j.value("payload_indexes", Json(nullptr)));
  if (!defs.ok()) return defs.status().WithContext(path);
  std::lock_guard<std::mutex> d(defs_mu_);
  index_defs_ = std::move(defs).value();
  return Status::OK();
}

Status CollectionImpl::SaveConfig() const {
  return WriteFileAtomically(env_, dir_ + "/" + kConfigFile,
                             ConfigJson(name_, schema_, index_defs_).dump(2) + "\n");
}

void CollectionImpl::RemoveUnusedFiles() { RemoveFiles(UnusedFiles()); }

std::vector<std::string> CollectionImpl::UnusedFiles() const {
  std::vector<std::string> unused;
  auto children = env_->GetChildren(dir_);
  if (!children.ok()) return unused;
  std::set<std::string> keep = {kConfigFile, kCurrentFile, current_.wal};
  if (!current_.delta.empty()) keep.insert(current_.delta);
  for (const SealedSegment& seg : current_.segments) {
    keep.insert(SegmentName(seg.gen));
    keep.insert(IndexName(seg.gen));
    for (size_t v = 0; v < dims_.size(); ++v) keep.insert(GraphName(seg.gen, v));
  }
  // A running merge's or flush's segment and graphs, and their temporary files.
  auto prefix = [](uint64_t gen) {  // "seg-G." of generation G
    return gen == 0 ? std::string() : SegmentName(gen).substr(0, SegmentName(gen).size() - 3);
  };
  const std::string merging = prefix(merge_gen_), sealing = prefix(seal_ ? seal_->gen : 0);
  for (const auto& f : *children) {
    if (f.starts_with(".") || keep.count(f)) continue;  // .damaged-* copies kept by a repair
    if (!merging.empty() && f.starts_with(merging)) continue;
    if (!sealing.empty() && f.starts_with(sealing)) continue;
    unused.push_back(f);  // leftovers of an interrupted flush too; harmless if kept
  }
  return unused;
}

Status CollectionImpl::CheckUsable() const {
  if (dropped_.load()) return Status::NotFound("collection '" + name_ + "' was dropped");
  return Status::OK();
}

Status CollectionImpl::CheckWritable() const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  return write_error_;
}

std::map<std::string, PayloadIndexType> CollectionImpl::PayloadIndexes() const {
  std::lock_guard<std::mutex> d(defs_mu_);
  return index_defs_;
}

Status CollectionImpl::Drop(const std::function<Status()>& move_away) {
  std::unique_lock<std::mutex> w(write_mu_);
  StopMerge(&w);
  MOSAIC_RETURN_IF_ERROR(move_away());
  dropped_ = true;
  if (wal_) wal_->Close().ok();
  return Status::OK();
}

}  // namespace mosaic::collection
