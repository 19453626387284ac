// Filter combinators for the planner: a filter is immutable JSON compiled once, so combining two
// means compiling their conjunction.
#pragma once

#include <optional>
#include <span>

#include "mosaic/filter.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::query {

// Both filters (either may be absent).
Result<std::optional<Filter>> AndFilters(const std::optional<Filter>& a,
                                         const std::optional<Filter>& b);
// `base` and also one of `ids`.
Result<std::optional<Filter>> RestrictToIds(const std::optional<Filter>& base,
                                            std::span<const PointId> ids);
// `base` and none of `ids` (no change when ids is empty).
Result<std::optional<Filter>> ExcludeIds(const std::optional<Filter>& base,
                                         std::span<const PointId> ids);

}  // namespace mosaic::query
