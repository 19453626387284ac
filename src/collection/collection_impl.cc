#include "collection/collection_impl.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unordered_set>

#include "index/flat/flat_search.h"
#include "simd/distance.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"

namespace mosaic::collection {
namespace {

constexpr char kConfigFile[] = "collection.json";
constexpr char kCurrentFile[] = "CURRENT";
// Compaction never runs for fewer deleted points than this, whatever their share.
constexpr uint64_t kMinDeletedForCompaction = 1000;
constexpr size_t kMaxLimit = 1'000'000;
// A filtered search on a graph-indexed vector scores its survivors exactly when there are at most
// this many of them, or at most 10% of the points: measured on Fashion-MNIST (bench/ann_bench),
// the graph walk under an allow-set wins at 50%, breaks even near 10%, and loses below.
constexpr size_t kExactSurvivorsMin = 4096;
// Graphs of vectors with SQ8 quantization use it once built over at least this many points.
constexpr size_t kMinPointsForSq8 = 1000;

std::string SegmentName(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%06" PRIu64 ".seg", gen);
  return buf;
}
std::string GraphName(uint64_t gen, size_t v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "seg-%06" PRIu64 ".v%zu.hnsw", gen, v);
  return buf;
}
std::string WalName(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "wal-%06" PRIu64 ".log", gen);
  return buf;
}

Status WriteCurrent(Env* env, const std::string& dir, uint64_t gen, bool has_segment) {
  Json cur = {{"format_version", kCollectionFormatVersion},
              {"generation", gen},
              {"segment", has_segment ? Json(SegmentName(gen)) : Json(nullptr)},
              {"wal", WalName(gen)}};
  return WriteFileAtomically(env, dir + "/" + kCurrentFile, cur.dump(2) + "\n");
}

Json ConfigJson(const std::string& name, const CollectionSchema& schema,
                const std::map<std::string, PayloadIndexType>& indexes) {
  Json idx = Json::object();
  for (const auto& [field, type] : indexes) idx[field] = PayloadIndexTypeName(type);
  return {{"format_version", kCollectionFormatVersion},
          {"name", name},
          {"schema", schema.ToJson()},
          {"payload_indexes", idx}};
}

Result<std::map<std::string, PayloadIndexType>> ParseIndexDefs(const Json& j) {
  std::map<std::string, PayloadIndexType> defs;
  if (j.is_null()) return defs;
  if (!j.is_object()) return Status::Corruption("payload_indexes is not an object");
  for (const auto& [field, type] : j.items()) {
    if (!type.is_string()) return Status::Corruption("payload index type is not a string");
    auto t = ParsePayloadIndexType(type.get<std::string>());
    if (!t.ok()) return Status::Corruption(t.status().message());
    defs[field] = *t;
  }
  return defs;
}

Status CopyFile(Env* env, const std::string& from, const std::string& to) {
  MOSAIC_ASSIGN_OR_RETURN(auto src, env->MapFile(from));
  MOSAIC_ASSIGN_OR_RETURN(auto dst, env->NewWritableFile(to));
  constexpr size_t kChunk = 4 << 20;
  for (uint64_t off = 0; off < src->size(); off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, src->size() - off));
    MOSAIC_RETURN_IF_ERROR(dst->Append({src->data() + off, n}));
  }
  MOSAIC_RETURN_IF_ERROR(dst->Sync());
  return dst->Close();
}

std::string JsonTypeName(const Json& j) { return j.type_name(); }

}  // namespace

Status CollectionImpl::InitDirectory(Env* env, const std::string& dir, const std::string& name,
                                     const CollectionSchema& schema,
                                     const std::map<std::string, PayloadIndexType>& indexes,
                                     const std::string* snapshot_path) {
  MOSAIC_RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  MOSAIC_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/" + kConfigFile,
                                             ConfigJson(name, schema, indexes).dump(2) + "\n"));
  if (snapshot_path != nullptr)
    MOSAIC_RETURN_IF_ERROR(CopyFile(env, *snapshot_path, dir + "/" + SegmentName(1)));
  MOSAIC_ASSIGN_OR_RETURN(auto wal, storage::LogWriter::Create(env, dir + "/" + WalName(1)));
  MOSAIC_RETURN_IF_ERROR(wal->Close());
  MOSAIC_RETURN_IF_ERROR(WriteCurrent(env, dir, 1, snapshot_path != nullptr));
  return env->SyncDir(dir);
}

CollectionImpl::CollectionImpl(Env* env, const DbOptions& options, ThreadPool* pool,
                               std::string dir)
    : env_(env), options_(options), pool_(pool), dir_(std::move(dir)) {}

CollectionImpl::~CollectionImpl() {
  if (!wal_) return;
  // A periodic policy promises at most one interval of loss: sync what is pending on close.
  if (unsynced_ && options_.sync == SyncPolicy::kPeriodic) wal_->Sync().ok();
  wal_->Close().ok();  // nothing left to report to
}

Status CollectionImpl::SyncWal() {
  std::lock_guard<std::mutex> w(write_mu_);
  if (!unsynced_ || dropped_.load() || !wal_) return Status::OK();
  MOSAIC_RETURN_IF_ERROR(wal_->Sync());
  unsynced_ = false;
  last_sync_ = std::chrono::steady_clock::now();
  return Status::OK();
}

