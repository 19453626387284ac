#include "collection/collection_files.h"

#include <cinttypes>
#include <cstdio>

namespace mosaic::collection {

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
std::string IndexName(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%06" PRIu64 ".idx", gen);
  return buf;
}
std::string WalName(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "wal-%06" PRIu64 ".log", gen);
  return buf;
}

std::string DeltaName(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "del-%06" PRIu64 ".del", gen);
  return buf;
}

Status WriteCurrent(Env* env, const std::string& dir, const Json& manifest, bool* renamed) {
  return WriteFileAtomically(env, dir + "/" + kCurrentFile, manifest.dump(2) + "\n", renamed);
}

Status CopyFile(Env* env, const std::string& from, const std::string& to) {
  MOSAIC_ASSIGN_OR_RETURN(std::string data, env->ReadFile(from));
  MOSAIC_ASSIGN_OR_RETURN(auto dst, env->NewWritableFile(to));
  MOSAIC_RETURN_IF_ERROR(dst->Append(data));
  MOSAIC_RETURN_IF_ERROR(dst->Sync());
  return dst->Close();
}

Json ConfigJson(const std::string& name, const CollectionSchema& schema,
                const std::map<std::string, PayloadIndexType>& indexes) {
  Json idx = Json::object();
  for (const auto& [field, type] : indexes)
    idx[field] = PayloadIndexTypeName(type);
  return {{"format_version", kCollectionFormatVersion},
          {"name", name},
          {"schema", schema.ToJson()},
          {"payload_indexes", idx}};
}

Result<std::map<std::string, PayloadIndexType>> ParseIndexDefs(const Json& j) {
  std::map<std::string, PayloadIndexType> defs;
  if (j.is_null()) return defs;
  if (!j.is_object())
    return Status::Corruption("payload_indexes is not an object: " + j.dump().substr(0, 200));
  for (const auto& [field, type] : j.items()) {
    if (!type.is_string())
      return Status::Corruption("payload index on field '" + field + "' has type " +
                                type.dump().substr(0, 200) + ", not a string");
    auto t = ParsePayloadIndexType(type.get_ref<const std::string&>());
    if (!t.ok())
      return Status::Corruption("payload index on field '" + field + "': " + t.status().message());
    defs[field] = *t;
  }
  return defs;
}

}  // namespace mosaic::collection
