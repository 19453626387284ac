// The filter language against a reference: a seeded synthetic dataset (strings, integers, floats,
// booleans, datetimes in several notations, nulls, missing keys, arrays, nested objects, arrays
// of objects) and, for every filter, a predicate written directly over the JSON in this file.
// Then the datetime parser, numeric edge cases, and one test per kind of bad input.
#include "mosaic/filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "index/filter/datetime.h"

namespace mosaic {
namespace {

using index::ParseDatetime;

constexpr int64_t kMicros = 1'000'000;

struct Doc {
  PointId id;
  Json payload;
  // The instant the "ts" string denotes, known from how it was generated (not by parsing it).
  std::optional<int64_t> ts;
};

int64_t SecondsOf(std::chrono::sys_days day) {
  return std::chrono::duration_cast<std::chrono::seconds>(day.time_since_epoch()).count();
}

int64_t MicrosOf(std::chrono::sys_days day, int h = 0, int m = 0, int s = 0, int64_t us = 0) {
  return (SecondsOf(day) + h * 3600 + m * 60 + s) * kMicros + us;
}

// "YYYY-MM-DDTHH:MM:SS" for a count of seconds since the epoch.
std::string FormatSeconds(int64_t secs, char sep = 'T') {
  using namespace std::chrono;
  sys_seconds tp{seconds{secs}};
  sys_days day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss hms{tp - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), sep,
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// A datetime in one of several notations, and the instant it denotes.
std::pair<std::string, int64_t> RandomDatetime(std::mt19937& rng) {
  using namespace std::chrono;
  const int64_t start = SecondsOf(sys_days{2023y / 1 / 1});
  const int64_t end = SecondsOf(sys_days{2026y / 1 / 1});
  int64_t secs = std::uniform_int_distribution<int64_t>(start, end)(rng);
  int64_t micros = std::uniform_int_distribution<int64_t>(0, kMicros - 1)(rng);
  char buf[32];
  switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
    case 0:
      return {FormatSeconds(secs) + "Z", secs * kMicros};
    case 1: {  // +HH:MM: the local clock reads UTC plus the offset
      int offset = std::uniform_int_distribution<int>(0, 14 * 4)(rng) * 15 * 60;
      std::snprintf(buf, sizeof buf, "+%02d:%02d", offset / 3600, offset / 60 % 60);
      return {FormatSeconds(secs + offset) + buf, secs * kMicros};
    }
    case 2:
      std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(micros));
      return {FormatSeconds(secs) + buf, secs * kMicros + micros};
    case 3:
      std::snprintf(buf, sizeof buf, ".%03lldz", static_cast<long long>(micros / 1000));
      return {FormatSeconds(secs, 't') + buf, secs * kMicros + micros / 1000 * 1000};
    case 4: {
      int64_t day = secs / 86400 * 86400;
      return {FormatSeconds(day).substr(0, 10), day * kMicros};
    }
    case 5:
      return {FormatSeconds(secs, ' '), secs * kMicros};
    default: {  // -HHMM
      int offset = std::uniform_int_distribution<int>(1, 12 * 2)(rng) * 30 * 60;
      std::snprintf(buf, sizeof buf, "-%02d%02d", offset / 3600, offset / 60 % 60);
      return {FormatSeconds(secs - offset) + buf, secs * kMicros};
    }
  }
}

std::vector<Doc> MakeDataset(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pct = [&] { return std::uniform_int_distribution<int>(0, 99)(rng); };
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<std::string> colors = {"red", "green", "blue", "black", "white"};
  const std::vector<std::string> tags = {"a", "b", "c", "d", "e"};
  const std::vector<std::string> brands = {"acme", "globex", "initech"};

  std::vector<Doc> docs;
  for (size_t i = 0; i < n; ++i) {
    Doc d;
    d.id = i % 2 == 0 ? PointId(uint64_t{i}) : PointId("id-" + std::to_string(i));
    Json& p = d.payload;
    p = Json::object();

    int r = pct();
    if (r < 70)
      p["color"] = pick(colors);
    else if (r < 75)
      p["color"] = nullptr;
    else if (r < 80)
      p["color"] = 5;
    else if (r < 85)
      p["color"] = "5";

    r = pct();
    if (r < 60)
      p["n"] = uniform(-20, 20);
    else if (r < 70)
      p["n"] = uniform(-20, 20) + 0.5;
    else if (r < 75)
      p["n"] = static_cast<double>(uniform(-20, 20));  // 3.0
    else if (r < 80)
      p["n"] = "7";
    else if (r < 85)
      p["n"] = nullptr;
    else if (r < 90)
      p["n"] = Json::array({uniform(-20, 20), uniform(-20, 20)});

    r = pct();
    if (r < 80)
      p["price"] = uniform(0, 9999) / 100.0;
    else if (r < 90)
      p["price"] = uniform(0, 99);

    r = pct();
    if (r < 70)
      p["flag"] = pct() < 50;
    else if (r < 80)
      p["flag"] = "true";

    r = pct();
    if (r < 60) {
      Json arr = Json::array();
      for (int k = uniform(0, 3); k > 0; --k)
        arr.push_back(pick(tags));
      p["tags"] = arr;
    } else if (r < 70) {
      p["tags"] = pick(tags);
    } else if (r < 75) {
      p["tags"] = nullptr;
    } else if (r < 80) {
      p["tags"] = Json::array({nullptr});
    } else if (r < 85) {
      p["tags"] = Json::array({pick(tags), nullptr});
    }

    r = pct();
    if (r < 80) {
      auto [text, instant] = RandomDatetime(rng);
      p["ts"] = text;
      d.ts = instant;
    } else if (r < 85) {
      p["ts"] = "not a date";
    } else if (r < 90) {
      p["ts"] = 1700000000;
    }

    r = pct();
    if (r < 70) {
      Json meta = Json::object();
      if (pct() < 85) meta["brand"] = pick(brands);
      if (pct() < 85) meta["size"] = uniform(1, 10);
      if (pct() < 85) meta["dims"] = {{"w", uniform(0, 100)}};
      p["meta"] = meta;
    } else if (r < 80) {
      p["meta"] = "flat";
    }

    r = pct();
    auto item = [&] {
      Json it = Json::object();
      if (pct() < 90) it["color"] = pick(colors);
      if (pct() < 90) it["qty"] = uniform(0, 5);
      return it;
    };
    if (r < 70) {
      Json arr = Json::array();
      for (int k = uniform(0, 3); k > 0; --k)
        arr.push_back(item());
      p["items"] = arr;
    } else if (r < 80) {
      p["items"] = item();
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

// ---- Reference semantics, written against the JSON directly. ----

const Json* Member(const Json* j, const char* key) {
  if (j == nullptr || !j->is_object()) return nullptr;
  auto it = j->find(key);
  return it == j->end() ? nullptr : &*it;
}

const Json* At(const Json& p, std::initializer_list<const char*> keys) {
  const Json* j = &p;
  for (const char* k : keys)
    j = Member(j, k);
  return j;
}

// The values a condition sees at `v`: an array stands for its elements.
std::vector<Json> Leaves(const Json* v) {
  if (v == nullptr) return {};
  if (v->is_array()) return std::vector<Json>(v->begin(), v->end());
  return {*v};
}

// Values of items[].<key>: every element of an items array, or a lone items object.
std::vector<Json> ItemLeaves(const Json& p, const char* key) {
  const Json* items = Member(&p, "items");
  std::vector<Json> out;
  if (items == nullptr) return out;
  if (items->is_array()) {
    for (const Json& e : *items)
      for (Json v : Leaves(Member(&e, key)))
        out.push_back(v);
  } else {
    out = Leaves(Member(items, key));
  }
  return out;
}

bool AnyOf(const std::vector<Json>& values, const std::function<bool(const Json&)>& pred) {
  for (const Json& v : values)
    if (pred(v)) return true;
  return false;
}

bool IsStr(const Json& v, const char* s) {
  return v.is_string() && v.get<std::string>() == s;
}
bool IsNum(const Json& v) {
  return v.is_number();
}
double Num(const Json& v) {
  return v.get<double>();
}
bool IsScalar(const Json& v) {
  return v.is_string() || v.is_number() || v.is_boolean();
}
bool IsPresent(const Json& v) {
  return !v.is_null();
}

struct Case {
  std::string filter;
  std::function<bool(const Doc&)> expected;
  bool may_be_trivial = false;  // allowed to match none or all of the dataset
};

std::vector<Case> LeafCases() {
  using D = const Doc&;
  auto ts_between = [](int64_t lo, int64_t hi) {  // [lo, hi)
    return [lo, hi](D d) { return d.ts && *d.ts >= lo && *d.ts < hi; };
  };
  using namespace std::chrono;
  return {
      {R"({})", [](D) { return true; }, true},
      {R"({"must": [{"key": "color", "match": {"value": "red"}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) { return IsStr(v, "red"); });
       }},
      {R"({"must": {"key": "color", "match": {"value": "red"}}})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) { return IsStr(v, "red"); });
       }},
      {R"({"must": [{"key": "color", "match": {"value": 5}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})),
                      [](auto& v) { return IsNum(v) && Num(v) == 5; });
       }},
      {R"({"must": [{"key": "color", "match": {"value": "5"}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) { return IsStr(v, "5"); });
       }},
      {R"({"must": [{"key": "n", "match": {"value": 3}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"n"})),
                      [](auto& v) { return IsNum(v) && Num(v) == 3; });
       }},
      {R"({"must": [{"key": "flag", "match": {"value": true}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"flag"})),
                      [](auto& v) { return v.is_boolean() && v.template get<bool>(); });
       }},
      {R"({"must": [{"key": "flag", "match": {"value": false}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"flag"})),
                      [](auto& v) { return v.is_boolean() && !v.template get<bool>(); });
       }},
      {R"({"must": [{"key": "color", "match": {"any": ["red", "blue", 5]}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) {
           return IsStr(v, "red") || IsStr(v, "blue") || (IsNum(v) && Num(v) == 5);
         });
       }},
      {R"({"must": [{"key": "n", "match": {"any": [1, 2, 3]}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"n"})), [](auto& v) {
           return IsNum(v) && (Num(v) == 1 || Num(v) == 2 || Num(v) == 3);
         });
       }},
      {R"({"must": [{"key": "color", "match": {"except": ["red", "green"]}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) {
           return IsScalar(v) && !IsStr(v, "red") && !IsStr(v, "green");
         });
       }},
      {R"({"must": [{"key": "tags", "match": {"except": ["a"]}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"tags"})),
                      [](auto& v) { return IsScalar(v) && !IsStr(v, "a"); });
       }},
      {R"({"must": [{"key": "tags", "match": {"value": "a"}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"tags"})), [](auto& v) { return IsStr(v, "a"); });
       }},
      {R"({"must": [{"key": "n", "range": {"gt": 5}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"n"})), [](auto& v) { return IsNum(v) && Num(v) > 5; });
       }},
      {R"({"must": [{"key": "n", "range": {"gte": -3.5, "lt": 2}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"n"})),
                      [](auto& v) { return IsNum(v) && Num(v) >= -3.5 && Num(v) < 2; });
       }},
      {R"({"must": [{"key": "n", "range": {"gt": null, "lte": 0}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"n"})),
                      [](auto& v) { return IsNum(v) && Num(v) <= 0; });
       }},
      {R"({"must": [{"key": "price", "range": {"lte": 10.5}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"price"})),
                      [](auto& v) { return IsNum(v) && Num(v) <= 10.5; });
       }},
      {R"({"must": [{"key": "price", "range": {"gt": 50, "lt": 60}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"price"})),
                      [](auto& v) { return IsNum(v) && Num(v) > 50 && Num(v) < 60; });
       }},
      {R"({"must": [{"key": "ts", "range": {"gte": "2024-01-01T00:00:00Z"}}]})",
       ts_between(MicrosOf(sys_days{2024y / 1 / 1}), INT64_MAX)},
      {R"({"must": [{"key": "ts", "range": {"lt": "2024-06-01T12:00:00+02:00"}}]})",
       ts_between(INT64_MIN, MicrosOf(sys_days{2024y / 6 / 1}, 10))},
      {R"({"must": [{"key": "ts", "range": {"gt": "2024-03-15",
          "lte": "2024-09-01T00:00:00.5Z"}}]})",
       ts_between(MicrosOf(sys_days{2024y / 3 / 15}) + 1,
                  MicrosOf(sys_days{2024y / 9 / 1}, 0, 0, 0, 500000) + 1)},
      {R"({"must": [{"is_null": {"key": "color"}}]})",
       [](D d) {
         const Json* v = At(d.payload, {"color"});
         return v && v->is_null();
       }},
      {R"({"must": [{"is_null": {"key": "tags"}}]})",
       [](D d) {
         const Json* v = At(d.payload, {"tags"});
         return v && v->is_null();
       }},
      {R"({"must": [{"is_null": {"key": "tags[]"}}]})",
       [](D d) {
         const Json* v = At(d.payload, {"tags"});
         return v && (v->is_null() ||
                      (v->is_array() && AnyOf(Leaves(v), [](auto& e) { return e.is_null(); })));
       }},
      {R"({"must": [{"is_empty": {"key": "tags"}}]})",
       [](D d) { return !AnyOf(Leaves(At(d.payload, {"tags"})), IsPresent); }},
      {R"({"must": [{"is_empty": {"key": "color"}}]})",
       [](D d) { return !AnyOf(Leaves(At(d.payload, {"color"})), IsPresent); }},
      {R"({"must": [{"has_id": [0, 2, "id-1", "id-999999", 4000, 4001, "id-4001"]}]})",
       [](D d) {
         return d.id == PointId(uint64_t{0}) || d.id == PointId(uint64_t{2}) ||
                d.id == PointId("id-1") || d.id == PointId(uint64_t{4000}) ||
                d.id == PointId("id-4001");
       }},
      {R"({"must": [{"key": "meta.brand", "match": {"value": "acme"}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"meta", "brand"})),
                      [](auto& v) { return IsStr(v, "acme"); });
       }},
      {R"({"must": [{"key": "meta.size", "match": {"any": [1, 2]}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"meta", "size"})),
                      [](auto& v) { return IsNum(v) && (Num(v) == 1 || Num(v) == 2); });
       }},
      {R"({"must": [{"key": "meta.dims.w", "range": {"gte": 90}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"meta", "dims", "w"})),
                      [](auto& v) { return IsNum(v) && Num(v) >= 90; });
       }},
      {R"({"must": [{"key": "items[].color", "match": {"value": "red"}}]})",
       [](D d) {
         return AnyOf(ItemLeaves(d.payload, "color"), [](auto& v) { return IsStr(v, "red"); });
       }},
      {R"({"must": [{"key": "items[].qty", "range": {"gte": 4}}]})",
       [](D d) {
         return AnyOf(ItemLeaves(d.payload, "qty"),
                      [](auto& v) { return IsNum(v) && Num(v) >= 4; });
       }},
      // Without "[]" the path does not enter the items array, only a lone items object.
      {R"({"must": [{"key": "items.color", "match": {"value": "red"}}]})",
       [](D d) {
         const Json* items = At(d.payload, {"items"});
         return items && items->is_object() &&
                AnyOf(Leaves(Member(items, "color")), [](auto& v) { return IsStr(v, "red"); });
       }},
      {R"({"must": [{"is_empty": {"key": "items[].color"}}]})",
       [](D d) { return !AnyOf(ItemLeaves(d.payload, "color"), IsPresent); }},
      {R"({"must_not": [{"key": "color", "match": {"value": "red"}}]})",
       [](D d) {
         return !AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) { return IsStr(v, "red"); });
       }},
      {R"({"must_not": {"is_empty": {"key": "meta.brand"}}})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"meta", "brand"})), IsPresent);
       }},
      {R"({"should": [{"key": "color", "match": {"value": "red"}}, {"key": "flag",
          "match": {"value": true}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"color"})), [](auto& v) { return IsStr(v, "red"); }) ||
                AnyOf(Leaves(At(d.payload, {"flag"})),
                      [](auto& v) { return v.is_boolean() && v.template get<bool>(); });
       }},
      // An empty should is no constraint.
      {R"({"should": [], "must": [{"key": "flag", "match": {"value": true}}]})",
       [](D d) {
         return AnyOf(Leaves(At(d.payload, {"flag"})),
                      [](auto& v) { return v.is_boolean() && v.template get<bool>(); });
       }},
      {R"({"must": [{"key": "color", "match": {"any": []}}]})", [](D) { return false; }, true},
      {R"({"must": [{"key": "missing.key", "match": {"value": "x"}}]})", [](D) { return false; },
       true},
      {R"({"must_not": [{"key": "missing.key", "range": {"gt": 0}}]})", [](D) { return true; },
       true},
  };
}

