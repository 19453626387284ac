// The field indexes of index/filter/field_index.h: keyword, ordered (integer, float, datetime)
// and text, and the posting-list and plan helpers they share.
#include "index/filter/field_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <span>
#include <unordered_map>

#include "common/coding.h"
#include "common/crc32c.h"
#include "index/filter/conditions.h"
#include "index/filter/datetime.h"
#include "index/filter/facet_counter.h"
#include "index/filter/json_path.h"
#include "index/filter/number.h"
#include "index/filter/order_value.h"
#include "index/slot_io.h"
#include "index/text/bm25_index.h"

namespace mosaic::index::fields {

// Once the candidates are this many times fewer than the next condition's posting lists, reading
// and merging those lists costs more than letting the caller evaluate the few candidates.
constexpr size_t kMaxIntersectRatio = 32;
// Above this size ratio, intersect by binary search in the larger list instead of a linear merge.
constexpr size_t kGallopRatio = 16;

void AddSlot(SlotList* list, uint32_t slot) {
  // Slots mostly arrive in increasing order (new points get new slots): append is the fast path.
  if (list->empty() || list->back() < slot) {
    list->push_back(slot);
    return;
  }
  auto it = std::lower_bound(list->begin(), list->end(), slot);
  if (it == list->end() || *it != slot) list->insert(it, slot);
}

void RemoveSlot(SlotList* list, uint32_t slot) {
  auto it = std::lower_bound(list->begin(), list->end(), slot);
  if (it != list->end() && *it == slot) list->erase(it);
}

SlotList Intersect(const SlotList& a, const SlotList& b) {
  const SlotList& small = a.size() <= b.size() ? a : b;
  const SlotList& large = a.size() <= b.size() ? b : a;
  SlotList out;
  if (large.size() > kGallopRatio * small.size()) {
    auto from = large.begin();
    for (uint32_t slot : small) {
      from = std::lower_bound(from, large.end(), slot);
      if (from == large.end()) break;
      if (*from == slot) out.push_back(slot);
    }
    return out;
  }
  std::set_intersection(small.begin(), small.end(), large.begin(), large.end(),
                        std::back_inserter(out));
  return out;
}

void SortUnique(SlotList* list) {
  std::sort(list->begin(), list->end());
  list->erase(std::unique(list->begin(), list->end()), list->end());
}


Plan UnionOfLists(std::vector<const SlotList*> lists, bool exact) {
  size_t total = 0;
  for (const SlotList* list : lists)
    total += list->size();
  return Plan{total, exact, [lists = std::move(lists), total](bool*) {
                if (lists.size() == 1) return *lists[0];
                SlotList out;
                out.reserve(total);
                for (const SlotList* list : lists)
                  out.insert(out.end(), list->begin(), list->end());
                SortUnique(&out);
                return out;
              }};
}

Plan UnionOfPlans(std::vector<Plan> plans) {
  size_t total = 0;
  bool exact = true;
  for (const Plan& p : plans) {
    total += p.estimate;
    exact = exact && p.exact;
  }
  return Plan{total, exact, [plans = std::move(plans)](bool* exact) {
                SlotList out;
                for (const Plan& p : plans) {
                  SlotList part = p.run(exact);
                  out.insert(out.end(), part.begin(), part.end());
                }
                SortUnique(&out);
                return out;
              }};
}

Plan IntersectionOfPlans(std::vector<Plan> plans) {
  std::sort(plans.begin(), plans.end(),
            [](const Plan& a, const Plan& b) { return a.estimate < b.estimate; });
  size_t smallest = plans.front().estimate;
  bool exact = true;
  for (const Plan& p : plans) exact = exact && p.exact;
  return Plan{smallest, exact, [plans = std::move(plans)](bool* exact) {
                SlotList out = plans.front().run(exact);
                for (size_t k = 1; k < plans.size() && !out.empty(); ++k) {
                  if (plans[k].estimate > kMaxIntersectRatio * out.size()) {
                    *exact = false;
                    break;
                  }
                  out = Intersect(out, plans[k].run(exact));
                }
                return out;
              }};
}

// Integer key bounds [lo, hi] holding exactly the integers that satisfy `b`, clamped to int64;
// false when no int64 does.
bool IntegerKeyRange(const RangeNode::Bounds& b, int64_t* lo, int64_t* hi) {
  constexpr Int128 kMin = std::numeric_limits<int64_t>::min();
  constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
  // Floor and ceiling, clamped to one past either end of int64 so the casts below stay in range.
  constexpr double kTwo63 = 0x1p63;
  auto clamp_float = [&](double f, bool up) -> Int128 {
    if (f < -kTwo63) return kMin - 1;
    if (f >= kTwo63) return kMax + 1;
    return static_cast<Int128>(up ? std::ceil(f) : std::floor(f));
  };
  auto floor_of = [&](const Number& n) -> Int128 {
    return n.is_int ? std::clamp(n.i, kMin - 1, kMax + 1) : clamp_float(n.f, false);
  };
  auto ceil_of = [&](const Number& n) -> Int128 {
    return n.is_int ? std::clamp(n.i, kMin - 1, kMax + 1) : clamp_float(n.f, true);
  };
  Int128 low = kMin, high = kMax;
  if (b.gte) low = std::max(low, ceil_of(*b.gte));
  if (b.gt) low = std::max(low, floor_of(*b.gt) + 1);
  if (b.lte) high = std::min(high, floor_of(*b.lte));
  if (b.lt) high = std::min(high, ceil_of(*b.lt) - 1);
  if (low > high) return false;
  *lo = static_cast<int64_t>(low);
  *hi = static_cast<int64_t>(high);
  return true;
}


// Whether a value is one that ordering or facets may use, and so one that an index not keying
// it must report in its others (PayloadIndexSet::Others).
bool IsScalar(const Json& v) {
  return v.is_number() || v.is_string() || v.is_boolean();
}


class KeywordIndex final : public FieldIndex {
 public:
  using FieldIndex::FieldIndex;

