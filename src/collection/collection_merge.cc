// CollectionImpl merges: picking neighbouring sealed segments to merge, building the merged
// segment and its graphs while writes and searches go on, and switching it in (renumbering the
// slots in memory). docs/segment_format.md describes the files.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "collection/collection_impl.h"
#include "collection/graph_merge.h"
#include "common/sync_point.h"

namespace mosaic::collection {
namespace {

Status Cancelled() { return Status::Aborted("merge cancelled"); }

}  // namespace

uint64_t CollectionImpl::PointVectorBytes() const {
  uint64_t bytes = 0;
  for (uint32_t d : dims_) bytes += uint64_t{d} * sizeof(float);
  return bytes;
}

bool CollectionImpl::SegmentHasRoom(uint64_t points) const {
  return options_.max_segment_bytes == 0 ||
         points * PointVectorBytes() < options_.max_segment_bytes / 2;
}

std::chrono::microseconds CollectionImpl::WriteSlowdown(size_t points) const {
  if (options_.slowdown_segments == 0) return {};
  // Segments with room beside one with room (that a merge can take), by slots rather than live
  // points: this runs at every write.
  const std::vector<SealedSegment>& segs = current_.segments;
  size_t open = 0;
  for (size_t k = 0; k < segs.size(); ++k)
    open += SegmentHasRoom(segs[k].slots) &&
            ((k > 0 && SegmentHasRoom(segs[k - 1].slots)) ||
             (k + 1 < segs.size() && SegmentHasRoom(segs[k + 1].slots)));
  if (open <= options_.slowdown_segments) return {};
  constexpr int64_t kPerPointPerSegmentUs = 100, kMostUs = 500'000;
  const int64_t over = static_cast<int64_t>(open - options_.slowdown_segments);
  return std::chrono::microseconds(
      std::min<int64_t>(kMostUs, kPerPointPerSegmentUs * over * static_cast<int64_t>(points)));
}

std::optional<std::pair<size_t, size_t>> CollectionImpl::PickMerge() const {
  const State& st = *state_;
  const std::vector<SealedSegment>& segs = current_.segments;
  const size_t n = segs.size();
  if (n == 0) return std::nullopt;
  std::vector<uint64_t> live(n), first(n);
  for (size_t k = 0; k < n; ++k) {
    first[k] = k == 0 ? 0 : first[k - 1] + segs[k - 1].slots;
    live[k] = st.live.CountRange(first[k], first[k] + segs[k].slots);
  }
  for (size_t k = 0; k < n; ++k) {
    // A graph without the SQ8 codes its vector asks for (sealed before any were trained), over
    // enough points that the merged graph gets them (HnswParamsFor).
    for (size_t v = 0; v < dims_.size(); ++v) {
      const Column& col = st.columns[v];
      const auto& g = col.parts[k]->hnsw;
      if (g && schema_.vectors[v].index.sq8 && !g->params().sq8 &&
          col.searchable.CountRange(first[k], first[k] + segs[k].slots) >= kMinPointsForSq8)
        return std::pair{k, k + 1};
    }
    const uint64_t dead = segs[k].slots - live[k];
    if (dead >= kMinDeletedForMerge && dead > options_.compact_deleted_ratio * segs[k].slots)
      return std::pair{k, k + 1};
  }
  // The run of `width` neighbours with room holding the fewest points (among those `ok`
  // accepts) whose merged segment stays within max_segment_bytes.
  const uint64_t point_bytes = PointVectorBytes();
  auto cheapest = [&](size_t width, auto&& ok) -> std::optional<std::pair<size_t, size_t>> {
    std::optional<std::pair<size_t, size_t>> best;
    uint64_t best_points = 0;
    for (size_t k = 0; k + width <= n; ++k) {
      uint64_t points = 0, least = UINT64_MAX, most = 0;
      bool room = true;
      for (size_t i = k; i < k + width; ++i) {
        room = room && SegmentHasRoom(live[i]);
        points += live[i];
        least = std::min<uint64_t>(least, std::max<uint64_t>(live[i], 1));
        most = std::max<uint64_t>(most, live[i]);
      }
      if (!room ||
          (options_.max_segment_bytes != 0 && points * point_bytes > options_.max_segment_bytes))
        continue;
      if (ok(least, most) && (!best || points < best_points)) {
        best = std::pair{k, k + width};
        best_points = points;
      }
    }
    return best;
  };
  // Tiers: merge_factor neighbours of about one size make one segment of the next size up.
  const size_t factor = std::max<size_t>(options_.merge_factor, 2);
  if (auto run = cheapest(factor, [](uint64_t least, uint64_t most) { return most <= 2 * least; }))
    return run;
  // Too many segments with room: the cheapest run that brings them back within max_segments,
  // or failing that (the run would be too large) the cheapest narrower one.
  size_t open = 0;
  for (size_t k = 0; k < n; ++k) open += SegmentHasRoom(live[k]) ? 1 : 0;
  if (open <= options_.max_segments) return std::nullopt;
  for (size_t width = std::max<size_t>(open - options_.max_segments + 1, 2); width >= 2; --width)
    if (auto run = cheapest(width, [](uint64_t, uint64_t) { return true; })) return run;
  return std::nullopt;
}

Status CollectionImpl::MaybeStartMerge() {
  if (merging_ || dropped_ || !write_error_.ok() || merge_cancel_) return Status::OK();
  auto run = PickMerge();
  deleted_at_pick_ = state_->deleted_pending;
  if (!run) return Status::OK();
  if (!options_.background_merges) {
    // Not beside a flush building in the background (a switch would renumber its slots): that
    // flush starts the merge when it commits.
    if (seal_) return Status::OK();
    // Here, and then the next merge due (one may complete a run of the next size up).
    for (; run; run = PickMerge()) {
      std::unique_ptr<Merge> m = StartMerge(run->first, run->second);
      Retired retired;
      Status s = BuildMerge(m.get());
      if (s.ok()) s = InstallMerge(*m, &retired);
      RemoveFiles(retired.files);
      if (!s.ok()) {
        AbandonMerge(*m);
        return s;
      }
    }
    return Status::OK();
  }
  std::unique_ptr<Merge> m = StartMerge(run->first, run->second);
  if (merge_thread_.joinable()) merge_thread_.join();  // finished: it cleared merging_
  merge_thread_ = std::thread([this, m = std::move(m)]() mutable { MergeLoop(std::move(m)); });
  return Status::OK();
}

std::unique_ptr<CollectionImpl::Merge> CollectionImpl::StartMerge(size_t begin, size_t end) {
  State& st = *state_;
  auto m = std::make_unique<Merge>();
  m->seg_begin = begin;
  m->seg_end = end;
  for (size_t k = 0; k < end; ++k) (k < begin ? m->a : m->b) += current_.segments[k].slots;
  m->b += m->a;
  m->gen = ++generation_;  // the next flush takes the one after
  m->last_lsn = last_lsn_;
  m->meta = ConfigJson(name_, schema_, index_defs_);
  m->index_defs = index_defs_;
  for (size_t k = begin; k < end; ++k) m->seg_gens.push_back(current_.segments[k].gen);
  for (uint32_t slot = m->a; slot < m->b; ++slot)
    if (st.live.Test(slot)) m->slots.push_back(slot);
  m->present.resize(dims_.size());
  m->parts.resize(dims_.size());
  m->donors.resize(dims_.size());
  m->merged.resize(dims_.size());
  for (size_t v = 0; v < dims_.size(); ++v) {
    const Column& col = st.columns[v];
    m->present[v].Resize(m->slots.size());
    for (size_t i = 0; i < m->slots.size(); ++i)
      if (col.present.Test(m->slots[i])) m->present[v].Set(i);
    m->parts[v].assign(col.parts.begin() + begin, col.parts.begin() + end);
    for (const auto& p : col.parts)
      if (p->hnsw && p->hnsw->sq8_trained()) {
        m->donors[v] = p;
        break;
      }
  }
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    st.merge_changed = Bitset(m->b);
  }
  merging_ = true;
  merge_gen_ = m->gen;
  return m;
}

