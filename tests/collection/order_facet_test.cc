// Scroll with order_by and Facet through the public API, against brute force written here over
// the payloads: random payloads mixing numbers, datetimes (several notations, equal instants),
// strings, booleans, nulls, arrays and missing keys, with many ties; with no index, with each kind
// of payload index on the field (an ordered one is walked, the others are not), with filters.
// Also the errors, PayloadIndexes and CollectionSchema::CheckPoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <variant>

#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

using testing::TempDir;

// The datetimes in the data, with their instants and UTC buckets worked out by hand.
struct KnownDatetime {
  const char* text;
  int64_t seconds;
  const char* day;  // UTC
};
const KnownDatetime kDatetimes[] = {
    {"2024-01-01", 1704067200, "2024-01-01"},
    {"2024-01-01T00:00:00Z", 1704067200, "2024-01-01"},       // the same instant
    {"2023-12-31T23:00:00-01:00", 1704067200, "2024-01-01"},  // and again
    {"2024-03-05T10:00:00+02:00", 1709625600, "2024-03-05"},
    {"2022-07-14", 1657756800, "2022-07-14"},
    {"2024-01-01T01:30:00+02:00", 1704065400, "2023-12-31"},  // the previous year in UTC
    {"2024-02-29T23:59:59-00:30", 1709252999, "2024-03-01"},
};
const char* kStrings[] = {"apple", "Banana", "cherry", "2024-13-01", ""};

const KnownDatetime* FindDatetime(const std::string& s) {
  for (const KnownDatetime& d : kDatetimes)
    if (s == d.text) return &d;
  return nullptr;
}

Json RandomScalar(std::mt19937& rng) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  int r = pick(100);
  if (r < 25) return pick(11) - 5;
  if (r < 33) return pick(11) - 5 + 0.5;
  if (r < 38) return static_cast<double>(pick(11) - 5);  // 3.0: the same value as 3
  if (r < 40) return r % 2 ? -1e300 : 1e19;
  if (r < 55) return kDatetimes[pick(std::size(kDatetimes))].text;
  if (r < 67) return kStrings[pick(std::size(kStrings))];
  if (r < 72) return pick(2) == 0;
  if (r < 75) return nullptr;
  return Json::object({{"x", 1}});
}

Json RandomField(std::mt19937& rng) {
  int r = std::uniform_int_distribution<int>(0, 99)(rng);
  if (r < 70) return RandomScalar(rng);
  Json arr = Json::array();
  for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
    arr.push_back(RandomScalar(rng));
  return arr;
}

Json RandomPayload(std::mt19937& rng) {
  Json p = Json::object();
  if (std::uniform_int_distribution<int>(0, 9)(rng) > 0) p["v"] = RandomField(rng);
  p["g"] = std::uniform_int_distribution<int>(0, 9)(rng);
  if (std::uniform_int_distribution<int>(0, 3)(rng) > 0) p["m"] = {{"v", RandomField(rng)}};
  return p;
}

PointId IdFor(size_t i) {
  return i % 4 == 3 ? PointId("s" + std::to_string(i % 97) + "-" + std::to_string(i))
                    : PointId(uint64_t{i * 7 % 1000 + i / 1000 * 1000});
}

// ---- Reference ordering, written directly over the JSON. ----

struct RefValue {
  int cls = 3;  // 0 number, 1 datetime, 2 string, 3 none
  double num = 0;
  int64_t instant = 0;
  std::string str;
};

int Compare(const RefValue& a, const RefValue& b) {
  if (a.cls != b.cls) return a.cls < b.cls ? -1 : 1;
  switch (a.cls) {
    case 0:
      return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
    case 1:
      return a.instant < b.instant ? -1 : a.instant > b.instant ? 1 : 0;
    case 2:
      return a.str < b.str ? -1 : a.str > b.str ? 1 : 0;
  }
  return 0;
}

RefValue RefOf(const Json& v) {
  RefValue r;
  if (v.is_number()) {
    r.cls = 0;
    r.num = v.get<double>();
  } else if (v.is_string()) {
    r.str = v.get<std::string>();
    const KnownDatetime* d = FindDatetime(r.str);
    r.cls = d ? 1 : 2;
    if (d) r.instant = d->seconds;
  }
  return r;
}

