// Payload filters: a JSON filter language (must / should / must_not, match on values or on
// full-text terms and phrases, range, is_null, is_empty, has_id, nested keys). Parse once, use
// many times; a parsed Filter is immutable and safe to share between threads.
//
//   {"must": [{"key": "color", "match": {"value": "red"}},
//             {"key": "price", "range": {"gte": 10, "lt": 20}}],
//    "must_not": [{"has_id": [1, 2]}]}
//
// The grammar is documented in docs/filters.md.
#pragma once

#include <memory>
#include <string_view>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic {

namespace index {
class FilterNode;
}

class Filter {
 public:
  static Result<Filter> Parse(std::string_view json_text);
  static Result<Filter> FromJson(const Json& j);

  // True if a point with this id and payload satisfies the filter.
  bool Matches(const PointId& id, const Json& payload) const;

  const Json& json() const { return json_; }
  const index::FilterNode& root() const { return *root_; }

 private:
  Json json_;
  std::shared_ptr<const index::FilterNode> root_;
};

}  // namespace mosaic