Result<std::shared_ptr<CollectionImpl>> CollectionImpl::Open(Env* env, const DbOptions& options,
                                                             ThreadPool* pool,
                                                             const std::string& dir) {
  std::shared_ptr<CollectionImpl> c(new CollectionImpl(env, options, pool, dir));
  MOSAIC_RETURN_IF_ERROR(c->LoadConfig());

  MOSAIC_ASSIGN_OR_RETURN(std::string cur_text, env->ReadFile(dir + "/" + kCurrentFile));
  Json cur = Json::parse(cur_text, nullptr, false);
  if (cur.is_discarded() || !cur.is_object() || !cur.contains("generation") ||
      !cur["generation"].is_number_unsigned() || !cur.contains("wal") || !cur["wal"].is_string())
    return Status::Corruption(dir + "/CURRENT is not valid: " + cur_text.substr(0, 200));
  c->generation_ = cur["generation"].get<uint64_t>();

  std::unique_ptr<storage::Segment> segment;
  if (cur.contains("segment") && cur["segment"].is_string()) {
    MOSAIC_ASSIGN_OR_RETURN(segment, storage::Segment::Open(
                                         env, dir + "/" + cur["segment"].get<std::string>()));
  }
  c->last_lsn_ = segment ? segment->last_lsn() : 0;
  MOSAIC_ASSIGN_OR_RETURN(auto state, c->LoadState(std::move(segment), c->generation_));

  std::string wal_path = dir + "/" + cur["wal"].get<std::string>();
  uint64_t valid_end = 0;
  MOSAIC_RETURN_IF_ERROR(c->Replay(wal_path, state.get(), &valid_end));
  MOSAIC_RETURN_IF_ERROR(c->IndexPending(state.get()));
  MOSAIC_ASSIGN_OR_RETURN(c->wal_, storage::LogWriter::Reopen(env, wal_path, valid_end));
  c->state_ = std::move(state);
  c->last_sync_ = std::chrono::steady_clock::now();
  c->RemoveUnusedFiles();
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
      if (loaded.ok() && (*loaded)->size() == col.present.Count()) {
        col.hnsw = std::move(loaded).value();
        continue;
      }
      std::fprintf(stderr, "mosaic: collection '%s', vector '%s': %s; rebuilding the graph\n",
                   name_.c_str(), schema_.vectors[v].name.c_str(),
                   loaded.ok() ? "graph does not match the segment"
                               : loaded.status().ToString().c_str());
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

Status CollectionImpl::Replay(const std::string& wal_path, State* state, uint64_t* valid_end) {
  MOSAIC_ASSIGN_OR_RETURN(std::string data, env_->ReadFile(wal_path));
  storage::LogReader reader(data, wal_path);
  MOSAIC_RETURN_IF_ERROR(reader.ReadHeader());
  for (;;) {
    uint8_t type;
    std::string_view payload;
    MOSAIC_ASSIGN_OR_RETURN(auto outcome, reader.Next(&type, &payload));
    if (outcome != storage::LogReader::Outcome::kRecord) {
      if (outcome == storage::LogReader::Outcome::kTornTail)
        std::fprintf(stderr, "mosaic: %s: dropping a torn last record (%zu bytes at offset %" PRIu64
                             ") left by an interrupted write\n",
                     wal_path.c_str(), data.size() - static_cast<size_t>(reader.valid_end()),
                     reader.valid_end());
      break;
    }
    auto op = DecodeOperation(type, payload, dims_);
    if (!op.ok())
      return op.status().WithContext(wal_path + " at offset " +
                                     std::to_string(reader.valid_end() - payload.size() - 9));
    if (op->lsn <= last_lsn_) continue;  // already in the segment
    Apply(*op, state);
    last_lsn_ = op->lsn;
  }
  *valid_end = reader.valid_end();
  return Status::OK();
}

void CollectionImpl::RemoveUnusedFiles() {
  auto children = env_->GetChildren(dir_);
  if (!children.ok()) return;
  const std::string seg = SegmentName(generation_), wal = WalName(generation_);
  for (const auto& f : *children) {
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

// ---------------------------------------------------------------------------------------------
// Writes

Result<LoggedPoint> CollectionImpl::ValidatePoint(const Point& p, size_t index) const {
  auto where = [&] { return "point " + p.id.ToString() + " (#" + std::to_string(index) + ")"; };
  if (!p.id.is_num() && p.id.str().empty())
    return Status::InvalidArgument(where() + ": id must not be an empty string");
  LoggedPoint lp;
  lp.id = p.id;
  for (const auto& [name, values] : p.vectors) {
    const VectorSpec* spec = schema_.Find(name);
    if (spec == nullptr) {
      std::string names;
      for (const auto& v : schema_.vectors) names += (names.empty() ? "" : ", ") + v.name;
      return Status::InvalidArgument(where() + ": unknown vector '" + name + "'; collection '" +
                                     name_ + "' has: " + names);
    }
    if (values.size() != spec->dim)
      return Status::InvalidArgument(where() + ": vector '" + name + "' has " +
                                     std::to_string(values.size()) + " dims, collection '" +
                                     name_ + "' expects " + std::to_string(spec->dim));
    for (size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i]))
        return Status::InvalidArgument(where() + ": vector '" + name + "' has " +
                                       (std::isnan(values[i]) ? "NaN" : "Inf") + " at index " +
                                       std::to_string(i));
    std::vector<float> stored = values;
    if (spec->metric == Metric::kCosine) {
      double norm = std::sqrt(static_cast<double>(simd::NormSqr(stored.data(), stored.size())));
      if (!(norm > 0))
        return Status::InvalidArgument(where() + ": vector '" + name +
                                       "' has zero norm; the cosine metric needs a non-zero vector");
      for (float& x : stored) x = static_cast<float>(x / norm);
    }
    uint32_t pos = static_cast<uint32_t>(spec - schema_.vectors.data());
    lp.vectors.emplace_back(pos, std::move(stored));
  }
  if (p.payload.is_null()) {
    lp.payload = Json::object();
  } else if (!p.payload.is_object()) {
    return Status::InvalidArgument(where() + ": payload must be a JSON object, got " +
                                   JsonTypeName(p.payload));
  } else {
    lp.payload = p.payload;
  }
  return lp;
}

Status CollectionImpl::Commit(Operation op) {
  op.lsn = last_lsn_ + 1;
  std::string data = EncodeOperation(op);
  MOSAIC_RETURN_IF_ERROR(wal_->AddRecord(static_cast<uint8_t>(op.type), data));
  bool sync = options_.sync == SyncPolicy::kAlways;
  auto now = std::chrono::steady_clock::now();
  if (options_.sync == SyncPolicy::kPeriodic &&
      now - last_sync_ >= std::chrono::milliseconds(options_.sync_interval_ms))
    sync = true;
  if (sync) {
    MOSAIC_RETURN_IF_ERROR(wal_->Sync());
    last_sync_ = now;
    unsynced_ = false;
  } else {
    unsynced_ = true;
  }
  last_lsn_ = op.lsn;
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    Apply(op, state_.get());
  }
  // Graph inserts are the slow part of a write: they run while searches go on.
  if (Status ix = IndexPending(state_.get()); !ix.ok())
    return ix.WithContext("indexing (the write itself is durable and will be indexed on reopen)");
  Status s = MaybeFlushOrCompact();
  if (!s.ok())  // the write itself is durable; the rewrite is retried on the next write
    std::fprintf(stderr, "mosaic: collection '%s': background rewrite failed: %s\n",
                 name_.c_str(), s.ToString().c_str());
  return Status::OK();
}

