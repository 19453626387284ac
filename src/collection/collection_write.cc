// CollectionImpl writes: validation, the WAL commit, applying an operation to memory, and
// creating and dropping payload indexes.
#include "collection/collection_impl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <unordered_set>

#include "common/sync_point.h"

namespace mosaic::collection {

Result<LoggedPoint> CollectionImpl::ValidatePoint(const Point& p, size_t index) const {
  if (Status s = schema_.CheckPoint(p); !s.ok())
    return s.WithContext("point " + p.id.ToString() + " (#" + std::to_string(index) +
                         ") of collection '" + name_ + "'");
  LoggedPoint lp;
  lp.id = p.id;
  for (const auto& [name, values] : p.vectors) {
    const VectorSpec* spec = schema_.Find(name);
    std::vector<float> stored = values;
    if (spec->metric == Metric::kCosine) {
      // In double, as CheckPoint judged the norm: a float sum could underflow to 0.
      double norm_sqr = 0;
      for (float x : stored)
        norm_sqr += static_cast<double>(x) * x;
      const double norm = std::sqrt(norm_sqr);
      for (float& x : stored) x = static_cast<float>(x / norm);
    }
    uint32_t pos = static_cast<uint32_t>(spec - schema_.vectors.data());
    lp.vectors.emplace_back(pos, std::move(stored));
  }
  lp.payload = p.payload.is_null() ? Json::object() : p.payload;
  return lp;
}

CollectionImpl::WriteTurn::WriteTurn(CollectionImpl* c) : c_(c) {
  c_->AwaitTurn(&w_);  // no leader takes a WriteTurn into its group
  lock_ = std::unique_lock<std::mutex>(c_->write_mu_);
}

CollectionImpl::WriteTurn::~WriteTurn() {
  lock_.unlock();
  c_->FinishTurn(1);
}

bool CollectionImpl::AwaitTurn(Writer* w) {
  std::unique_lock<std::mutex> q(queue_mu_);
  writers_.push_back(w);
  // Under queue_mu_, so a test that counts these knows the writer is queued (its callback must
  // not call into the collection).
  sync_point::Reached("CollectionImpl::AwaitTurn:Queued");
  while (!w->done && writers_.front() != w) w->cv.wait(q);
  return !w->done;
}

std::vector<CollectionImpl::PendingWrite*> CollectionImpl::TakeGroup() {
  std::lock_guard<std::mutex> q(queue_mu_);
  std::vector<PendingWrite*> group{writers_.front()->write};
  uint64_t bytes = group[0]->record.size();
  for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
    PendingWrite* w = (*it)->write;
    // A WriteTurn waits until what is before it is applied, and everything after it waits for it.
    if (w == nullptr || bytes + w->record.size() > options_.max_write_group_bytes) break;
    bytes += w->record.size();
    group.push_back(w);
  }
  return group;
}