Filter MustParse(const std::string& text) {
  Result<Filter> f = Filter::Parse(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
  return f.ok() ? std::move(f).value() : Filter();
}

class FilterDatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { docs_ = new std::vector<Doc>(MakeDataset(5000, 20240102)); }
  static void TearDownTestSuite() { delete docs_; }
  static std::vector<Doc>* docs_;
};
std::vector<Doc>* FilterDatasetTest::docs_ = nullptr;

TEST_F(FilterDatasetTest, EachConditionAgreesWithReference) {
  for (const Case& c : LeafCases()) {
    SCOPED_TRACE(c.filter);
    Filter f = MustParse(c.filter);
    size_t matched = 0;
    for (const Doc& d : *docs_) {
      bool want = c.expected(d);
      ASSERT_EQ(f.Matches(d.id, d.payload), want)
          << "id " << d.id.ToString() << " payload " << d.payload.dump();
      matched += want;
    }
    if (!c.may_be_trivial) {
      EXPECT_GT(matched, 0u) << "the dataset never exercises this filter";
      EXPECT_LT(matched, docs_->size()) << "the dataset never exercises this filter";
    }
  }
}

// Random must / should / must_not trees over the leaf cases; the reference composes the leaves'
// reference results with the documented boolean meaning.
TEST_F(FilterDatasetTest, RandomCombinationsAgreeWithReference) {
  std::vector<Case> leaves = LeafCases();
  // Per-document results as bytes, not vector<bool>: this reference is most of the test's time
  // in the sanitizer pass.
  using Results = std::vector<char>;
  std::vector<Results> leaf_results(leaves.size());
  std::vector<Json> leaf_conditions(leaves.size());
  for (size_t k = 0; k < leaves.size(); ++k) {
    for (const Doc& d : *docs_)
      leaf_results[k].push_back(leaves[k].expected(d));
    // Each leaf case is a filter; as a condition it appears as a nested filter.
    leaf_conditions[k] = Json::parse(leaves[k].filter);
  }
  std::mt19937 rng(7);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };

  // Builds a filter of the given depth and returns it with its per-document reference result.
  std::function<std::pair<Json, Results>(int)> build = [&](int depth) {
    std::pair<Json, Results> out;
    if (depth == 0 || uniform(0, 3) == 0) {
      size_t k = uniform(1, static_cast<int>(leaves.size()) - 1);
      out = {leaf_conditions[k], leaf_results[k]};
      return out;
    }
    const size_t n = docs_->size();
    Results must(n, true), should_any(n, false), must_not_any(n, false);
    bool has_should = false;
    Json f = Json::object();
    for (std::string clause : {"must", "should", "must_not"}) {
      int count = uniform(0, 2);
      if (count == 0) continue;
      Json arr = Json::array();
      for (int c = 0; c < count; ++c) {
        auto [cond, res] = build(depth - 1);
        arr.push_back(cond);
        if (clause == "must") {
          for (size_t i = 0; i < n; ++i) must[i] = must[i] && res[i];
        } else {
          Results& any = clause == "should" ? should_any : must_not_any;
          for (size_t i = 0; i < n; ++i) any[i] = any[i] || res[i];
        }
      }
      has_should = has_should || clause == "should";
      // A lone condition may be written without the array.
      f[clause] = count == 1 && uniform(0, 1) == 0 ? arr[0] : arr;
    }
    if (f.empty()) return build(0);  // {} is a filter but not a condition
    Results res(n);
    for (size_t i = 0; i < n; ++i)
      res[i] = must[i] && !must_not_any[i] && (!has_should || should_any[i]);
    out = {f, res};
    return out;
  };

  size_t nontrivial = 0;
  for (int round = 0; round < 300; ++round) {
    auto [json, expected] = build(3);
    Result<Filter> f = Filter::FromJson(json);
    ASSERT_TRUE(f.ok()) << json.dump() << ": " << f.status().ToString();
    size_t matched = 0;
    for (size_t i = 0; i < docs_->size(); ++i) {
      const Doc& d = (*docs_)[i];
      ASSERT_EQ(f->Matches(d.id, d.payload), expected[i] != 0)
          << json.dump() << "\npayload " << d.payload.dump();
      matched += expected[i];
    }
    nontrivial += matched > 0 && matched < docs_->size();
  }
  EXPECT_GT(nontrivial, 100u);
}

