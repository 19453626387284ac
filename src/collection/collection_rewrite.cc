// CollectionImpl flush and compaction: the growing part sealed, or all live points rewritten into
// a new segment.
#include <unistd.h>

#include <atomic>
#include <bit>
#include <functional>
#include <span>
#include <filesystem>
#include <utility>
#include <vector>

#include "collection/collection_files.h"
#include "collection/collection_impl.h"
#include "collection/graph_merge.h"
#include "common/sync_point.h"
#include "storage/log_format.h"

namespace mosaic::collection {
namespace {

// Rows of the new numbering read from the old storage, for remapping a graph before the new
// segment is loaded.
class RenumberedRows final : public index::VectorRows {
 public:
  RenumberedRows(const index::VectorRows* old_rows, const std::vector<uint32_t>* new_to_old)
      : old_rows_(old_rows), new_to_old_(new_to_old) {}
  const float* Row(uint32_t slot) const override { return old_rows_->Row((*new_to_old_)[slot]); }

 private:
  const index::VectorRows* old_rows_;
  const std::vector<uint32_t>* new_to_old_;
};

}  // namespace

Status CollectionImpl::WriteDeltaFile(const std::string& name,
                                      const storage::SegmentDelta& delta) const {
  MOSAIC_RETURN_IF_ERROR(storage::WriteDelta(env_, dir_ + "/" + name + ".tmp", delta));
  return env_->RenameFile(dir_ + "/" + name + ".tmp", dir_ + "/" + name);
}

void CollectionImpl::RemoveFiles(const std::vector<std::string>& names) const {
  for (const std::string& f : names) env_->RemoveFile(dir_ + "/" + f).ok();
}

void CollectionImpl::RemoveSegmentFiles(uint64_t gen) const {
  RemoveFiles({SegmentName(gen), SegmentName(gen) + ".tmp", IndexName(gen), IndexName(gen) + ".tmp"});
  for (size_t v = 0; v < dims_.size(); ++v) env_->RemoveFile(GraphPath(gen, v)).ok();
}

bool CollectionImpl::NeedsCompaction() const {
  if (merging_ || seal_) return false;
  uint64_t live_bytes = 0;
  for (size_t v = 0; v < dims_.size(); ++v)
    live_bytes += state_->columns[v].searchable.Count() * dims_[v] * sizeof(float);
  return live_bytes <= options_.compact_below_bytes;
}

Status CollectionImpl::MaybeFlushOrCompact(bool* deferred) {
  *deferred = false;
  if (wal_->size() > options_.wal_flush_bytes) {
    if (sealing_) {  // its new log takes the records logged meanwhile
      *deferred = true;
      return Status::OK();
    }
    if (NeedsCompaction()) {
      MOSAIC_RETURN_IF_ERROR(Rewrite());
      return MaybeStartMerge();
    }
    // In the background, unless flushing keeps failing: then the writes wait for the retry.
    if (options_.background_flushes && rewrite_failures_ < kMaxRewriteFailures) {
      if (!seal_) StartSeal();
      if (seal_->end > seal_->first) {
        if (seal_thread_.joinable()) seal_thread_.join();  // finished: it cleared sealing_
        sealing_ = true;
        seal_thread_ = std::thread([this] { SealLoop(); });
        *deferred = true;
        return Status::OK();
      }
      // No points to write: the delta and the new log are written at once.
    }
    MOSAIC_RETURN_IF_ERROR(Seal());
    return MaybeStartMerge();
  }
  // Deletes may make a segment worth merging; PickMerge reads every slot's bit, so not too often.
  if (state_->deleted_pending >= deleted_at_pick_ + kMinDeletedForMerge) return MaybeStartMerge();
  return Status::OK();
}

Status CollectionImpl::WriteLiveSegment(const State& s, const std::string& path) const {
  std::vector<uint32_t> slots;
  slots.reserve(s.id_to_slot.size());
  s.live.ForEach([&](size_t slot) { slots.push_back(static_cast<uint32_t>(slot)); });
  storage::SegmentContents c;
  c.meta = ConfigJson(name_, schema_, index_defs_);
  c.last_lsn = last_lsn_;
  c.num_points = slots.size();
  c.dims = dims_;
  c.id = [&](size_t i) -> const PointId& { return s.ids[slots[i]]; };
  Json scratch;  // WriteSegment encodes each payload before it asks for the next
  c.payload = [&](size_t i) -> const Json& { return s.payloads.Get(slots[i], &scratch); };
  c.vector = [&](size_t i, size_t v) -> const float* {
    return s.columns[v].present.Test(slots[i]) ? Row(s, v, slots[i]) : nullptr;
  };
  MOSAIC_RETURN_IF_ERROR(storage::WriteSegment(env_, path, c));
  return CheckSegmentsReadable(s);
}

Status CollectionImpl::SwitchTo(const Current& next, std::unique_ptr<storage::LogWriter> wal,
                                const std::vector<std::string>& written, const char* what) {
  Status s = env_->SyncDir(dir_);
  // CURRENT is the commit point: before it, the old files are the collection.
  bool switched = false;
  if (s.ok()) s = WriteCurrent(env_, dir_, ManifestJson(next), &switched);
  if (!s.ok()) s = s.WithContext(std::string(what) + " collection '" + name_ + "'");
  if (!s.ok() && switched) {
    // CURRENT names the new generation, but a crash may bring back the old one: either may be the
    // collection, so neither's files are touched, and writes (which would go to the old log) are
    // refused until a reopen reads CURRENT again. Both hold the same points, so reads go on.
    write_error_ = Status::IOError("collection '" + name_ +
                                   "' accepts no writes until the database is reopened: a flush "
                                   "may or may not have committed (" + s.message() + ")");
    return s;
  }
  if (!s.ok()) {
    RemoveFiles(written);
    return s;
  }
  current_ = next;
  generation_ = next.generation;
  if (wal == nullptr) return Status::OK();  // the log stays
  if (wal_) wal_->Close().ok();  // superseded (a salvage has none open)
  SetWal(std::move(wal));
  unsynced_ = false;  // everything is in the synced files
  return Status::OK();
}

Status CollectionImpl::Rewrite() {
  const uint64_t gen = generation_ + 1;
  Current next;
  next.generation = gen;
  next.wal = WalName(gen);
  next.delta = DeltaName(gen);
  next.last_lsn = last_lsn_;
  next.segments.push_back({gen, static_cast<uint32_t>(state_->id_to_slot.size())});
  std::vector<std::string> written = {SegmentName(gen), SegmentName(gen) + ".tmp", next.wal,
                                      next.delta, next.delta + ".tmp"};
  for (size_t v = 0; v < dims_.size(); ++v) written.push_back(GraphName(gen, v));
  written.insert(written.end(), {IndexName(gen), IndexName(gen) + ".tmp"});
  const std::string seg_path = dir_ + "/" + SegmentName(gen);
  // Only writers change state_, and we hold write_mu_: readers may go on meanwhile.
  Status s = WriteLiveSegment(*state_, seg_path + ".tmp");
  if (s.ok()) s = env_->RenameFile(seg_path + ".tmp", seg_path);
  if (s.ok()) {  // the payload indexes follow the live points to their new slots
    const State& st = *state_;
    const uint32_t n = next.segments[0].slots;
    index::PayloadIndexSet all;
    for (const auto& [field, type] : index_defs_)
      if (s.ok()) s = all.Create(field, type);
    uint32_t next_slot = 0;
    const auto& parts = st.payload_index.parts();
    for (size_t k = 0; k < parts.size() && s.ok(); ++k) {
      const uint32_t end = k + 1 < parts.size() ? parts[k + 1].first
                                                : static_cast<uint32_t>(st.ids.size());
      std::vector<uint32_t> local(end - parts[k].first, index::kDroppedSlot);
      for (uint32_t slot = parts[k].first; slot < end; ++slot)
        if (st.live.Test(slot)) local[slot - parts[k].first] = next_slot++;
      s = all.AppendFrom(*parts[k].set, {0, local});
    }
    if (s.ok()) s = all.Save(env_, IndexPath(gen), n, {0, {}, n});
  }
  // Graphs follow the points to their new slots (live points keep their order) and are saved
  // next to the new segment, so it opens without a rebuild.
  if (s.ok()) s = SaveRemappedGraphs(*state_, gen);
  storage::SegmentDelta delta;
  delta.manifest = ManifestJson(next);
  delta.dead.Resize(next.segments[0].slots);
  if (s.ok()) s = WriteDeltaFile(next.delta, delta);
  Result<std::unique_ptr<storage::LogWriter>> wal = Status::Internal("not created");
  if (s.ok()) wal = storage::LogWriter::Create(env_, dir_ + "/" + next.wal);
  if (s.ok()) s = wal.status();
  Result<std::unique_ptr<State>> fresh = Status::Internal("not loaded");
  if (s.ok()) {
    auto seg = OpenSegment(seg_path);
    s = seg.status();
    if (s.ok()) {
      std::vector<LoadedSegment> segs;
      segs.push_back({next.segments[0], std::move(seg).value()});
      fresh = LoadState(std::move(segs), &delta, /*salvage=*/nullptr, /*train_sq8=*/true);
      s = fresh.status();
    }
  }
  if (!s.ok()) {
    RemoveFiles(written);
    return s.WithContext("compacting collection '" + name_ + "'");
  }
  MOSAIC_RETURN_IF_ERROR(SwitchTo(next, std::move(wal).value(), written, "compacting"));
  std::shared_ptr<State> old = std::move(fresh).value();
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    state_.swap(old);
  }
  old.reset();  // freed outside the lock
  RemoveUnusedFiles();
  return Status::OK();
}

