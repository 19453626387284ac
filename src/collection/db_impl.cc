// DbImpl: a database directory of collections.
//
//   <db>/LOCK                      flock held while open
//   <db>/collections/<name>/       one directory per collection (see collection_impl.h)
//   <db>/collections/.tmp-*        being created (removed at open if a crash left one)
//   <db>/collections/.trash-*      being dropped (removed at open)
//
// A collection directory appears by rename, so a crash never leaves half a collection. One that
// fails to open is kept as damaged (its directory untouched) while the others open.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "collection/collection_files.h"
#include "collection/collection_impl.h"
#include "mosaic/db.h"
#include "storage/segment.h"
#include "storage/snapshot_archive.h"

namespace mosaic {
namespace {

Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return Status::InvalidArgument("collection name '" + name + "' must have 1-64 characters");
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return Status::InvalidArgument("collection name '" + name +
                                     "' may only contain letters, digits, '_' and '-'");
  return Status::OK();
}

class DbImpl final : public Db {
 public:
  DbImpl(std::string path, const DbOptions& options)
      : path_(std::move(path)),
        options_(options),
        env_(options.env ? options.env : Env::Default()) {}

  ~DbImpl() override {
    if (syncer_.joinable()) {
      {
        std::lock_guard<std::mutex> l(stop_mu_);
        stop_ = true;
      }
      stop_cv_.notify_all();
      syncer_.join();
    }
  }

  Status Init() {
    // A directory made here is synced into its parent: a power loss must not take the database
    // (and every write acknowledged into it) away with an unsynced directory entry.
    const bool new_db = !env_->FileExists(path_);
    MOSAIC_RETURN_IF_ERROR(env_->CreateDirIfMissing(path_));
    if (new_db) {
      const std::string parent = std::filesystem::path(path_).lexically_normal().parent_path().string();
      MOSAIC_RETURN_IF_ERROR(env_->SyncDir(parent.empty() ? "." : parent));
    }
    MOSAIC_ASSIGN_OR_RETURN(auto lock, env_->LockFile(path_ + "/LOCK"));
    shared_ = std::make_shared<collection::DbShared>(std::move(lock), options_.search_threads);
    if (!env_->FileExists(CollectionsDir())) {
      MOSAIC_RETURN_IF_ERROR(env_->CreateDirIfMissing(CollectionsDir()));
      MOSAIC_RETURN_IF_ERROR(env_->SyncDir(path_));
    }
    MOSAIC_ASSIGN_OR_RETURN(auto names, env_->GetChildren(CollectionsDir()));
    // Leftovers of an interrupted create or drop are removed once their renames are durable (a
    // drop whose directory fsync failed would otherwise lose files of a collection that a crash
    // brings back).
    if (std::ranges::any_of(names, [](const std::string& n) { return n.starts_with("."); }))
      MOSAIC_RETURN_IF_ERROR(env_->SyncDir(CollectionsDir()));
    for (const auto& n : names) {
      std::string dir = CollectionsDir() + "/" + n;
      if (n.starts_with(".")) {
        MOSAIC_RETURN_IF_ERROR(env_->RemoveDirRecursively(dir));
        continue;
      }
      auto c = collection::CollectionImpl::Open(env_, options_, shared_, dir);
      if (c.ok()) {
        std::lock_guard<std::mutex> m(map_mu_);
        collections_[n] = std::move(c).value();
        continue;
      }
      // One damaged collection must not take the others down with it.
      damaged_[n] = c.status();
      std::fprintf(stderr, "mosaic: %s\n", DamagedError(n, c.status()).message().c_str());
    }
    if (options_.sync == SyncPolicy::kPeriodic) syncer_ = std::thread([this] { SyncLoop(); });
    return Status::OK();
  }

  Result<std::shared_ptr<Collection>> CreateCollection(const std::string& name,
                                                       const CollectionSchema& schema) override {
    MOSAIC_RETURN_IF_ERROR(ValidateName(name));
    MOSAIC_RETURN_IF_ERROR(schema.Validate());
    std::lock_guard<std::mutex> l(mu_);
    MOSAIC_RETURN_IF_ERROR(CheckNameFree(name));
    return Install(name, [&](const std::string& tmp) {
      return collection::CollectionImpl::InitDirectory(env_, tmp, name, schema, {}, nullptr);
    });
  }