void CollectionImpl::RetireSlot(State* s, uint32_t slot) const {
  s->live.Reset(slot);
  for (auto& col : s->columns) {
    col.searchable.Reset(slot);
    if (col.hnsw) col.hnsw->Remove(slot);
  }
  s->payload_index->Erase(slot, s->payloads[slot]);
  s->payloads[slot] = Json();
  s->deleted_pending++;
}

void CollectionImpl::Apply(const Operation& op, State* s) const {
  auto for_each_existing = [&](auto&& fn) {
    for (const auto& id : op.ids) {
      auto it = s->id_to_slot.find(id);
      if (it != s->id_to_slot.end()) fn(it);
    }
  };
  switch (op.type) {
    case OpType::kReplace:
    case OpType::kUpsert:
      for (const auto& id : op.ids) {  // kReplace's deletes (empty for kUpsert)
        auto it = s->id_to_slot.find(id);
        if (it == s->id_to_slot.end()) continue;
        RetireSlot(s, it->second);
        s->id_to_slot.erase(it);
      }
      for (const auto& p : op.points) {
        auto it = s->id_to_slot.find(p.id);
        if (it != s->id_to_slot.end()) RetireSlot(s, it->second);
        const uint32_t slot = static_cast<uint32_t>(s->ids.size());
        s->ids.push_back(p.id);
        s->payloads.push_back(p.payload);
        s->live.Resize(slot + 1);
        s->live.Set(slot);
        for (size_t v = 0; v < s->columns.size(); ++v) {
          Column& col = s->columns[v];
          col.present.Resize(slot + 1);
          col.searchable.Resize(slot + 1);
          const float* row = nullptr;
          for (const auto& [pos, values] : p.vectors)
            if (pos == v) row = values.data();
          col.tail.Append(row);
          if (row != nullptr) {
            col.present.Set(slot);
            col.searchable.Set(slot);
            if (col.hnsw) col.unindexed.push_back(slot);
          }
        }
        s->payload_index->Insert(slot, s->payloads[slot]);
        s->id_to_slot[p.id] = slot;
      }
      break;
    case OpType::kDelete:
      for (const auto& id : op.ids) {
        auto it = s->id_to_slot.find(id);
        if (it == s->id_to_slot.end()) continue;
        RetireSlot(s, it->second);
        s->id_to_slot.erase(it);
      }
      break;
    case OpType::kSetPayload:
    case OpType::kOverwritePayload:
    case OpType::kDeletePayloadKeys:
      for_each_existing([&](auto it) {
        Json& payload = s->payloads[it->second];
        s->payload_index->Erase(it->second, payload);
        if (op.type == OpType::kSetPayload) {
          payload.update(op.payload);
        } else if (op.type == OpType::kOverwritePayload) {
          payload = op.payload;
        } else {
          for (const auto& k : op.keys) payload.erase(k);
        }
        s->payload_index->Insert(it->second, payload);
      });
      break;
  }
}