storage::SegmentDelta CollectionImpl::MakeDelta(const State& st, const Current& next,
                                                uint32_t end, const SlotMap* map) const {
  auto to = [&](uint32_t slot) { return map == nullptr ? slot : (*map)[slot]; };
  storage::SegmentDelta delta;
  delta.manifest = ManifestJson(next);
  uint32_t slots = 0;
  for (const SealedSegment& seg : next.segments) slots += seg.slots;
  // The retired slots before `end`, a word at a time (ten million slots at a merge's switch).
  Bitset dead(end);
  const uint64_t* live = st.live.words();
  for (size_t w = 0; w < dead.num_words(); ++w) {
    const uint64_t bits = ~(w < st.live.num_words() ? live[w] : 0);
    for (uint64_t b = bits; b != 0; b &= b - 1) {
      const size_t slot = w * 64 + std::countr_zero(b);
      if (slot >= end) break;
      dead.Set(slot);
    }
  }
  delta.dead = map == nullptr ? std::move(dead) : map->Apply(dead);
  delta.dead.Resize(slots);
  // Slot order is kept by the map, so the payloads come out ascending, as the format wants.
  auto changed = [&](uint32_t slot) {
    if (st.live.Test(slot)) delta.payloads.emplace_back(to(slot), st.payloads.Copy(slot));
  };
  const size_t words = (st.sealed + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    uint64_t bits = (w < st.overridden.num_words() ? st.overridden.words()[w] : 0) |
                    (w < st.merge_changed.num_words() ? st.merge_changed.words()[w] : 0);
    for (; bits != 0; bits &= bits - 1) {
      const size_t slot = w * 64 + std::countr_zero(bits);
      if (slot >= st.sealed) break;
      changed(static_cast<uint32_t>(slot));
    }
  }
  return delta;
}

