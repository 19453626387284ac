// CollectionImpl flush and compaction: the growing part sealed, or all live points rewritten into
// a new segment.
#include <unistd.h>

#include <atomic>
#include <functional>
#include <span>
#include <filesystem>
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

bool CollectionImpl::NeedsCompaction() const {
  if (merging_) return false;
  uint64_t live_bytes = 0;
  for (size_t v = 0; v < dims_.size(); ++v)
    live_bytes += state_->columns[v].searchable.Count() * dims_[v] * sizeof(float);
  return live_bytes <= options_.compact_below_bytes;
}

Status CollectionImpl::MaybeFlushOrCompact() {
  if (wal_->size() > options_.wal_flush_bytes) {
    MOSAIC_RETURN_IF_ERROR(NeedsCompaction() ? Rewrite() : Seal());
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
    for (const std::string& f : written) env_->RemoveFile(dir_ + "/" + f).ok();
    return s;
  }
  current_ = next;
  generation_ = next.generation;
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
  if (s.ok()) s = storage::WriteDelta(env_, dir_ + "/" + next.delta + ".tmp", delta);
  if (s.ok()) s = env_->RenameFile(dir_ + "/" + next.delta + ".tmp", dir_ + "/" + next.delta);
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
    for (const std::string& f : written) env_->RemoveFile(dir_ + "/" + f).ok();
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

Status CollectionImpl::WriteGrowingSegment(const State& st, uint64_t gen,
                                           std::vector<std::string>* written) const {
  // The growing part becomes a segment, as it is: its retired slots too (the delta marks them),
  // so that no slot moves and its graph is saved as built.
  const uint32_t first = st.sealed;
  const std::string seg = SegmentName(gen);
  written->insert(written->end(), {seg, seg + ".tmp"});
  storage::SegmentContents c;
  c.meta = ConfigJson(name_, schema_, index_defs_);
  c.last_lsn = last_lsn_;
  c.num_points = st.ids.size() - first;
  c.dims = dims_;
  c.id = [&](size_t i) -> const PointId& { return st.ids[first + i]; };
  Json scratch;  // WriteSegment encodes each payload before it asks for the next
  c.payload = [&](size_t i) -> const Json& { return st.payloads.Get(first + i, &scratch); };
  c.vector = [&](size_t i, size_t v) -> const float* {
    const uint32_t slot = first + static_cast<uint32_t>(i);
    return st.columns[v].present.Test(slot) ? Row(st, v, slot) : nullptr;
  };
  MOSAIC_RETURN_IF_ERROR(storage::WriteSegment(env_, dir_ + "/" + seg + ".tmp", c));
  MOSAIC_RETURN_IF_ERROR(env_->RenameFile(dir_ + "/" + seg + ".tmp", dir_ + "/" + seg));
  for (size_t v = 0; v < dims_.size(); ++v) {
    written->push_back(GraphName(gen, v));
    if (const auto& g = st.columns[v].growing().hnsw)
      MOSAIC_RETURN_IF_ERROR(g->Save(env_, GraphPath(gen, v)));
  }
  // Its payload indexes, as they stand: only writers change them, and we hold write_mu_.
  const uint32_t n = static_cast<uint32_t>(c.num_points);
  written->insert(written->end(), {IndexName(gen), IndexName(gen) + ".tmp"});
  return st.payload_index.parts().back().set->Save(env_, IndexPath(gen), n, {0, {}, n});
}

storage::SegmentDelta CollectionImpl::MakeDelta(const State& st, const Current& next,
                                                uint32_t end, std::span<const uint32_t> map) const {
  auto to = [&](uint32_t slot) { return map.empty() ? slot : map[slot]; };
  storage::SegmentDelta delta;
  delta.manifest = ManifestJson(next);
  uint32_t slots = 0;
  for (const SealedSegment& seg : next.segments) slots += seg.slots;
  delta.dead.Resize(slots);
  for (uint32_t slot = 0; slot < end; ++slot)
    if (!st.live.Test(slot) && to(slot) != index::kDroppedSlot) delta.dead.Set(to(slot));
  // Slot order is kept by the map, so the payloads come out ascending, as the format wants.
  for (uint32_t slot = 0; slot < st.sealed; ++slot) {
    const bool changed = st.overridden.Test(slot) ||
                         (slot < st.merge_changed.size() && st.merge_changed.Test(slot));
    if (changed && st.live.Test(slot)) delta.payloads.emplace_back(to(slot), st.payloads.Copy(slot));
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

Status CollectionImpl::SealAndSwitch(Current next, std::span<const uint32_t> map,
                                     std::vector<std::string> written, const char* what) {
  const State& st = *state_;
  const uint64_t gen = next.generation;
  const uint32_t end = static_cast<uint32_t>(st.ids.size());
  written.insert(written.end(), {next.wal, next.delta, next.delta + ".tmp"});
  Status s;
  if (end > st.sealed) {
    next.segments.push_back({gen, end - st.sealed});
    s = WriteGrowingSegment(st, gen, &written);
  }
  // The delta: every retired slot of the segments, and the payloads changed in place.
  const storage::SegmentDelta delta = MakeDelta(st, next, end, map);
  if (s.ok()) s = storage::WriteDelta(env_, dir_ + "/" + next.delta + ".tmp", delta);
  if (s.ok()) s = env_->RenameFile(dir_ + "/" + next.delta + ".tmp", dir_ + "/" + next.delta);
  Result<std::unique_ptr<storage::LogWriter>> wal = Status::Internal("not created");
  if (s.ok()) wal = storage::LogWriter::Create(env_, dir_ + "/" + next.wal);
  if (s.ok()) s = wal.status();
  if (!s.ok()) {
    for (const std::string& f : written) env_->RemoveFile(dir_ + "/" + f).ok();
    return s.WithContext(std::string(what) + " collection '" + name_ + "'");
  }
  return SwitchTo(next, std::move(wal).value(), written, what);
}

Status CollectionImpl::Seal() {
  State& st = *state_;
  const uint32_t first = st.sealed;
  const uint32_t end = static_cast<uint32_t>(st.ids.size());
  MOSAIC_RETURN_IF_ERROR(SealAndSwitch(NextManifest(), {}, {}, "flushing"));
  // `overridden` keeps its bits: those payloads still differ from their segment's copy, and
  // every delta file lists them.
  if (end > first) {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    st.sealed = end;
    st.overridden.Resize(end);
    AddGrowingPart(&st, end);
  }
  RemoveUnusedFiles();
  return Status::OK();
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
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  return FlushLocked(/*start_merge=*/true);
}

Status CollectionImpl::FlushLocked(bool start_merge) {
  // Deletes and payload changes since the last flush are in the log too.
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
  Status s = Rewrite();
  if (s.ok()) NoteRewrite(s);
  return s;
}

}  // namespace mosaic::collection