void CollectionImpl::FinishTurn(size_t n) {
  std::lock_guard<std::mutex> q(queue_mu_);
  for (size_t i = 0; i < n; ++i) {
    Writer* w = writers_.front();
    writers_.pop_front();
    w->done = true;
    w->cv.notify_one();  // under queue_mu_: the writer (on its own stack) outlives the call
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
}

Status CollectionImpl::CommitUpsert(Operation op) {
  PendingWrite write;
  write.record = EncodeOperation(op);  // here, not in the leader: encoding runs in parallel
  write.op = std::move(op);
  Writer w;
  w.write = &write;
  if (!AwaitTurn(&w)) return write.status;  // a leader committed it
  size_t n;
  {
    std::unique_lock<std::mutex> lock(write_mu_);
    std::vector<PendingWrite*> group = TakeGroup();
    n = group.size();
    size_t points = 0;
    for (const PendingWrite* g : group) points += g->op.points.size();
    // Merges lag behind: the group waits (the writers after it queue meanwhile), without
    // write_mu_, which a merge needs to switch in.
    if (const std::chrono::microseconds wait = WriteSlowdown(points); wait.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(wait);
      writes_slowed_.fetch_add(1, std::memory_order_relaxed);
      write_slowdown_us_.fetch_add(static_cast<uint64_t>(wait.count()), std::memory_order_relaxed);
      lock.lock();
    }
    if (Status s = CheckWritable(); !s.ok()) {
      for (PendingWrite* g : group) g->status = s;
    } else {
      CommitGroup(group);
    }
  }
  FinishTurn(n);
  return write.status;
}

Status CollectionImpl::Commit(Operation op) {
  PendingWrite write;
  write.record = EncodeOperation(op);
  write.op = std::move(op);
  PendingWrite* group[] = {&write};
  CommitGroup(group);
  return write.status;
}

void CollectionImpl::CommitGroup(std::span<PendingWrite* const> group) {
  auto fail = [](std::span<PendingWrite* const> writes, const Status& s) {
    for (PendingWrite* w : writes) w->status = s;
  };
  if (rewrite_failures_ >= kMaxRewriteFailures) {
    // The log is past its flush threshold and flushing keeps failing: retry before logging more,
    // and refuse the writes while it still fails (the log would grow without bound).
    bool deferred = false;
    Status r = MaybeFlushOrCompact(&deferred);
    if (!deferred) NoteRewrite(r);
    if (!r.ok())
      return fail(group, Status::IOError("collection '" + name_ +
                                         "' refuses writes: flushing its log failed " +
                                         std::to_string(rewrite_failures_) + " times in a row " +
                                         "(last: " + r.message() + "); the write was not made"));
  }
  // Each write is its own record with its own LSN; one whose append fails (and is rolled back)
  // fails alone, and the next takes its LSN.
  const uint64_t group_start = wal_->size();
  const size_t tail_start = seal_tail_.size();
  std::vector<PendingWrite*> logged;
  for (PendingWrite* w : group) {
    w->op.lsn = last_lsn_ + logged.size() + 1;
    SetEncodedLsn(&w->record, w->op.lsn);
    w->status = wal_->AddRecord(static_cast<uint8_t>(w->op.type), w->record);
    if (!w->status.ok()) continue;
    logged.push_back(w);
    // A flush taken and not yet committed starts the next log with the records after its points.
    if (seal_) seal_tail_.emplace_back(static_cast<uint8_t>(w->op.type), w->record);
  }
  if (logged.empty()) return;
  bool sync = options_.sync == SyncPolicy::kAlways;
  auto now = std::chrono::steady_clock::now();
  if (options_.sync == SyncPolicy::kPeriodic &&
      now - last_sync_.load() >= std::chrono::milliseconds(options_.sync_interval_ms))
    sync = true;
  if (sync) {
    if (Status synced = wal_->Sync(); !synced.ok()) {
      // Not applied, so they must not come back at a reopen either: cut the group's records out
      // of the log.
      bool cut_synced = false;
      Status cut = wal_->DiscardFrom(group_start, &cut_synced);
      std::string message = synced.message() + "; the write was not made";
      if (!cut.ok())
        message += " now but may appear after a reopen (cutting it from the log failed: " +
                   cut.message() + ")";
      else if (!cut_synced)
        message += " (a power loss may still bring it back)";
      seal_tail_.resize(tail_start);
      return fail(logged, Status::IOError(message));
    }
    last_sync_ = now;
    unsynced_ = false;
  } else {
    unsynced_ = true;
  }
  last_lsn_ = logged.back()->op.lsn;

  // Applied in log order. Upserts (and replaces) are staged first, inserted into the graphs in
  // one batch per graph while searches go on, then published with the others in one step.
  auto staged_op = [](const Operation& op) {
    return op.type == OpType::kUpsert || op.type == OpType::kReplace;
  };
  std::vector<const Operation*> staged;
  for (PendingWrite* w : logged)
    if (staged_op(w->op)) staged.push_back(&w->op);
  uint32_t first = 0;
  Status ix;
  if (!staged.empty()) {
    {
      std::unique_lock<std::shared_mutex> l(state_mu_);
      first = static_cast<uint32_t>(state_->ids.size());
      for (const Operation* op : staged) StageSlots(*op, state_.get());
    }
    sync_point::Reached("CollectionImpl::Commit:Indexing");
    // Graph inserts are the slow part of a write: they run while searches go on.
    ix = IndexStaged(staged, state_.get(), first);
    sync_point::Reached("CollectionImpl::Commit:Publishing");
  }
  // The payload indexes' work that reads nothing of them (tokenizing text) is done here, so the
  // exclusive lock below only appends to their lists.
  std::vector<std::vector<index::PayloadIndexSet::Prepared>> prepared(staged.size());
  for (size_t k = 0; k < staged.size(); ++k)
    for (const LoggedPoint& p : staged[k]->points)
      prepared[k].push_back(state_->payload_index.Prepare(p.payload));
  {
    std::unique_lock<std::shared_mutex> l(state_mu_);
    uint32_t slot = first;
    size_t k = 0;
    for (PendingWrite* w : logged) {
      if (staged_op(w->op)) {
        PublishSlots(w->op, state_.get(), slot, prepared[k++]);
        slot += static_cast<uint32_t>(w->op.points.size());
      } else {
        Apply(w->op, state_.get());
      }
    }
  }
  if (!ix.ok()) {
    Status err =
        ix.WithContext("indexing (the write itself is durable and will be indexed on reopen)");
    for (PendingWrite* w : logged)
      if (staged_op(w->op)) w->status = err;
    return;
  }
  // The writes themselves are durable; a failed rewrite is retried on the next write, reported by
  // Info() and, once it keeps failing, refuses writes (above).
  bool deferred = false;
  Status r = MaybeFlushOrCompact(&deferred);
  if (!deferred) NoteRewrite(r);
}

void CollectionImpl::NoteRewrite(const Status& s) {
  if (s.ok()) {
    rewrite_failures_ = 0;
    rewrite_error_ = Status::OK();
    return;
  }
  ++rewrite_failures_;
  rewrite_error_ = s;
  std::fprintf(stderr, "mosaic: collection '%s': background flush failed (%d in a row): %s\n",
               name_.c_str(), rewrite_failures_, s.ToString().c_str());
}

void CollectionImpl::RetireSlot(State* s, uint32_t slot) const {
  s->live.Reset(slot);
  for (auto& col : s->columns) {
    col.searchable.Reset(slot);
    const Part& part = col.PartOf(slot);
    if (part.hnsw) part.hnsw->Remove(slot - part.first);
  }
  if (slot < s->sealed) s->overridden.Reset(slot);
  Json scratch;
  s->payload_index.Erase(slot, s->payloads.Get(slot, &scratch));
  s->payloads.Set(slot, Json());
  s->deleted_pending++;
}

void CollectionImpl::Apply(const Operation& op, State* s) const {
  auto for_each_existing = [&](auto&& fn) {
    for (const auto& id : op.ids)
      if (auto slot = s->id_to_slot.Find(id)) fn(*slot);
  };
  switch (op.type) {
    case OpType::kReplace:
    case OpType::kUpsert: {
      const uint32_t first = StageSlots(op, s);
      PublishSlots(op, s, first);
      for (uint32_t slot = first; slot < s->ids.size(); ++slot)
        for (Column& col : s->columns)
          if (col.parts[0]->hnsw && col.present.Test(slot)) col.unindexed.push_back(slot);
      break;
    }
    case OpType::kDelete:
      for (const auto& id : op.ids)
        if (auto slot = s->id_to_slot.Erase(id)) RetireSlot(s, *slot);
      break;
    case OpType::kSetPayload:
    case OpType::kOverwritePayload:
    case OpType::kDeletePayloadKeys:
      for_each_existing([&](uint32_t slot) {
        Json payload = s->payloads.Copy(slot);
        s->payload_index.Erase(slot, payload);
        if (op.type == OpType::kSetPayload) {
          payload.update(op.payload);
        } else if (op.type == OpType::kOverwritePayload) {
          payload = op.payload;
        } else {
          for (const auto& k : op.keys) payload.erase(k);
        }
        s->payload_index.Insert(slot, payload);
        s->payloads.Set(slot, std::move(payload));
        if (slot < s->sealed) s->overridden.Set(slot);  // for the next delta
        if (slot < s->merge_changed.size()) s->merge_changed.Set(slot);
      });
      break;
  }
}

// The vector of `p` stored in column `v`, or null.
static const float* VectorFor(const LoggedPoint& p, size_t v) {
  for (const auto& [pos, values] : p.vectors)
    if (pos == v) return values.data();
  return nullptr;
}

uint32_t CollectionImpl::StageSlots(const Operation& op, State* s) const {
  const uint32_t first = static_cast<uint32_t>(s->ids.size());
  for (const auto& p : op.points) {
    s->ids.push_back(p.id);
    s->payloads.Append(p.payload);
    for (size_t v = 0; v < s->columns.size(); ++v)
      s->columns[v].growing().tail.Append(VectorFor(p, v));
  }
  // Every per-slot bitset covers the new slots, all clear: no reader sees them yet.
  const size_t n = s->ids.size();
  s->live.Resize(n);
  for (Column& col : s->columns) {
    col.present.Resize(n);
    col.searchable.Resize(n);
  }
  s->staged += op.points.size();
  return first;
}

Status CollectionImpl::IndexStaged(std::span<const Operation* const> ops, State* s,
                                   uint32_t first) const {
  for (size_t v = 0; v < s->columns.size(); ++v) {
    const Part& growing = s->columns[v].growing();  // holds every staged slot
    if (!growing.hnsw) continue;
    std::vector<uint32_t> local;
    uint32_t slot = first;
    for (const Operation* op : ops)
      for (const LoggedPoint& p : op->points) {
        if (VectorFor(p, v) != nullptr) local.push_back(slot - growing.first);
        ++slot;
      }
    MOSAIC_RETURN_IF_ERROR(growing.hnsw->AddBatch(local, pool_));
  }
  return Status::OK();
}

void CollectionImpl::PublishSlots(
    const Operation& op, State* s, uint32_t first,
    std::span<const index::PayloadIndexSet::Prepared> prepared) const {
  for (const auto& id : op.ids)  // kReplace's deletes (empty for kUpsert)
    if (auto slot = s->id_to_slot.Erase(id)) RetireSlot(s, *slot);
  for (size_t i = 0; i < op.points.size(); ++i) {
    const LoggedPoint& p = op.points[i];
    const uint32_t slot = first + static_cast<uint32_t>(i);
    if (auto older = s->id_to_slot.Set(p.id, slot)) RetireSlot(s, *older);
    s->live.Set(slot);
    for (size_t v = 0; v < s->columns.size(); ++v) {
      if (VectorFor(p, v) == nullptr) continue;
      s->columns[v].present.Set(slot);
      s->columns[v].searchable.Set(slot);
    }
    if (i < prepared.size())
      s->payload_index.Insert(slot, p.payload, prepared[i]);
    else
      s->payload_index.Insert(slot, p.payload);
  }
  s->staged -= op.points.size();
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
  if (points.empty()) {
    std::lock_guard<std::mutex> w(write_mu_);
    return CheckWritable();
  }
  // Validation reads only the schema, so it runs before the write queues (in parallel with other
  // writers), and the write can join a group: it does not depend on what is written before it.
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  Operation op;
  op.type = OpType::kUpsert;
  MOSAIC_RETURN_IF_ERROR(ValidatePoints(points, &op));
  return CommitUpsert(std::move(op));
}

Status CollectionImpl::Replace(std::span<const PointId> remove, std::span<const Point> points) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  Operation op;
  op.type = OpType::kReplace;
  MOSAIC_RETURN_IF_ERROR(ValidatePoints(points, &op));
  // Only existing ids that the upsert does not overwrite anyway need logging.
  std::unordered_set<PointId, PointIdHash> upserted;
  for (const auto& p : points) upserted.insert(p.id);
  for (const auto& id : remove)  // state_ changes only under write_mu_, held by the turn
    if (state_->id_to_slot.Contains(id) && !upserted.count(id)) op.ids.push_back(id);
  std::sort(op.ids.begin(), op.ids.end());
  op.ids.erase(std::unique(op.ids.begin(), op.ids.end()), op.ids.end());
  if (op.ids.empty() && op.points.empty()) return Status::OK();
  if (op.ids.empty()) op.type = OpType::kUpsert;
  return Commit(std::move(op));
}