CollectionImpl::Current CollectionImpl::NextManifest() const {
  Current next = current_;
  next.version = kManifestVersion;
  next.generation = generation_ + 1;
  next.wal = WalName(next.generation);
  next.delta = DeltaName(next.generation);
  next.last_lsn = last_lsn_;
  return next;
}

Status CollectionImpl::SwitchKeepingLog(const State& st, const Current& next, uint32_t end,
                                        const SlotMap& map,
                                        std::vector<std::string> written, const char* what) {
  written.insert(written.end(), {next.delta, next.delta + ".tmp"});
  const storage::SegmentDelta delta = MakeDelta(st, next, end, &map);
  Status s = WriteDeltaFile(next.delta, delta);
  if (!s.ok()) {
    RemoveFiles(written);
    return s.WithContext(std::string(what) + " collection '" + name_ + "'");
  }
  return SwitchTo(next, nullptr, written, what);
}

void CollectionImpl::StartSeal() {
  State& st = *state_;
  auto job = std::make_unique<SealJob>();
  job->first = st.sealed;
  job->end = static_cast<uint32_t>(st.ids.size());
  job->last_lsn = last_lsn_;
  if (job->end > job->first) {
    job->gen = ++generation_;  // the manifest that commits it takes a later one
    job->meta = ConfigJson(name_, schema_, index_defs_);
    for (Column& col : st.columns) {
      Bitset present(job->end - job->first);
      for (uint32_t slot = job->first; slot < job->end; ++slot)
        if (col.present.Test(slot)) present.Set(slot - job->first);
      job->present.push_back(std::move(present));
      job->parts.push_back(col.parts.back());
    }
    job->indexes = st.payload_index.parts().back().set;
    // From here on the part is sealed for the state: its graph changes only by tombstones, and a
    // payload changed in place is marked for the delta (which the commit writes from the state
    // then, so it covers what changed while the files were written).
    std::unique_lock<std::shared_mutex> l(state_mu_);
    job->ids = st.ids.SealGrowing();  // immutable from here on: read without the lock
    st.payloads.SealGrowing();
    st.sealed = job->end;
    st.overridden.Resize(job->end);
    AddGrowingPart(&st, job->end);
  }
  seal_tail_.clear();
  seal_ = std::move(job);
}