TEST(FilterTest, KeepsItsJsonAndDefaultMatchesEverything) {
  Filter f = MustParse(R"({"must": [{"key": "a", "match": {"value": 1}}]})");
  EXPECT_EQ(f.json(), Json::parse(R"({"must": [{"key": "a", "match": {"value": 1}}]})"));
  EXPECT_TRUE(f.Matches(PointId(uint64_t{1}), Json{{"a", 1}}));
  EXPECT_FALSE(f.Matches(PointId(uint64_t{1}), Json{{"a", 2}}));
  Filter copy = f;
  EXPECT_TRUE(copy.Matches(PointId("x"), Json{{"a", Json::array({3, 1})}}));
  Filter none;
  EXPECT_TRUE(none.Matches(PointId(uint64_t{1}), Json::object()));
  EXPECT_TRUE(MustParse("{}").Matches(PointId(uint64_t{1}), Json(nullptr)));
}

bool Match(const std::string& filter, const Json& payload, PointId id = PointId(uint64_t{1})) {
  return MustParse(filter).Matches(id, payload);
}

TEST(FilterTest, IntegersFloatsStringsAndBoolsAreDistinct) {
  const std::string five = R"({"must": {"key": "v", "match": {"value": 5}}})";
  EXPECT_TRUE(Match(five, Json::parse(R"({"v": 5})")));
  EXPECT_TRUE(Match(five, Json::parse(R"({"v": 5.0})")));  // numerically equal
  EXPECT_TRUE(Match(five, Json::parse(R"({"v": [1, 5]})")));
  EXPECT_FALSE(Match(five, Json::parse(R"({"v": "5"})")));
  EXPECT_FALSE(Match(five, Json::parse(R"({"v": 5.5})")));
  EXPECT_FALSE(
      Match(R"({"must": {"key": "v", "match": {"value": 1}}})", Json::parse(R"({"v": true})")));
  EXPECT_FALSE(
      Match(R"({"must": {"key": "v", "match": {"value": true}}})", Json::parse(R"({"v": 1})")));
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "match": {"value": "true"}}})",
                     Json::parse(R"({"v": true})")));
  EXPECT_FALSE(
      Match(R"({"must": {"key": "v", "range": {"gte": 0}}})", Json::parse(R"({"v": "7"})")));
  EXPECT_FALSE(
      Match(R"({"must": {"key": "v", "range": {"gte": 0}}})", Json::parse(R"({"v": true})")));
}