  PayloadIndexType type() const override { return PayloadIndexType::kKeyword; }

  void Insert(uint32_t slot, const Json& payload) override {
    bool other = false;
    for (const std::string& key : Keys(payload, &other))
      AddSlot(&postings_[key], slot);
    UpdateOthers(slot, other, true);
  }

  void Erase(uint32_t slot, const Json& payload) override {
    bool other = false;
    for (const std::string& key : Keys(payload, &other)) {
      auto it = postings_.find(key);
      if (it == postings_.end()) continue;
      RemoveSlot(&it->second, slot);
      if (it->second.empty()) postings_.erase(it);
    }
    UpdateOthers(slot, other, false);
  }

  bool ForEachFacetValue(FacetBucket bucket, const FacetFn& fn) const override {
    if (bucket != FacetBucket::kValue) return false;
    for (const auto& [key, list] : postings_)
      fn(Json(key), list);
    return true;
  }

  std::optional<Plan> PlanMatch(const MatchNode& match) const override {
    const MatchValues& values = match.values();
    if (match.mode() != MatchNode::Mode::kAny || !values.integers().empty() || values.has_bools())
      return std::nullopt;
    std::vector<const SlotList*> lists;
    for (const std::string& s : values.strings()) {
      auto it = postings_.find(s);
      if (it != postings_.end()) lists.push_back(&it->second);
    }
    // Keys are the strings at the path, compared bytewise as the condition compares them.
    return UnionOfLists(std::move(lists), true);
  }

  std::optional<Plan> PlanRange(const RangeNode&) const override { return std::nullopt; }

  size_t MemoryBytes() const override {
    size_t bytes = postings_.bucket_count() * sizeof(void*) + others_.capacity() * sizeof(uint32_t);
    for (const auto& [key, list] : postings_)
      bytes += sizeof(std::pair<const std::string, SlotList>) + 2 * sizeof(void*) + key.capacity() +
               list.capacity() * sizeof(uint32_t);
    return bytes;
  }

 private:
  std::vector<std::string> Keys(const Json& payload, bool* other) const {
    std::vector<std::string> keys;
    ForEachValue(payload, [&](const Json& v) {
      if (v.is_string())
        keys.push_back(v.get<std::string>());
      else if (IsScalar(v))
        *other = true;
    });
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }


