#include "index/filter/facet_counter.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "index/filter/datetime.h"

namespace mosaic::index {

std::string FacetBucketLabel(int64_t instant, FacetBucket bucket) {
  const CivilDate d = CivilDateOf(instant);
  char buf[32];
  const long long year = static_cast<long long>(d.year);
  switch (bucket) {
    case FacetBucket::kYear:
      std::snprintf(buf, sizeof buf, "%04lld", year);
      break;
    case FacetBucket::kMonth:
      std::snprintf(buf, sizeof buf, "%04lld-%02d", year, d.month);
      break;
    case FacetBucket::kDay:
    case FacetBucket::kValue:
      std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", year, d.month, d.day);
      break;
  }
  return buf;
}

void FacetCounter::KeyOf(const Json& v, std::vector<Key>* keys) const {
  if (bucket_ != FacetBucket::kValue) {
    if (!v.is_string()) return;
    std::optional<int64_t> instant = ParseDatetime(v.get_ref<const std::string&>());
    if (instant) keys->push_back(FacetBucketLabel(*instant, bucket_));
    return;
  }
  if (v.is_string()) {
    keys->push_back(v.get<std::string>());
  } else if (v.is_boolean()) {
    keys->push_back(v.get<bool>());
  } else if (v.is_number()) {
    std::optional<Number> n = NumberOf(v);
    std::optional<Int128> integral = n ? IntegralValue(*n) : std::nullopt;
    // Only what a JSON integer can hold comes back as one.
    if (integral && *integral >= std::numeric_limits<int64_t>::min() &&
        *integral <= static_cast<Int128>(std::numeric_limits<uint64_t>::max()))
      keys->push_back(*integral);
  }
}

void FacetCounter::AddPayload(const Json& payload) {
  std::vector<Key> keys;
  path_.AnyValue(payload, true, [&](const Json& v) {
    KeyOf(v, &keys);
    return false;
  });
  if (keys.size() > 1) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }
  for (Key& k : keys)
    counts_[std::move(k)]++;
}

void FacetCounter::Add(const Json& value, uint64_t points) {
  if (points == 0) return;
  std::vector<Key> keys;
  if (bucket_ == FacetBucket::kValue) {
    KeyOf(value, &keys);
  } else if (value.is_string()) {  // already a bucket label
    keys.push_back(value.get<std::string>());
  }
  for (Key& k : keys)
    counts_[std::move(k)] += points;
}

std::vector<FacetCount> FacetCounter::Top(size_t limit) const {
  std::vector<std::pair<const Key*, uint64_t>> all;
  all.reserve(counts_.size());
  for (const auto& [key, count] : counts_)
    all.emplace_back(&key, count);
  auto before = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : *a.first < *b.first;
  };
  const size_t k = std::min(limit, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), before);
  std::vector<FacetCount> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i) {
    FacetCount fc;
    fc.count = all[i].second;
    const Key& key = *all[i].first;
    if (const Int128* n = std::get_if<Int128>(&key)) {
      if (*n > std::numeric_limits<int64_t>::max())
        fc.value = static_cast<uint64_t>(*n);
      else
        fc.value = static_cast<int64_t>(*n);
    } else if (const std::string* s = std::get_if<std::string>(&key)) {
      fc.value = *s;
    } else {
      fc.value = std::get<bool>(key);
    }
    out.push_back(std::move(fc));
  }
  return out;
}

}  // namespace mosaic::index