Status CollectionImpl::ValidatePoints(std::span<const Point> points, Operation* op) const {
  op->points.reserve(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(LoggedPoint lp, ValidatePoint(points[i], i));
    op->points.push_back(std::move(lp));
  }
  return Status::OK();
}

Status CollectionImpl::Upsert(std::span<const Point> points) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (points.empty()) return Status::OK();
  Operation op;
  op.type = OpType::kUpsert;
  MOSAIC_RETURN_IF_ERROR(ValidatePoints(points, &op));
  return Commit(std::move(op));
}

Status CollectionImpl::Replace(std::span<const PointId> remove, std::span<const Point> points) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  Operation op;
  op.type = OpType::kReplace;
  MOSAIC_RETURN_IF_ERROR(ValidatePoints(points, &op));
  // Only existing ids that the upsert does not overwrite anyway need logging.
  std::unordered_set<PointId, PointIdHash> upserted;
  for (const auto& p : points) upserted.insert(p.id);
  for (const auto& id : remove)  // only this writer changes state_, so reading it here is safe
    if (state_->id_to_slot.count(id) && !upserted.count(id)) op.ids.push_back(id);
  std::sort(op.ids.begin(), op.ids.end());
  op.ids.erase(std::unique(op.ids.begin(), op.ids.end()), op.ids.end());
  if (op.ids.empty() && op.points.empty()) return Status::OK();
  if (op.ids.empty()) op.type = OpType::kUpsert;
  return Commit(std::move(op));
}

Result<uint64_t> CollectionImpl::Delete(std::span<const PointId> ids) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  Operation op;
  op.type = OpType::kDelete;
  for (const auto& id : ids)  // only this writer changes state_, so reading it here is safe
    if (state_->id_to_slot.count(id)) op.ids.push_back(id);
  std::sort(op.ids.begin(), op.ids.end());
  op.ids.erase(std::unique(op.ids.begin(), op.ids.end()), op.ids.end());
  uint64_t n = op.ids.size();
  if (n == 0) return uint64_t{0};
  MOSAIC_RETURN_IF_ERROR(Commit(std::move(op)));
  return n;
}

Result<uint64_t> CollectionImpl::DeleteByFilter(const Filter& filter) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  Operation op;
  op.type = OpType::kDelete;
  for (uint32_t slot : FilterSlots(*state_, filter)) op.ids.push_back(state_->ids[slot]);
  uint64_t n = op.ids.size();
  if (n == 0) return uint64_t{0};
  MOSAIC_RETURN_IF_ERROR(Commit(std::move(op)));
  return n;
}

namespace {
Status CheckIdsExist(const std::map<PointId, uint32_t>& id_to_slot, std::span<const PointId> ids,
                     const std::string& collection) {
  for (const auto& id : ids)
    if (!id_to_slot.count(id))
      return Status::NotFound("point " + id.ToString() + " not found in collection '" +
                              collection + "'");
  return Status::OK();
}
}  // namespace

Status CollectionImpl::SetPayload(std::span<const PointId> ids, const Json& patch) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (!patch.is_object())
    return Status::InvalidArgument("payload patch must be a JSON object, got " + JsonTypeName(patch));
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kSetPayload;
  op.ids.assign(ids.begin(), ids.end());
  op.payload = patch;
  return Commit(std::move(op));
}

Status CollectionImpl::OverwritePayload(std::span<const PointId> ids, const Json& payload) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (!payload.is_object())
    return Status::InvalidArgument("payload must be a JSON object, got " + JsonTypeName(payload));
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kOverwritePayload;
  op.ids.assign(ids.begin(), ids.end());
  op.payload = payload;
  return Commit(std::move(op));
}

Status CollectionImpl::DeletePayloadKeys(std::span<const PointId> ids,
                                         std::span<const std::string> keys) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kDeletePayloadKeys;
  op.ids.assign(ids.begin(), ids.end());
  op.keys.assign(keys.begin(), keys.end());
  return Commit(std::move(op));
}

Status CollectionImpl::CreatePayloadIndex(const std::string& field, PayloadIndexType type) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (field.empty()) return Status::InvalidArgument("payload index field must not be empty");
  auto it = index_defs_.find(field);
  if (it != index_defs_.end()) {
    if (it->second == type) return Status::OK();
    return Status::AlreadyExists("field '" + field + "' already has a " +
                                 PayloadIndexTypeName(it->second) + " index");
  }
  index_defs_[field] = type;
  Status s = SaveConfig();
  if (!s.ok()) {
    index_defs_.erase(field);
    return s;
  }
  auto fresh = std::make_unique<index::PayloadIndexSet>();
  for (const auto& [f, t] : index_defs_) MOSAIC_RETURN_IF_ERROR(fresh->Create(f, t));
  state_->live.ForEach([&](size_t slot) {
    fresh->Insert(static_cast<uint32_t>(slot), state_->payloads[slot]);
  });
  std::unique_lock<std::shared_mutex> l(state_mu_);
  state_->payload_index = std::move(fresh);
  return Status::OK();
}