  // Keys: count, then each key with its list.
  void Export(const ExportMap& map, std::string* out) const override {
    FieldIndex::Export(map, out);
    // In key order, so that the same index always makes the same file.
    std::vector<const std::pair<const std::string, SlotList>*> entries;
    for (const auto& entry : postings_) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::string body;
    size_t keys = 0;
    for (const auto* entry : entries) {
      const SlotList kept = ExportSlots(entry->second, map);
      if (kept.empty()) continue;
      ++keys;
      PutLengthPrefixed(&body, entry->first);
      PutSlotList(&body, kept);
    }
    PutVarint64(out, keys);
    out->append(body);
  }

  bool Import(Decoder* in, const ImportMap& map) override {
    uint64_t keys = 0;
    if (!FieldIndex::Import(in, map) || !in->GetVarint64(&keys) || keys > in->remaining())
      return false;
    for (uint64_t k = 0; k < keys; ++k) {
      std::string_view key;
      if (!in->GetLengthPrefixed(&key)) return false;
      auto it = postings_.try_emplace(std::string(key)).first;
      if (!GetSlotList(in, map, &it->second)) return false;
      if (it->second.empty()) postings_.erase(it);
    }
    return true;
  }

  std::unordered_map<std::string, SlotList> postings_;
};

// Posting lists in key order, for range conditions. A subclass says which values get which key;
// values it can compare but not key exactly go to `unkeyed_`, which every range plan includes so
// that no matching slot is missed.
template <typename Key>
class OrderedIndex : public FieldIndex {
 public:
  using FieldIndex::FieldIndex;

  void Insert(uint32_t slot, const Json& payload) override {
    bool unkeyed = false, other = false;
    for (const Key& key : Keys(payload, &unkeyed, &other))
      AddSlot(&postings_[key], slot);
    if (unkeyed) AddSlot(&unkeyed_, slot);
    UpdateOthers(slot, other, true);
  }

  void Erase(uint32_t slot, const Json& payload) override {
    bool unkeyed = false, other = false;
    for (const Key& key : Keys(payload, &unkeyed, &other)) {
      auto it = postings_.find(key);
      if (it == postings_.end()) continue;
      RemoveSlot(&it->second, slot);
      if (it->second.empty()) postings_.erase(it);
    }
    if (unkeyed) RemoveSlot(&unkeyed_, slot);
    UpdateOthers(slot, other, false);
  }

  // Keys are in the order of their values, and all values of one class (key_class()), so a
  // cursor of another class either precedes or follows every key.
  bool WalkKeys(bool descending, const Json* from, const GroupFn& group) const override {
    const FieldIndex* self = this;
    const uint32_t zero = 0;
    return WalkKeysAcross({&self, 1}, {&zero, 1}, descending, from, group);
  }

  bool WalkKeysAcross(std::span<const FieldIndex* const> parts, std::span<const uint32_t> offsets,
                      bool descending, const Json* from, const GroupFn& group) const override {
    std::optional<Key> bound;
    if (from != nullptr) {
      const OrderKey cursor = MakeOrderKey(*from);
      if (cursor.cls == OrderClass::kNone) return true;  // only points without a value remain
      if (cursor.cls == key_class()) {
        bound = Bound(cursor, descending);
        if (!bound) return true;
      } else if ((cursor.cls < key_class()) == descending) {
        return true;  // every key sorts before the cursor
      }
    }
    // One list: handed over as it is. Several: the next key is the first among the parts'
    // heads, and the slots of each part holding it are joined (in slot order: offsets ascend).
    auto walk = [&](auto heads) {
      if (heads.size() == 1 && offsets[0] == 0) {
        for (auto& h = heads[0]; h.it != h.end; ++h.it)
          if (!group(h.it->second)) return;
        return;
      }
      auto before = [&](const Key& a, const Key& b) { return descending ? b < a : a < b; };
      SlotList joined;
      for (;;) {
        const Key* next = nullptr;
        for (const auto& h : heads)
          if (h.it != h.end && (next == nullptr || before(h.it->first, *next))) next = &h.it->first;
        if (next == nullptr) return;
        const Key key = *next;
        joined.clear();
        for (auto& h : heads) {
          if (h.it == h.end || before(key, h.it->first)) continue;
          for (uint32_t slot : h.it->second) joined.push_back(h.offset + slot);
          ++h.it;
        }
        if (!group(joined)) return;
      }
    };
    // Each part's keys from the bound on, in the walk's direction.
    using Map = std::map<Key, SlotList>;
    auto heads = [&](auto begin, auto end) {
      struct Head {
        decltype(begin(std::declval<const Map&>())) it, end;
        uint32_t offset;
      };
      std::vector<Head> out;
      for (size_t k = 0; k < parts.size(); ++k) {
        const Map& m = static_cast<const OrderedIndex*>(parts[k])->postings_;
        out.push_back({begin(m), end(m), offsets[k]});
      }
      return out;
    };
    if (!descending)
      walk(heads([&](const Map& m) { return bound ? m.lower_bound(*bound) : m.begin(); },
                 [](const Map& m) { return m.end(); }));
    else
      walk(heads(
          [&](const Map& m) {
            return std::make_reverse_iterator(bound ? m.upper_bound(*bound) : m.end());
          },
          [](const Map& m) { return m.rend(); }));
    return true;
  }