Status CollectionImpl::BuildMerge(Merge* m) const {
  sync_point::Reached("CollectionImpl::BuildMerge:Start");
  const std::string seg_path = dir_ + "/" + SegmentName(m->gen);
  const size_t n = m->slots.size();
  // Ids and payloads are read under state_mu_ (writers append to and change them meanwhile),
  // rows in place: a sealed part's rows never change.
  Json payload;
  storage::SegmentContents c;
  c.meta = m->meta;
  c.last_lsn = m->last_lsn;
  c.num_points = n;
  c.dims = dims_;
  // The merged points' ids, for the switch (a sealed slot's id never changes).
  auto merged_ids = std::make_shared<std::vector<PointId>>();
  merged_ids->reserve(n);
  {
    std::shared_lock<std::shared_mutex> l(state_mu_);
    for (uint32_t slot : m->slots) merged_ids->push_back(state_->ids[slot]);
  }
  m->ids = merged_ids;
  c.id = [&](size_t i) -> const PointId& { return (*merged_ids)[i]; };
  // The payload indexes of the merged points: the parts' index files renumbered, then the points
  // whose payload may differ from their part's copy re-indexed (Erase the copy's, Insert the one
  // written). Built from the payloads written if a part's file is missing or lacks a field.
  MOSAIC_ASSIGN_OR_RETURN(m->indexes, index::PayloadIndexParts::NewSet(m->index_defs));
  std::vector<uint32_t> to_local(m->b - m->a, index::kDroppedSlot);
  for (size_t i = 0; i < n; ++i) to_local[m->slots[i] - m->a] = static_cast<uint32_t>(i);
  const auto& parts0 = m->parts[0];
  bool rebuild = false;
  for (size_t k = 0; k < parts0.size() && !rebuild && !m->index_defs.empty(); ++k) {
    const uint32_t first = parts0[k]->first;
    const uint32_t size = (k + 1 < parts0.size() ? parts0[k + 1]->first : m->b) - first;
    bool partial = false;
    auto got = m->indexes->Load(env_, IndexPath(m->seg_gens[k]), size,
                            {0, std::span<const uint32_t>(to_local).subspan(first - m->a, size)},
                            &partial);
    rebuild = !got.ok() || got->size() != m->index_defs.size();
  }
  if (rebuild) {
    MOSAIC_ASSIGN_OR_RETURN(m->indexes, index::PayloadIndexParts::NewSet(m->index_defs));
  }
  index::PayloadIndexSet& indexes = *m->indexes;
  std::vector<std::pair<uint32_t, Json>> changed;  // (merged slot, payload written)
  c.payload = [&](size_t i) -> const Json& {
    bool differs = false;
    {
      std::shared_lock<std::shared_mutex> l(state_mu_);
      const State& st = *state_;
      const uint32_t slot = m->slots[i];
      payload = st.payloads.Copy(slot);
      differs = !st.live.Test(slot) || st.overridden.Test(slot) ||
                (slot < st.merge_changed.size() && st.merge_changed.Test(slot));
    }
    if (rebuild)
      indexes.Insert(static_cast<uint32_t>(i), payload);
    else if (differs && !m->index_defs.empty())
      changed.emplace_back(static_cast<uint32_t>(i), payload);
    return payload;
  };
  c.vector = [&](size_t i, size_t v) -> const float* {
    if (!m->present[v].Test(i)) return nullptr;
    const auto& parts = m->parts[v];
    const uint32_t slot = m->slots[i];
    auto it = std::upper_bound(parts.begin(), parts.end(), slot,
                               [](uint32_t x, const auto& p) { return x < p->first; });
    const Part& part = **(it - 1);
    return part.Row(slot - part.first);
  };
  MOSAIC_RETURN_IF_ERROR(storage::WriteSegment(env_, seg_path + ".tmp", c));
  for (const auto& parts : m->parts)
    for (const auto& part : parts) MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(*part));
  {
    std::shared_lock<std::shared_mutex> l(state_mu_);
    MOSAIC_RETURN_IF_ERROR(state_->payloads.CheckReadable());
  }
  MOSAIC_RETURN_IF_ERROR(env_->RenameFile(seg_path + ".tmp", seg_path));
  if (merge_cancel_) return Cancelled();
  MOSAIC_ASSIGN_OR_RETURN(std::shared_ptr<storage::Segment> seg, OpenSegment(seg_path));
  m->segment = seg;
  // Every sealed part holds its Segment; one that does not is read from its file.
  std::vector<std::shared_ptr<const storage::Segment>> part_files(parts0.size());
  for (const auto& [i, written] : changed) {
    const uint32_t slot = m->slots[i];
    const size_t k = std::upper_bound(parts0.begin(), parts0.end(), slot,
                                      [](uint32_t x, const auto& p) { return x < p->first; }) -
                     parts0.begin() - 1;
    if (part_files[k] == nullptr) {
      part_files[k] = parts0[k]->segment;
      if (part_files[k] == nullptr) {
        // Mapped: only the payloads of the changed points are read from it.
        MOSAIC_ASSIGN_OR_RETURN(part_files[k],
                                storage::Segment::Open(env_, dir_ + "/" + SegmentName(m->seg_gens[k]),
                                                       /*map=*/true));
      }
    }
    MOSAIC_ASSIGN_OR_RETURN(Json copy, part_files[k]->DecodePayload(slot - parts0[k]->first));
    indexes.Erase(i, copy);
    indexes.Insert(i, written);
  }
  MOSAIC_RETURN_IF_ERROR(indexes.Save(env_, IndexPath(m->gen), static_cast<uint32_t>(n),
                                      {0, {}, static_cast<uint32_t>(n)}));
  const unsigned cores = std::thread::hardware_concurrency();
  std::unique_ptr<ThreadPool> pool;
  if (cores > 1) pool = std::make_unique<ThreadPool>(static_cast<int>(cores) - 1);
  for (size_t v = 0; v < dims_.size(); ++v) {
    auto part = std::make_shared<Part>();
    part->first = m->a;
    part->segment = seg;
    part->base = seg->vectors(v);
    part->base_rows = n;
    part->tail = storage::AppendRows(dims_[v]);
    part->rows = std::make_unique<PartRows>(part.get());
    m->merged[v] = part;
    if (schema_.vectors[v].index.kind != IndexKind::kHnsw) continue;
    // Built by this thread and a pool of the merge's own (one thread per core in all), not the
    // shared pool: there the merge's insert loop would hold the workers until done, and a
    // writer's graph insert queued behind them would wait as long (storage_bench at 1M: Upserts
    // stalled 25 s at each large merge); beside writers, the scheduler shares the cores.
    // The largest part's graph is renumbered and the others' nodes inserted, unless the merged
    // graph is to get SQ8 codes that graph lacks: then it is built afresh (adopting the
    // collection's codes if trained, else training them on these rows).
    // The parts' graphs as they are (no copies: a 2M-point part's graph is ~0.5 GB): a sealed
    // graph gets no Add, only tombstones, which MergeGraphs reads once; those set since are
    // applied at the switch (RenumberedState).
    std::vector<GraphPart> graphs;
    const index::HnswIndex* largest = nullptr;
    for (const auto& p : m->parts[v]) {
      graphs.push_back({p->hnsw.get(), p->first, static_cast<uint32_t>(p->size())});
      if (largest == nullptr || p->hnsw->size() > largest->size()) largest = p->hnsw.get();
    }
    const size_t points = m->present[v].Count();
    const index::HnswParams params = HnswParamsFor(v, points);
    Status added;
    if (params.sq8 && !largest->params().sq8) {
      part->hnsw = std::make_unique<index::HnswIndex>(dims_[v], schema_.vectors[v].metric, params,
                                                      part->rows.get());
      if (m->donors[v] != nullptr) part->hnsw->AdoptCodec(*m->donors[v]->hnsw);
      std::vector<uint32_t> nodes;
      m->present[v].ForEach([&](size_t i) { nodes.push_back(static_cast<uint32_t>(i)); });
      added = part->hnsw->AddBatch(nodes, pool.get());
    } else {
      std::vector<int64_t> old_to_new(m->b, -1);
      for (size_t i = 0; i < n; ++i) old_to_new[m->slots[i]] = static_cast<int64_t>(i);
      part->hnsw = MergeGraphs(graphs, old_to_new, m->slots,
                               [&](uint32_t i) { return m->present[v].Test(i); },
                               part->rows.get(), pool.get(), &added);
    }
    MOSAIC_RETURN_IF_ERROR(added);
    if (merge_cancel_) return Cancelled();
    MOSAIC_RETURN_IF_ERROR(part->hnsw->Save(env_, GraphPath(m->gen, v)));
    // The built graph stays in the heap (on huge pages) until the next open. Reading it in place
    // from the file just written halved the heap at 10M points, but under a 12 GiB memory limit
    // the kernel evicted its pages and searches beside the writer were 8x slower at the median;
    // with the graph in the heap, under the same limit, they were not (docs/benchmarks.md).
  }
  sync_point::Reached("CollectionImpl::BuildMerge:Built");
  return Status::OK();
}

