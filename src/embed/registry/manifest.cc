#include "embed/registry/manifest.h"

#include <set>

#include "embed/registry/sha256.h"

namespace mosaic::embed {
namespace {

using Json = nlohmann::json;

// JSON text of a value for an error message, kept short.
std::string Show(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

Status FieldError(const std::string& field, const std::string& what) {
  return Status::InvalidArgument("manifest field '" + field + "' " + what);
}

// Reads an optional (or, with `required`, mandatory) string member.
Status GetString(const Json& j, const std::string& key, const std::string& field, bool required,
                 std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return FieldError(field, "is missing");
    return Status::OK();
  }
  if (!it->is_string()) return FieldError(field, "must be a string, got " + Show(*it));
  *out = it->get<std::string>();
  if (required && out->empty()) return FieldError(field, "must not be empty");
  return Status::OK();
}

bool IsRoleChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A file path inside the model folder: relative, '/'-separated, no empty, "." or ".." parts.
Status CheckRelativePath(const std::string& path, const std::string& field) {
  const std::string shown = "'" + path + "'";
  if (path.empty()) return FieldError(field, "must not be empty");
  if (path.front() == '/')
    return FieldError(field, shown + " must be relative to the model folder");
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos)
    return FieldError(field, shown + " must use '/' as separator and no NUL or '\\'");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..")
      return FieldError(field, shown + " must stay inside the model folder (no '..')");
    if (part.empty() || part == ".")
      return FieldError(field, shown + " has an empty or '.' path component");
    start = end + 1;
  }
  if (path == "manifest.json")
    return FieldError(field, "'manifest.json' is reserved for the manifest");
  return Status::OK();
}

Result<ModelFile> FileFromJson(const Json& j, const std::string& field) {
  if (!j.is_object()) return FieldError(field, "must be an object, got " + Show(j));
  ModelFile f;
  MOSAIC_RETURN_IF_ERROR(GetString(j, "role", field + ".role", true, &f.role));
  for (char c : f.role)
    if (!IsRoleChar(c))
      return FieldError(field + ".role", "'" + f.role + "' may only use [a-z0-9_-]");
  MOSAIC_RETURN_IF_ERROR(GetString(j, "path", field + ".path", true, &f.path));
  MOSAIC_RETURN_IF_ERROR(CheckRelativePath(f.path, field + ".path"));
  MOSAIC_RETURN_IF_ERROR(GetString(j, "sha256", field + ".sha256", false, &f.sha256));
  if (!f.sha256.empty() && !IsSha256Hex(f.sha256))
    return FieldError(field + ".sha256",
                      "'" + f.sha256 + "' is not 64 lowercase hex digits (a SHA-256)");
  MOSAIC_RETURN_IF_ERROR(GetString(j, "url", field + ".url", false, &f.url));
  if (auto it = j.find("bytes"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0))
      return FieldError(field + ".bytes", "must be a non-negative integer, got " + Show(*it));
    f.bytes = it->get<uint64_t>();
  }
  return f;
}

}  // namespace

bool IsValidModelName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

Result<Modality> ParseModality(std::string_view name) {
  for (Modality m : {Modality::kImage, Modality::kText, Modality::kAudio})
    if (name == ModalityName(m)) return m;
  return Status::InvalidArgument("unknown modality '" + std::string(name) +
                                 "' (expected image, text or audio)");
}

const ModelFile* ModelManifest::FindFile(std::string_view role) const {
  for (const auto& f : files)
    if (f.role == role) return &f;
  return nullptr;
}

