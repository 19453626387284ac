// PayloadIndexSet::Save and Load: the index files of sealed segments (docs/segment_format.md,
// "Index files").
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"
#include "index/filter/payload_index.h"
#include "index/filter/payload_index_impl.h"
#include "index/slot_io.h"
#include "index/text/bm25_index.h"

namespace mosaic::index {

namespace {

constexpr char kIndexMagic[8] = {'M', 'O', 'S', 'P', 'I', 'D', 'X', 0};
// The file's version is that of its lists (slot_io.h, kListsVersion).
constexpr uint32_t kIndexFileVersion = kListsVersion;

// What a field's lists mean beyond its type: the tokenizer's version for text.
uint32_t FieldFormat(PayloadIndexType type) {
  return type == PayloadIndexType::kText ? kTextAnalysisVersion : 1;
}

}  // namespace

// Magic, version, slots, field count; per field its name, type, format and lists; then the
// masked CRC32C of everything before it.
Status PayloadIndexSet::Save(Env* env, const std::string& path, uint32_t slots,
                             const ExportMap& map) const {
  return WriteFileAtomically(env, path, Serialize(slots, map))
      .WithContext("saving payload indexes " + path);
}

std::string PayloadIndexSet::Serialize(uint32_t slots, const ExportMap& map) const {
  std::string out(kIndexMagic, 8);
  PutFixed32(&out, kIndexFileVersion);
  PutFixed32(&out, slots);
  PutFixed32(&out, static_cast<uint32_t>(impl_->fields.size()));
  std::string lists;
  for (const auto& [field, index] : impl_->fields) {
    PutLengthPrefixed(&out, field);
    out.push_back(static_cast<char>(index->type()));
    PutFixed32(&out, FieldFormat(index->type()));
    lists.clear();
    index->Export(map, &lists);
    PutLengthPrefixed(&out, lists);
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<std::vector<std::string>> PayloadIndexSet::Load(Env* env, const std::string& path,
                                                       uint32_t slots, const ImportMap& map,
                                                       bool* partial) {
  *partial = false;
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("payload index file " + path + ": " + what);
  };
  // Mapped: the lists are decoded out of it, so the file is not read into a buffer first.
  // Kept by a text index that reads its lists in place (ImportMap::file).
  MOSAIC_ASSIGN_OR_RETURN(std::shared_ptr<const FileView> file, env->OpenFileView(path, true));
  const std::string_view data = file->data();
  if (data.size() < 24 || std::memcmp(data.data(), kIndexMagic, 8) != 0)
    return corrupt("not an index file (bad magic or " + std::to_string(data.size()) + " bytes)");
  if (crc32c::Unmask(DecodeFixed32(data.data() + data.size() - 4)) !=
      crc32c::Value(data.data(), data.size() - 4))
    return corrupt("checksum mismatch");
  Decoder in(data.substr(8, data.size() - 12));
  uint32_t version = 0, stored_slots = 0, fields = 0;
  in.GetFixed32(&version);
  in.GetFixed32(&stored_slots);
  in.GetFixed32(&fields);
  if (version < kOldestListsVersion || version > kIndexFileVersion)
    return corrupt("version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kOldestListsVersion) + " to " +
                   std::to_string(kIndexFileVersion));
  if (stored_slots != slots || (!map.map.empty() && map.map.size() != slots))
    return corrupt("covers " + std::to_string(stored_slots) + " slots, the segment holds " +
                   std::to_string(slots));
  ImportMap bounded = map;
  bounded.limit = slots;
  bounded.version = version;
  if (map.base == 0 && map.map.empty()) bounded.file = file;
  std::vector<std::string> loaded;
  for (uint32_t f = 0; f < fields; ++f) {
    std::string_view name, lists;
    uint8_t type = 0;
    uint32_t format = 0;
    if (!in.GetLengthPrefixed(&name) || !in.GetByte(&type) || !in.GetFixed32(&format) ||
        !in.GetLengthPrefixed(&lists))
      return corrupt("field " + std::to_string(f) + " overruns the file");
    auto it = impl_->fields.find(std::string(name));
    if (it == impl_->fields.end() || static_cast<uint8_t>(it->second->type()) != type ||
        format != FieldFormat(it->second->type()))
      continue;
    *partial = true;
    Decoder field_in(lists);
    if (!it->second->Import(&field_in, bounded) || !field_in.empty())
      return corrupt("the lists of field \"" + std::string(name) + "\" are damaged");
    loaded.emplace_back(name);
  }
  if (!in.empty()) return corrupt("bytes after the last field");
  MOSAIC_RETURN_IF_ERROR(file->CheckReadable());
  return loaded;
}

Status PayloadIndexSet::AppendFrom(const PayloadIndexSet& from, const ExportMap& map) {
  std::string lists;
  for (const auto& [field, index] : from.impl_->fields) {
    auto it = impl_->fields.find(field);
    if (it == impl_->fields.end() || it->second->type() != index->type()) continue;
    lists.clear();
    index->Export(map, &lists);
    Decoder in(lists);
    if (!it->second->Import(&in, ImportMap{}) || !in.empty())
      return Status::Internal("payload index on \"" + field + "\": appending lists failed");
  }
  return Status::OK();
}

}  // namespace mosaic::index