SlotMap CollectionImpl::MergeSlotMap(const Merge& m, uint32_t end) {
  std::vector<uint32_t> run(m.b - m.a, index::kDroppedSlot);
  for (size_t i = 0; i < m.slots.size(); ++i) run[m.slots[i] - m.a] = m.a + static_cast<uint32_t>(i);
  return SlotMap(m.a, m.b, end, std::move(run));
}

Status CollectionImpl::InstallMerge(const Merge& m, Retired* retired) {
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  const State& st = *state_;
  const SlotMap map = MergeSlotMap(m, static_cast<uint32_t>(st.ids.size()));
  // The manifest: the merged segment in place of its run, the segments sealed meanwhile after
  // it, a new delta, and the same log: the growing part stays as it is (its points are replayed
  // from the log, by id, at an open).
  Current next = NextManifest();
  next.wal = current_.wal;
  next.last_lsn = current_.last_lsn;
  next.segments.erase(next.segments.begin() + m.seg_begin, next.segments.begin() + m.seg_end);
  next.segments.insert(next.segments.begin() + m.seg_begin,
                       {m.gen, static_cast<uint32_t>(m.slots.size())});
  std::vector<std::string> written = {SegmentName(m.gen)};
  for (size_t v = 0; v < dims_.size(); ++v) written.push_back(GraphName(m.gen, v));
  written.push_back(IndexName(m.gen));
  MOSAIC_RETURN_IF_ERROR(
      SwitchKeepingLog(st, next, st.sealed, map, std::move(written), "merging"));
  UpdateMergedIndexes(st, m);
  // The renumbered state is built beside the live one, which searches go on reading (no writer
  // changes it: write_mu_ is held), and swapped in under the exclusive lock: a search waits for
  // the swap, not for the renumbering. It shares the sealed runs of ids and payloads, the id map
  // and the chunks of key slots the merge does not move with the live one, and copies bitsets a
  // word at a time (SlotMap): 8-20 ms at 10M points, where a table of every slot and a copy of
  // every key's slot took 0.4 s (storage_bench --switch-cost).
  std::shared_ptr<State> renumbered = RenumberedState(st, m, map);
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    // The parts after the run (the growing part among them), shared by both states, move down.
    const uint32_t shift = (m.b - m.a) - static_cast<uint32_t>(m.slots.size());
    for (const Column& col : st.columns)
      for (size_t k = m.seg_end; k < col.parts.size(); ++k) col.parts[k]->first -= shift;
    state_.swap(renumbered);
  }
  retired->state = std::move(renumbered);  // the old state
  merging_ = false;
  merge_gen_ = 0;
  ++merges_done_;
  retired->files = UnusedFiles();
  return Status::OK();
}