Status CollectionImpl::BuildSeal(SealJob* job) const {
  sync_point::Reached("CollectionImpl::BuildSeal:Start");
  if (job->end == job->first) return Status::OK();
  // The part keeps its slots as they are, retired ones too (the delta marks them), so that its
  // graph is saved as built. No merge switches in and no compaction runs while a job is taken,
  // so its slots keep their numbers; payloads are read under state_mu_ (writers change them).
  const uint32_t n = job->end - job->first;
  const std::string seg = dir_ + "/" + SegmentName(job->gen);
  storage::SegmentContents c;
  c.meta = job->meta;
  c.last_lsn = job->last_lsn;
  c.num_points = n;
  c.dims = dims_;
  c.id = [&](size_t i) -> const PointId& { return (*job->ids)[i]; };
  Json payload;  // WriteSegment encodes each payload before it asks for the next
  c.payload = [&](size_t i) -> const Json& {
    std::shared_lock<std::shared_mutex> l(state_mu_);
    payload = state_->payloads.Copy(job->first + static_cast<uint32_t>(i));
    return payload;
  };
  c.vector = [&](size_t i, size_t v) -> const float* {
    return job->present[v].Test(i) ? job->parts[v]->Row(static_cast<uint32_t>(i)) : nullptr;
  };
  MOSAIC_RETURN_IF_ERROR(storage::WriteSegment(env_, seg + ".tmp", c));
  MOSAIC_RETURN_IF_ERROR(env_->RenameFile(seg + ".tmp", seg));
  for (size_t v = 0; v < dims_.size(); ++v)
    if (const auto& g = job->parts[v]->hnsw)
      MOSAIC_RETURN_IF_ERROR(g->Save(env_, GraphPath(job->gen, v)));
  // Its payload indexes as they stand (writers change them under state_mu_: serialized under it,
  // written without it). A field made meanwhile and missing from the file is built at load.
  std::string indexes;
  {
    std::shared_lock<std::shared_mutex> l(state_mu_);
    indexes = job->indexes->Serialize(n, {0, {}, n});
  }
  const std::string index_path = IndexPath(job->gen);
  MOSAIC_RETURN_IF_ERROR(WriteFileAtomically(env_, index_path, indexes)
                             .WithContext("saving payload indexes " + index_path));
  MOSAIC_ASSIGN_OR_RETURN(job->segment, OpenSegment(seg));
  job->built = true;
  sync_point::Reached("CollectionImpl::BuildSeal:Built");
  return Status::OK();
}

Status CollectionImpl::CommitSeal() {
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  const SealJob& job = *seal_;
  Current next = NextManifest();
  next.last_lsn = job.last_lsn;  // the new log holds the records after it
  std::vector<std::string> written = {next.wal, next.delta, next.delta + ".tmp"};
  if (job.end > job.first) next.segments.push_back({job.gen, job.end - job.first});
  // The delta: every retired slot of the segments, and the payloads changed in place, as of now;
  // replaying the records after job.last_lsn over it gives the same state (docs/segment_format.md).
  const storage::SegmentDelta delta = MakeDelta(*state_, next, job.end, nullptr);
  Status s = WriteDeltaFile(next.delta, delta);
  Result<std::unique_ptr<storage::LogWriter>> wal = Status::Internal("not created");
  if (s.ok()) wal = storage::LogWriter::Create(env_, dir_ + "/" + next.wal);
  if (s.ok()) s = wal.status();
  for (size_t i = 0; i < seal_tail_.size() && s.ok(); ++i)
    s = (*wal)->AddRecord(seal_tail_[i].first, seal_tail_[i].second);
  if (s.ok() && !seal_tail_.empty()) s = (*wal)->Sync();
  if (!s.ok()) {
    RemoveFiles(written);
    return s.WithContext("flushing collection '" + name_ + "'");
  }
  MOSAIC_RETURN_IF_ERROR(SwitchTo(next, std::move(wal).value(), written, "flushing"));
  UseSealedSegment(job);
  seal_.reset();
  seal_tail_ = {};
  RemoveUnusedFiles();
  return Status::OK();
}

void CollectionImpl::AbandonSeal() {
  if (!seal_) return;
  SealJob& job = *seal_;
  // After a switch of unknown outcome CURRENT may name its files: they stay until a reopen.
  if (write_error_.ok() && job.end > job.first) RemoveSegmentFiles(job.gen);
  job.built = false;
  job.segment.reset();
}