  Result<std::shared_ptr<Collection>> GetCollection(const std::string& name) override {
    std::lock_guard<std::mutex> m(map_mu_);
    MOSAIC_RETURN_IF_ERROR(CheckNotDamaged(name));
    auto it = collections_.find(name);
    if (it == collections_.end()) return Status::NotFound("collection '" + name + "' not found");
    return std::shared_ptr<Collection>(it->second);
  }

  Status DropCollection(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    MOSAIC_RETURN_IF_ERROR(CheckNotDamaged(name));
    auto it = collections_.find(name);
    if (it == collections_.end()) return Status::NotFound("collection '" + name + "' not found");
    std::string trash = CollectionsDir() + "/.trash-" + name + "-" + std::to_string(++counter_);
    MOSAIC_RETURN_IF_ERROR(
        it->second->Drop([&] { return env_->RenameFile(CollectionsDir() + "/" + name, trash); }));
    {
      std::lock_guard<std::mutex> m(map_mu_);
      collections_.erase(it);
    }
    // The files go only once the rename is durable: if a crash undid it, the collection would
    // come back with files missing. Until then the drop stands for this Db and the next open
    // (which syncs first, then removes the trash); a crash before that may bring the collection
    // back, holding every write acknowledged before the drop.
    if (Status s = env_->SyncDir(CollectionsDir()); !s.ok())
      return s.WithContext("dropping collection '" + name + "' (a crash may undo the drop)");
    return env_->RemoveDirRecursively(trash);
  }

  std::vector<std::string> ListCollections() override {
    std::lock_guard<std::mutex> m(map_mu_);
    std::vector<std::string> names;
    for (const auto& [n, c] : collections_) names.push_back(n);
    return names;
  }

  std::map<std::string, Status> DamagedCollections() override {
    std::lock_guard<std::mutex> m(map_mu_);
    return damaged_;
  }

  Result<RepairReport> RepairCollection(const std::string& name) override {
    MOSAIC_RETURN_IF_ERROR(ValidateName(name));
    std::lock_guard<std::mutex> l(mu_);
    if (!damaged_.count(name)) {
      if (collections_.count(name))
        return Status::InvalidArgument("collection '" + name + "' is not damaged; nothing to repair");
      return Status::NotFound("collection '" + name + "' not found");
    }
    const std::string dir = CollectionsDir() + "/" + name;
    RepairReport report;
    MOSAIC_ASSIGN_OR_RETURN(report.backup_dir, CopyAside(dir));
    report.notes.push_back("the damaged files are kept in " + report.backup_dir);
    auto c = collection::CollectionImpl::Open(env_, options_, shared_, dir, &report);
    if (!c.ok())
      return c.status().WithContext("repairing collection '" + name +
                                    "' (its files as they were are in " + report.backup_dir + ")");
    std::lock_guard<std::mutex> m(map_mu_);
    damaged_.erase(name);
    collections_[name] = std::move(c).value();
    return report;
  }

  Status CreateSnapshot(const std::string& collection, const std::string& path) override {
    std::shared_ptr<collection::CollectionImpl> c;
    {
      std::lock_guard<std::mutex> m(map_mu_);
      MOSAIC_RETURN_IF_ERROR(CheckNotDamaged(collection));
      auto it = collections_.find(collection);
      if (it == collections_.end())
        return Status::NotFound("collection '" + collection + "' not found");
      c = it->second;
    }
    return c->WriteSnapshot(path);
  }

