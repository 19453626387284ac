#include "index/filter/order_value.h"

#include "index/filter/datetime.h"
#include "mosaic/collection.h"

namespace mosaic::index {

OrderKey MakeOrderKey(const Json& v) {
  OrderKey key;
  if (v.is_number()) {
    std::optional<Number> n = NumberOf(v);
    if (!n) return key;
    key.cls = OrderClass::kNumber;
    key.number = *n;
  } else if (v.is_string()) {
    std::optional<int64_t> instant = ParseDatetime(v.get_ref<const std::string&>());
    key.cls = instant ? OrderClass::kDatetime : OrderClass::kString;
    key.instant = instant.value_or(0);
  } else {
    return key;
  }
  key.value = &v;
  return key;
}

int CompareOrderKeys(const OrderKey& a, const OrderKey& b) {
  if (a.cls != b.cls) return a.cls < b.cls ? -1 : 1;
  switch (a.cls) {
    case OrderClass::kNumber:
      return CompareNumbers(a.number, b.number);
    case OrderClass::kDatetime:
      return a.instant < b.instant ? -1 : a.instant > b.instant ? 1 : 0;
    case OrderClass::kString: {
      int c =
          a.value->get_ref<const std::string&>().compare(b.value->get_ref<const std::string&>());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case OrderClass::kNone:
      return 0;
  }
  return 0;
}

OrderKey OrderKeyAt(const JsonPath& path, const Json& payload, bool descending) {
  OrderKey best;
  path.AnyValue(payload, true, [&](const Json& v) {
    OrderKey key = MakeOrderKey(v);
    if (key.cls == OrderClass::kNone) return false;
    const int c = CompareOrderKeys(key, best);
    // kNone sorts last, so the first value always replaces it.
    if (best.cls == OrderClass::kNone || (descending ? c > 0 : c < 0)) best = key;
    return false;
  });
  return best;
}

}  // namespace mosaic::index

namespace mosaic {

Json OrderValue(const Json& payload, const OrderBy& order_by) {
  Result<index::JsonPath> path = index::JsonPath::Parse(order_by.key);
  if (!path.ok()) return nullptr;
  index::OrderKey key = index::OrderKeyAt(*path, payload, order_by.descending);
  return key.value == nullptr ? Json(nullptr) : *key.value;
}

int CompareOrderValues(const Json& a, const Json& b) {
  return index::CompareOrderKeys(index::MakeOrderKey(a), index::MakeOrderKey(b));
}

}  // namespace mosaic