  size_t MemoryBytes() const override {
    // A red-black tree node: three pointers and a color word besides the value.
    size_t bytes = (unkeyed_.capacity() + others_.capacity()) * sizeof(uint32_t);
    for (const auto& [key, list] : postings_)
      bytes += sizeof(std::pair<const Key, SlotList>) + 4 * sizeof(void*) +
               list.capacity() * sizeof(uint32_t);
    return bytes;
  }

 protected:
  // Adds the key of `v` to `keys`, or sets *unkeyed; ignores values of other types.
  virtual void KeyOf(const Json& v, std::vector<Key>* keys, bool* unkeyed) const = 0;
  // The class of every keyed value.
  virtual OrderClass key_class() const = 0;
  // The key at which a walk must start so as not to miss a value not before `cursor` (of
  // key_class()): keys from it on (up to it, descending) may qualify, keys past it may not.
  // nullopt when no key qualifies.
  virtual std::optional<Key> Bound(const OrderKey& cursor, bool descending) const = 0;

  // Slots holding a key between lo and hi (each inclusive unless marked strict), plus the
  // unkeyed ones if asked. `exact`: the keys in range stand for exactly the values satisfying
  // the condition (the unkeyed slots, when there are any, never are exact).
  Plan RangePlan(Key lo, bool lo_strict, Key hi, bool hi_strict, bool with_unkeyed,
                 bool exact) const {
    std::vector<const SlotList*> lists;
    if (!(hi < lo)) {
      auto it = lo_strict ? postings_.upper_bound(lo) : postings_.lower_bound(lo);
      for (; it != postings_.end(); ++it) {
        if (hi < it->first || (hi_strict && !(it->first < hi))) break;
        lists.push_back(&it->second);
      }
    }
    if (with_unkeyed && !unkeyed_.empty()) lists.push_back(&unkeyed_);
    return UnionOfLists(std::move(lists), exact && unkeyed_.empty());
  }

  // Slots holding one of `keys`, plus the unkeyed ones if asked; `exact` as for RangePlan.
  Plan PointsPlan(const std::vector<Key>& keys, bool with_unkeyed, bool exact) const {
    std::vector<const SlotList*> lists;
    for (const Key& key : keys) {
      auto it = postings_.find(key);
      if (it != postings_.end()) lists.push_back(&it->second);
    }
    if (with_unkeyed && !unkeyed_.empty()) lists.push_back(&unkeyed_);
    return UnionOfLists(std::move(lists), exact && unkeyed_.empty());
  }


  // The unkeyed, then keys: count, then each key (its 8 bytes) with its list.
  void Export(const ExportMap& map, std::string* out) const override {
    static_assert(sizeof(Key) == 8);
    FieldIndex::Export(map, out);
    PutSlotList(out, ExportSlots(unkeyed_, map));
    std::string body;
    size_t keys = 0;
    for (const auto& [key, list] : postings_) {
      const SlotList kept = ExportSlots(list, map);
      if (kept.empty()) continue;
      ++keys;
      PutFixed64(&body, std::bit_cast<uint64_t>(key));
      PutSlotList(&body, kept);
    }
    PutVarint64(out, keys);
    out->append(body);
  }