  Result<std::shared_ptr<Collection>> RestoreSnapshot(const std::string& path,
                                                      const std::string& name) override {
    MOSAIC_RETURN_IF_ERROR(ValidateName(name));
    MOSAIC_ASSIGN_OR_RETURN(auto head, env_->OpenFileView(path, /*map=*/true));
    if (storage::IsTarArchive(head->data())) {
      head.reset();
      // An archive (version 3): its list is checked here, each member's checksum as it is
      // extracted into the new collection's directory.
      MOSAIC_ASSIGN_OR_RETURN(auto archive, storage::SnapshotArchiveReader::Open(env_, path));
      std::lock_guard<std::mutex> l(mu_);
      MOSAIC_RETURN_IF_ERROR(CheckNameFree(name));
      return Install(name, [&](const std::string& tmp) {
        return collection::CollectionImpl::InitFromArchive(env_, tmp, name, archive.get());
      });
    }
    head.reset();
    // A segment file (versions 1 and 2). Verifies every checksum before anything is created.
    // Mapped: its points and graphs are copied to the new collection's files and nothing else is
    // kept.
    MOSAIC_ASSIGN_OR_RETURN(auto seg, storage::Segment::Open(env_, path, /*map=*/true));
    const Json& meta = seg->meta();
    if (!meta.contains("schema"))
      return Status::Corruption("snapshot " + path + " has no schema");
    // What is wrong here is the file, not the request: Corruption, naming it.
    auto schema = CollectionSchema::FromJson(meta["schema"]);
    if (!schema.ok())
      return Status::Corruption("snapshot " + path + ": " + schema.status().message());
    auto indexes = collection::ParseIndexDefs(meta.value("payload_indexes", Json(nullptr)));
    if (!indexes.ok())
      return Status::Corruption("snapshot " + path + ": " + indexes.status().message());
    std::lock_guard<std::mutex> l(mu_);
    MOSAIC_RETURN_IF_ERROR(CheckNameFree(name));
    return Install(name, [&](const std::string& tmp) {
      return collection::CollectionImpl::InitDirectory(env_, tmp, name, *schema, *indexes,
                                                        seg.get());
    });
  }

 private:
  std::string CollectionsDir() const { return path_ + "/collections"; }

  static Status DamagedError(const std::string& name, const Status& why) {
    return Status::Corruption("collection '" + name + "' is damaged: " + why.ToString() +
                              "; it was not opened (`mosaic repair` salvages it)");
  }
  // Callers hold mu_ or map_mu_.
  Status CheckNotDamaged(const std::string& name) const {
    auto it = damaged_.find(name);
    return it == damaged_.end() ? Status::OK() : DamagedError(name, it->second);
  }
  Status CheckNameFree(const std::string& name) const {
    if (collections_.count(name))
      return Status::AlreadyExists("collection '" + name + "' already exists");
    if (auto it = damaged_.find(name); it != damaged_.end())
      return Status::AlreadyExists("collection '" + name + "' already exists and is damaged (" +
                                   it->second.ToString() + "); repair it or move it away first");
    return Status::OK();
  }

  // Copies every file of collection directory `dir` into a new `dir`/.damaged-<UTC time>/ and
  // syncs it; returns that directory.
  Result<std::string> CopyAside(const std::string& dir) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    std::string backup = dir + "/.damaged-" + stamp;
    for (int i = 2; env_->FileExists(backup); ++i)
      backup = dir + "/.damaged-" + stamp + "-" + std::to_string(i);
    MOSAIC_RETURN_IF_ERROR(env_->CreateDirIfMissing(backup));
    MOSAIC_ASSIGN_OR_RETURN(auto files, env_->GetChildren(dir));
    for (const auto& f : files) {
      if (f.starts_with(".")) continue;  // earlier copies
      MOSAIC_RETURN_IF_ERROR(collection::CopyFile(env_, dir + "/" + f, backup + "/" + f)
                                 .WithContext("copying the damaged files aside"));
    }
    MOSAIC_RETURN_IF_ERROR(env_->SyncDir(backup));
    MOSAIC_RETURN_IF_ERROR(env_->SyncDir(dir));
    return backup;
  }