Result<uint64_t> CollectionImpl::Delete(std::span<const PointId> ids) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  Operation op;
  op.type = OpType::kDelete;
  for (const auto& id : ids)  // state_ changes only under write_mu_, held by the turn
    if (state_->id_to_slot.Contains(id)) op.ids.push_back(id);
  std::sort(op.ids.begin(), op.ids.end());
  op.ids.erase(std::unique(op.ids.begin(), op.ids.end()), op.ids.end());
  uint64_t n = op.ids.size();
  if (n == 0) return uint64_t{0};
  MOSAIC_RETURN_IF_ERROR(Commit(std::move(op)));
  return n;
}

Result<uint64_t> CollectionImpl::DeleteByFilter(const Filter& filter) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  Operation op;
  op.type = OpType::kDelete;
  for (uint32_t slot : FilterSlots(*state_, filter)) op.ids.push_back(state_->ids[slot]);
  uint64_t n = op.ids.size();
  if (n == 0) return uint64_t{0};
  MOSAIC_RETURN_IF_ERROR(Commit(std::move(op)));
  return n;
}

namespace {
Status CheckIdsExist(const IdIndex& id_to_slot, std::span<const PointId> ids,
                     const std::string& collection) {
  for (const auto& id : ids)
    if (!id_to_slot.Contains(id))
      return Status::NotFound("point " + id.ToString() + " not found in collection '" +
                              collection + "'");
  return Status::OK();
}
}  // namespace

