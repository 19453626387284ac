#include "collection/collection_impl.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "collection/collection_files.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"

namespace mosaic::collection {
namespace {

// Graphs of vectors with SQ8 quantization use it once built over at least this many points.
constexpr size_t kMinPointsForSq8 = 1000;

}  // namespace

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
    }
  }
  MOSAIC_ASSIGN_OR_RETURN(auto wal, storage::LogWriter::Create(env, dir + "/" + WalName(1)));
  MOSAIC_RETURN_IF_ERROR(wal->Close());
  MOSAIC_RETURN_IF_ERROR(WriteCurrent(env, dir, 1, snapshot != nullptr));
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
  if (!wal_) return;
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
  std::unique_ptr<storage::Segment> segment;
  if (!cur.segment.empty()) {
    auto seg = storage::Segment::Open(env, dir + "/" + cur.segment);
    if (seg.ok()) {
      segment = std::move(seg).value();
    } else if (salvage == nullptr) {
      return seg.status();
    } else {
      salvage->segment_lost = true;
      salvage->notes.push_back("lost: the points of segment " + cur.segment +
                               " (unreadable: " + seg.status().message() + ")");
    }
  }
  c->last_lsn_ = segment ? segment->last_lsn() : 0;
  MOSAIC_ASSIGN_OR_RETURN(auto state, c->LoadState(std::move(segment), c->generation_));
  for (const Operation& op : wal.ops) {
    if (op.lsn <= c->last_lsn_) continue;  // already in the segment
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

Result<CollectionImpl::Current> CollectionImpl::ReadCurrent(RepairReport* salvage) const {
  auto text = env_->ReadFile(dir_ + "/" + kCurrentFile);
  if (text.ok()) {
    Json cur = Json::parse(*text, nullptr, false);
    if (!cur.is_discarded() && cur.is_object() && cur.contains("generation") &&
        cur["generation"].is_number_unsigned() && cur.contains("wal") && cur["wal"].is_string()) {
      Current c{cur["generation"].get<uint64_t>(), "", cur["wal"].get<std::string>()};
      if (cur.contains("segment") && cur["segment"].is_string())
        c.segment = cur["segment"].get<std::string>();
      return c;
    }
    text = Status::Corruption(dir_ + "/CURRENT is not valid: " + text->substr(0, 200));
  }
  if (salvage == nullptr) return text.status();
  // The newest generation with a log or a segment on disk: a flush writes both before it
  // switches CURRENT, so that is the generation CURRENT named, or a complete newer one.
  MOSAIC_ASSIGN_OR_RETURN(auto children, env_->GetChildren(dir_));
  Current c;
  for (const auto& f : children) {
    unsigned long long g = 0;
    char ext[8] = {0};
    if ((std::sscanf(f.c_str(), "wal-%llu.%3s", &g, ext) == 2 && f == WalName(g)) ||
        (std::sscanf(f.c_str(), "seg-%llu.%3s", &g, ext) == 2 && f == SegmentName(g)))
      c.generation = std::max<uint64_t>(c.generation, g);
  }
  if (c.generation == 0)
    return text.status().WithContext("no log or segment to salvage in " + dir_);
  c.wal = WalName(c.generation);
  if (env_->FileExists(dir_ + "/" + SegmentName(c.generation))) c.segment = SegmentName(c.generation);
  salvage->notes.push_back("CURRENT unreadable (" + text.status().message() +
                           "): using generation " + std::to_string(c.generation) +
                           ", the newest on disk");
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

const float* CollectionImpl::ColumnRows::Row(uint32_t slot) const {
  if (slot < col_->base_rows) return col_->base + size_t{slot} * col_->tail.dim();
  return col_->tail.Row(size_t{slot} - col_->base_rows);
}

std::string CollectionImpl::GraphPath(uint64_t generation, size_t v) const {
  return dir_ + "/" + GraphName(generation, v);
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
    if (!col.hnsw || col.unindexed.empty()) continue;
    // A slot retired before it was indexed (upserted again or deleted later in the same replay)
    // never enters the graph.
    std::erase_if(col.unindexed, [&](uint32_t slot) { return !col.searchable.Test(slot); });
    MOSAIC_RETURN_IF_ERROR(col.hnsw->AddBatch(col.unindexed, pool_));
    col.unindexed.clear();
  }
  return Status::OK();
}

Result<std::unique_ptr<CollectionImpl::State>> CollectionImpl::LoadState(
    std::unique_ptr<storage::Segment> segment, uint64_t generation) const {
  auto s = std::make_unique<State>();
  s->columns.resize(schema_.vectors.size());
  for (size_t v = 0; v < dims_.size(); ++v) s->columns[v].tail = storage::AppendRows(dims_[v]);
  for (const auto& [field, type] : index_defs_) MOSAIC_RETURN_IF_ERROR(s->payload_index->Create(field, type));
  if (segment) {
    if (segment->num_vectors() != dims_.size())
      return Status::Corruption("segment has " + std::to_string(segment->num_vectors()) +
                                " vectors, the schema of '" + name_ + "' has " +
                                std::to_string(dims_.size()));
    for (size_t v = 0; v < dims_.size(); ++v)
      if (segment->dim(v) != dims_[v])
        return Status::Corruption("segment vector " + std::to_string(v) + " has " +
                                  std::to_string(segment->dim(v)) + " dims, the schema says " +
                                  std::to_string(dims_[v]));
    const size_t n = segment->num_points();
    MOSAIC_ASSIGN_OR_RETURN(s->ids, segment->DecodeIds());
    s->payloads.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      MOSAIC_ASSIGN_OR_RETURN(Json p, segment->DecodePayload(i));
      s->payloads.push_back(std::move(p));
    }
    s->live.Resize(n, true);
    for (size_t i = 0; i < n; ++i) {
      if (!s->id_to_slot.emplace(s->ids[i], static_cast<uint32_t>(i)).second)
        return Status::Corruption("segment holds point id " + s->ids[i].ToString() + " twice");
      s->payload_index->Insert(static_cast<uint32_t>(i), s->payloads[i]);
    }
    for (size_t v = 0; v < dims_.size(); ++v) {
      Column& col = s->columns[v];
      col.base = segment->vectors(v);
      col.base_rows = n;
      col.present.Resize(n);
      for (size_t i = 0; i < n; ++i)
        if (segment->has_vector(i, v)) col.present.Set(i);
      col.searchable = col.present;
    }
  }
  for (size_t v = 0; v < dims_.size(); ++v) {
    if (schema_.vectors[v].index.kind != IndexKind::kHnsw) continue;
    Column& col = s->columns[v];
    col.rows = std::make_unique<ColumnRows>(&col);
    const Metric metric = schema_.vectors[v].metric;
    if (segment) {
      auto loaded = index::HnswIndex::Load(env_, GraphPath(generation, v), dims_[v], metric,
                                           HnswParamsFor(v, col.present.Count()), col.rows.get());
      // The graph's nodes must be exactly the points that have this vector: a node past them
      // would read a row that does not exist (a restored snapshot's graph came from outside).
      bool matches = loaded.ok() && (*loaded)->size() == col.present.Count() &&
                     (*loaded)->num_removed() == 0;
      if (matches)
        col.present.ForEach([&](size_t slot) {
          matches = matches && (*loaded)->Contains(static_cast<uint32_t>(slot));
        });
      if (matches) {
        col.hnsw = std::move(loaded).value();
        continue;
      }
      std::fprintf(stderr, "mosaic: collection '%s', vector '%s': %s; rebuilding the graph\n",
                   name_.c_str(), schema_.vectors[v].name.c_str(),
                   loaded.ok() ? "graph does not match the segment"
                               : loaded.status().ToString().c_str());
      col.rebuilt = true;
    }
    col.hnsw = std::make_unique<index::HnswIndex>(
        dims_[v], metric, HnswParamsFor(v, col.present.Count()), col.rows.get());
    col.present.ForEach([&](size_t slot) { col.unindexed.push_back(static_cast<uint32_t>(slot)); });
    MOSAIC_RETURN_IF_ERROR(IndexPending(s.get()));
    if (segment) {
      Status saved = col.hnsw->Save(env_, GraphPath(generation, v));
      if (!saved.ok())  // the graph is rebuilt again next time; nothing is lost
        std::fprintf(stderr, "mosaic: saving the rebuilt graph failed: %s\n", saved.ToString().c_str());
    }
  }
  s->segment = std::move(segment);
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

void CollectionImpl::RemoveUnusedFiles() {
  auto children = env_->GetChildren(dir_);
  if (!children.ok()) return;
  const std::string seg = SegmentName(generation_), wal = WalName(generation_);
  for (const auto& f : *children) {
    if (f.starts_with(".")) continue;  // .damaged-* copies kept by a repair
    if (f == kConfigFile || f == kCurrentFile || f == wal) continue;
    if (f == seg && state_ && state_->segment) continue;
    if (f.starts_with(seg.substr(0, seg.size() - 3)) && f.ends_with(".hnsw")) continue;
    env_->RemoveFile(dir_ + "/" + f).ok();  // leftovers of an interrupted flush; harmless if kept
  }
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
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(move_away());
  dropped_ = true;
  if (wal_) wal_->Close().ok();
  return Status::OK();
}

}  // namespace mosaic::collection
