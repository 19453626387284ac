// Snapshot archives (format: docs/snapshot_format.md): a POSIX tar file (pax, written and read
// with libarchive, so `tar tvf` lists it) whose first member, mosaic-snapshot.json, describes the
// snapshot and lists every other member with its size and masked CRC32C. The other members are a
// collection directory's files, byte for byte. A reader checks the list before it writes a byte
// and every member's size and checksum as it extracts it; names are plain file names (no
// directory part), so an archive cannot write outside the directory it is extracted into.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

struct archive;  // libarchive's handle

namespace mosaic::storage {

inline constexpr char kSnapshotManifestMember[] = "mosaic-snapshot.json";
inline constexpr char kSnapshotFormat[] = "mosaic-snapshot";
inline constexpr uint32_t kSnapshotArchiveVersion = 3;  // 1 and 2 are segment files

// Whether `head`, a file's first bytes, starts a tar archive (ustar magic at offset 257).
bool IsTarArchive(std::string_view head);

struct ArchiveMember {
  std::string name;       // a plain file name
  std::string_view data;  // read while the archive is written
};

// Writes the archive to `path` (created or truncated, then synced): `meta` with "format",
// "version" and "files" set, then `members` in order. `check` is called after the members are
// written (a mapped member that could not be read back turns it into an error).
Status WriteSnapshotArchive(Env* env, const std::string& path, Json meta,
                            std::span<const ArchiveMember> members,
                            const std::function<Status()>& check);

// Reads an archive written by WriteSnapshotArchive (mapped). Not thread-safe.
class SnapshotArchiveReader {
 public:
  ~SnapshotArchiveReader();
  // Reads and checks the first member. Corruption naming the file for anything that is not a
  // snapshot archive of a version this build reads.
  static Result<std::unique_ptr<SnapshotArchiveReader>> Open(Env* env, const std::string& path);

  const Json& meta() const { return meta_; }  // the first member, "files" included
  const std::string& path() const { return path_; }

  // Writes every other member into directory `dir` (which exists) under its name, synced;
  // Corruption naming the member when its size or checksum differs from the list, when it is
  // not listed, repeated or missing. Call once.
  Status ExtractTo(const std::string& dir);

 private:
  SnapshotArchiveReader() = default;
  Status Corrupt(const std::string& what) const;

  Env* env_ = nullptr;
  std::string path_;
  std::unique_ptr<FileView> file_;
  ::archive* archive_ = nullptr;
  Json meta_;
};

}  // namespace mosaic::storage