nlohmann::json ModelManifest::ToJson() const {
  Json mods = Json::array();
  for (Modality m : modalities)
    mods.push_back(ModalityName(m));
  Json fs = Json::array();
  for (const auto& f : files) {
    Json jf = {{"role", f.role}, {"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}};
    if (!f.url.empty()) jf["url"] = f.url;
    fs.push_back(std::move(jf));
  }
  Json j = {{"format", format},
            {"name", name},
            {"family", family},
            {"modalities", mods},
            {"task", task},
            {"dim", dim},
            {"license", license},
            {"source", source},
            {"description", description},
            {"files", fs},
            {"preprocess", preprocess}};
  return j;
}

Result<ModelManifest> ModelManifest::FromJson(const nlohmann::json& j) {
  if (!j.is_object())
    return Status::InvalidArgument("manifest must be a JSON object, got " + Show(j));
  ModelManifest m;
  auto fmt = j.find("format");
  if (fmt == j.end()) return FieldError("format", "is missing");
  if (!fmt->is_number_integer())
    return FieldError("format", "must be an integer, got " + Show(*fmt));
  m.format = fmt->get<int>();
  if (m.format > kManifestFormat)
    return Status::InvalidArgument("manifest format " + std::to_string(m.format) +
                                   " is newer than this build supports (" +
                                   std::to_string(kManifestFormat) + ")");
  if (m.format < 1)
    return FieldError("format", "must be at least 1, got " + std::to_string(m.format));

  MOSAIC_RETURN_IF_ERROR(GetString(j, "name", "name", true, &m.name));
  if (!IsValidModelName(m.name))
    return FieldError("name", "'" + m.name +
                                  "' is not a valid model name (1-64 characters [a-z0-9._-], "
                                  "starting with a letter or digit)");
  MOSAIC_RETURN_IF_ERROR(GetString(j, "family", "family", true, &m.family));
  MOSAIC_RETURN_IF_ERROR(GetString(j, "task", "task", true, &m.task));
  MOSAIC_RETURN_IF_ERROR(GetString(j, "license", "license", false, &m.license));
  MOSAIC_RETURN_IF_ERROR(GetString(j, "source", "source", false, &m.source));
  MOSAIC_RETURN_IF_ERROR(GetString(j, "description", "description", false, &m.description));

  auto mods = j.find("modalities");
  if (mods == j.end()) return FieldError("modalities", "is missing");
  if (!mods->is_array() || mods->empty())
    return FieldError("modalities", "must be a non-empty array, got " + Show(*mods));
  for (size_t i = 0; i < mods->size(); ++i) {
    const Json& v = (*mods)[i];
    const std::string field = "modalities[" + std::to_string(i) + "]";
    if (!v.is_string()) return FieldError(field, "must be a string, got " + Show(v));
    auto mod = ParseModality(v.get<std::string>());
    if (!mod.ok()) return FieldError(field, mod.status().message());
    m.modalities.push_back(*mod);
  }

  if (auto d = j.find("dim"); d != j.end() && !d->is_null()) {
    if (!d->is_number_integer() || d->get<int64_t>() < 0 || d->get<int64_t>() > (1 << 20))
      return FieldError("dim", "must be an integer in [0, 1048576], got " + Show(*d));
    m.dim = d->get<int>();
  }

  auto files = j.find("files");
  if (files == j.end()) return FieldError("files", "is missing");
  if (!files->is_array() || files->empty())
    return FieldError("files", "must be a non-empty array, got " + Show(*files));
  std::set<std::string> roles, paths;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string field = "files[" + std::to_string(i) + "]";
    MOSAIC_ASSIGN_OR_RETURN(ModelFile f, FileFromJson((*files)[i], field));
    if (!roles.insert(f.role).second)
      return FieldError(field + ".role", "'" + f.role + "' is used by more than one file");
    if (!paths.insert(f.path).second)
      return FieldError(field + ".path", "'" + f.path + "' is listed more than once");
    m.files.push_back(std::move(f));
  }

  if (auto p = j.find("preprocess"); p != j.end() && !p->is_null()) {
    if (!p->is_object()) return FieldError("preprocess", "must be an object, got " + Show(*p));
    m.preprocess = *p;
  }
  return m;
}

}  // namespace mosaic::embed