void CollectionImpl::UpdateMergedIndexes(const State& st, const Merge& m) const {
  index::PayloadIndexSet& indexes = *m.indexes;
  // Index definitions made or dropped while the merge ran.
  std::vector<std::string> added;
  for (const auto& [field, type] : m.index_defs)
    if (auto it = index_defs_.find(field); it == index_defs_.end() || it->second != type)
      indexes.Drop(field).ok();
  for (const auto& [field, type] : index_defs_)
    if (auto it = m.index_defs.find(field); it == m.index_defs.end() || it->second != type)
      if (indexes.Create(field, type).ok()) added.push_back(field);
  // The merged indexes hold the payloads as the merge wrote them: points retired or changed
  // since are indexed again as they are now.
  Json scratch;
  for (uint32_t i = 0; i < m.slots.size(); ++i) {
    const uint32_t slot = m.slots[i];
    const bool live = st.live.Test(slot);
    const bool changed = slot < st.merge_changed.size() && st.merge_changed.Test(slot);
    if (live && !changed) {
      if (!added.empty()) indexes.InsertFields(added, i, st.payloads.Get(slot, &scratch));
      continue;
    }
    Result<Json> written = m.segment->DecodePayload(i);
    if (written.ok()) indexes.Erase(i, *written);
    if (live) indexes.Insert(i, st.payloads.Get(slot, &scratch));
  }
}

