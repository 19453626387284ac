// Db: an embedded Mosaic database, a directory of collections. Open one Db per directory per
// process (a lock file keeps other processes out). All methods are thread-safe. A Collection
// handle may outlive its Db: the directory stays locked (a new Db::Open of it fails with
// Unavailable) until the last handle is released. The Env must outlive them all.
//
//   auto db = mosaic::Db::Open("/data/mosaic", {}).value();
//   auto photos = db->CreateCollection("photos", schema).value();
//   photos->Upsert(points);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/options.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic {

class Db {
 public:
  virtual ~Db() = default;

  static Result<std::unique_ptr<Db>> Open(const std::string& path, const DbOptions& options = {});

  // Names: 1-64 of [A-Za-z0-9_-].
  virtual Result<std::shared_ptr<Collection>> CreateCollection(const std::string& name,
                                                               const CollectionSchema& schema) = 0;
  virtual Result<std::shared_ptr<Collection>> GetCollection(const std::string& name) = 0;
  virtual Status DropCollection(const std::string& name) = 0;
  virtual std::vector<std::string> ListCollections() = 0;

  // Writes a consistent copy of the collection into one file (format: docs/segment_format.md).
  virtual Status CreateSnapshot(const std::string& collection, const std::string& path) = 0;
  // Creates collection `name` from a snapshot file; AlreadyExists if `name` exists.
  virtual Result<std::shared_ptr<Collection>> RestoreSnapshot(const std::string& path,
                                                              const std::string& name) = 0;
};

}  // namespace mosaic