Status CollectionImpl::DropPayloadIndex(const std::string& field) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  auto it = index_defs_.find(field);
  if (it == index_defs_.end())
    return Status::NotFound("no payload index on field '" + field + "'");
  PayloadIndexType old = it->second;
  index_defs_.erase(it);
  Status s = SaveConfig();
  if (!s.ok()) {
    index_defs_[field] = old;
    return s;
  }
  std::unique_lock<std::shared_mutex> l(state_mu_);
  return state_->payload_index->Drop(field);
}

// ---------------------------------------------------------------------------------------------
// Flush, compaction, snapshots

Status CollectionImpl::MaybeFlushOrCompact() {
  if (wal_->size() > options_.wal_flush_bytes) return Rewrite();
  uint64_t deleted = state_->deleted_pending;
  if (deleted >= kMinDeletedForCompaction &&
      static_cast<double>(deleted) > options_.compact_deleted_ratio * state_->ids.size())
    return Rewrite();
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
  c.payload = [&](size_t i) -> const Json& { return s.payloads[slots[i]]; };
  c.vector = [&](size_t i, size_t v) -> const float* {
    return s.columns[v].present.Test(slots[i]) ? Row(s, v, slots[i]) : nullptr;
  };
  return storage::WriteSegment(env_, path, c);
}

Status CollectionImpl::Rewrite() {
  const uint64_t gen = generation_ + 1;
  const std::string seg_path = dir_ + "/" + SegmentName(gen);
  const std::string wal_path = dir_ + "/" + WalName(gen);
  auto cleanup = [&] {
    env_->RemoveFile(seg_path + ".tmp").ok();
    env_->RemoveFile(seg_path).ok();
    env_->RemoveFile(wal_path).ok();
    for (size_t v = 0; v < dims_.size(); ++v) env_->RemoveFile(GraphPath(gen, v)).ok();
  };
  // Only writers change state_, and we hold write_mu_: readers may go on meanwhile.
  Status s = WriteLiveSegment(*state_, seg_path + ".tmp");
  if (s.ok()) s = env_->RenameFile(seg_path + ".tmp", seg_path);
  // Graphs follow the points to their new slots (live points keep their order) and are saved
  // next to the new segment, so it opens without a rebuild.
  if (s.ok()) s = SaveRemappedGraphs(*state_, gen);
  Result<std::unique_ptr<storage::LogWriter>> wal = Status::Internal("not created");
  if (s.ok()) wal = storage::LogWriter::Create(env_, wal_path);
  if (s.ok()) s = wal.status();
  Result<std::unique_ptr<State>> fresh = Status::Internal("not loaded");
  if (s.ok()) {
    auto seg = storage::Segment::Open(env_, seg_path);
    s = seg.status();
    if (s.ok()) fresh = LoadState(std::move(seg).value(), gen);
    if (s.ok()) s = fresh.status();
  }
  if (s.ok()) s = env_->SyncDir(dir_);
  // CURRENT is the commit point: before it, the old files are the collection.
  if (s.ok()) s = WriteCurrent(env_, dir_, gen, true);
  if (!s.ok()) {
    cleanup();
    return s.WithContext("rewriting collection '" + name_ + "'");
  }
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    state_ = std::move(fresh).value();
  }
  wal_->Close().ok();  // superseded
  wal_ = std::move(wal).value();
  unsynced_ = false;  // everything is in the synced segment
  generation_ = gen;
  RemoveUnusedFiles();
  return Status::OK();
}

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

Status CollectionImpl::SaveRemappedGraphs(const State& s, uint64_t gen) const {
  std::vector<int64_t> old_to_new(s.ids.size(), -1);
  std::vector<uint32_t> new_to_old;
  s.live.ForEach([&](size_t slot) {
    old_to_new[slot] = static_cast<int64_t>(new_to_old.size());
    new_to_old.push_back(static_cast<uint32_t>(slot));
  });
  for (size_t v = 0; v < s.columns.size(); ++v) {
    const Column& col = s.columns[v];
    if (!col.hnsw) continue;
    RenumberedRows rows(col.rows.get(), &new_to_old);
    std::unique_ptr<index::HnswIndex> remapped = col.hnsw->Remap(old_to_new, &rows, pool_);
    MOSAIC_RETURN_IF_ERROR(remapped->Save(env_, GraphPath(gen, v)));
  }
  return Status::OK();
}

Status CollectionImpl::Flush() {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  bool wal_empty = wal_->size() <= storage::kLogFileHeaderSize;
  if (wal_empty && state_->deleted_pending == 0) return Status::OK();
  return Rewrite();
}

Status CollectionImpl::Compact() {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  return Rewrite();
}

Status CollectionImpl::WriteSnapshot(const std::string& path) const {
  std::lock_guard<std::mutex> w(write_mu_);  // a consistent view: no write meanwhile
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::string tmp = path + ".tmp";
  Status s = WriteLiveSegment(*state_, tmp);
  if (s.ok()) s = env_->RenameFile(tmp, path);
  if (!s.ok()) env_->RemoveFile(tmp).ok();
  return s;
}