TEST(FilterTest, LargeIntegersCompareExactly) {
  // 2^53 + 1 has no double; comparing through doubles would call it equal to 2^53.
  Json big = Json::parse(R"({"v": 9007199254740993})");
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "match": {"value": 9007199254740993}}})", big));
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "match": {"value": 9007199254740992}}})", big));
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "range": {"gt": 9007199254740992}}})", big));
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "range": {"gt": 9007199254740993}}})", big));
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "match": {"value": 9007199254740993}}})",
                     Json::parse(R"({"v": 9007199254740992.0})")));
  Json max = Json::parse(R"({"v": 18446744073709551615})");
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "match": {"value": 18446744073709551615}}})", max));
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "range": {"gt": 9223372036854775807}}})", max));
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "range": {"lt": 1e20}}})", max));
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "range": {"lt": -9223372036854775808}}})",
                     Json::parse(R"({"v": -9223372036854775808})")));
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "range": {"lte": -9223372036854775808}}})",
                    Json::parse(R"({"v": -9223372036854775808})")));
}

TEST(FilterTest, ArraysNullsAndMissingKeys) {
  const Json p = Json::parse(R"({"a": {"b": [{"c": 1}, {"c": [2, null]}, {"d": 3}]},
                                 "n": null, "e": [], "en": [null], "o": {}, "nested": [[1, 2]]})");
  EXPECT_TRUE(Match(R"({"must": {"key": "a.b[].c", "match": {"value": 2}}})", p));
  EXPECT_FALSE(Match(R"({"must": {"key": "a.b.c", "match": {"value": 2}}})", p));
  EXPECT_TRUE(Match(R"({"must": {"is_null": {"key": "a.b[].c[]"}}})", p));
  EXPECT_FALSE(Match(R"({"must": {"is_null": {"key": "a.b[].c"}}})", p));
  EXPECT_TRUE(Match(R"({"must": {"is_null": {"key": "n"}}})", p));
  EXPECT_FALSE(Match(R"({"must": {"is_null": {"key": "en"}}})", p));
  EXPECT_TRUE(Match(R"({"must": {"is_null": {"key": "en[]"}}})", p));
  EXPECT_FALSE(Match(R"({"must": {"is_null": {"key": "missing"}}})", p));
  for (const char* key : {"n", "e", "en", "missing", "a.b[].x"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(Match(R"({"must": {"is_empty": {"key": ")" + std::string(key) + R"("}}})", p));
  }
  for (const char* key : {"a", "o", "a.b", "a.b[].c", "nested"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(Match(R"({"must": {"is_empty": {"key": ")" + std::string(key) + R"("}}})", p));
  }
  // Arrays flatten one level at the end of a path; "nested[]" reaches the inner elements.
  EXPECT_FALSE(Match(R"({"must": {"key": "nested", "match": {"value": 1}}})", p));
  EXPECT_TRUE(Match(R"({"must": {"key": "nested[]", "match": {"value": 1}}})", p));
  // except needs some comparable value outside the list: a missing key, null, [] or [null] has
  // none.
  for (const char* key : {"missing", "n", "e", "en", "o"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(
        Match(R"({"must": {"key": ")" + std::string(key) + R"(", "match": {"except": [1]}}})", p));
  }
  EXPECT_TRUE(Match(R"({"must": {"key": "a.b[].c", "match": {"except": [1]}}})", p));
  EXPECT_FALSE(Match(R"({"must": {"key": "a.b[].c", "match": {"except": [1, 2]}}})", p));
  // A single element must satisfy every bound of a range.
  const Json spread = Json::parse(R"({"v": [1, 10]})");
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "range": {"gt": 2, "lt": 9}}})", spread));
  EXPECT_TRUE(Match(R"({"must": {"key": "v", "range": {"gt": 2, "lt": 11}}})", spread));
  // Payload roots that are not objects have no keys.
  EXPECT_FALSE(Match(R"({"must": {"key": "v", "range": {"gt": 0}}})", Json::array({1})));
  EXPECT_TRUE(Match(R"({"must": {"is_empty": {"key": "v"}}})", Json(nullptr)));
}

