// Snapshot archives: tar through libarchive, a checked list of members first.
#include "storage/snapshot_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "common/crc32c.h"

namespace mosaic::storage {
namespace {

constexpr size_t kChunk = 1 << 20;                  // bytes handed to libarchive at a time
constexpr uint64_t kMaxManifestBytes = 64ull << 20;  // the first member, read into memory

bool PlainName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos &&
         name != kSnapshotManifestMember;
}

struct Sink {
  WritableFile* file;
  Status status;
};

la_ssize_t WriteToFile(struct archive*, void* client, const void* buf, size_t n) {
  auto* sink = static_cast<Sink*>(client);
  Status s = sink->file->Append(std::string_view(static_cast<const char*>(buf), n));
  if (!s.ok()) {
    if (sink->status.ok()) sink->status = s;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct ArchiveWriter {
  struct archive* a = archive_write_new();
  ~ArchiveWriter() { archive_write_free(a); }
};

}  // namespace

bool IsTarArchive(std::string_view head) {
  return head.size() >= 262 && head.substr(257, 5) == "ustar";
}

Status WriteSnapshotArchive(Env* env, const std::string& path, Json meta,
                            std::span<const ArchiveMember> members,
                            const std::function<Status()>& check) {
  meta["format"] = kSnapshotFormat;
  meta["version"] = kSnapshotArchiveVersion;
  Json files = Json::array();
  for (const ArchiveMember& m : members) {
    if (!PlainName(m.name))
      return Status::InvalidArgument("snapshot member name '" + m.name + "' is not a file name");
    files.push_back({{"name", m.name},
                     {"bytes", m.data.size()},
                     {"crc32c", crc32c::Value(m.data)}});
  }
  meta["files"] = std::move(files);
  const std::string manifest = meta.dump(1) + "\n";

  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  Sink sink{file.get(), Status::OK()};
  ArchiveWriter w;
  auto fail = [&](const std::string& what) {
    if (!sink.status.ok()) return sink.status;
    return Status::IOError("writing snapshot archive " + path + ": " + what + ": " +
                           (archive_error_string(w.a) ? archive_error_string(w.a) : "unknown"));
  };
  // pax where ustar cannot say it (members over 8 GiB), ustar otherwise. Blocks of 1 MiB, the
  // last one not padded beyond the end-of-archive records.
  if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(w.a, static_cast<int>(kChunk)) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
      archive_write_open(w.a, &sink, nullptr, WriteToFile, nullptr) != ARCHIVE_OK)
    return fail("opening");
  const std::time_t now = std::time(nullptr);
  auto add = [&](const std::string& name, std::string_view data) -> Status {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, now, 0);
    const int r = archive_write_header(w.a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return fail("member " + name);
    for (size_t at = 0; at < data.size(); at += kChunk) {
      const size_t n = std::min(kChunk, data.size() - at);
      if (archive_write_data(w.a, data.data() + at, n) != static_cast<la_ssize_t>(n))
        return fail("member " + name);
    }
    return Status::OK();
  };
  MOSAIC_RETURN_IF_ERROR(add(kSnapshotManifestMember, manifest));
  for (const ArchiveMember& m : members) MOSAIC_RETURN_IF_ERROR(add(m.name, m.data));
  if (archive_write_close(w.a) != ARCHIVE_OK) return fail("closing");
  if (check) MOSAIC_RETURN_IF_ERROR(check());
  MOSAIC_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

SnapshotArchiveReader::~SnapshotArchiveReader() {
  if (archive_ != nullptr) archive_read_free(archive_);
}

Status SnapshotArchiveReader::Corrupt(const std::string& what) const {
  return Status::Corruption("snapshot " + path_ + ": " + what);
}

Result<std::unique_ptr<SnapshotArchiveReader>> SnapshotArchiveReader::Open(
    Env* env, const std::string& path) {
  std::unique_ptr<SnapshotArchiveReader> r(new SnapshotArchiveReader());
  r->env_ = env;
  r->path_ = path;
  MOSAIC_ASSIGN_OR_RETURN(r->file_, env->OpenFileView(path, /*map=*/true));
  const std::string_view data = r->file_->data();
  if (!IsTarArchive(data)) return r->Corrupt("not a snapshot archive (no tar header)");
  r->archive_ = archive_read_new();
  struct archive* a = r->archive_;
  if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
      archive_read_open_memory(a, data.data(), data.size()) != ARCHIVE_OK)
    return r->Corrupt(std::string("unreadable: ") + archive_error_string(a));
  struct archive_entry* e = nullptr;
  if (archive_read_next_header(a, &e) != ARCHIVE_OK)
    return r->Corrupt(std::string("unreadable first member: ") +
                      (archive_error_string(a) ? archive_error_string(a) : "none"));
  if (std::string(archive_entry_pathname(e) ? archive_entry_pathname(e) : "") !=
      kSnapshotManifestMember)
    return r->Corrupt(std::string("the first member is not ") + kSnapshotManifestMember);
  const la_int64_t size = archive_entry_size(e);
  if (size < 0 || static_cast<uint64_t>(size) > kMaxManifestBytes)
    return r->Corrupt(std::string(kSnapshotManifestMember) + " has a size of " +
                      std::to_string(size) + " bytes");
  std::string text(static_cast<size_t>(size), '\0');
  if (archive_read_data(a, text.data(), text.size()) != size)
    return r->Corrupt(std::string(kSnapshotManifestMember) + " is cut short");
  Json meta = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object())
    return r->Corrupt(std::string(kSnapshotManifestMember) + " is not a JSON object");
  if (meta.value("format", std::string()) != kSnapshotFormat)
    return r->Corrupt(std::string(kSnapshotManifestMember) + " has no \"format\": \"" +
                      kSnapshotFormat + "\"");
  const Json version = meta.value("version", Json());
  if (!version.is_number_unsigned() || version.get<uint64_t>() != kSnapshotArchiveVersion)
    return r->Corrupt("snapshot archive version " + version.dump() + " (this build reads " +
                      std::to_string(kSnapshotArchiveVersion) + ")");
  const Json files = meta.value("files", Json());
  if (!files.is_array()) return r->Corrupt("\"files\" is not a list");
  std::set<std::string> names;
  for (const Json& f : files) {
    if (!f.is_object() || !f.value("name", Json()).is_string() ||
        !f.value("bytes", Json()).is_number_unsigned() ||
        !f.value("crc32c", Json()).is_number_unsigned())
      return r->Corrupt("malformed entry in \"files\": " + f.dump());
    const std::string name = f["name"].get<std::string>();
    if (!PlainName(name)) return r->Corrupt("member name '" + name + "' is not a file name");
    if (!names.insert(name).second) return r->Corrupt("member '" + name + "' is listed twice");
  }
  r->meta_ = std::move(meta);
  return r;
}