void CollectionImpl::MarkDropped() {
  std::lock_guard<std::mutex> w(write_mu_);
  dropped_ = true;
  if (wal_) wal_->Close().ok();
}

// ---------------------------------------------------------------------------------------------
// Reads

const float* CollectionImpl::Row(const State& s, size_t v, uint32_t slot) const {
  const Column& col = s.columns[v];
  if (slot < col.base_rows) return col.base + size_t{slot} * dims_[v];
  return col.tail.Row(size_t{slot} - col.base_rows);
}

std::vector<index::VectorBlock> CollectionImpl::Blocks(const Column& col) {
  std::vector<index::VectorBlock> blocks;
  if (col.base_rows > 0) blocks.push_back({col.base, 0, static_cast<uint32_t>(col.base_rows)});
  col.tail.ForEachBlock([&](const float* rows, size_t first, size_t n) {
    blocks.push_back({rows, static_cast<uint32_t>(col.base_rows + first), static_cast<uint32_t>(n)});
  });
  return blocks;
}

Point CollectionImpl::MakePoint(const State& s, uint32_t slot, bool with_payload,
                                bool with_vectors) const {
  Point p;
  p.id = s.ids[slot];
  if (with_payload) p.payload = s.payloads[slot];
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
  auto id_to_slot = [&](const PointId& id) -> std::optional<uint32_t> {
    auto it = s.id_to_slot.find(id);
    if (it == s.id_to_slot.end()) return std::nullopt;
    return it->second;
  };
  auto candidates = s.payload_index->Candidates(f.root(), id_to_slot);
  auto check = [&](uint32_t slot) {
    if (s.live.Test(slot) && f.Matches(s.ids[slot], s.payloads[slot])) out.push_back(slot);
  };
  if (candidates) {
    for (uint32_t slot : *candidates)
      if (slot < s.ids.size()) check(slot);
  } else {
    s.live.ForEach([&](size_t slot) { check(static_cast<uint32_t>(slot)); });
  }
  return out;
}

Result<std::vector<Point>> CollectionImpl::Get(std::span<const PointId> ids, bool with_payload,
                                               bool with_vectors) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  std::vector<Point> out;
  for (const auto& id : ids) {
    auto it = state_->id_to_slot.find(id);
    if (it != state_->id_to_slot.end())
      out.push_back(MakePoint(*state_, it->second, with_payload, with_vectors));
  }
  return out;
}

Result<uint64_t> CollectionImpl::Count(const Filter* filter) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  if (filter == nullptr) return uint64_t{state_->id_to_slot.size()};
  return uint64_t{FilterSlots(*state_, *filter).size()};
}

Result<ScrollPage> CollectionImpl::Scroll(const ScrollRequest& r) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (r.limit == 0 || r.limit > kMaxLimit)
    return Status::InvalidArgument("scroll limit must be between 1 and " +
                                   std::to_string(kMaxLimit) + ", got " + std::to_string(r.limit));
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  ScrollPage page;
  auto it = r.offset ? s.id_to_slot.lower_bound(*r.offset) : s.id_to_slot.begin();
  for (; it != s.id_to_slot.end(); ++it) {
    if (r.filter && !r.filter->Matches(it->first, s.payloads[it->second])) continue;
    if (page.points.size() == r.limit) {
      page.next_offset = it->first;
      break;
    }
    page.points.push_back(MakePoint(s, it->second, r.with_payload, r.with_vectors));
  }
  return page;
}

Result<std::pair<size_t, std::vector<float>>> CollectionImpl::PrepareQuery(
    const SearchRequest& r) const {
  const VectorSpec* spec =
      r.vector_name.empty() ? &schema_.vectors[0] : schema_.Find(r.vector_name);
  if (spec == nullptr)
    return Status::InvalidArgument("collection '" + name_ + "' has no vector named '" +
                                   r.vector_name + "'");
  if (r.limit == 0 || r.limit > kMaxLimit || r.offset > kMaxLimit)
    return Status::InvalidArgument("search limit must be between 1 and " +
                                   std::to_string(kMaxLimit) + " and offset at most " +
                                   std::to_string(kMaxLimit) + ", got limit " +
                                   std::to_string(r.limit) + ", offset " + std::to_string(r.offset));
  if (r.vector.size() != spec->dim)
    return Status::InvalidArgument("query vector has " + std::to_string(r.vector.size()) +
                                   " dims, vector '" + spec->name + "' of collection '" + name_ +
                                   "' expects " + std::to_string(spec->dim));
  for (size_t i = 0; i < r.vector.size(); ++i)
    if (!std::isfinite(r.vector[i]))
      return Status::InvalidArgument(std::string("query vector has ") +
                                     (std::isnan(r.vector[i]) ? "NaN" : "Inf") + " at index " +
                                     std::to_string(i));
  std::vector<float> q = r.vector;
  if (spec->metric == Metric::kCosine) {
    double norm = std::sqrt(static_cast<double>(simd::NormSqr(q.data(), q.size())));
    if (!(norm > 0))
      return Status::InvalidArgument("query vector has zero norm; the cosine metric needs a "
                                     "non-zero vector");
    for (float& x : q) x = static_cast<float>(x / norm);
  }
  return std::make_pair(static_cast<size_t>(spec - schema_.vectors.data()), std::move(q));
}

