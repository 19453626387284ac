// Db: an embedded Mosaic database, a directory of collections. Open one Db per directory per
// process (a lock file keeps other processes out). All methods are thread-safe. A Collection
// handle may outlive its Db: the directory stays locked (a new Db::Open of it fails with
// Unavailable) until the last handle is released. The Env must outlive them all.
//
//   auto db = mosaic::Db::Open("/data/mosaic", {}).value();
//   auto photos = db->CreateCollection("photos", schema).value();
//   photos->Upsert(points);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/options.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic {

// What Db::RepairCollection salvaged and what it lost.
struct RepairReport {
  std::string backup_dir;  // every file of the damaged collection, copied before any change
  uint64_t points = 0;     // points in the repaired collection
  uint64_t wal_records_kept = 0;     // log records replayed: all those before the damage
  uint64_t wal_records_dropped = 0;  // whole records found after the damage, not replayed
  uint64_t wal_bytes_dropped = 0;    // from the damage to the end of the log
  std::optional<uint64_t> wal_damage_offset;
  bool segment_lost = false;  // the segment could not be read: the points it held are gone
  std::vector<std::string> notes;  // one line per thing salvaged or lost, for people
};

class Db {
 public:
  virtual ~Db() = default;

  static Result<std::unique_ptr<Db>> Open(const std::string& path, const DbOptions& options = {});

  // Names: 1-64 of [A-Za-z0-9_-].
  virtual Result<std::shared_ptr<Collection>> CreateCollection(const std::string& name,
                                                               const CollectionSchema& schema) = 0;
  virtual Result<std::shared_ptr<Collection>> GetCollection(const std::string& name) = 0;
  virtual Status DropCollection(const std::string& name) = 0;
  // The collections that opened (not the damaged ones).
  virtual std::vector<std::string> ListCollections() = 0;
  // Collections that failed to open (a damaged log, segment, CURRENT or config...), with why.
  // The others open regardless. A damaged collection's directory is never written or deleted:
  // every call naming it fails with Corruption, and creating or restoring one of that name
  // fails with AlreadyExists, until RepairCollection (or someone moving the directory away).
  virtual std::map<std::string, Status> DamagedCollections() = 0;
  // Salvages a damaged collection: copies its files aside into <collection>/.damaged-<time>/,
  // then keeps what can be read (the segment if it checks, the log's records before the first
  // damaged one) and writes them as a new generation, which opens. InvalidArgument if `name` is
  // not damaged.
  virtual Result<RepairReport> RepairCollection(const std::string& name) = 0;

  // Writes a consistent copy of the collection into one file (format: docs/snapshot_format.md).
  virtual Status CreateSnapshot(const std::string& collection, const std::string& path) = 0;
  // Creates collection `name` from a snapshot file; AlreadyExists if `name` exists.
  virtual Result<std::shared_ptr<Collection>> RestoreSnapshot(const std::string& path,
                                                              const std::string& name) = 0;
};

}  // namespace mosaic
