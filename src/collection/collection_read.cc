// CollectionImpl reads: rows and points by slot, filter evaluation, get, count, info.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "collection/collection_files.h"
#include "collection/collection_impl.h"

namespace mosaic::collection {
namespace {

// Resident set size of this process (/proc/self/statm), 0 where unknown.
uint64_t ProcessRssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

const float* CollectionImpl::Row(const State& s, size_t v, uint32_t slot) const {
  const Part& part = s.columns[v].PartOf(slot);
  return part.Row(slot - part.first);
}

std::vector<index::VectorBlock> CollectionImpl::Blocks(const Column& col) {
  std::vector<index::VectorBlock> blocks;
  for (const auto& part : col.parts) {
    if (part->base_rows > 0)
      blocks.push_back({part->base, part->first, static_cast<uint32_t>(part->base_rows)});
    const uint32_t tail_first = part->first + static_cast<uint32_t>(part->base_rows);
    part->tail.ForEachBlock([&](const float* rows, size_t first, size_t n) {
      blocks.push_back({rows, tail_first + static_cast<uint32_t>(first), static_cast<uint32_t>(n)});
    });
  }
  return blocks;
}

Point CollectionImpl::MakePoint(const State& s, uint32_t slot, bool with_payload,
                                bool with_vectors) const {
  Point p;
  p.id = s.ids[slot];
  if (with_payload) p.payload = s.payloads.Copy(slot);
  if (with_vectors)
    for (size_t v = 0; v < s.columns.size(); ++v)
      if (s.columns[v].present.Test(slot)) {
        const float* r = Row(s, v, slot);
        p.vectors[schema_.vectors[v].name].assign(r, r + dims_[v]);
      }
  return p;
}

std::vector<uint32_t> CollectionImpl::FilterSlots(const State& s, const Filter& f) const {
  std::vector<uint32_t> out;
  auto id_to_slot = [&](const PointId& id) { return s.id_to_slot.Find(id); };
  bool exact = false;
  auto candidates = s.payload_index.Candidates(f.root(), id_to_slot, &exact);
  Json scratch;
  auto check = [&](uint32_t slot) {
    if (s.live.Test(slot) && f.Matches(s.ids[slot], s.payloads.Get(slot, &scratch)))
      out.push_back(slot);
  };
  if (candidates && exact) {  // the index answered the whole filter: only liveness to check
    out.reserve(candidates->size());
    for (uint32_t slot : *candidates)
      if (slot < s.ids.size() && s.live.Test(slot)) out.push_back(slot);
  } else if (candidates) {
    for (uint32_t slot : *candidates)
      if (slot < s.ids.size()) check(slot);
  } else {
    s.live.ForEach([&](size_t slot) { check(static_cast<uint32_t>(slot)); });
  }
  return out;
}

Status CollectionImpl::CheckSegmentsReadable(const State& s) const {
  for (const Column& col : s.columns)
    for (const auto& part : col.parts)
      if (Status readable = CheckSegmentsReadable(*part); !readable.ok())
        return readable.WithContext("collection '" + name_ + "'");
  if (Status readable = s.payloads.CheckReadable(); !readable.ok())
    return readable.WithContext("collection '" + name_ + "'");
  return Status::OK();
}

Result<std::vector<Point>> CollectionImpl::Get(std::span<const PointId> ids, bool with_payload,
                                               bool with_vectors) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  std::vector<Point> out;
  for (const auto& id : ids) {
    if (auto slot = state_->id_to_slot.Find(id))
      out.push_back(MakePoint(*state_, *slot, with_payload, with_vectors));
  }
  if (with_vectors || with_payload) MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(*state_));
  return out;
}

Result<uint64_t> CollectionImpl::Count(const Filter* filter) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  if (filter == nullptr) return uint64_t{state_->id_to_slot.size()};
  const size_t count = FilterSlots(*state_, *filter).size();
  MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(*state_));
  return uint64_t{count};
}

CollectionInfo CollectionImpl::Info() const {
  std::lock_guard<std::mutex> w(write_mu_);
  std::shared_lock<std::shared_mutex> l(state_mu_);
  CollectionInfo info;
  info.name = name_;
  info.schema = schema_;
  info.points = state_->id_to_slot.size();
  info.deleted_pending = state_->deleted_pending;
  info.segments = current_.segments.size();
  for (const SealedSegment& seg : current_.segments) {
    auto size = env_->GetFileSize(dir_ + "/" + SegmentName(seg.gen));
    info.segment_bytes += size.ok() ? *size : 0;
  }
  info.segment_mapped_bytes = state_->payloads.SegmentBytes(/*mapped_only=*/true);
  info.wal_bytes = wal_ ? wal_->size() : 0;
  if (auto children = env_->GetChildren(dir_); children.ok())
    for (const std::string& f : *children)
      if (auto size = env_->GetFileSize(dir_ + "/" + f); size.ok()) info.disk_bytes += *size;
  info.merges_pending = merging_ || PickMerge() ? 1 : 0;
  info.flushing = sealing_;
  info.merges_done = merges_done_;
  info.writes_slowed = writes_slowed_.load(std::memory_order_relaxed);
  info.write_slowdown_ms = write_slowdown_us_.load(std::memory_order_relaxed) / 1000;
  info.process_rss_bytes = ProcessRssBytes();
  if (!rewrite_error_.ok())
    info.background_error = rewrite_error_.ToString() + " (" + std::to_string(rewrite_failures_) +
                            " in a row)";
  info.payload_indexes = index_defs_;
  info.payload_index_bytes = state_->payload_index.MemoryBytes();
  for (size_t v = 0; v < dims_.size(); ++v) {
    const Column& col = state_->columns[v];
    uint64_t vector_bytes = 0, index_bytes = 0;
    for (const auto& part : col.parts) {
      if (part->segment == nullptr || !part->segment->mapped())
        vector_bytes += part->base_rows * dims_[v] * sizeof(float);
      vector_bytes += part->tail.MemoryBytes();
      if (part->hnsw) index_bytes += part->hnsw->MemoryBytes();
    }
    info.vector_bytes[schema_.vectors[v].name] = vector_bytes;
    if (col.parts[0]->hnsw) info.index_bytes[schema_.vectors[v].name] = index_bytes;
    if (col.rebuilt) info.graphs_rebuilt.push_back(schema_.vectors[v].name);
  }
  {
    std::lock_guard<std::mutex> l(indexes_rebuilt_mu_);
    info.payload_indexes_rebuilt.assign(indexes_rebuilt_.begin(), indexes_rebuilt_.end());
  }
  return info;
}

}  // namespace mosaic::collection