namespace {

// Applies offset, limit and score_threshold to sorted hits; returns (slot, score) pairs.
std::vector<std::pair<uint32_t, float>> Rank(const std::vector<index::Neighbor>& hits,
                                             Metric metric, const SearchRequest& r) {
  std::vector<std::pair<uint32_t, float>> out;
  for (size_t i = r.offset; i < hits.size() && out.size() < r.limit; ++i) {
    float score = metric == Metric::kL2 ? std::sqrt(std::max(0.0f, hits[i].distance))
                                        : -hits[i].distance;
    if (r.score_threshold) {
      bool worse = metric == Metric::kL2 ? score > *r.score_threshold : score < *r.score_threshold;
      if (worse) break;  // hits are sorted best first
    }
    out.emplace_back(hits[i].slot, score);
  }
  return out;
}

}  // namespace

ScoredPoint CollectionImpl::MakeHit(const State& s, size_t v, uint32_t slot, float score,
                                    const SearchRequest& r) const {
  ScoredPoint sp;
  sp.id = s.ids[slot];
  sp.score = score;
  if (r.with_payload) sp.payload = s.payloads[slot];
  if (r.with_vectors) {
    const float* row = Row(s, v, slot);
    sp.vectors[schema_.vectors[v].name].assign(row, row + dims_[v]);
  }
  return sp;
}

Result<std::vector<ScoredPoint>> CollectionImpl::SearchLocked(const State& s,
                                                              const SearchRequest& r,
                                                              ThreadPool* pool) const {
  MOSAIC_ASSIGN_OR_RETURN(auto prepared, PrepareQuery(r));
  const size_t v = prepared.first;
  const std::vector<float>& q = prepared.second;
  const Metric metric = schema_.vectors[v].metric;
  const Column& col = s.columns[v];
  const size_t k = r.offset + r.limit;
  std::vector<index::Neighbor> hits;

  const std::vector<index::VectorBlock> blocks = Blocks(col);

  const bool use_graph = col.hnsw != nullptr && !r.exact;
  index::IndexSearchParams graph_params;
  graph_params.ef = r.ef;
  if (r.filter) {
    std::vector<uint32_t> slots = FilterSlots(s, *r.filter);
    std::erase_if(slots, [&](uint32_t slot) { return !col.present.Test(slot); });
    // The planner. The filter's survivors are known exactly, so the choice is by their count:
    // few survivors are scored exactly (cheaper than a graph walk that must skip most nodes, and
    // recall 1.0); many go through the graph with the survivors as its allow-set (the graph
    // widens its beam as the allowed share falls). Without a graph: visit just the surviving
    // rows when they are under half the points, else scan everything with an allow-set.
    const size_t exact_limit = std::max<size_t>(kExactSurvivorsMin, s.ids.size() / 10);
    if (use_graph && slots.size() > exact_limit) {
      Bitset allow(s.ids.size());
      for (uint32_t slot : slots) allow.Set(slot);
      hits = col.hnsw->Search(q.data(), k, graph_params, &allow);
    } else if (slots.size() * 2 < s.ids.size()) {
      hits = index::FlatSearchSlots(
          slots, [&](uint32_t slot) { return Row(s, v, slot); }, dims_[v], metric, q.data(), k);
    } else {
      Bitset allow(s.ids.size());
      for (uint32_t slot : slots) allow.Set(slot);
      std::vector<std::vector<index::Neighbor>> out;
      index::FlatSearch(blocks, dims_[v], metric, q.data(), 1, k, &allow, pool, &out);
      hits = std::move(out[0]);
    }
  } else if (use_graph) {
    hits = col.hnsw->Search(q.data(), k, graph_params, nullptr);
  } else {
    std::vector<std::vector<index::Neighbor>> out;
    index::FlatSearch(blocks, dims_[v], metric, q.data(), 1, k, &col.searchable, pool, &out);
    hits = std::move(out[0]);
  }
  std::vector<ScoredPoint> result;
  for (auto [slot, score] : Rank(hits, metric, r)) result.push_back(MakeHit(s, v, slot, score, r));
  return result;
}

Result<std::vector<ScoredPoint>> CollectionImpl::Search(const SearchRequest& request) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  return SearchLocked(*state_, request, nullptr);
}