Status SnapshotArchiveReader::ExtractTo(const std::string& dir) {
  struct archive* a = archive_;
  std::map<std::string, const Json*> listed;
  for (const Json& f : meta_["files"]) listed[f["name"].get<std::string>()] = &f;
  std::set<std::string> seen;
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK)
      return Corrupt(std::string("unreadable member header: ") +
                     (archive_error_string(a) ? archive_error_string(a) : "none"));
    const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    auto it = listed.find(name);
    if (it == listed.end()) return Corrupt("member '" + name + "' is not listed");
    if (!seen.insert(name).second) return Corrupt("member '" + name + "' appears twice");
    if (archive_entry_filetype(e) != AE_IFREG)
      return Corrupt("member '" + name + "' is not a regular file");
    const uint64_t want_bytes = (*it->second)["bytes"].get<uint64_t>();
    const uint32_t want_crc = (*it->second)["crc32c"].get<uint32_t>();
    MOSAIC_ASSIGN_OR_RETURN(auto out, env_->NewWritableFile(dir + "/" + name));
    uint64_t bytes = 0;
    uint32_t crc = 0;
    for (;;) {
      const void* buf = nullptr;
      size_t n = 0;
      la_int64_t offset = 0;
      const int d = archive_read_data_block(a, &buf, &n, &offset);
      if (d == ARCHIVE_EOF) break;
      if (d != ARCHIVE_OK || offset != static_cast<la_int64_t>(bytes))
        return Corrupt("member '" + name + "' is unreadable after " + std::to_string(bytes) +
                       " bytes");
      if (bytes + n > want_bytes)
        return Corrupt("member '" + name + "' is longer than its listed " +
                       std::to_string(want_bytes) + " bytes");
      crc = crc32c::Extend(crc, static_cast<const char*>(buf), n);
      MOSAIC_RETURN_IF_ERROR(out->Append(std::string_view(static_cast<const char*>(buf), n)));
      bytes += n;
    }
    if (bytes != want_bytes)
      return Corrupt("member '" + name + "' has " + std::to_string(bytes) + " bytes, not the " +
                     std::to_string(want_bytes) + " listed");
    if (crc != want_crc) return Corrupt("member '" + name + "' fails its checksum");
    MOSAIC_RETURN_IF_ERROR(file_->CheckReadable());
    MOSAIC_RETURN_IF_ERROR(out->Sync());
    MOSAIC_RETURN_IF_ERROR(out->Close());
  }
  for (const auto& [name, f] : listed)
    if (!seen.count(name)) return Corrupt("member '" + name + "' is missing");
  return file_->CheckReadable();
}

}  // namespace mosaic::storage