Status CollectionImpl::SetPayload(std::span<const PointId> ids, const Json& patch) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  if (!patch.is_object())
    return Status::InvalidArgument("payload patch must be a JSON object, got " +
                                   std::string(patch.type_name()));
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kSetPayload;
  op.ids.assign(ids.begin(), ids.end());
  op.payload = patch;
  return Commit(std::move(op));
}

Status CollectionImpl::OverwritePayload(std::span<const PointId> ids, const Json& payload) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  if (!payload.is_object())
    return Status::InvalidArgument("payload must be a JSON object, got " +
                                   std::string(payload.type_name()));
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kOverwritePayload;
  op.ids.assign(ids.begin(), ids.end());
  op.payload = payload;
  return Commit(std::move(op));
}

Status CollectionImpl::DeletePayloadKeys(std::span<const PointId> ids,
                                         std::span<const std::string> keys) {
  WriteTurn turn(this);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  MOSAIC_RETURN_IF_ERROR(CheckIdsExist(state_->id_to_slot, ids, name_));
  Operation op;
  op.type = OpType::kDeletePayloadKeys;
  op.ids.assign(ids.begin(), ids.end());
  op.keys.assign(keys.begin(), keys.end());
  return Commit(std::move(op));
}

Status CollectionImpl::CreatePayloadIndex(const std::string& field, PayloadIndexType type) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  if (field.empty()) return Status::InvalidArgument("payload index field must not be empty");
  auto it = index_defs_.find(field);
  if (it != index_defs_.end()) {
    if (it->second == type) return Status::OK();
    return Status::AlreadyExists("field '" + field + "' already has a " +
                                 PayloadIndexTypeName(it->second) + " index");
  }
  SetIndexDef(field, type);
  Status s = SaveConfig();
  if (!s.ok()) {
    SetIndexDef(field, std::nullopt);
    return s;
  }
  // The new field's index of each part, built while searches go on, then moved into the part.
  const State& st = *state_;
  const auto& parts = st.payload_index.parts();
  std::vector<index::PayloadIndexSet> added(parts.size());
  Json scratch;
  for (size_t k = 0; k < parts.size(); ++k) {
    MOSAIC_RETURN_IF_ERROR(added[k].Create(field, type));
    const uint32_t end =
        k + 1 < parts.size() ? parts[k + 1].first : static_cast<uint32_t>(st.ids.size());
    for (uint32_t slot = parts[k].first; slot < end; ++slot)
      if (st.live.Test(slot)) added[k].Insert(slot - parts[k].first, st.payloads.Get(slot, &scratch));
  }
  std::unique_lock<std::shared_mutex> l(state_mu_);
  for (size_t k = 0; k < parts.size(); ++k) parts[k].set->TakeFields(&added[k]);
  return Status::OK();
}

void CollectionImpl::SetIndexDef(const std::string& field, std::optional<PayloadIndexType> type) {
  std::lock_guard<std::mutex> d(defs_mu_);
  if (type)
    index_defs_[field] = *type;
  else
    index_defs_.erase(field);
}

Status CollectionImpl::DropPayloadIndex(const std::string& field) {
  std::lock_guard<std::mutex> w(write_mu_);
  MOSAIC_RETURN_IF_ERROR(CheckWritable());
  auto it = index_defs_.find(field);
  if (it == index_defs_.end())
    return Status::NotFound("no payload index on field '" + field + "'");
  PayloadIndexType old = it->second;
  SetIndexDef(field, std::nullopt);
  Status s = SaveConfig();
  if (!s.ok()) {
    SetIndexDef(field, old);
    return s;
  }
  std::unique_lock<std::shared_mutex> l(state_mu_);
  return state_->payload_index.Drop(field);
}

}  // namespace mosaic::collection