  bool Import(Decoder* in, const ImportMap& map) override {
    uint64_t keys = 0;
    if (!FieldIndex::Import(in, map) || !GetSlotList(in, map, &unkeyed_) ||
        !in->GetVarint64(&keys) || keys > in->remaining())
      return false;
    for (uint64_t k = 0; k < keys; ++k) {
      uint64_t bits = 0;
      if (!in->GetFixed64(&bits)) return false;
      const Key key = std::bit_cast<Key>(bits);
      if (key != key) return false;  // a NaN key would break the map's order
      auto it = postings_.try_emplace(key).first;
      if (!GetSlotList(in, map, &it->second)) return false;
      if (it->second.empty()) postings_.erase(it);
    }
    return true;
  }

  std::map<Key, SlotList> postings_;
  SlotList unkeyed_;

 private:
  std::vector<Key> Keys(const Json& payload, bool* unkeyed, bool* other) const {
    std::vector<Key> keys;
    ForEachValue(payload, [&](const Json& v) {
      const size_t before = keys.size();
      KeyOf(v, &keys, unkeyed);
      if (keys.size() == before && IsScalar(v)) *other = true;
    });
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }
};

// Keys integral numbers (5 and 5.0 alike) that fit an int64. Other numbers (2.5, 2^63, 1e300) are
// unkeyed: rare in an integer field, yet a range or match on it must still find them.
class IntegerIndex final : public OrderedIndex<int64_t> {
 public:
  using OrderedIndex::OrderedIndex;

  PayloadIndexType type() const override { return PayloadIndexType::kInteger; }

  std::optional<Plan> PlanMatch(const MatchNode& match) const override {
    const MatchValues& values = match.values();
    if (match.mode() != MatchNode::Mode::kAny || !values.strings().empty() || values.has_bools())
      return std::nullopt;
    std::vector<int64_t> keys;
    bool outside_int64 = false;
    for (Int128 v : values.integers()) {
      if (FitsInt64(v)) {
        keys.push_back(static_cast<int64_t>(v));
      } else {
        outside_int64 = true;
      }
    }
    // An integral number is keyed by its value, which is what the condition compares.
    return PointsPlan(keys, outside_int64, true);
  }

  std::optional<Plan> PlanRange(const RangeNode& range) const override {
    if (range.datetime()) return std::nullopt;
    int64_t lo = 0, hi = -1;
    if (!IntegerKeyRange(range.bounds(), &lo, &hi))
      return RangePlan(0, false, -1, false, true, true);
    return RangePlan(lo, false, hi, false, true, true);
  }

  bool ForEachFacetValue(FacetBucket bucket, const FacetFn& fn) const override {
    if (bucket != FacetBucket::kValue) return false;
    for (const auto& [key, list] : postings_)
      fn(Json(key), list);
    return true;
  }

 private:
  OrderClass key_class() const override { return OrderClass::kNumber; }

  // An integral value not before the cursor is at least its floor ascending, at most its
  // ceiling descending.
  std::optional<int64_t> Bound(const OrderKey& cursor, bool descending) const override {
    constexpr Int128 kMin = std::numeric_limits<int64_t>::min();
    constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
    const Number& n = cursor.number;
    Int128 edge;
    if (n.is_int) {
      edge = n.i;
    } else if (n.f < -0x1p63) {
      edge = kMin - 1;
    } else if (n.f >= 0x1p63) {
      edge = kMax + 1;
    } else {
      edge = static_cast<Int128>(descending ? std::ceil(n.f) : std::floor(n.f));
    }
    if (!descending) {
      if (edge > kMax) return std::nullopt;
      return static_cast<int64_t>(std::max(edge, kMin));
    }
    if (edge < kMin) return std::nullopt;
    return static_cast<int64_t>(std::min(edge, kMax));
  }

  static bool FitsInt64(Int128 v) {
    return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
  }