TEST(FilterTest, HasIdMatchesNumbersAndStrings) {
  const std::string f = R"({"must": {"has_id": [7, "abc", 7]}})";
  EXPECT_TRUE(Match(f, Json::object(), PointId(uint64_t{7})));
  EXPECT_TRUE(Match(f, Json::object(), PointId("abc")));
  EXPECT_FALSE(Match(f, Json::object(), PointId("7")));
  EXPECT_FALSE(Match(f, Json::object(), PointId(uint64_t{8})));
  EXPECT_FALSE(Match(R"({"must": {"has_id": []}})", Json::object(), PointId(uint64_t{8})));
}

TEST(FilterTest, DatetimeRangesCompareInstants) {
  const std::string f = R"({"must": {"key": "t", "range": {"gte": "2024-01-02T00:00:00+02:00",
                                                           "lt": "2024-01-02"}}})";
  // [2024-01-01T22:00Z, 2024-01-02T00:00Z)
  EXPECT_TRUE(Match(f, Json{{"t", "2024-01-01T22:00:00Z"}}));
  EXPECT_TRUE(Match(f, Json{{"t", "2024-01-01T23:59:59.999999Z"}}));
  EXPECT_TRUE(Match(f, Json{{"t", "2024-01-02T01:30:00+03:00"}}));
  EXPECT_FALSE(Match(f, Json{{"t", "2024-01-02T00:00:00Z"}}));
  EXPECT_FALSE(Match(f, Json{{"t", "2024-01-01T21:59:59.999Z"}}));
  EXPECT_FALSE(Match(f, Json{{"t", "not a date"}}));
  EXPECT_FALSE(Match(f, Json{{"t", 1704146400}}));
  EXPECT_TRUE(Match(f, Json{{"t", Json::array({"junk", "2024-01-01T23:00:00Z"})}}));
}