// The field at "v", "g" or "m.v".
const Json* FieldOf(const Json& payload, const std::string& key) {
  if (key != "m.v") return payload.contains(key) ? &payload[key] : nullptr;
  if (payload.contains("m") && payload["m"].contains("v")) return &payload["m"]["v"];
  return nullptr;
}

RefValue RefOrderValue(const Json& payload, const std::string& key, bool descending) {
  RefValue best;
  const Json* f = FieldOf(payload, key);
  if (f == nullptr) return best;
  std::vector<Json> values =
      f->is_array() ? std::vector<Json>(f->begin(), f->end()) : std::vector<Json>{*f};
  for (const Json& v : values) {
    RefValue r = RefOf(v);
    if (r.cls == 3) continue;
    if (best.cls == 3 || (descending ? Compare(r, best) > 0 : Compare(r, best) < 0)) best = r;
  }
  return best;
}

struct Model {
  std::map<PointId, Json> points;

  std::vector<PointId> Ordered(const std::string& key, bool descending,
                               const std::function<bool(const Json&)>& keep) const {
    std::vector<std::pair<RefValue, PointId>> all;
    for (const auto& [id, p] : points)
      if (keep(p)) all.emplace_back(RefOrderValue(p, key, descending), id);
    std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      const bool na = a.first.cls == 3, nb = b.first.cls == 3;
      if (na != nb) return nb;
      if (!na) {
        int c = Compare(a.first, b.first);
        if (c != 0) return descending ? c > 0 : c < 0;
      }
      return a.second < b.second;
    });
    std::vector<PointId> ids;
    for (const auto& e : all)
      ids.push_back(e.second);
    return ids;
  }
};

class OrderFacetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    CollectionSchema schema;
    schema.vectors = {{"v", 2, Metric::kL2, StorageType::kFloat32}};
    auto c = db_->CreateCollection("c", schema);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    c_ = *c;
  }

  // Upserts `n` random points in batches, then replaces and deletes some, keeping the model.
  void Load(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<Point> batch;
    for (size_t i = 0; i < n; ++i) {
      Point p;
      p.id = IdFor(i);
      p.vectors["v"] = {float(i), 1};
      p.payload = RandomPayload(rng);
      model_.points[p.id] = p.payload;
      batch.push_back(std::move(p));
      if (batch.size() == 500) {
        ASSERT_TRUE(c_->Upsert(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE(c_->Upsert(batch).ok());
    std::vector<PointId> gone;
    for (size_t i = 0; i < n; i += 11)
      gone.push_back(IdFor(i));
    ASSERT_TRUE(c_->Delete(gone).ok());
    for (const PointId& id : gone)
      model_.points.erase(id);
    for (size_t i = 5; i < n; i += 13) {
      if (!model_.points.count(IdFor(i))) continue;
      Json v = RandomField(rng);
      ASSERT_TRUE(c_->SetPayload(std::vector<PointId>{IdFor(i)}, {{"v", v}}).ok());
      model_.points[IdFor(i)]["v"] = v;
    }
  }

  // Pages through the whole order with random page sizes, following the cursors.
  void ExpectPagesFollowModel(const std::string& key, bool descending, const char* filter_text,
                              const std::function<bool(const Json&)>& keep, std::mt19937& rng) {
    SCOPED_TRACE(key + (descending ? " desc" : " asc") + " filter " + filter_text);
    const std::vector<PointId> want = model_.Ordered(key, descending, keep);
    ScrollRequest r;
    r.order_by = OrderBy{key, descending};
    r.with_payload = true;
    if (*filter_text) r.filter = *Filter::Parse(filter_text);
    std::vector<PointId> got;
    for (int pages = 0; pages < 10000; ++pages) {
      r.limit = std::uniform_int_distribution<size_t>(1, 60)(rng);
      auto page = c_->Scroll(r);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const Point& p : page->points)
        got.push_back(p.id);
      ASSERT_EQ(page->next_offset.has_value(), page->next_order_value.has_value());
      if (!page->next_offset) break;
      ASSERT_EQ(page->points.size(), r.limit);
      // The cursor is the next point and its order value.
      const Json& next_payload = model_.points.at(*page->next_offset);
      EXPECT_EQ(*page->next_order_value, OrderValue(next_payload, *r.order_by));
      r.offset = page->next_offset;
      r.order_value = page->next_order_value;
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << "at " << i << ": " << model_.points.at(want[i]).dump() << " vs "
                                 << model_.points.at(got[i]).dump();
  }

  void ExpectAllOrders(uint32_t seed) {
    std::mt19937 rng(seed);
    auto all = [](const Json&) { return true; };
    auto g_small = [](const Json& p) { return p["g"].get<int>() < 8; };
    auto g_one = [](const Json& p) { return p["g"].get<int>() == 3; };
    for (const char* key : {"v", "m.v"}) {
      for (bool descending : {false, true}) {
        ExpectPagesFollowModel(key, descending, "", all, rng);
        ExpectPagesFollowModel(key, descending, R"({"must": {"key": "g", "range": {"lt": 8}}})",
                               g_small, rng);
        ExpectPagesFollowModel(key, descending, R"({"must": {"key": "g", "match": {"value": 3}}})",
                               g_one, rng);
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
  std::shared_ptr<Collection> c_;
  Model model_;
};

TEST(OrderValueTest, ClassesArraysAndComparison) {
  OrderBy asc{"a", false}, desc{"a", true};
  EXPECT_EQ(OrderValue(Json{{"a", {3, 1, "x", true}}}, asc), Json(1));
  EXPECT_EQ(OrderValue(Json{{"a", {3, 1, "x", true}}}, desc), Json("x"));
  EXPECT_EQ(OrderValue(Json{{"a", {3, 1}}}, desc), Json(3));
  EXPECT_EQ(OrderValue(Json{{"a", {"2024-01-01", "zzz", 7.5}}}, desc), Json("zzz"));
  EXPECT_EQ(OrderValue(Json{{"a", {"2024-01-01", "zzz"}}}, asc), Json("2024-01-01"));
  EXPECT_TRUE(OrderValue(Json{{"a", {true, nullptr}}}, asc).is_null());
  EXPECT_TRUE(OrderValue(Json{{"b", 1}}, asc).is_null());
  EXPECT_TRUE(OrderValue(Json{{"a", {{"b", 1}}}}, asc).is_null());
  EXPECT_EQ(OrderValue(Json{{"a", {{"b", 2}}}}, OrderBy{"a.b"}), Json(2));
  EXPECT_TRUE(OrderValue(Json{{"a", 1}}, OrderBy{"a..b"}).is_null());

  // Numbers, then datetimes, then other strings, then nothing.
  // Datetimes by instant: 00:00Z, 01:00Z, 01:30Z on 2024-01-02.
  const std::vector<Json> ascending = {-1e300,
                                       -2,
                                       0.5,
                                       1,
                                       9007199254740992.0,
                                       Json(uint64_t{9007199254740993}),
                                       "0001-01-01",
                                       "2024-01-02T02:00:00+02:00",
                                       "2024-01-01T23:00:00-02:00",
                                       "2024-01-02T01:30:00Z",
                                       "",
                                       "B",
                                       "a",
                                       "b",
                                       nullptr};
  for (size_t i = 0; i < ascending.size(); ++i)
    for (size_t j = 0; j < ascending.size(); ++j) {
      int c = CompareOrderValues(ascending[i], ascending[j]);
      EXPECT_EQ(c < 0, i < j) << ascending[i] << " vs " << ascending[j];
      EXPECT_EQ(c == 0, i == j) << ascending[i] << " vs " << ascending[j];
    }
  EXPECT_EQ(CompareOrderValues(5, 5.0), 0);
  EXPECT_EQ(CompareOrderValues("2024-01-01", "2024-01-01T00:00:00Z"), 0);  // one instant
  EXPECT_EQ(CompareOrderValues(true, nullptr), 0);  // not an order value: like none
}

TEST_F(OrderFacetTest, ScrollOrderByWithoutIndexFollowsBruteForce) {
  Load(2500, 1);
  ExpectAllOrders(10);
}

TEST_F(OrderFacetTest, ScrollOrderByWithEachIndexTypeFollowsBruteForce) {
  Load(1200, 2);
  ASSERT_TRUE(c_->CreatePayloadIndex("g", PayloadIndexType::kInteger).ok());
  for (PayloadIndexType type : {PayloadIndexType::kInteger, PayloadIndexType::kFloat,
                                PayloadIndexType::kDatetime, PayloadIndexType::kKeyword}) {
    SCOPED_TRACE(PayloadIndexTypeName(type));
    ASSERT_TRUE(c_->CreatePayloadIndex("v", type).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("m.v", type).ok());
    ExpectAllOrders(20 + static_cast<uint32_t>(type));
    ASSERT_TRUE(c_->DropPayloadIndex("v").ok());
    ASSERT_TRUE(c_->DropPayloadIndex("m.v").ok());
  }
}

// An index kept up to date by writes (created before the points arrive) and one rebuilt from a
// segment after a reopen give the same order.
TEST_F(OrderFacetTest, ScrollOrderByWithIndexFollowsWritesAndReopen) {
  ASSERT_TRUE(c_->CreatePayloadIndex("v", PayloadIndexType::kInteger).ok());
  ASSERT_TRUE(c_->CreatePayloadIndex("m.v", PayloadIndexType::kDatetime).ok());
  // Each page of a filtered scroll decodes every payload, so the cost is quadratic in the points.
  Load(testing::Scaled(1500, 600), 3);
  ExpectAllOrders(30);
  ASSERT_TRUE(c_->Flush().ok());
  c_.reset();
  db_.reset();
  db_ = std::move(Db::Open(dir_.path())).value();
  c_ = *db_->GetCollection("c");
  ExpectAllOrders(31);
}

// Numbers only, as an integer field usually holds: the index walk reads a few keys per page.
TEST_F(OrderFacetTest, ScrollOrderByIntegerIndexPagesThroughTies) {
  std::vector<Point> pts;
  for (uint64_t i = 0; i < 3000; ++i) {
    Point p;
    p.id = i;
    p.vectors["v"] = {1, 2};
    p.payload = {{"n", static_cast<int64_t>(i % 17) - 8}};
    if (i % 100 == 0) p.payload = Json::object();
    model_.points[p.id] = p.payload;
    pts.push_back(std::move(p));
  }
  ASSERT_TRUE(c_->Upsert(pts).ok());
  ASSERT_TRUE(c_->CreatePayloadIndex("n", PayloadIndexType::kInteger).ok());
  std::mt19937 rng(4);
  for (bool descending : {false, true}) {
    auto all = [](const Json&) { return true; };
    // Reuse the nested-key reference by mapping "n" onto "v".
    Model numbers;
    for (auto& [id, p] : model_.points)
      numbers.points[id] = p.contains("n") ? Json{{"v", p["n"]}} : Json::object();
    const std::vector<PointId> want = numbers.Ordered("v", descending, all);
    ScrollRequest r;
    r.order_by = OrderBy{"n", descending};
    r.limit = 25;
    std::vector<PointId> got;
    while (true) {
      auto page = c_->Scroll(r);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const Point& p : page->points)
        got.push_back(p.id);
      if (!page->next_offset) break;
      r.offset = page->next_offset;
      r.order_value = page->next_order_value;
    }
    EXPECT_EQ(got, want);
  }
}

TEST_F(OrderFacetTest, ScrollFromAnOrderValueAlone) {
  Load(800, 5);
  ScrollRequest r;
  r.order_by = OrderBy{"v", false};
  r.order_value = Json("2024-01-01T00:00:00Z");
  r.limit = 1000;
  auto page = c_->Scroll(r);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  // Every point from the first whose value is not before that instant (the three spellings of it
  // included), in order.
  std::vector<PointId> want;
  for (const PointId& id : model_.Ordered("v", false, [](const Json&) { return true; })) {
    RefValue v = RefOrderValue(model_.points.at(id), "v", false);
    if (v.cls == 3 || Compare(v, RefOf(*r.order_value)) >= 0) want.push_back(id);
  }
  std::vector<PointId> got;
  for (const Point& p : page->points)
    got.push_back(p.id);
  EXPECT_EQ(got, want);
  ASSERT_FALSE(got.empty());
  // Null: only the points without a value remain.
  r.order_value = Json(nullptr);
  page = c_->Scroll(r);
  ASSERT_TRUE(page.ok());
  for (const Point& p : page->points)
    EXPECT_TRUE(OrderValue(p.payload, *r.order_by).is_null());
  EXPECT_FALSE(page->points.empty());
}

TEST_F(OrderFacetTest, ScrollOrderByErrors) {
  ScrollRequest r;
  r.order_value = Json(3);
  auto s = c_->Scroll(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("needs order_by"), std::string::npos) << s.ToString();
  r.order_by = OrderBy{"a..b"};
  s = c_->Scroll(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("a..b"), std::string::npos) << s.ToString();
  r.order_by = OrderBy{"a"};
  r.order_value = Json(true);
  s = c_->Scroll(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("got true"), std::string::npos) << s.ToString();
  r.order_value.reset();
  r.offset = PointId(uint64_t{4});
  s = c_->Scroll(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("needs order_value"), std::string::npos) << s.ToString();
}

// ---- Facets ----

// Numbers before strings before booleans: the order ties are broken in.
using RefFacetKey = std::variant<double, std::string, bool>;

std::vector<FacetCount> RefFacet(const Model& m, const std::string& key, FacetBucket bucket,
                                 const std::function<bool(const Json&)>& keep) {
  std::map<RefFacetKey, uint64_t> counts;
  for (const auto& [id, p] : m.points) {
    if (!keep(p)) continue;
    const Json* f = FieldOf(p, key);
    if (f == nullptr) continue;
    std::vector<Json> values =
        f->is_array() ? std::vector<Json>(f->begin(), f->end()) : std::vector<Json>{*f};
    std::set<RefFacetKey> keys;
    for (const Json& v : values) {
      if (bucket != FacetBucket::kValue) {
        const KnownDatetime* d = v.is_string() ? FindDatetime(v.get<std::string>()) : nullptr;
        if (d == nullptr) continue;
        std::string day = d->day;
        keys.insert(bucket == FacetBucket::kYear    ? day.substr(0, 4)
                    : bucket == FacetBucket::kMonth ? day.substr(0, 7)
                                                    : day);
      } else if (v.is_string()) {
        keys.insert(v.get<std::string>());
      } else if (v.is_boolean()) {
        keys.insert(v.get<bool>());
      } else if (v.is_number()) {
        // Integral numbers a JSON integer holds (1e19 fits a uint64; -1e300 fits nothing).
        double x = v.get<double>();
        if (std::floor(x) == x && x >= -9.2e18 && x <= 1.8e19) keys.insert(x);
      }
    }
    for (const RefFacetKey& k : keys)
      counts[k]++;
  }
  std::vector<std::pair<RefFacetKey, uint64_t>> all(counts.begin(), counts.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<FacetCount> out;
  for (const auto& [k, n] : all) {
    FacetCount fc;
    fc.count = n;
    if (auto* x = std::get_if<double>(&k))
      fc.value =
          *x == 1e19 ? Json(uint64_t{10000000000000000000u}) : Json(static_cast<int64_t>(*x));
    else if (auto* s = std::get_if<std::string>(&k))
      fc.value = *s;
    else
      fc.value = std::get<bool>(k);
    out.push_back(fc);
  }
  return out;
}

void ExpectFacet(const Collection& c, const Model& m, const std::string& key, FacetBucket bucket,
                 const char* filter_text, const std::function<bool(const Json&)>& keep) {
  SCOPED_TRACE(key + " bucket " + std::to_string(static_cast<int>(bucket)) + " filter " +
               filter_text);
  std::vector<FacetCount> want = RefFacet(m, key, bucket, keep);
  ASSERT_FALSE(want.empty());
  for (size_t limit : {size_t{1}, size_t{3}, want.size(), size_t{1000}}) {
    FacetRequest r;
    r.key = key;
    r.bucket = bucket;
    r.limit = limit;
    if (*filter_text) r.filter = *Filter::Parse(filter_text);
    auto got = c.Facet(r);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), std::min(limit, want.size()));
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].value, want[i].value) << "at " << i;
      EXPECT_EQ((*got)[i].count, want[i].count) << "at " << i << " " << want[i].value;
    }
  }
}

void ExpectAllFacets(const Collection& c, const Model& m) {
  auto all = [](const Json&) { return true; };
  auto g_small = [](const Json& p) { return p["g"].get<int>() < 8; };
  auto g_one = [](const Json& p) { return p["g"].get<int>() == 3; };
  for (const char* key : {"v", "m.v"})
    for (FacetBucket bucket :
         {FacetBucket::kValue, FacetBucket::kYear, FacetBucket::kMonth, FacetBucket::kDay}) {
      ExpectFacet(c, m, key, bucket, "", all);
      ExpectFacet(c, m, key, bucket, R"({"must": {"key": "g", "range": {"lt": 8}}})", g_small);
      ExpectFacet(c, m, key, bucket, R"({"must": {"key": "g", "match": {"value": 3}}})", g_one);
    }
  ExpectFacet(c, m, "g", FacetBucket::kValue, "", all);
}

TEST_F(OrderFacetTest, FacetWithoutIndexFollowsBruteForce) {
  Load(2000, 7);
  ExpectAllFacets(*c_, model_);
}

TEST_F(OrderFacetTest, FacetWithEachIndexTypeFollowsBruteForce) {
  Load(1500, 8);
  for (PayloadIndexType type :
       {PayloadIndexType::kKeyword, PayloadIndexType::kInteger, PayloadIndexType::kDatetime,
        PayloadIndexType::kFloat, PayloadIndexType::kText}) {
    SCOPED_TRACE(PayloadIndexTypeName(type));
    ASSERT_TRUE(c_->CreatePayloadIndex("v", type).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("m.v", type).ok());
    ASSERT_TRUE(c_->CreatePayloadIndex("g", type).ok());
    ExpectAllFacets(*c_, model_);
    for (const char* f : {"v", "m.v", "g"})
      ASSERT_TRUE(c_->DropPayloadIndex(f).ok());
  }
}

TEST_F(OrderFacetTest, FacetOrdersTiesByValueAndCountsArraysOncePerPoint) {
  std::vector<Point> pts;
  const std::vector<Json> payloads = {
      {{"t", {"b", "b", "a", 2, 2.0, true}}},
      {{"t", {"a", 2, false, 2.5, nullptr}}},
      {{"t", "b"}},
      {{"t", true}},
      {{"t", {10, "10"}}},
  };
  for (size_t i = 0; i < payloads.size(); ++i) {
    Point p;
    p.id = uint64_t{i};
    p.vectors["v"] = {1, 2};
    p.payload = payloads[i];
    pts.push_back(p);
  }
  ASSERT_TRUE(c_->Upsert(pts).ok());
  FacetRequest r;
  r.key = "t";
  r.limit = 100;
  for (bool indexed : {false, true}) {
    if (indexed) ASSERT_TRUE(c_->CreatePayloadIndex("t", PayloadIndexType::kKeyword).ok());
    auto got = c_->Facet(r);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::pair<Json, uint64_t>> pairs;
    for (const FacetCount& fc : *got)
      pairs.emplace_back(fc.value, fc.count);
    const std::vector<std::pair<Json, uint64_t>> want = {{2, 2},  {"a", 2},  {"b", 2},  {true, 2},
                                                         {10, 1}, {"10", 1}, {false, 1}};
    EXPECT_EQ(pairs, want) << "indexed " << indexed;
  }
}

TEST_F(OrderFacetTest, FacetErrors) {
  FacetRequest r;
  r.key = "a";
  r.limit = 0;
  auto s = c_->Facet(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("got 0"), std::string::npos) << s.ToString();
  r.limit = 10;
  r.key = "a[0]";
  s = c_->Facet(r).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("a[0]"), std::string::npos) << s.ToString();
  r.key = "";
  EXPECT_TRUE(c_->Facet(r).status().IsInvalidArgument());
}