  void KeyOf(const Json& v, std::vector<int64_t>* keys, bool* unkeyed) const override {
    std::optional<Number> n = NumberOf(v);
    if (!n) return;
    std::optional<Int128> integral = IntegralValue(*n);
    if (integral && FitsInt64(*integral)) {
      keys->push_back(static_cast<int64_t>(*integral));
    } else {
      *unkeyed = true;
    }
  }
};

// Keys every number by its nearest double. Rounding is monotonic, so a bound rounded the same way
// and made inclusive keeps every matching value in range. A strict bound below 2^53 in magnitude
// stays strict: there every integer is exact, and a larger integer cannot round onto the bound.
class FloatIndex final : public OrderedIndex<double> {
 public:
  using OrderedIndex::OrderedIndex;

  PayloadIndexType type() const override { return PayloadIndexType::kFloat; }

  std::optional<Plan> PlanMatch(const MatchNode& match) const override {
    const MatchValues& values = match.values();
    if (match.mode() != MatchNode::Mode::kAny || !values.strings().empty() || values.has_bools())
      return std::nullopt;
    std::vector<double> keys;
    for (Int128 v : values.integers())
      keys.push_back(ToDouble(Number::Int(v)));
    return PointsPlan(keys, false, false);  // a key may stand for several values
  }

  std::optional<Plan> PlanRange(const RangeNode& range) const override {
    if (range.datetime()) return std::nullopt;
    constexpr double kExactIntegers = 0x1p53;
    const RangeNode::Bounds& b = range.bounds();
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_strict = false, hi_strict = false;
    auto raise = [&](const Number& n, bool strict) {
      double d = ToDouble(n);
      strict = strict && std::fabs(d) < kExactIntegers;
      if (d > lo || (d == lo && strict)) {
        lo = d;
        lo_strict = strict;
      }
    };
    auto lower = [&](const Number& n, bool strict) {
      double d = ToDouble(n);
      strict = strict && std::fabs(d) < kExactIntegers;
      if (d < hi || (d == hi && strict)) {
        hi = d;
        hi_strict = strict;
      }
    };
    if (b.gt) raise(*b.gt, true);
    if (b.gte) raise(*b.gte, false);
    if (b.lt) lower(*b.lt, true);
    if (b.lte) lower(*b.lte, false);
    return RangePlan(lo, lo_strict, hi, hi_strict, false, false);
  }

 private:
  void KeyOf(const Json& v, std::vector<double>* keys, bool*) const override {
    std::optional<Number> n = NumberOf(v);
    if (n) keys->push_back(ToDouble(*n));
  }

  OrderClass key_class() const override { return OrderClass::kNumber; }

  // Rounding is monotonic: a value not before the cursor has a key not before the cursor's.
  std::optional<double> Bound(const OrderKey& cursor, bool) const override {
    return ToDouble(cursor.number);
  }
};

// Keys strings that parse as datetimes by their instant (microseconds since the epoch, UTC).
class DatetimeIndex final : public OrderedIndex<int64_t> {
 public:
  using OrderedIndex::OrderedIndex;

  PayloadIndexType type() const override { return PayloadIndexType::kDatetime; }

  // An exact string match implies the same instant, so the instant's postings are a superset;
  // a string that is not a datetime may match payload strings this index never saw.
  std::optional<Plan> PlanMatch(const MatchNode& match) const override {
    const MatchValues& values = match.values();
    if (match.mode() != MatchNode::Mode::kAny || !values.integers().empty() || values.has_bools())
      return std::nullopt;
    std::vector<int64_t> keys;
    for (const std::string& s : values.strings()) {
      std::optional<int64_t> instant = ParseDatetime(s);
      if (!instant) return std::nullopt;
      keys.push_back(*instant);
    }
    return PointsPlan(keys, false, false);
  }

  std::optional<Plan> PlanRange(const RangeNode& range) const override {
    if (!range.datetime()) return std::nullopt;
    int64_t lo = 0, hi = -1;
    if (!IntegerKeyRange(range.bounds(), &lo, &hi))
      return RangePlan(0, false, -1, false, false, false);
    return RangePlan(lo, false, hi, false, false, false);
  }