TEST(DatetimeTest, ParsesRfc3339AndIsoForms) {
  using namespace std::chrono;
  const int64_t jan2 = MicrosOf(sys_days{2024y / 1 / 2});
  const int64_t t = MicrosOf(sys_days{2024y / 1 / 2}, 3, 4, 5);
  EXPECT_EQ(ParseDatetime("2024-01-02"), jan2);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05Z"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02t03:04:05z"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02 03:04:05"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04Z"), t - 5 * kMicros);
  EXPECT_EQ(ParseDatetime("2024-01-02T05:04:05+02:00"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02T05:04:05+0200"), t);
  EXPECT_EQ(ParseDatetime("2024-01-01T23:34:05-03:30"), t);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05.5Z"), t + 500000);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05,25Z"), t + 250000);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05.123456Z"), t + 123456);
  EXPECT_EQ(ParseDatetime("2024-01-02T03:04:05.123456789Z"), t + 123456);  // truncated
  EXPECT_EQ(ParseDatetime("2024-02-29"), MicrosOf(sys_days{2024y / 2 / 29}));
  EXPECT_EQ(ParseDatetime("2000-02-29T00:00:00Z"), MicrosOf(sys_days{2000y / 2 / 29}));
  EXPECT_EQ(ParseDatetime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseDatetime("1969-12-31T23:59:59Z"), -kMicros);
  EXPECT_EQ(ParseDatetime("0001-01-01"), MicrosOf(sys_days{year{1} / 1 / 1}));
  EXPECT_EQ(ParseDatetime("9999-12-31T23:59:59Z"), MicrosOf(sys_days{9999y / 12 / 31}, 23, 59, 59));
  // Every day of a few years, against the standard library's calendar.
  for (sys_days d = sys_days{2023y / 1 / 1}; d < sys_days{2025y / 1 / 1}; d += days{1}) {
    year_month_day ymd{d};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    ASSERT_EQ(ParseDatetime(buf), MicrosOf(d)) << buf;
  }
}

TEST(DatetimeTest, RejectsInvalidDatetimes) {
  for (const char* bad : {"",
                          "2024",
                          "2024-01",
                          "2024-1-02",
                          "24-01-02",
                          "2024-02-30",
                          "2023-02-29",
                          "1900-02-29",
                          "2024-04-31",
                          "2024-13-01",
                          "2024-00-10",
                          "2024-01-00",
                          "0000-01-01",
                          "2024/01/02",
                          "2024-01-02T",
                          "2024-01-02T3:04:05Z",
                          "2024-01-02T24:00:00Z",
                          "2024-01-02T10:60Z",
                          "2024-01-02T10:00:60Z",
                          "2024-01-02T10:00:00.Z",
                          "2024-01-02T10:00:00+24:00",
                          "2024-01-02T10:00:00+02:60",
                          "2024-01-02T10:00:00+2",
                          "2024-01-02T10:00:00ZZ",
                          "2024-01-02T10:00:00 Z",
                          "2024-01-02x",
                          "2024-01-02T10:00:00Zjunk",
                          " 2024-01-02",
                          "yesterday",
                          "2024-01-02T10"}) {
    EXPECT_FALSE(ParseDatetime(bad).has_value()) << bad;
  }
}

