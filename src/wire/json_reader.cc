#include "wire/json_reader.h"

#include <cmath>

namespace mosaic::wire {

std::string Shown(const Json& j) {
  std::string s = j.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

Status JsonReader::Expect(std::initializer_list<const char*> known) const {
  if (!j_.is_object())
    return Status::InvalidArgument((where_.empty() ? std::string("request") : where_) +
                                   ": expected an object, got " + Shown(j_));
  for (const auto& [key, value] : j_.items()) {
    bool ok = false;
    for (const char* k : known)
      ok = ok || key == k;
    if (ok) continue;
    std::string list;
    for (const char* k : known)
      list += (list.empty() ? "" : ", ") + std::string(k);
    return Status::InvalidArgument(Path(key) + ": unknown key (expected one of: " + list + ")");
  }
  return Status::OK();
}

Result<std::optional<std::string>> JsonReader::String(const char* key) const {
  if (!Has(key) || j_[key].is_null()) return std::optional<std::string>();
  if (!j_[key].is_string())
    return Status::InvalidArgument(Path(key) + ": expected a string, got " + Shown(j_[key]));
  return std::optional<std::string>(j_[key].get<std::string>());
}

Result<std::optional<bool>> JsonReader::Bool(const char* key) const {
  if (!Has(key) || j_[key].is_null()) return std::optional<bool>();
  if (!j_[key].is_boolean())
    return Status::InvalidArgument(Path(key) + ": expected true or false, got " + Shown(j_[key]));
  return std::optional<bool>(j_[key].get<bool>());
}

Result<std::optional<double>> JsonReader::Number(const char* key) const {
  if (!Has(key) || j_[key].is_null()) return std::optional<double>();
  if (!j_[key].is_number() || !std::isfinite(j_[key].get<double>()))
    return Status::InvalidArgument(Path(key) + ": expected a number, got " + Shown(j_[key]));
  return std::optional<double>(j_[key].get<double>());
}

Result<std::optional<size_t>> JsonReader::Size(const char* key, size_t max) const {
  if (!Has(key) || j_[key].is_null()) return std::optional<size_t>();
  const Json& v = j_[key];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
    return Status::InvalidArgument(Path(key) + ": expected an integer from 0 to " +
                                   std::to_string(max) + ", got " + Shown(v));
  return std::optional<size_t>(static_cast<size_t>(v.get<uint64_t>()));
}

}  // namespace mosaic::wire