std::shared_ptr<CollectionImpl::State> CollectionImpl::RenumberedState(
    const State& st, const Merge& m, const SlotMap& map) const {
  const uint32_t first = st.sealed;
  const uint32_t end = static_cast<uint32_t>(map.size());
  const uint32_t shift = (m.b - m.a) - static_cast<uint32_t>(m.slots.size());
  auto s = std::make_shared<State>();
  s->ids = st.ids.Merged(m.a, m.b, m.ids);
  auto renumbered = [&](const Bitset& bits) { return map.Apply(bits); };
  s->live = renumbered(st.live);
  // Payloads that differ from their segment's copy: changed in place outside the merged run, or
  // inside it since the merge read them.
  Bitset overridden(end);
  overridden.CopyRange(st.overridden, 0, std::min<size_t>(first, st.overridden.size()), 0);
  for (uint32_t slot = m.a; slot < m.b; ++slot)
    overridden.Assign(slot, slot < st.merge_changed.size() && st.merge_changed.Test(slot));
  s->overridden = renumbered(overridden);
  // The merged run's payloads are read from its segment now, but for those changed meanwhile.
  s->payloads = st.payloads.Merged(m.a, m.b, map, m.segment,
                                   static_cast<uint32_t>(m.slots.size()), s->overridden);
  s->id_to_slot = st.id_to_slot.Renumbered(map);
  // The payload indexes are per segment: the merged one replaces the run's, the others stay.
  s->payload_index = st.payload_index;
  auto& index_parts = s->payload_index.parts();
  index_parts.erase(index_parts.begin() + m.seg_begin, index_parts.begin() + m.seg_end);
  index_parts.insert(index_parts.begin() + m.seg_begin, {m.a, m.indexes});
  for (size_t k = m.seg_begin + 1; k < index_parts.size(); ++k) index_parts[k].first -= shift;
  s->deleted_pending = st.deleted_pending - shift;
  s->columns.resize(st.columns.size());
  for (size_t v = 0; v < st.columns.size(); ++v) {
    const Column& from = st.columns[v];
    Column& col = s->columns[v];
    col.present = renumbered(from.present);
    col.searchable = renumbered(from.searchable);
    for (uint32_t slot : from.unindexed)
      if (map[slot] != index::kDroppedSlot) col.unindexed.push_back(map[slot]);
    col.rebuilt = from.rebuilt;
    col.parts = from.parts;
    col.parts.erase(col.parts.begin() + m.seg_begin, col.parts.begin() + m.seg_end);
    col.parts.insert(col.parts.begin() + m.seg_begin, m.merged[v]);
    // Points retired while the merge ran are tombstoned in its graph.
    if (const auto& g = m.merged[v]->hnsw)
      for (uint32_t i = 0; i < m.slots.size(); ++i)
        if (!col.searchable.Test(m.a + i)) g->Remove(i);
  }
  s->sealed = first - shift;  // the growing part (shared, moved down at the switch) stays
  return s;
}

