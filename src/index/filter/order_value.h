// Order values: what a point sorts by when a read orders by a payload field (Scroll's order_by;
// the public OrderValue and CompareOrderValues in mosaic/collection.h are defined in
// order_value.cc on top of this). Numbers come first (compared exactly, as in filters), then
// datetimes (strings that parse as one, compared as instants), then other strings (bytewise);
// a point without any of these has no value and comes last. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "index/filter/json_path.h"
#include "index/filter/number.h"
#include "mosaic/json.h"

namespace mosaic::index {

// In order: a value's class decides before the value itself.
enum class OrderClass : uint8_t { kNumber, kDatetime, kString, kNone };

// An order value prepared for comparison (a datetime is parsed once, not per comparison).
struct OrderKey {
  OrderClass cls = OrderClass::kNone;
  Number number;                // kNumber
  int64_t instant = 0;          // kDatetime
  const Json* value = nullptr;  // the value itself; nullptr for kNone
};

// kNone unless `v` is a number (not NaN) or a string.
OrderKey MakeOrderKey(const Json& v);
// <0, 0, >0 as `a` sorts before, with or after `b` ascending; kNone after everything.
int CompareOrderKeys(const OrderKey& a, const OrderKey& b);

// The value `payload` sorts by: of the numbers and strings at `path` (arrays flattened), the
// smallest, or when `descending` the largest; kNone when there are none. The key points into
// `payload`.
OrderKey OrderKeyAt(const JsonPath& path, const Json& payload, bool descending);

// Whether `v` can be an order value (a number other than NaN, or a string).
inline bool IsOrderable(const Json& v) {
  return MakeOrderKey(v).cls != OrderClass::kNone;
}

}  // namespace mosaic::index