  // A bucket is a run of consecutive instants: unite the lists of each run.
  bool ForEachFacetValue(FacetBucket bucket, const FacetFn& fn) const override {
    if (bucket == FacetBucket::kValue) return false;
    std::string label;
    SlotList slots;
    for (const auto& [instant, list] : postings_) {
      std::string l = FacetBucketLabel(instant, bucket);
      if (l != label && !slots.empty()) {
        SortUnique(&slots);
        fn(Json(label), slots);
        slots.clear();
      }
      label = std::move(l);
      slots.insert(slots.end(), list.begin(), list.end());
    }
    if (!slots.empty()) {
      SortUnique(&slots);
      fn(Json(label), slots);
    }
    return true;
  }

 private:
  void KeyOf(const Json& v, std::vector<int64_t>* keys, bool*) const override {
    if (!v.is_string()) return;
    std::optional<int64_t> instant = ParseDatetime(v.get_ref<const std::string&>());
    if (instant) keys->push_back(*instant);
  }

  OrderClass key_class() const override { return OrderClass::kDatetime; }
  std::optional<int64_t> Bound(const OrderKey& cursor, bool) const override {
    return cursor.instant;
  }
};

// Full-text: the strings at the path (array elements too) make one document of a Bm25Index
// (index/text/), which SearchText ranks and which bounds "match" {"text"} and {"phrase"}.
class TextFieldIndex final : public FieldIndex {
 public:
  TextFieldIndex(JsonPath path, text::WordTokenizer tokenizer)
      : FieldIndex(std::move(path)), bm25_(std::move(tokenizer)) {}

  PayloadIndexType type() const override { return PayloadIndexType::kText; }
  void Insert(uint32_t slot, const Json& payload) override { bm25_.Insert(slot, Texts(payload)); }
  std::vector<std::string> Terms(const Json& payload) const override {
    return bm25_.TermsOf(Texts(payload));
  }
  void InsertTerms(uint32_t slot, const Json&, std::span<const std::string> terms) override {
    bm25_.InsertTerms(slot, terms);
  }
  void Erase(uint32_t slot, const Json& payload) override { bm25_.Erase(slot, Texts(payload)); }
  std::optional<Plan> PlanMatch(const MatchNode&) const override { return std::nullopt; }
  std::optional<Plan> PlanRange(const RangeNode&) const override { return std::nullopt; }
  // A phrase needs all its terms too, so both modes are bounded by the documents holding them.
  std::optional<Plan> PlanText(const TextMatchNode& node) const override {
    const std::vector<std::string>& terms = node.distinct_terms();
    return Plan{bm25_.EstimateWithAll(terms), false,
                [this, &terms](bool*) { return bm25_.SlotsWithAll(terms); }};
  }
  size_t MemoryBytes() const override { return bm25_.MemoryBytes(); }
  const SlotList* others() const override { return nullptr; }

  const Bm25Index* text() const override { return &bm25_; }

 private:
  std::vector<std::string_view> Texts(const Json& payload) const {
    std::vector<std::string_view> texts;
    ForEachValue(payload, [&](const Json& v) {
      if (v.is_string()) texts.push_back(v.get_ref<const std::string&>());
    });
    return texts;
  }

  void Export(const ExportMap& map, std::string* out) const override { bm25_.Export(map, out); }
  bool Import(Decoder* in, const ImportMap& map) override { return bm25_.Import(in, map); }

  Bm25Index bm25_;
};

std::unique_ptr<FieldIndex> MakeFieldIndex(JsonPath path, PayloadIndexType type) {
  switch (type) {
    case PayloadIndexType::kKeyword:
      return std::make_unique<KeywordIndex>(std::move(path));
    case PayloadIndexType::kInteger:
      return std::make_unique<IntegerIndex>(std::move(path));
    case PayloadIndexType::kFloat:
      return std::make_unique<FloatIndex>(std::move(path));
    case PayloadIndexType::kDatetime:
      return std::make_unique<DatetimeIndex>(std::move(path));
    case PayloadIndexType::kText: {
      const Result<text::WordTokenizer>& tokenizer = FullTextTokenizer();
      if (!tokenizer.ok()) return nullptr;
      return std::make_unique<TextFieldIndex>(std::move(path), *tokenizer);
    }
  }
  return nullptr;
}


}  // namespace mosaic::index::fields
