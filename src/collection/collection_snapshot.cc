// CollectionImpl snapshots: the collection's files as CURRENT names them and its log as far as it
// is written, archived as they are (docs/snapshot_format.md); a restore extracts them and opens
// the collection as a reopen would, loading the segments' graphs and payload indexes.
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "collection/collection_files.h"
#include "collection/collection_impl.h"
#include "common/sync_point.h"
#include "storage/snapshot_archive.h"

namespace mosaic::collection {

Status CollectionImpl::WriteSnapshot(const std::string& path) {
  // The view, under the writer lock: the files CURRENT names, mapped (a flush, merge or compaction
  // meanwhile may delete them; a mapping keeps their bytes, which never change: index files are
  // replaced whole), and the log as far as it is written: a write appends and applies its records
  // under this lock, so every record in it is applied and the mapping ends at a record's end.
  std::vector<std::unique_ptr<FileView>> views;
  std::vector<storage::ArchiveMember> members;
  std::string manifest;
  Json meta;
  {
    std::unique_lock<std::mutex> w(write_mu_);
    MOSAIC_RETURN_IF_ERROR(CheckUsable());
    if (options_.flush_on_close_bytes > 0 && CheckWritable().ok() &&
        wal_->size() >= options_.flush_on_close_bytes) {
      // If the flush fails, the log goes into the snapshot as it is (and the failure into
      // Info().background_error, as for a flush a write triggered).
      if (Status f = FlushLocked(&w, /*start_merge=*/false); !f.ok()) NoteRewrite(f);
    }
    auto add = [&](const std::string& name, bool required) -> Status {
      const std::string file = dir_ + "/" + name;
      if (!required && !env_->FileExists(file)) return Status::OK();
      MOSAIC_ASSIGN_OR_RETURN(auto view, env_->OpenFileView(file, /*map=*/true));
      members.push_back({name, view->data()});
      views.push_back(std::move(view));
      return Status::OK();
    };
    for (const SealedSegment& seg : current_.segments) {
      MOSAIC_RETURN_IF_ERROR(add(SegmentName(seg.gen), true));
      for (size_t v = 0; v < dims_.size(); ++v)
        MOSAIC_RETURN_IF_ERROR(add(GraphName(seg.gen, v), false));
      MOSAIC_RETURN_IF_ERROR(add(IndexName(seg.gen), false));
    }
    if (!current_.delta.empty()) MOSAIC_RETURN_IF_ERROR(add(current_.delta, true));
    MOSAIC_RETURN_IF_ERROR(add(current_.wal, true));
    manifest = ManifestJson(current_).dump(2) + "\n";
    meta["collection"] = ConfigJson(name_, schema_, index_defs_);
    meta["last_lsn"] = last_lsn_;
    meta["points"] = state_->id_to_slot.size();
  }
  members.push_back({kCurrentFile, manifest});
  sync_point::Reached("CollectionImpl::WriteSnapshot:ViewTaken");

  // A temporary name of its own: two snapshots to one path (from two collections, two
  // databases, two processes) never write into each other's file; the last rename wins, whole.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(counter.fetch_add(1) + 1);
  Status s = storage::WriteSnapshotArchive(env_, tmp, std::move(meta), members, [&] {
    for (const auto& view : views) MOSAIC_RETURN_IF_ERROR(view->CheckReadable());
    return Status::OK();
  });
  if (s.ok()) s = env_->RenameFile(tmp, path);
  if (!s.ok()) {
    env_->RemoveFile(tmp).ok();
    return s.WithContext("writing snapshot " + path + " of collection '" + name_ + "'");
  }
  // The rename is durable only once the directory is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (Status d = env_->SyncDir(dir.empty() ? "." : dir); !d.ok())
    return d.WithContext("snapshot " + path + " of collection '" + name_ +
                         "' is written but a crash may lose it");
  return Status::OK();
}

Status CollectionImpl::InitFromArchive(Env* env, const std::string& dir, const std::string& name,
                                       storage::SnapshotArchiveReader* archive) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("snapshot " + archive->path() + ": " + what);
  };
  bool has_current = false;
  for (const Json& f : archive->meta()["files"])
    has_current |= f["name"] == kCurrentFile;
  if (!has_current)
    return corrupt("no " + std::string(kCurrentFile) + " member");
  const Json config = archive->meta().value("collection", Json());
  if (!config.is_object() || !config.contains("schema"))
    return corrupt("no collection schema");
  // What is wrong here is the file, not the request: Corruption.
  auto schema = CollectionSchema::FromJson(config["schema"]);
  if (!schema.ok()) return corrupt(schema.status().message());
  auto indexes = ParseIndexDefs(config.value("payload_indexes", Json(nullptr)));
  if (!indexes.ok()) return corrupt(indexes.status().message());
  MOSAIC_RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  MOSAIC_RETURN_IF_ERROR(archive->ExtractTo(dir));
  MOSAIC_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/" + kConfigFile,
                                             ConfigJson(name, *schema, *indexes).dump(2) + "\n"));
  return env->SyncDir(dir);
}

}  // namespace mosaic::collection
