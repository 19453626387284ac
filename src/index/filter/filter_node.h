// The compiled form of a payload filter (see mosaic/filter.h and docs/filters.md): a tree of
// FilterNodes whose concrete classes live in conditions.h. Immutable once built; thread-safe to
// evaluate concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::index {

// Lets the payload index planner look inside a compiled filter without RTTI.
enum class FilterNodeKind : uint8_t { kBool, kMatch, kText, kRange, kIsNull, kIsEmpty, kHasId };

class FilterNode {
 public:
  virtual ~FilterNode() = default;
  virtual FilterNodeKind kind() const = 0;
  virtual bool Matches(const PointId& id, const Json& payload) const = 0;
};

// Validates and compiles filter JSON; errors name the offending clause and value. The root of the
// result is always a BoolNode.
Result<std::shared_ptr<const FilterNode>> CompileFilter(const Json& filter);

}  // namespace mosaic::index