  // Bounds what SyncPolicy::kPeriodic can lose to one interval even when writes stop. It takes
  // map_mu_ only to list the collections and no collection lock (SyncWal), so a create, restore,
  // drop or flush never holds it up.
  void SyncLoop() {
    std::unique_lock<std::mutex> l(stop_mu_);
    const auto interval = std::chrono::milliseconds(std::max<uint32_t>(1, options_.sync_interval_ms));
    while (!stop_cv_.wait_for(l, interval, [this] { return stop_; })) {
      l.unlock();
      std::vector<std::shared_ptr<collection::CollectionImpl>> all;
      {
        std::lock_guard<std::mutex> m(map_mu_);
        for (const auto& [n, c] : collections_) all.push_back(c);
      }
      for (const auto& c : all)
        if (Status s = c->SyncWal(); !s.ok())
          std::fprintf(stderr, "mosaic: periodic WAL sync of '%s' failed: %s\n",
                       c->name().c_str(), s.ToString().c_str());
      l.lock();
    }
  }

  // Builds the collection in a hidden directory, renames it into place, and opens it.
  template <typename InitFn>
  Result<std::shared_ptr<Collection>> Install(const std::string& name, InitFn&& init) {
    std::string tmp = CollectionsDir() + "/.tmp-" + name + "-" + std::to_string(++counter_);
    std::string dir = CollectionsDir() + "/" + name;
    Status s = init(tmp);
    if (s.ok()) s = env_->RenameFile(tmp, dir);
    if (s.ok()) s = env_->SyncDir(CollectionsDir());
    if (!s.ok()) {
      env_->RemoveDirRecursively(tmp).ok();
      return s.WithContext("creating collection '" + name + "'");
    }
    auto c = collection::CollectionImpl::Open(env_, options_, shared_, dir);
    if (!c.ok()) {
      env_->RemoveDirRecursively(dir).ok();
      return c.status().WithContext("opening new collection '" + name + "'");
    }
    std::lock_guard<std::mutex> m(map_mu_);
    collections_[name] = *c;
    return std::shared_ptr<Collection>(std::move(c).value());
  }

  const std::string path_;
  const DbOptions options_;
  Env* const env_;
  // The lock and the pool, shared with every collection handle given out: a handle that
  // outlives this Db keeps the directory locked and its searches running.
  std::shared_ptr<collection::DbShared> shared_;
  // Serializes create, restore and drop, which hold it while they write files.
  std::mutex mu_;
  // Guards collections_ for as long as it takes to read or change the map, never across I/O.
  // Changed under both mu_ and map_mu_, so either suffices to read it.
  std::mutex map_mu_;
  std::map<std::string, std::shared_ptr<collection::CollectionImpl>> collections_;
  // Failed to open, with why; like collections_, changed under both mu_ and map_mu_.
  std::map<std::string, Status> damaged_;
  std::atomic<uint64_t> counter_{0};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread syncer_;
};

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const DbOptions& options) {
  if (!options.create_if_missing) {
    Env* env = options.env ? options.env : Env::Default();
    if (!env->FileExists(path + "/collections"))
      return Status::NotFound("no Mosaic database at '" + path + "'");
  }
  auto db = std::make_unique<DbImpl>(path, options);
  MOSAIC_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Db>(std::move(db));
}

Json CollectionInfo::ToJson() const {
  Json idx = Json::object();
  for (const auto& [f, t] : payload_indexes) idx[f] = PayloadIndexTypeName(t);
  Json vb = Json::object();
  for (const auto& [n, b] : vector_bytes) vb[n] = b;
  Json ib = Json::object();
  for (const auto& [n, b] : index_bytes) ib[n] = b;
  return {{"name", name},        {"schema", schema.ToJson()},  {"points", points},
          {"deleted_pending", deleted_pending}, {"segments", segments}, {"segment_bytes", segment_bytes},
          {"segment_mapped_bytes", segment_mapped_bytes},
          {"wal_bytes", wal_bytes}, {"disk_bytes", disk_bytes}, {"merges_pending", merges_pending},
          {"merges_done", merges_done}, {"writes_slowed", writes_slowed},
          {"write_slowdown_ms", write_slowdown_ms}, {"flushing", flushing}, {"process_rss_bytes", process_rss_bytes},
          {"payload_indexes", idx}, {"vector_bytes", vb}, {"index_bytes", ib},
          {"payload_index_bytes", payload_index_bytes},
          {"graphs_rebuilt", graphs_rebuilt}, {"payload_indexes_rebuilt", payload_indexes_rebuilt},
          {"background_error", background_error}};
}

}  // namespace mosaic