// Asserts that `text` fails to parse with InvalidArgument and a message containing each piece.
void ExpectError(const std::string& text, std::initializer_list<std::string> pieces) {
  Result<Filter> f = Filter::Parse(text);
  ASSERT_FALSE(f.ok()) << text;
  EXPECT_TRUE(f.status().IsInvalidArgument()) << f.status().ToString();
  for (const std::string& piece : pieces)
    EXPECT_NE(f.status().message().find(piece), std::string::npos)
        << "message: " << f.status().message() << "\nexpected to contain: " << piece;
}

// The UTC date of an instant (facet buckets) against std::chrono, across the whole range of
// years ParseDatetime accepts, before and after 1970 and at day edges.
TEST(DatetimeTest, CivilDateOfMatchesChrono) {
  using namespace std::chrono;
  std::mt19937_64 rng(11);
  const int64_t lo = MicrosOf(sys_days{year{1} / 1 / 1}) - 86400 * kMicros;
  const int64_t hi = MicrosOf(sys_days{year{9999} / 12 / 31}) + 86400 * kMicros;
  std::vector<int64_t> instants = {0,
                                   -1,
                                   1,
                                   lo,
                                   hi,
                                   MicrosOf(sys_days{2024y / 2 / 29}) - 1,
                                   MicrosOf(sys_days{2024y / 3 / 1}),
                                   MicrosOf(sys_days{1969y / 12 / 31})};
  for (int i = 0; i < 20000; ++i)
    instants.push_back(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
  for (int64_t us : instants) {
    const sys_days day = floor<days>(sys_time<microseconds>(microseconds(us)));
    const year_month_day ymd{day};
    const index::CivilDate d = index::CivilDateOf(us);
    ASSERT_EQ(d.year, static_cast<int>(ymd.year())) << us;
    ASSERT_EQ(d.month, static_cast<int>(static_cast<unsigned>(ymd.month()))) << us;
    ASSERT_EQ(d.day, static_cast<int>(static_cast<unsigned>(ymd.day()))) << us;
  }
}

TEST(FilterErrorTest, InvalidJsonTextNamesTheByte) {
  ExpectError(R"({"must": [x]})", {"invalid filter JSON at byte 11", "syntax error"});
  ExpectError("", {"invalid filter JSON at byte"});
  ExpectError(R"({"must": [})", {"invalid filter JSON at byte"});
}

TEST(FilterErrorTest, StructureErrors) {
  ExpectError(R"([1, 2])", {"a filter must be a JSON object", "[1,2]"});
  ExpectError(R"({"mustt": []})", {"unknown key \"mustt\"", "expected must, should or must_not"});
  ExpectError(R"({"key": "a", "match": {"value": 1}})",
              {"unknown key \"key\"", "inside one of them"});
  ExpectError(R"({"must": 5})", {"\"must\" must be an array of conditions", "got 5"});
  ExpectError(R"({"should": "red"})", {"\"should\"", "got \"red\""});
  ExpectError(R"({"must": [5]})", {"a condition must be an object, got 5"});
  ExpectError(R"({"must": [{}]})", {"empty condition {}"});
  ExpectError(R"({"must": [{"key": "a", "mtch": {"value": 1}}]})",
              {"unknown condition key \"mtch\"", R"({"key":"a","mtch":{"value":1}})"});
  ExpectError(R"({"must": [{"mtch": {"value": 1}}]})", {"unknown condition key \"mtch\""});
  ExpectError(R"({"must": [{"must": [], "has_id": [1]}]})", {"unknown key \"has_id\""});
  ExpectError(R"({"must": [{"has_id": [1], "is_null": {"key": "a"}}]})",
              {"exactly one of is_null, is_empty, has_id"});
  ExpectError(R"({"must": [{"key": "a"}]})", {"condition on \"a\" takes exactly one of"});
  ExpectError(R"({"must": [{"key": "a", "match": {"value": 1}, "range": {"gt": 1}}]})",
              {"condition on \"a\" takes exactly one of"});
  ExpectError(R"({"must": [{"key": 7, "match": {"value": 1}}]})",
              {"\"key\" must be a string, got 7"});
  ExpectError(R"({"must": [{"key": "a..b", "match": {"value": 1}}]})",
              {"invalid key \"a..b\"", "empty path segment"});
  ExpectError(R"({"must": [{"key": "", "match": {"value": 1}}]})", {"invalid key \"\""});
  ExpectError(R"({"must": [{"key": "a[0]", "match": {"value": 1}}]})", {"invalid key \"a[0]\""});
  std::string deep = R"({"key": "a", "match": {"value": 1}})";
  for (int i = 0; i < 100; ++i)
    deep = R"({"must": [)" + deep + "]}";
  ExpectError(deep, {"nest more than 64 levels"});
}

TEST(FilterErrorTest, MatchErrors) {
  ExpectError(R"({"must": [{"key": "a", "match": {"value": {"x": 1}}}]})",
              {"\"match.value\" must be a string, integer or bool", R"(got {"x":1})"});
  ExpectError(R"({"must": [{"key": "a", "match": {"value": null}}]})",
              {"\"match.value\"", "got null"});
  ExpectError(R"({"must": [{"key": "a", "match": {"value": 2.5}}]})", {"got 2.5", "use \"range\""});
  ExpectError(R"({"must": [{"key": "a", "match": {"any": "red"}}]})",
              {"\"match.any\" must be an array", "got \"red\""});
  ExpectError(R"({"must": [{"key": "a", "match": {"except": 3}}]})",
              {"\"match.except\" must be an array", "got 3"});
  ExpectError(R"({"must": [{"key": "a", "match": {"any": [1, {"b": 2}]}}]})",
              {"\"match.any\" items must be", R"(got {"b":2})"});
  ExpectError(R"({"must": [{"key": "a", "match": {"vlaue": 1}}]})",
              {"unknown \"match\" key \"vlaue\""});
  ExpectError(R"({"must": [{"key": "a", "match": {}}]})",
              {"\"match\" takes exactly one of value, any, except, text, phrase, got {}"});
  ExpectError(R"({"must": [{"key": "a", "match": {"value": 1, "any": [2]}}]})",
              {"\"match\" takes exactly one of"});
  ExpectError(R"({"must": [{"key": "a", "match": "red"}]})",
              {"\"match\" must be an object", "got \"red\""});
  ExpectError(R"({"must": [{"key": "a", "match": {"text": ["red"]}}]})",
              {"\"match.text\" must be a string of words", "got [\"red\"]"});
  ExpectError(R"({"must": [{"key": "a", "match": {"phrase": 5}}]})",
              {"\"match.phrase\" must be a string of words", "got 5"});
  // Only stopwords and punctuation: no term to search for.
  ExpectError(R"({"must": [{"key": "a", "match": {"text": "the of, and!"}}]})",
              {"\"match.text\" has no words to search for", "got \"the of, and!\""});
  ExpectError(R"({"must": [{"key": "a", "match": {"phrase": "  "}}]})",
              {"\"match.phrase\" has no words to search for"});
  ExpectError(R"({"must": [{"key": "a", "match": {"text": "cat", "value": "cat"}}]})",
              {"\"match\" takes exactly one of"});
}

TEST(FilterErrorTest, RangeErrors) {
  ExpectError(R"({"must": [{"key": "a", "range": {"foo": 1}}]})",
              {R"(filter: "range" needs at least one of gt, gte, lt, lte, got {"foo":1})"});
  ExpectError(R"({"must": [{"key": "a", "range": {}}]})", {"needs at least one of", "got {}"});
  ExpectError(R"({"must": [{"key": "a", "range": {"gt": null}}]})", {"needs at least one of"});
  ExpectError(R"({"must": [{"key": "a", "range": {"gt": 1, "foo": 2}}]})",
              {"unknown \"range\" key \"foo\""});
  ExpectError(R"({"must": [{"key": "a", "range": {"gt": "yesterday"}}]})",
              {"\"range.gt\" must be a number or an RFC 3339 datetime", "got \"yesterday\""});
  ExpectError(R"({"must": [{"key": "a", "range": {"lte": "2024-02-30"}}]})",
              {"\"range.lte\"", "got \"2024-02-30\""});
  ExpectError(R"({"must": [{"key": "a", "range": {"lt": true}}]})", {"\"range.lt\"", "got true"});
  ExpectError(R"({"must": [{"key": "a", "range": {"gt": 1, "lt": "2024-01-02"}}]})",
              {"mixes numbers and datetimes"});
  ExpectError(R"({"must": [{"key": "a", "range": [1, 2]}]})",
              {"\"range\" must be an object", "got [1,2]"});
}

TEST(FilterErrorTest, IdAndKeyOnlyConditionErrors) {
  ExpectError(R"({"must": [{"has_id": [1, -3]}]})",
              {"\"has_id\" items must be unsigned integers", "got -3"});
  ExpectError(R"({"must": [{"has_id": [1.5]}]})", {"got 1.5"});
  ExpectError(R"({"must": [{"has_id": [""]}]})", {"got \"\""});
  ExpectError(R"({"must": [{"has_id": 5}]})", {"\"has_id\" must be an array of point ids, got 5"});
  ExpectError(R"({"must": [{"is_null": "a"}]})",
              {"\"is_null\" must be {\"key\": \"<path>\"}, got \"a\""});
  ExpectError(R"({"must": [{"is_empty": {"key": "a", "x": 1}}]})",
              {"\"is_empty\" must be", R"(got {"key":"a","x":1})"});
  ExpectError(R"({"must": [{"is_empty": {"key": 3}}]})", {"\"key\" must be a string, got 3"});
}

TEST(FilterErrorTest, LongValuesAreQuotedShort) {
  std::string long_value(5000, 'x');
  Result<Filter> f =
      Filter::Parse(R"({"must": [{"key": "a", "range": {"gt": ")" + long_value + R"("}}]})");
  ASSERT_FALSE(f.ok());
  EXPECT_LT(f.status().message().size(), 400u);
  EXPECT_NE(f.status().message().find("xxx..."), std::string::npos);
}

// Found by tests/fuzz/query_json_fuzz: nlohmann reports a number past double's range as
// out_of_range, not parse_error, and the exception escaped Filter::Parse.
TEST(FilterErrorTest, NumberOutOfRangeIsInvalidArgument) {
  Result<Filter> f = Filter::Parse(R"({"must": [{"key": "a", "range": {"gt": 1e400}}]})");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("1e400"), std::string::npos) << f.status().ToString();
}

}  // namespace
}  // namespace mosaic