TEST_F(OrderFacetTest, PayloadIndexesListsTheIndexes) {
  EXPECT_TRUE(c_->PayloadIndexes().empty());
  ASSERT_TRUE(c_->CreatePayloadIndex("a", PayloadIndexType::kKeyword).ok());
  ASSERT_TRUE(c_->CreatePayloadIndex("b.c", PayloadIndexType::kText).ok());
  const std::map<std::string, PayloadIndexType> want = {{"a", PayloadIndexType::kKeyword},
                                                        {"b.c", PayloadIndexType::kText}};
  EXPECT_EQ(c_->PayloadIndexes(), want);
  EXPECT_EQ(c_->Info().payload_indexes, want);
  ASSERT_TRUE(c_->DropPayloadIndex("a").ok());
  c_.reset();
  db_.reset();
  db_ = std::move(Db::Open(dir_.path())).value();
  c_ = *db_->GetCollection("c");
  EXPECT_EQ(c_->PayloadIndexes(),
            (std::map<std::string, PayloadIndexType>{{"b.c", PayloadIndexType::kText}}));
}

TEST(CheckPointTest, NamesTheProblemAndTheValue) {
  CollectionSchema schema;
  schema.vectors = {{"img", 3, Metric::kCosine, StorageType::kFloat32},
                    {"txt", 2, Metric::kL2, StorageType::kFloat32}};
  auto expect = [&](const Point& p, const std::string& needle) {
    Status s = schema.CheckPoint(p);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  };
  Point p;
  p.id = uint64_t{1};
  p.vectors = {{"img", {1, 0, 0}}, {"txt", {0, 0}}};  // a zero l2 vector is fine
  EXPECT_TRUE(schema.CheckPoint(p).ok());
  p.payload = nullptr;
  EXPECT_TRUE(schema.CheckPoint(p).ok());
  // Tiny but non-zero: its norm is judged in double, where a float sum would underflow to 0.
  p.vectors["img"] = {1e-30f, 0, 0};
  EXPECT_TRUE(schema.CheckPoint(p).ok());
  p.vectors["img"] = {0, 0, 0};
  expect(p, "vector 'img' has zero norm");
  p.vectors["img"] = {1, std::nanf(""), 0};
  expect(p, "vector 'img' has NaN at index 1");
  p.vectors["img"] = {1, 0, -INFINITY};
  expect(p, "vector 'img' has Inf at index 2");
  p.vectors["img"] = {1, 0};
  expect(p, "vector 'img' has 2 dims, expected 3");
  p.vectors = {{"sound", {1}}};
  expect(p, "unknown vector 'sound'; the schema has: img, txt");
  p.vectors = {};
  p.payload = Json::array({1});
  expect(p, "payload must be a JSON object, got array");
  p.payload = Json::object();
  p.id = PointId(std::string());
  expect(p, "id must not be an empty string");
}

// A tiny cosine vector is stored normalized (not as Inf from a zero float norm).
TEST(CheckPointTest, TinyCosineVectorsAreNormalized) {
  TempDir dir;
  auto db = std::move(Db::Open(dir.path())).value();
  CollectionSchema schema;
  schema.vectors = {{"img", 2, Metric::kCosine, StorageType::kFloat32}};
  auto c = *db->CreateCollection("c", schema);
  Point p;
  p.id = uint64_t{1};
  p.vectors["img"] = {3e-30f, 4e-30f};
  ASSERT_TRUE(c->Upsert(std::vector<Point>{p}).ok());
  auto got = c->Get(std::vector<PointId>{uint64_t{1}});
  ASSERT_TRUE(got.ok() && got->size() == 1);
  EXPECT_NEAR(got->at(0).vectors.at("img")[0], 0.6f, 1e-6);
  EXPECT_NEAR(got->at(0).vectors.at("img")[1], 0.8f, 1e-6);
}

}  // namespace
}  // namespace mosaic