void CollectionImpl::UseSealedSegment(const SealJob& job) {
  if (job.segment == nullptr) return;
  const uint32_t n = job.end - job.first;
  // No merge reads the part meanwhile: it became a segment of the manifest just now, under
  // write_mu_, which a merge takes to start. Readers hold state_mu_.
  std::vector<storage::AppendRows> rows;
  std::shared_ptr<std::vector<Json>> payloads;
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    State& st = *state_;
    for (size_t v = 0; v < job.parts.size(); ++v) {
      Part& part = *job.parts[v];
      part.segment = job.segment;
      part.base = job.segment->vectors(v);
      part.base_rows = n;
      rows.push_back(std::exchange(part.tail, storage::AppendRows(dims_[v])));
    }
    // Payloads changed since the build read them stay held (they are in the delta).
    payloads = st.payloads.UseSegment(job.first, n, job.segment, st.overridden);
  }
}

Status CollectionImpl::Seal() {
  if (!seal_) StartSeal();
  Status s = seal_->built ? Status::OK() : BuildSeal(seal_.get());
  if (!s.ok()) s = s.WithContext("flushing collection '" + name_ + "'");
  if (s.ok()) s = CommitSeal();
  if (!s.ok()) AbandonSeal();
  return s;
}

Status CollectionImpl::FinishSeal(std::unique_lock<std::mutex>* lock) {
  seal_done_.wait(*lock, [&] { return !sealing_; });
  if (!seal_) return Status::OK();
  return Seal();
}

void CollectionImpl::SealLoop() {
  Status s = BuildSeal(seal_.get());  // seal_ stays while sealing_
  std::lock_guard<std::mutex> w(write_mu_);
  if (!s.ok()) s = s.WithContext("flushing collection '" + name_ + "'");
  if (s.ok() && dropped_) s = Status::Aborted("collection dropped");
  if (s.ok()) s = CommitSeal();
  if (!s.ok()) AbandonSeal();
  sealing_ = false;
  if (s.ok()) s = MaybeStartMerge();
  if (!s.IsAborted()) NoteRewrite(s);
  seal_done_.notify_all();
}

Status CollectionImpl::SaveRemappedGraphs(const State& s, uint64_t gen) const {
  std::vector<int64_t> old_to_new(s.ids.size(), -1);
  std::vector<uint32_t> new_to_old;
  s.live.ForEach([&](size_t slot) {
    old_to_new[slot] = static_cast<int64_t>(new_to_old.size());
    new_to_old.push_back(static_cast<uint32_t>(slot));
  });
  for (size_t v = 0; v < s.columns.size(); ++v) {
    const Column& col = s.columns[v];
    if (!col.parts[0]->hnsw) continue;
    std::vector<GraphPart> parts;
    for (const auto& p : col.parts)
      parts.push_back({p->hnsw.get(), p->first, static_cast<uint32_t>(p->size())});
    ColumnRows rows(&col);
    RenumberedRows renumbered(&rows, &new_to_old);
    Status added;
    std::unique_ptr<index::HnswIndex> merged = MergeGraphs(
        parts, old_to_new, new_to_old,
        [&](uint32_t j) { return col.present.Test(new_to_old[j]); }, &renumbered, pool_, &added);
    MOSAIC_RETURN_IF_ERROR(added);
    MOSAIC_RETURN_IF_ERROR(merged->Save(env_, GraphPath(gen, v)));
  }
  return Status::OK();
}

Status CollectionImpl::Flush() {
  std::unique_lock<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  return FlushLocked(&w, /*start_merge=*/true);
}

Status CollectionImpl::FlushLocked(std::unique_lock<std::mutex>* lock, bool start_merge) {
  // A flush in the background first; then what was logged since (deletes and payload changes
  // are in the log too).
  MOSAIC_RETURN_IF_ERROR(FinishSeal(lock));
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  if (wal_->size() <= storage::kLogFileHeaderSize) return Status::OK();
  Status s = NeedsCompaction() ? Rewrite() : Seal();
  if (s.ok() && start_merge) s = MaybeStartMerge();
  if (s.ok()) NoteRewrite(s);
  return s;
}

Status CollectionImpl::Compact() {
  std::unique_lock<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  StopMerge(&w);  // the rewrite covers what it would have done
  MOSAIC_RETURN_IF_ERROR(FinishSeal(&w));
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  Status s = Rewrite();
  if (s.ok()) NoteRewrite(s);
  return s;
}

}  // namespace mosaic::collection
