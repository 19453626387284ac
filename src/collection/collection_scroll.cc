// CollectionImpl::Scroll: pages of points in id order, or ordered by a payload field (order_by)
// with the cursor (order value, id). Ordered pages come from an integer, float or datetime index
// on the field when there is one, else from the payloads of the points matching the filter.
#include <algorithm>
#include <iterator>
#include <memory>

#include "collection/collection_impl.h"
#include "index/filter/order_value.h"

namespace mosaic::collection {
namespace {

// A point as order_by sees it: the value it sorts by, and its slot. `key.value` points into the
// payload, or into `owned` when the payload was decoded for the moment (read from its segment).
struct Entry {
  index::OrderKey key;
  uint32_t slot;
  std::shared_ptr<const Json> owned;
};

bool HasValue(const Entry& e) {
  return e.key.cls != index::OrderClass::kNone;
}

}  // namespace

Result<ScrollPage> CollectionImpl::Scroll(const ScrollRequest& r) const {
  MOSAIC_RETURN_IF_ERROR(CheckUsable());
  if (r.limit == 0 || r.limit > kMaxLimit)
    return Status::InvalidArgument("scroll limit must be between 1 and " +
                                   std::to_string(kMaxLimit) + ", got " + std::to_string(r.limit));
  if (r.order_value && !r.order_by)
    return Status::InvalidArgument("scroll order_value " + r.order_value->dump() +
                                   " needs order_by");
  std::optional<index::JsonPath> path;
  if (r.order_by) {
    Result<index::JsonPath> parsed = index::JsonPath::Parse(r.order_by->key);
    if (!parsed.ok()) return parsed.status().WithContext("scroll order_by");
    path = std::move(parsed).value();
    if (r.order_value && !r.order_value->is_null() && !index::IsOrderable(*r.order_value))
      return Status::InvalidArgument(
          "scroll order_value must be a number, a string or null (the previous page's "
          "next_order_value), got " +
          r.order_value->dump());
    if (r.offset && !r.order_value)
      return Status::InvalidArgument("scroll by '" + r.order_by->key + "' from offset " +
                                     r.offset->ToString() +
                                     " needs order_value too (the previous page's "
                                     "next_order_value)");
  }
  std::shared_lock<std::shared_mutex> l(state_mu_);
  const State& s = *state_;
  ScrollPage page = path ? ScrollOrdered(s, r, *path) : ScrollById(s, r);
  if (r.with_payload || r.with_vectors || r.filter || path)
    MOSAIC_RETURN_IF_ERROR(CheckSegmentsReadable(s));
  return page;
}

ScrollPage CollectionImpl::ScrollById(const State& s, const ScrollRequest& r) const {
  ScrollPage page;
  Json scratch;
  auto it = r.offset ? s.id_to_slot.LowerBound(*r.offset) : s.id_to_slot.begin();
  for (; it != s.id_to_slot.end(); ++it) {
    if (r.filter && !r.filter->Matches(it.id(), s.payloads.Get(it.slot(), &scratch))) continue;
    if (page.points.size() == r.limit) {
      page.next_offset = it.id();
      break;
    }
    page.points.push_back(MakePoint(s, it.slot(), r.with_payload, r.with_vectors));
  }
  return page;
}

ScrollPage CollectionImpl::ScrollOrdered(const State& s, const ScrollRequest& r,
                                         const index::JsonPath& path) const {
  const std::string& key = r.order_by->key;
  const bool descending = r.order_by->descending;
  const size_t n = s.ids.size();
  // One more than the page: its first point is the next page's cursor.
  const size_t need = r.limit + 1;

  Json scratch;
  auto entry = [&](uint32_t slot) {
    const Json& payload = s.payloads.Get(slot, &scratch);
    Entry e{index::OrderKeyAt(path, payload, descending), slot, nullptr};
    if (&payload == &scratch && e.key.value != nullptr) {
      e.owned = std::make_shared<const Json>(*e.key.value);
      e.key.value = e.owned.get();
    }
    return e;
  };
  // By value (points without one last, whatever the direction), then by id.
  auto before = [&](const Entry& a, const Entry& b) {
    if (HasValue(a) != HasValue(b)) return HasValue(a);
    if (HasValue(a)) {
      const int c = index::CompareOrderKeys(a.key, b.key);
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return s.ids[a.slot] < s.ids[b.slot];
  };
  const index::OrderKey cursor =
      r.order_value ? index::MakeOrderKey(*r.order_value) : index::OrderKey{};
  const bool cursor_has_value = cursor.cls != index::OrderClass::kNone;
  // Whether a point sorts before the cursor (order_value, offset); without an offset, the cursor
  // comes before every point with its value.
  auto before_cursor = [&](const Entry& e) {
    if (!r.order_value) return false;
    if (HasValue(e) != cursor_has_value) return HasValue(e);
    if (HasValue(e)) {
      const int c = index::CompareOrderKeys(e.key, cursor);
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return r.offset.has_value() && s.ids[e.slot] < *r.offset;
  };
  // Keeps the `need` first entries, sorted: a selection, then a sort of just those.
  auto keep_first = [&](std::vector<Entry>* entries) {
    if (entries->size() > need) {
      std::nth_element(entries->begin(), entries->begin() + static_cast<std::ptrdiff_t>(need - 1),
                       entries->end(), before);
      entries->resize(need);
    }
    std::sort(entries->begin(), entries->end(), before);
  };

  std::optional<std::vector<uint32_t>> survivors;
  if (r.filter) survivors = FilterSlots(s, *r.filter);
  std::vector<Entry> ordered;
  bool indexed = false;
  // An index walk that keeps one point in every n/S it meets reads about need·n/S entries, where
  // ordering the S survivors reads S payloads: walk only when that is the smaller.
  const std::optional<std::vector<uint32_t>> others = s.payload_index.Others(key);
  const bool walk = others.has_value() && (!survivors || survivors->size() * survivors->size() >
                                                            need * s.id_to_slot.size());
  if (walk) {
    Bitset filtered;
    if (survivors) {
      filtered.Resize(n);
      for (uint32_t slot : *survivors)
        filtered.Set(slot);
    }
    const Bitset& allowed = survivors ? filtered : s.live;
    // Points holding values the index does not key may sort elsewhere than their keys say: they
    // are ordered from their payloads and merged in.
    Bitset is_other(n);
    for (uint32_t slot : *others)
      if (slot < n && allowed.Test(slot)) is_other.Set(slot);
    // A point comes under each of its keys; the first one met is where it sorts (or, when that
    // is before the walk's start, it sorts before the cursor).
    Bitset seen(n);
    std::vector<Entry> from_keys;
    const Json* from = r.order_value ? &*r.order_value : nullptr;
    indexed =
        s.payload_index.WalkKeys(key, descending, from, [&](const std::vector<uint32_t>& slots) {
          const size_t first = from_keys.size();
          for (uint32_t slot : slots) {
            if (slot >= n || !allowed.Test(slot) || is_other.Test(slot) || seen.Test(slot))
              continue;
            seen.Set(slot);
            Entry e = entry(slot);
            if (!before_cursor(e)) from_keys.push_back(e);
          }
          // Sorted, as one float key can stand for several values; only as many as the page
          // can still take, as a key can hold most of the points.
          const auto group = from_keys.begin() + static_cast<std::ptrdiff_t>(first);
          const size_t room = need - first;
          if (from_keys.size() - first > room) {
            std::nth_element(group, group + static_cast<std::ptrdiff_t>(room - 1), from_keys.end(),
                             before);
            from_keys.resize(need);
          }
          std::sort(from_keys.begin() + static_cast<std::ptrdiff_t>(first), from_keys.end(),
                    before);
          return from_keys.size() < need;
        });
    if (indexed) {
      std::vector<Entry> from_others;
      is_other.ForEach([&](size_t slot) {
        Entry e = entry(static_cast<uint32_t>(slot));
        if (HasValue(e) && !before_cursor(e)) from_others.push_back(e);
      });
      keep_first(&from_others);
      std::merge(from_keys.begin(), from_keys.end(), from_others.begin(), from_others.end(),
                 std::back_inserter(ordered), before);
      if (ordered.size() > need) ordered.resize(need);
      // Then the points without a value, in id order: neither the keys nor the others hold them.
      auto it = r.offset && !cursor_has_value && r.order_value ? s.id_to_slot.LowerBound(*r.offset)
                                                               : s.id_to_slot.begin();
      for (; ordered.size() < need && it != s.id_to_slot.end(); ++it) {
        if (!allowed.Test(it.slot())) continue;
        Entry e = entry(it.slot());
        if (!HasValue(e)) ordered.push_back(e);
      }
    }
  }
  if (!indexed) {
    auto consider = [&](uint32_t slot) {
      Entry e = entry(slot);
      if (!before_cursor(e)) ordered.push_back(e);
    };
    if (survivors) {
      for (uint32_t slot : *survivors)
        consider(slot);
    } else {
      s.live.ForEach([&](size_t slot) { consider(static_cast<uint32_t>(slot)); });
    }
    keep_first(&ordered);
  }

  ScrollPage page;
  for (size_t i = 0; i < ordered.size() && i < r.limit; ++i)
    page.points.push_back(MakePoint(s, ordered[i].slot, r.with_payload, r.with_vectors));
  if (ordered.size() > r.limit) {
    const Entry& next = ordered[r.limit];
    page.next_offset = s.ids[next.slot];
    page.next_order_value = HasValue(next) ? *next.key.value : Json(nullptr);
  }
  return page;
}

}  // namespace mosaic::collection
