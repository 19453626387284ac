// CollectionImpl recovery: the manifest (CURRENT), loading the sealed segments, their graphs and
// the delta into a State, the growing part, and reading the WAL for replay.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <functional>

#include "collection/collection_files.h"
#include "collection/collection_impl.h"
#include "storage/log_reader.h"

namespace mosaic::collection {

Json CollectionImpl::ManifestJson(const Current& cur) {
  Json segments = Json::array();
  for (const SealedSegment& seg : cur.segments)
    segments.push_back({{"gen", seg.gen}, {"slots", seg.slots}});
  return {{"format_version", kManifestVersion},
          {"generation", cur.generation},
          {"log", cur.wal},
          {"last_lsn", cur.last_lsn},
          {"segments", std::move(segments)},
          {"delta", cur.delta.empty() ? Json(nullptr) : Json(cur.delta)}};
}

Result<CollectionImpl::Current> CollectionImpl::ParseManifest(const Json& j) {
  auto uint_at = [&](const Json& o, const char* key) {
    return o.is_object() && o.contains(key) && o[key].is_number_unsigned();
  };
  auto string_at = [&](const Json& o, const char* key) {
    return o.is_object() && o.contains(key) && o[key].is_string();
  };
  Current c;
  if (!uint_at(j, "generation")) return Status::Corruption("no generation");
  c.generation = j["generation"].get<uint64_t>();
  if (uint_at(j, "format_version") && j["format_version"].get<uint32_t>() == kManifestVersion) {
    // Version 2: the sealed segments in slot order, the delta file over them, the log.
    if (!string_at(j, "log") || !uint_at(j, "last_lsn") || !j.contains("segments") ||
        !j["segments"].is_array() || !j.contains("delta") ||
        !(j["delta"].is_null() || j["delta"].is_string()))
      return Status::Corruption("a version 2 manifest needs log, last_lsn, segments and delta");
    c.version = 2;
    c.wal = j["log"].get<std::string>();
    c.last_lsn = j["last_lsn"].get<uint64_t>();
    if (j["delta"].is_string()) c.delta = j["delta"].get<std::string>();
    uint64_t slots = 0;
    for (const Json& seg : j["segments"]) {
      if (!uint_at(seg, "gen") || !uint_at(seg, "slots") ||
          seg["slots"].get<uint64_t>() > UINT32_MAX)
        return Status::Corruption("bad segment entry " + seg.dump().substr(0, 100));
      c.segments.push_back({seg["gen"].get<uint64_t>(), seg["slots"].get<uint32_t>()});
      slots += c.segments.back().slots;
    }
    if (slots > UINT32_MAX) return Status::Corruption("segments hold over 2^32 slots");
    return c;
  }
  // Version 1: one segment, named after the generation, or none.
  if (j.contains("format_version") && !(uint_at(j, "format_version") &&
                                        j["format_version"].get<uint32_t>() == 1))
    return Status::Corruption("unsupported format_version " + j["format_version"].dump());
  if (!string_at(j, "wal")) return Status::Corruption("no wal");
  c.version = 1;
  c.wal = j["wal"].get<std::string>();
  if (j.contains("segment") && j["segment"].is_string()) {
    if (j["segment"].get<std::string>() != SegmentName(c.generation))
      return Status::Corruption("segment " + j["segment"].dump() + " is not of generation " +
                                std::to_string(c.generation));
    c.segments.push_back({c.generation, 0});  // its size is read from the file
  }
  return c;
}

Result<CollectionImpl::Current> CollectionImpl::ReadCurrent(RepairReport* salvage) const {
  auto text = env_->ReadFile(dir_ + "/" + kCurrentFile);
  if (text.ok()) {
    Json j = Json::parse(*text, nullptr, false);
    auto cur = ParseManifest(j);
    if (cur.ok()) return cur;
    text = Status::Corruption(dir_ + "/CURRENT is not valid (" + cur.status().message() +
                              "): " + text->substr(0, 200));
  }
  if (salvage == nullptr) return text.status();
  // The newest generation with a log, a delta or a segment on disk: a flush writes them before
  // it switches CURRENT, so that is the generation CURRENT named, or a complete newer one. Its
  // delta file carries a copy of its manifest; a directory of version 1 has none, and its
  // generation's segment, if any, is the one.
  MOSAIC_ASSIGN_OR_RETURN(auto children, env_->GetChildren(dir_));
  uint64_t gen = 0;
  for (const auto& f : children) {
    unsigned long long g = 0;
    char ext[8] = {0};
    if ((std::sscanf(f.c_str(), "wal-%llu.%3s", &g, ext) == 2 && f == WalName(g)) ||
        (std::sscanf(f.c_str(), "del-%llu.%3s", &g, ext) == 2 && f == DeltaName(g)) ||
        (std::sscanf(f.c_str(), "seg-%llu.%3s", &g, ext) == 2 && f == SegmentName(g)))
      gen = std::max<uint64_t>(gen, g);
  }
  if (gen == 0) return text.status().WithContext("no log or segment to salvage in " + dir_);
  std::string how = "generation " + std::to_string(gen) + ", the newest on disk";
  if (auto delta = storage::ReadDelta(env_, dir_ + "/" + DeltaName(gen)); delta.ok()) {
    auto cur = ParseManifest(delta->manifest);
    if (cur.ok() && cur->generation == gen) {
      salvage->notes.push_back("CURRENT unreadable (" + text.status().message() + "): using " +
                               how + ", as its delta file lists it");
      return cur;
    }
  }
  Current c;
  c.generation = gen;
  c.version = 1;
  c.wal = WalName(gen);
  if (env_->FileExists(dir_ + "/" + SegmentName(gen))) c.segments.push_back({gen, 0});
  salvage->notes.push_back("CURRENT unreadable (" + text.status().message() + "): using " + how);
  return c;
}

const float* CollectionImpl::ColumnRows::Row(uint32_t slot) const {
  const Part& part = col_->PartOf(slot);
  return part.Row(slot - part.first);
}

const CollectionImpl::Part& CollectionImpl::Column::PartOf(uint32_t slot) const {
  auto it = std::upper_bound(parts.begin(), parts.end(), slot,
                             [](uint32_t x, const auto& p) { return x < p->first; });
  return **(it - 1);
}

std::string CollectionImpl::GraphPath(uint64_t generation, size_t v) const {
  return dir_ + "/" + GraphName(generation, v);
}

std::string CollectionImpl::IndexPath(uint64_t generation) const {
  return dir_ + "/" + IndexName(generation);
}

std::shared_ptr<index::PayloadIndexSet> CollectionImpl::NewIndexSet() const {
  // The definitions were checked when made and when the collection opened (LoadState).
  auto set = index::PayloadIndexParts::NewSet(index_defs_);
  return set.ok() ? std::move(set).value() : std::make_shared<index::PayloadIndexSet>();
}

void CollectionImpl::LoadPayloadIndex(State* s, const LoadedSegment& loaded, size_t k) const {
  if (index_defs_.empty() || loaded.segment == nullptr) return;
  index::PayloadIndexParts::Part& part = s->payload_index.parts()[k];
  const uint32_t first = part.first;
  const uint32_t n = loaded.ref.slots;
  const std::string path = IndexPath(loaded.ref.gen);
  bool partial = false;
  auto got = part.set->Load(env_, path, n, {}, &partial);
  if (!got.ok() && partial) {
    // Half imported: this part starts over from the payloads.
    std::fprintf(stderr, "mosaic: collection '%s': %s; rebuilding it\n", name_.c_str(),
                 got.status().ToString().c_str());
    part.set = NewIndexSet();
  } else if (!got.ok() && !got.status().IsNotFound()) {
    std::fprintf(stderr, "mosaic: collection '%s': %s; rebuilding it\n", name_.c_str(),
                 got.status().ToString().c_str());
  }
  std::vector<std::string> missing;
  for (const auto& [field, type] : index_defs_)
    if (!got.ok() || std::find(got->begin(), got->end(), field) == got->end())
      missing.push_back(field);
  if (missing.empty()) return;
  {
    std::lock_guard<std::mutex> l(indexes_rebuilt_mu_);
    indexes_rebuilt_.insert(missing.begin(), missing.end());
  }
  Json scratch;
  for (uint32_t l = 0; l < n; ++l)
    part.set->InsertFields(missing, l, s->payloads.Get(first + l, &scratch));
  // Saved again so that the next open need not build them (nothing is lost if this fails).
  Status saved = part.set->Save(env_, path, n, {0, {}, n});
  if (!saved.ok())
    std::fprintf(stderr, "mosaic: saving the payload indexes failed: %s\n",
                 saved.ToString().c_str());
}

index::HnswParams CollectionImpl::HnswParamsFor(size_t v, size_t points) const {
  const IndexSpec& spec = schema_.vectors[v].index;
  index::HnswParams p;
  p.M = spec.m;
  p.ef_construction = spec.ef_construction;
  p.ef_search = spec.ef_search;
  // The SQ8 codec learns its ranges from the points present when the graph is built; too few
  // would make poor codes, so small graphs stay f32 until a rewrite rebuilds them with SQ8.
  p.sq8 = spec.sq8 && points >= kMinPointsForSq8;
  return p;
}

Status CollectionImpl::IndexPending(State* s) const {
  for (auto& col : s->columns) {
    if (col.unindexed.empty()) continue;
    // A slot retired before it was indexed (upserted again or deleted later in the same replay)
    // never enters the graph.
    std::erase_if(col.unindexed, [&](uint32_t slot) { return !col.searchable.Test(slot); });
    std::sort(col.unindexed.begin(), col.unindexed.end());
    MOSAIC_RETURN_IF_ERROR(AddToGraphs(&col, col.unindexed));
    col.unindexed.clear();
  }
  return Status::OK();
}

Status CollectionImpl::AddToGraphs(Column* col, std::span<const uint32_t> slots) const {
  std::vector<uint32_t> local;
  for (size_t i = 0; i < slots.size();) {
    const Part& part = col->PartOf(slots[i]);
    const uint64_t end = uint64_t{part.first} + part.size();
    local.clear();
    for (; i < slots.size() && slots[i] < end; ++i) local.push_back(slots[i] - part.first);
    if (part.hnsw) MOSAIC_RETURN_IF_ERROR(part.hnsw->AddBatch(local, pool_));
  }
  return Status::OK();
}

const index::HnswIndex* CollectionImpl::CodecDonor(const Column& col) {
  for (const auto& p : col.parts)
    if (p->hnsw && p->hnsw->sq8_trained()) return p->hnsw.get();
  return nullptr;
}

void CollectionImpl::AddGrowingPart(State* s, uint32_t first) const {
  for (size_t v = 0; v < dims_.size(); ++v) {
    Column& col = s->columns[v];
    auto part = std::make_shared<Part>();
    part->first = first;
    part->tail = storage::AppendRows(dims_[v]);
    part->rows = std::make_unique<PartRows>(part.get());
    if (schema_.vectors[v].index.kind == IndexKind::kHnsw) {
      // Until the collection has trained SQ8 codes, the growing graph stays f32 (a merge trains
      // them once a segment has enough points: PickMerge).
      const index::HnswIndex* donor = CodecDonor(col);
      index::HnswParams params = HnswParamsFor(v, 0);
      params.sq8 = schema_.vectors[v].index.sq8 && donor != nullptr;
      part->hnsw = std::make_unique<index::HnswIndex>(dims_[v], schema_.vectors[v].metric, params,
                                                      part->rows.get());
      if (params.sq8) part->hnsw->AdoptCodec(*donor);
    }
    col.parts.push_back(std::move(part));
  }
  s->payload_index.parts().push_back({first, NewIndexSet()});
}

Result<std::unique_ptr<CollectionImpl::State>> CollectionImpl::LoadState(
    std::vector<LoadedSegment> segments, const storage::SegmentDelta* delta,
    RepairReport* salvage, bool train_sq8) const {
  auto s = std::make_unique<State>();
  s->columns.resize(schema_.vectors.size());
  MOSAIC_RETURN_IF_ERROR(index::PayloadIndexParts::NewSet(index_defs_).status());
  // The segments' points, in slot order.
  uint32_t first = 0;
  for (LoadedSegment& loaded : segments) {
    const std::shared_ptr<storage::Segment>& seg = loaded.segment;
    const uint32_t n = loaded.ref.slots;
    if (seg != nullptr) {
      if (seg->num_vectors() != dims_.size())
        return Status::Corruption("segment " + SegmentName(loaded.ref.gen) + " has " +
                                  std::to_string(seg->num_vectors()) + " vectors, the schema of '" +
                                  name_ + "' has " + std::to_string(dims_.size()));
      for (size_t v = 0; v < dims_.size(); ++v)
        if (seg->dim(v) != dims_[v])
          return Status::Corruption("segment " + SegmentName(loaded.ref.gen) + " vector " +
                                    std::to_string(v) + " has " + std::to_string(seg->dim(v)) +
                                    " dims, the schema says " + std::to_string(dims_[v]));
      MOSAIC_ASSIGN_OR_RETURN(std::vector<PointId> ids, seg->DecodeIds());
      s->ids.AppendRun(std::move(ids));
    } else {  // lost in a salvage: its slots stay, retired
      s->ids.AppendRun(std::vector<PointId>(n));
    }
    s->payloads.AppendSegment(seg, n);  // read from the segment when asked for
    s->payload_index.parts().push_back({first, NewIndexSet()});
    s->live.Resize(first + n, seg != nullptr);
    for (size_t v = 0; v < dims_.size(); ++v) {
      Column& col = s->columns[v];
      auto part = std::make_shared<Part>();
      part->first = first;
      part->tail = storage::AppendRows(dims_[v]);
      if (seg != nullptr) {
        part->segment = seg;
        part->base = seg->vectors(v);
        part->base_rows = n;
      } else {
        for (size_t i = 0; i < n; ++i) part->tail.Append(nullptr);
      }
      part->rows = std::make_unique<PartRows>(part.get());
      col.parts.push_back(std::move(part));
      col.present.Resize(first + n);
      if (seg != nullptr)
        for (size_t i = 0; i < n; ++i)
          if (seg->has_vector(i, v)) col.present.Set(first + i);
    }
    first += n;
  }
  s->sealed = first;
  s->overridden.Resize(first);
  if (delta != nullptr && delta->dead.size() != first)
    return Status::Corruption("delta file " + current_.delta + " covers " +
                              std::to_string(delta->dead.size()) + " slots, the segments hold " +
                              std::to_string(first));
  // The segments' saved graphs and payload index files are read on the pool: each is
  // independent of the others, and together they are seconds at a million points.
  const size_t num_segments = segments.size();
  std::vector<Result<std::unique_ptr<index::HnswIndex>>> saved_graphs;
  for (size_t k = 0; k < dims_.size() * num_segments; ++k)
    saved_graphs.emplace_back(Status::NotFound("not an HNSW vector"));
  {
    std::vector<std::function<void()>> tasks;
    for (size_t i = 0; i < num_segments; ++i)
      tasks.push_back([&, i] { LoadPayloadIndex(s.get(), segments[i], i); });
    for (size_t v = 0; v < dims_.size(); ++v) {
      if (schema_.vectors[v].index.kind != IndexKind::kHnsw) continue;
      for (size_t i = 0; i < num_segments; ++i)
        tasks.push_back([&, v, i] {
          saved_graphs[v * num_segments + i] = index::HnswIndex::Load(
              env_, GraphPath(segments[i].ref.gen, v), dims_[v], schema_.vectors[v].metric,
              HnswParamsFor(v, segments[i].ref.slots), s->columns[v].parts[i]->rows.get(),
              /*any_sq8=*/true);
        });
    }
    // Each of the pool's threads takes the next task until none is left.
    std::atomic<size_t> next{0};
    pool_->ParallelFor(static_cast<size_t>(pool_->size()), [&](size_t, size_t) {
      for (size_t t = next++; t < tasks.size(); t = next++) tasks[t]();
    });
  }
  // What changed in them since they were written.
  Json scratch;
  if (delta != nullptr) {
    delta->dead.ForEach([&](size_t slot) {
      s->payload_index.Erase(static_cast<uint32_t>(slot),
                              s->payloads.Get(static_cast<uint32_t>(slot), &scratch));
      s->live.Reset(slot);
      s->payloads.Set(static_cast<uint32_t>(slot), Json());
    });
    for (const auto& [slot, payload] : delta->payloads) {
      if (!s->live.Test(slot)) continue;
      s->payload_index.Erase(slot, s->payloads.Get(slot, &scratch));
      s->payloads.Set(slot, payload);
      s->payload_index.Insert(slot, payload);
      s->overridden.Set(slot);
    }
  }
  for (uint32_t slot = 0; slot < first; ++slot) {
    if (!s->live.Test(slot)) {
      s->payloads.Set(slot, Json());
      continue;
    }
    const std::optional<uint32_t> older = s->id_to_slot.Set(s->ids[slot], slot);
    if (older && salvage == nullptr)
      return Status::Corruption("collection '" + name_ + "' holds point id " +
                                s->ids[slot].ToString() + " twice");
    if (older) {
      salvage->notes.push_back("point " + s->ids[slot].ToString() +
                               " was found twice: the newer copy is kept");
      s->payload_index.Erase(*older, s->payloads.Get(*older, &scratch));
      s->live.Reset(*older);
      s->payloads.Set(*older, Json());
    }
  }
  s->deleted_pending = first - s->id_to_slot.size();
  for (Column& col : s->columns) {
    col.searchable = col.present;
    col.searchable.And(s->live);
  }
  // The graphs of the segments, as saved with them when they were sealed; a node deleted since is
  // tombstoned here. One that is missing or unusable is rebuilt from its segment's rows.
  std::vector<std::pair<size_t, size_t>> rebuilt;  // (vector, segment)
  for (size_t v = 0; v < dims_.size(); ++v) {
    if (schema_.vectors[v].index.kind != IndexKind::kHnsw) continue;
    Column& col = s->columns[v];
    const Metric metric = schema_.vectors[v].metric;
    for (size_t i = 0; i < segments.size(); ++i) {
      Part& part = *col.parts[i];
      const uint32_t n = segments[i].ref.slots;
      Bitset rows(n);
      size_t searchable = 0;
      for (uint32_t l = 0; l < n; ++l) {
        if (col.present.Test(part.first + l)) rows.Set(l);
        searchable += col.searchable.Test(part.first + l);
      }
      const index::HnswParams params = HnswParamsFor(v, n);
      Result<std::unique_ptr<index::HnswIndex>>& loaded = saved_graphs[v * num_segments + i];
      // Every node must have a row (a restored snapshot's graph came from outside).
      std::string why;
      if (!loaded.ok())
        why = loaded.status().ToString();
      else if (!(*loaded)->NodesWithin(rows))
        why = "graph does not match the segment";
      else if (train_sq8 && params.sq8 && !(*loaded)->params().sq8)
        why = "graph has no SQ8 codes";
      if (why.empty()) {
        part.hnsw = std::move(loaded).value();
        for (uint32_t l = 0; l < n; ++l) {
          const bool in_graph = part.hnsw->Contains(l);
          if (in_graph && !col.searchable.Test(part.first + l)) part.hnsw->Remove(l);
          if (!in_graph && col.searchable.Test(part.first + l))
            col.unindexed.push_back(part.first + l);
        }
        continue;
      }
      if (segments[i].segment != nullptr && segments[i].segment->num_points() > 0)
        std::fprintf(stderr, "mosaic: collection '%s', vector '%s', segment %s: %s; rebuilding "
                             "its graph\n",
                     name_.c_str(), schema_.vectors[v].name.c_str(),
                     SegmentName(segments[i].ref.gen).c_str(), why.c_str());
      col.rebuilt = true;
      index::HnswParams p = HnswParamsFor(v, searchable);
      const index::HnswIndex* donor = CodecDonor(col);
      if (schema_.vectors[v].index.sq8 && donor != nullptr) p.sq8 = true;
      part.hnsw = std::make_unique<index::HnswIndex>(dims_[v], metric, p, part.rows.get());
      if (p.sq8 && donor != nullptr) part.hnsw->AdoptCodec(*donor);
      for (uint32_t l = 0; l < n; ++l)
        if (col.searchable.Test(part.first + l)) col.unindexed.push_back(part.first + l);
      rebuilt.emplace_back(v, i);
    }
  }
  MOSAIC_RETURN_IF_ERROR(IndexPending(s.get()));  // trains the codes of rebuilt graphs
  AddGrowingPart(s.get(), first);
  for (auto [v, i] : rebuilt) {
    if (segments[i].segment == nullptr) continue;
    Status saved = s->columns[v].parts[i]->hnsw->Save(env_, GraphPath(segments[i].ref.gen, v));
    if (!saved.ok())  // the graph is rebuilt again next time; nothing is lost
      std::fprintf(stderr, "mosaic: saving the rebuilt graph failed: %s\n",
                   saved.ToString().c_str());
  }
  return s;
}

Result<CollectionImpl::WalContents> CollectionImpl::ReadWal(const std::string& wal_path,
                                                            RepairReport* salvage) const {
  WalContents wal;
  auto read = env_->ReadFile(wal_path);
  if (!read.ok()) {
    if (salvage == nullptr) return read.status();
    salvage->notes.push_back("lost: the whole log (" + read.status().message() + ")");
    return wal;
  }
  const std::string& data = *read;
  storage::LogReader reader(data, wal_path);
  // In a salvage, the records before the first damaged one are kept; the rest of the log is
  // dropped from `offset` on (the damaged record, and whole records after it), for `damage`.
  auto drop_rest = [&](uint64_t offset, const Status& damage) {
    salvage->wal_damage_offset = offset;
    salvage->wal_bytes_dropped = data.size() - offset;
    salvage->wal_records_dropped = reader.CountWholeRecordsAfter(offset);
    salvage->notes.push_back(
        "lost: the log from offset " + std::to_string(offset) + " on (" +
        std::to_string(data.size() - offset) + " bytes: the damaged record and " +
        std::to_string(salvage->wal_records_dropped) + " whole records after it): " +
        damage.message());
  };
  if (Status s = reader.ReadHeader(); !s.ok()) {
    if (salvage == nullptr) return s;
    drop_rest(0, s);
    return wal;
  }
  wal.version = reader.version();
  for (;;) {
    uint8_t type;
    std::string_view payload;
    auto outcome = reader.Next(&type, &payload);
    if (!outcome.ok()) {
      if (salvage == nullptr) return outcome.status();
      drop_rest(reader.valid_end(), outcome.status());
      break;
    }
    if (*outcome != storage::LogReader::Outcome::kRecord) {
      if (*outcome == storage::LogReader::Outcome::kTornTail)
        std::fprintf(stderr, "mosaic: %s: dropping a torn last record (%zu bytes at offset %" PRIu64
                             ") left by an interrupted write\n",
                     wal_path.c_str(), data.size() - static_cast<size_t>(reader.valid_end()),
                     reader.valid_end());
      break;
    }
    auto op = DecodeOperation(type, payload, dims_);
    if (!op.ok()) {
      Status s = op.status().WithContext(wal_path + " at offset " +
                                         std::to_string(reader.record_offset()));
      if (salvage == nullptr) return s;
      drop_rest(reader.record_offset(), s);
      break;
    }
    wal.ops.push_back(std::move(op).value());
  }
  wal.valid_end = reader.valid_end();
  if (salvage != nullptr) {
    salvage->wal_records_kept = wal.ops.size();
    salvage->notes.push_back("kept: " + std::to_string(wal.ops.size()) + " log records");
  }
  return wal;
}

}  // namespace mosaic::collection
