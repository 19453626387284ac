// FacetCounter: counts points per distinct value of one payload field, for Collection::Facet.
// The values counted are strings, integers (integral numbers within int64/uint64: 5 and 5.0 are
// the same value) and booleans; with a datetime bucket, the year, month or day (UTC) of strings
// that parse as datetimes, as "2023", "2023-07", "2023-07-14". Each distinct value counts once
// per point, however often the point holds it. Not synchronized: one counter per call.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "index/filter/json_path.h"
#include "index/filter/number.h"
#include "mosaic/collection.h"
#include "mosaic/json.h"

namespace mosaic::index {

// The bucket of a datetime instant (microseconds since the epoch) as FacetCounter labels it.
std::string FacetBucketLabel(int64_t instant, FacetBucket bucket);

class FacetCounter {
 public:
  FacetCounter(JsonPath path, FacetBucket bucket) : path_(std::move(path)), bucket_(bucket) {}

  // Counts the point with this payload once for each distinct value at the path.
  void AddPayload(const Json& payload);
  // Counts `points` points for `value`, a value as this counter reports them (e.g. a payload
  // index key); nothing for other values.
  void Add(const Json& value, uint64_t points);

  // The most frequent values first, ties by value ascending (integers numerically, then strings
  // bytewise, then false, true); at most `limit`.
  std::vector<FacetCount> Top(size_t limit) const;

 private:
  // Integers before strings before booleans, as Top orders ties.
  using Key = std::variant<Int128, std::string, bool>;
  // Appends the key `v` counts under, if any.
  void KeyOf(const Json& v, std::vector<Key>* keys) const;

  JsonPath path_;
  FacetBucket bucket_;
  std::map<Key, uint64_t> counts_;
};

}  // namespace mosaic::index