Result<std::vector<std::vector<ScoredPoint>>> CollectionImpl::SearchBatch(
    std::span<const SearchRequest> requests) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  std::vector<std::vector<ScoredPoint>> results(requests.size());

  // Unfiltered requests on the same vector share one blocked scan over the data.
  std::map<size_t, std::vector<size_t>> by_vector;
  std::vector<size_t> others;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto prepared = PrepareQuery(requests[i]);
    if (!prepared.ok()) return prepared.status().WithContext("request " + std::to_string(i));
    const bool graph = s.columns[prepared->first].hnsw != nullptr && !requests[i].exact;
    if (requests[i].filter || graph)
      others.push_back(i);
    else
      by_vector[prepared->first].push_back(i);
  }
  for (const auto& [v, idx] : by_vector) {
    const Column& col = s.columns[v];
    const Metric metric = schema_.vectors[v].metric;
    std::vector<float> queries;
    size_t k = 0;
    for (size_t i : idx) {
      auto prepared = PrepareQuery(requests[i]);
      queries.insert(queries.end(), prepared->second.begin(), prepared->second.end());
      k = std::max(k, requests[i].offset + requests[i].limit);
    }
    const std::vector<index::VectorBlock> blocks = Blocks(col);
    std::vector<std::vector<index::Neighbor>> out;
    index::FlatSearch(blocks, dims_[v], metric, queries.data(), idx.size(), k, &col.searchable,
                      pool_, &out);
    for (size_t j = 0; j < idx.size(); ++j) {
      const SearchRequest& r = requests[idx[j]];
      for (auto [slot, score] : Rank(out[j], metric, r))
        results[idx[j]].push_back(MakeHit(s, v, slot, score, r));
    }
  }
  std::vector<Status> errors(requests.size());
  auto run = [&](size_t b, size_t e) {
    for (size_t j = b; j < e; ++j) {
      auto res = SearchLocked(s, requests[others[j]], nullptr);
      if (res.ok())
        results[others[j]] = std::move(res).value();
      else
        errors[others[j]] = res.status();
    }
  };
  if (pool_ != nullptr)
    pool_->ParallelFor(others.size(), run);
  else
    run(0, others.size());
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].ok()) return errors[i].WithContext("request " + std::to_string(i));
  return results;
}

Result<std::vector<ScoredPoint>> CollectionImpl::SearchText(const TextSearchRequest& r) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (r.fields.empty()) return Status::InvalidArgument("text search needs at least one field");
  if (!(r.k1 >= 0) || !(r.b >= 0 && r.b <= 1))
    return Status::InvalidArgument("BM25 parameters out of range: k1 = " + std::to_string(r.k1) +
                                   " (>= 0), b = " + std::to_string(r.b) + " (0..1)");
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  index::ScoreAccumulator scores(s.ids.size());
  for (const std::string& spec : r.fields) {
    // "field^weight": the field's scores times weight.
    std::string field = spec;
    float weight = 1;
    if (size_t caret = spec.rfind('^'); caret != std::string::npos) {
      field = spec.substr(0, caret);
      const std::string w = spec.substr(caret + 1);
      char* end = nullptr;
      weight = std::strtof(w.c_str(), &end);
      if (w.empty() || *end != '\0' || !(weight > 0) || !std::isfinite(weight))
        return Status::InvalidArgument("field weight must be a positive number: '" + spec + "'");
    }
    MOSAIC_RETURN_IF_ERROR(s.payload_index->ScoreText(field, r.query, r.k1, r.b, weight, &scores));
  }
  std::vector<std::pair<uint32_t, float>> hits;
  hits.reserve(scores.touched.size());
  std::optional<std::vector<uint32_t>> allowed;
  if (r.filter) allowed = FilterSlots(s, *r.filter);  // sorted
  for (uint32_t slot : scores.touched) {
    if (!s.live.Test(slot)) continue;
    if (allowed && !std::binary_search(allowed->begin(), allowed->end(), slot)) continue;
    hits.emplace_back(slot, scores.score[slot]);
  }
  // Best first; ties by id, so pages are stable.
  auto better = [&](const std::pair<uint32_t, float>& a, const std::pair<uint32_t, float>& b) {
    return a.second != b.second ? a.second > b.second : s.ids[a.first] < s.ids[b.first];
  };
  const size_t k = std::min(hits.size(), r.offset + r.limit);
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(), better);
  std::vector<ScoredPoint> out;
  for (size_t i = r.offset; i < k; ++i) {
    Point p = MakePoint(s, hits[i].first, r.with_payload, r.with_vectors);
    ScoredPoint sp;
    sp.id = std::move(p.id);
    sp.score = hits[i].second;
    if (r.with_payload) sp.payload = std::move(p.payload);
    sp.vectors = std::move(p.vectors);
    out.push_back(std::move(sp));
  }
  return out;
}

CollectionInfo CollectionImpl::Info() const {
  std::lock_guard<std::mutex> w(write_mu_);
  std::shared_lock<std::shared_mutex> l(state_mu_);
  CollectionInfo info;
  info.name = name_;
  info.schema = schema_;
  info.points = state_->id_to_slot.size();
  info.deleted_pending = state_->deleted_pending;
  info.segment_bytes = state_->segment ? state_->segment->file_size() : 0;
  info.wal_bytes = wal_ ? wal_->size() : 0;
  info.payload_indexes = index_defs_;
  for (size_t v = 0; v < dims_.size(); ++v) {
    const Column& col = state_->columns[v];
    info.vector_bytes[schema_.vectors[v].name] =
        col.base_rows * dims_[v] * sizeof(float) + col.tail.MemoryBytes();
    if (col.hnsw) info.index_bytes[schema_.vectors[v].name] = col.hnsw->MemoryBytes();
  }
  return info;
}

}  // namespace mosaic::collection
