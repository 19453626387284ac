// Strict reading of JSON request objects: unknown keys and wrong types are errors that name the
// key's path and the value ("query.prefetch[1].limit: expected a positive integer, got -3").
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::wire {

class JsonReader {
 public:
  // `where` names the object in messages ("" for the top level).
  JsonReader(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}

  // InvalidArgument unless the value is an object whose keys are all in `known`.
  Status Expect(std::initializer_list<const char*> known) const;

  bool Has(const char* key) const { return j_.is_object() && j_.contains(key); }
  const Json& At(const char* key) const { return j_.at(key); }
  std::string Path(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }
  const std::string& where() const { return where_; }

  Result<std::optional<std::string>> String(const char* key) const;
  Result<std::optional<bool>> Bool(const char* key) const;
  Result<std::optional<double>> Number(const char* key) const;
  // A non-negative integer no larger than `max`.
  Result<std::optional<size_t>> Size(const char* key, size_t max = SIZE_MAX) const;

 private:
  const Json& j_;
  std::string where_;
};

// The value's JSON text, shortened for messages.
std::string Shown(const Json& j);

}  // namespace mosaic::wire