void CollectionImpl::AbandonMerge(const Merge& m) {
  // After a switch of unknown outcome CURRENT may name its files: they stay until a reopen.
  if (write_error_.ok()) RemoveSegmentFiles(m.gen);
  const bool tidy = write_error_.ok();
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    state_->merge_changed = Bitset();
  }
  merging_ = false;
  merge_gen_ = 0;
  if (tidy) RemoveUnusedFiles();  // the graphs' temporary files, if any
}

void CollectionImpl::MergeLoop(std::unique_ptr<Merge> m) {
  while (m != nullptr) {
    Status s = merge_cancel_ ? Cancelled() : BuildMerge(m.get());
    Retired retired;
    std::unique_lock<std::mutex> w(write_mu_);
    if (s.ok() && merge_cancel_) s = Cancelled();
    // A flush running in the background commits first (slots keep their numbers until then).
    if (s.ok()) s = FinishSeal(&w);
    if (s.ok() && merge_cancel_) s = Cancelled();
    if (s.ok()) s = InstallMerge(*m, &retired);
    if (!s.ok()) AbandonMerge(*m);
    m.reset();
    if (!s.IsAborted()) NoteRewrite(s);
    // The next merge due, unless this one failed.
    if (s.ok() && !merge_cancel_ && !dropped_ && write_error_.ok())
      if (auto run = PickMerge()) m = StartMerge(run->first, run->second);
    const bool done = m == nullptr;
    // Released without the writer lock (someone waiting for the merge may go on meanwhile: no
    // one uses these any more, and the file names are never reused).
    w.unlock();
    const std::vector<std::string> files = std::move(retired.files);
    retired = Retired();
    RemoveFiles(files);
    w.lock();
    if (done) merge_done_.notify_all();
  }
}

void CollectionImpl::StopMerge(std::unique_lock<std::mutex>* lock) {
  // While cancelled no merge starts (MaybeStartMerge), not even from a flush that commits
  // meanwhile; a flush that a writer starts while the merge stops is waited for next.
  merge_cancel_ = true;
  merge_done_.wait(*lock, [&] { return !merging_; });
  seal_done_.wait(*lock, [&] { return !sealing_; });
  merge_cancel_ = false;
}

}  // namespace mosaic::collection
