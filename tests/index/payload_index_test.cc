// PayloadIndexSet against a full scan: for every filter, the candidates must be a sorted,
// duplicate-free superset of the matching slots, and evaluating the filter on the candidates must
// give exactly the scan's result; also after slots are erased, re-inserted with new payloads, and
// added. Run over a seeded dataset where every indexed field also holds values of other types,
// with the index types as intended and with each field indexed as the "wrong" type.
#include "index/filter/payload_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mosaic/env.h"
#include "mosaic/filter.h"
#include "util/fault_env.h"

namespace mosaic::index {
namespace {

std::string Keyword(int k) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "k%03d", k);
  return buf;
}

Json RandomPayload(std::mt19937& rng) {
  auto pct = [&] { return std::uniform_int_distribution<int>(0, 99)(rng); };
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Json p = Json::object();

  int r = pct();
  if (r < 60)
    p["kw"] = Keyword(uniform(0, 199));
  else if (r < 70)
    p["kw"] = Json::array({Keyword(uniform(0, 199)), Keyword(uniform(0, 199))});
  else if (r < 75)
    p["kw"] = 7;
  else if (r < 80)
    p["kw"] = nullptr;
  else if (r < 85)
    p["kw"] = "2024-03-01";

  r = pct();
  if (r < 50)
    p["i"] = uniform(-500, 500);
  else if (r < 60)
    p["i"] = uniform(-500, 500) + 0.5;
  else if (r < 65)
    p["i"] = static_cast<double>(uniform(-500, 500));
  else if (r < 67)
    p["i"] = std::numeric_limits<uint64_t>::max();
  else if (r < 69)
    p["i"] = std::numeric_limits<int64_t>::min();
  else if (r < 70)
    p["i"] = 1e19;
  else if (r < 71)
    p["i"] = -1e300;
  else if (r < 76)
    p["i"] = "12";
  else if (r < 82)
    p["i"] = Json::array({uniform(-500, 500), uniform(-500, 500)});

  r = pct();
  if (r < 50)
    p["f"] = uniform(-100000, 100000) / 1000.0;
  else if (r < 70)
    p["f"] = uniform(-100, 100);
  else if (r < 73)
    p["f"] = 9007199254740993LL;
  else if (r < 75)
    p["f"] = -0.0;
  else if (r < 80)
    p["f"] = "x";

  r = pct();
  if (r < 75) {
    int64_t day = uniform(1, 28), month = uniform(1, 12), hour = uniform(0, 23);
    char buf[64];
    switch (uniform(0, 3)) {
      case 0:
        std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:15:30Z", int(month), int(day),
                      int(hour));
        break;
      case 1:
        std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:15:30.250+05:30", int(month), int(day),
                      int(hour));
        break;
      case 2:
        std::snprintf(buf, sizeof buf, "2024-%02d-%02d", int(month), int(day));
        break;
      default:
        std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:00:00-08:00", int(month), int(day),
                      int(hour));
        break;
    }
    p["dt"] = buf;
  } else if (r < 80) {
    p["dt"] = "soon";
  } else if (r < 85) {
    p["dt"] = 20240301;
  }

  if (pct() < 70) p["meta"] = {{"tag", "t" + std::to_string(uniform(0, 19))}};
  if (pct() < 70) {
    Json items = Json::array();
    for (int64_t k = uniform(0, 3); k > 0; --k)
      items.push_back({{"qty", uniform(0, 50)}});
    p["items"] = items;
  }
  if (pct() < 70) p["b"] = pct() < 50;
  return p;
}

// The points of a collection as slots: payload per slot (nullopt once deleted) and id maps.
struct Points {
  std::vector<std::optional<Json>> payloads;
  std::vector<PointId> ids;
  std::map<PointId, uint32_t> slot_of;

  uint32_t Add(PointId id, Json payload) {
    uint32_t slot = static_cast<uint32_t>(payloads.size());
    payloads.push_back(std::move(payload));
    ids.push_back(id);
    slot_of[id] = slot;
    return slot;
  }
  std::optional<uint32_t> SlotOf(const PointId& id) const {
    auto it = slot_of.find(id);
    return it == slot_of.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
};

PointId IdFor(size_t i) {
  return i % 3 == 0 ? PointId("p" + std::to_string(i)) : PointId(uint64_t{i * 10});
}

struct FilterCase {
  std::string filter;
  bool indexed;  // whether the intended index types must produce candidates
  bool exact;    // whether those candidates must be exactly the matches
  bool may_match_nothing = false;
};

std::vector<FilterCase> Cases() {
  return {
      {R"({})", false, false},
      {R"({"must": {"key": "kw", "match": {"value": "k007"}}})", true, true},
      {R"({"must": {"key": "kw", "match": {"any": ["k001", "k002", "k150", "nope"]}}})", true,
       true},
      {R"({"must": {"key": "kw", "match": {"value": 7}}})", false, false},
      {R"({"must": {"key": "kw", "match": {"any": ["k001", true]}}})", false, false},
      {R"({"must": {"key": "kw", "match": {"except": ["k001"]}}})", false, false},
      {R"({"must": {"key": "kw", "match": {"value": "2024-03-01"}}})", true, true},
      {R"({"must": {"key": "kw", "range": {"gt": 1}}})", false, false},
      {R"({"must": {"key": "i", "match": {"value": 12}}})", true, true},
      {R"({"must": {"key": "i", "match": {"any": [1, 2, 3, -500]}}})", true, true},
      {R"({"must": {"key": "i", "match": {"value": 18446744073709551615}}})", true, false},
      {R"({"must": {"key": "i", "match": {"value": -9223372036854775808}}})", true, true},
      {R"({"must": {"key": "i", "match": {"value": "12"}}})", false, false},
      {R"({"must": {"key": "i", "range": {"gt": 2.5}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gte": 2.5, "lt": 10}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gt": 2, "lte": 3}}})", true, false},
      {R"({"must": {"key": "i", "range": {"lte": -499.5}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gt": -0.0001, "lt": 0.0001}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gt": 9223372036854775807}}})", true, false},
      {R"({"must": {"key": "i", "range": {"lte": -9223372036854775808}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gt": 1e18}}})", true, false},
      {R"({"must": {"key": "i", "range": {"lt": -1e200}}})", true, false},
      {R"({"must": {"key": "i", "range": {"gt": 5, "lt": 5}}})", true, false, true},
      {R"({"must": {"key": "f", "range": {"gte": 0, "lt": 0.5}}})", true, false},
      {R"({"must": {"key": "f", "range": {"gt": -0.0, "lte": 1}}})", true, false},
      {R"({"must": {"key": "f", "range": {"lte": -99.999}}})", true, false},
      {R"({"must": {"key": "f", "range": {"gt": 9007199254740992}}})", true, false},
      {R"({"must": {"key": "f", "range": {"gte": 9007199254740993, "lte": 9007199254740993}}})",
       true, false},
      {R"({"must": {"key": "f", "match": {"value": 5}}})", true, true},
      {R"({"must": {"key": "f", "match": {"value": 0}}})", true, true},
      {R"({"must": {"key": "f", "match": {"value": 9007199254740992}}})", true, false, true},
      {R"({"must": {"key": "dt", "range": {"gte": "2024-06-01T00:00:00+02:00"}}})", true, false},
      {R"({"must": {"key": "dt", "range": {"gt": "2024-03-01", "lt": "2024-03-15T12:00:00Z"}}})",
       true, false},
      {R"({"must": {"key": "dt", "range": {"gt": 20240000}}})", false, false},
      {R"({"must": {"key": "dt", "match": {"value": "2024-03-01"}}})", true, false},
      {R"({"must": {"key": "dt", "match": {"any": ["2024-03-01", "soon"]}}})", false, false},
      {R"({"must": {"key": "items[].qty", "range": {"gte": 48}}})", true, false},
      {R"({"must": {"key": "items[].qty", "match": {"value": 7}}})", true, true},
      {R"({"must": {"key": "items[].qty", "range": {"gt": 47, "lte": 49.5}}})", true, true},
      {R"({"must": {"key": "items[].qty", "range": {"gte": 2.5, "lt": 4}}})", true, true},
      {R"({"must": {"key": "meta.tag", "match": {"value": "t3"}}})", true, true},
      {R"({"must": {"key": "b", "match": {"value": true}}})", false, false},
      {R"({"must": {"has_id": ["p3", "p4", 10, 20, 40000, "p999999"]}})", true, true},
      {R"({"must": [{"key": "kw", "match": {"value": "k007"}}, {"key": "i", "range": {"gt": 0}}]})",
       true, false},
      {R"({"must": [{"key": "kw", "match": {"value": "k007"}}, {"key": "b",
          "match": {"value": true}}]})",
       true, false},
      {R"({"must": {"key": "kw", "match": {"value": "k007"}}, "must_not": {"key": "b",
          "match": {"value": true}}})",
       true, false},
      {R"({"must_not": {"key": "kw", "match": {"value": "k007"}}})", false, false},
      {R"({"should": [{"key": "kw", "match": {"value": "k007"}}, {"key": "meta.tag",
          "match": {"value": "t3"}}]})",
       true, true},
      {R"({"should": [{"key": "kw", "match": {"value": "k007"}}, {"key": "b",
          "match": {"value": true}}]})",
       false, false},
      {R"({"should": {"key": "i", "range": {"gte": 100, "lt": 120}}})", true, false},
      {R"({"must": [{"should": [{"key": "kw", "match": {"value": "k001"}}, {"has_id": [30, "p9"]}]},
                    {"key": "dt", "range": {"lt": "2024-07-01"}}]})",
       true, false},
      {R"({"must": {"must": [{"key": "f", "range": {"gt": 50}}, {"key": "items[].qty",
          "match": {"any": [1, 2]}}]}})",
       true, false},
      {R"({"must": [{"must": {"key": "kw", "match": {"value": "k002"}}, "must_not": {"key": "i",
          "range": {"gt": 0}}}]})",
       true, false},
      {R"({"must": [{"key": "i", "range": {"gte": -10, "lte": 10}}, {"key": "f",
          "range": {"gte": -10, "lte": 10}},
                    {"key": "dt", "range": {"gte": "2024-02-01"}}]})",
       true, false},
      {R"({"must": [{"key": "kw", "match": {"value": "k007"}}, {"key": "kw",
          "match": {"value": "k008"}}]})",
       true, false, true},
      {R"({"must": {"key": "unindexed", "range": {"gt": 0}}})", false, false, true},
  };
}

class PayloadIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(99);
    for (size_t i = 0; i < 5000; ++i)
      points_.Add(IdFor(i), RandomPayload(rng));
    ASSERT_TRUE(intended_.Create("kw", PayloadIndexType::kKeyword).ok());
    ASSERT_TRUE(intended_.Create("meta.tag", PayloadIndexType::kKeyword).ok());
    ASSERT_TRUE(intended_.Create("i", PayloadIndexType::kInteger).ok());
    ASSERT_TRUE(intended_.Create("items[].qty", PayloadIndexType::kInteger).ok());
    ASSERT_TRUE(intended_.Create("f", PayloadIndexType::kFloat).ok());
    ASSERT_TRUE(intended_.Create("dt", PayloadIndexType::kDatetime).ok());
    // Each field indexed as another type: the index then holds few of the field's values and
    // must still never drop a match.
    ASSERT_TRUE(swapped_.Create("kw", PayloadIndexType::kDatetime).ok());
    ASSERT_TRUE(swapped_.Create("meta.tag", PayloadIndexType::kInteger).ok());
    ASSERT_TRUE(swapped_.Create("i", PayloadIndexType::kFloat).ok());
    ASSERT_TRUE(swapped_.Create("items[].qty", PayloadIndexType::kFloat).ok());
    ASSERT_TRUE(swapped_.Create("f", PayloadIndexType::kInteger).ok());
    ASSERT_TRUE(swapped_.Create("dt", PayloadIndexType::kKeyword).ok());
    for (uint32_t slot = 0; slot < points_.payloads.size(); ++slot) {
      intended_.Insert(slot, *points_.payloads[slot]);
      swapped_.Insert(slot, *points_.payloads[slot]);
    }
  }

  // Checks one filter against the scan over live slots; returns the candidates.
  std::optional<std::vector<uint32_t>> Check(const PayloadIndexSet& set, const FilterCase& c,
                                             bool intended) {
    SCOPED_TRACE(c.filter);
    Result<Filter> parsed = Filter::Parse(c.filter);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!parsed.ok()) return std::nullopt;
    const Filter& f = *parsed;
    std::vector<uint32_t> scan;
    for (uint32_t slot = 0; slot < points_.payloads.size(); ++slot)
      if (points_.payloads[slot] && f.Matches(points_.ids[slot], *points_.payloads[slot]))
        scan.push_back(slot);

    bool exact = false;
    std::optional<std::vector<uint32_t>> cand = set.Candidates(
        f.root(), [&](const PointId& id) { return points_.SlotOf(id); }, &exact);
    if (intended) {
      EXPECT_EQ(cand.has_value(), c.indexed);
      if (!c.may_match_nothing) {
        EXPECT_FALSE(scan.empty()) << "the dataset never exercises this";
      }
    }
    if (!cand) return cand;
    EXPECT_TRUE(std::is_sorted(cand->begin(), cand->end()));
    EXPECT_EQ(std::adjacent_find(cand->begin(), cand->end()), cand->end());
    for (uint32_t slot : *cand) {
      EXPECT_LT(slot, points_.payloads.size());
      if (slot >= points_.payloads.size()) return cand;
      EXPECT_TRUE(points_.payloads[slot].has_value()) << "candidate " << slot << " was erased";
    }
    EXPECT_TRUE(std::includes(cand->begin(), cand->end(), scan.begin(), scan.end()))
        << "candidates miss a match";
    std::vector<uint32_t> indexed;
    for (uint32_t slot : *cand)
      if (points_.payloads[slot] && f.Matches(points_.ids[slot], *points_.payloads[slot]))
        indexed.push_back(slot);
    EXPECT_EQ(indexed, scan);
    if (intended && c.exact) {
      EXPECT_EQ(*cand, scan);
    }
    if (exact) {  // the caller will not evaluate the filter on these
      EXPECT_EQ(*cand, scan) << "candidates said to be exact are not";
      ++reported_exact_;
    }
    return cand;
  }

  void CheckAll() {
    size_t selective = 0;
    for (const FilterCase& c : Cases()) {
      std::optional<std::vector<uint32_t>> cand = Check(intended_, c, true);
      if (cand && cand->size() < points_.payloads.size() / 10) ++selective;
      Check(swapped_, c, false);
    }
    // Most indexed cases narrow the scan to a small fraction of the points.
    EXPECT_GT(selective, 25u);
    // Keyword and integer matches, has_id and their must/should combinations answer exactly.
    EXPECT_GE(reported_exact_, 8u);
  }

  size_t reported_exact_ = 0;
  Points points_;
  PayloadIndexSet intended_;
  PayloadIndexSet swapped_;
};

TEST_F(PayloadIndexTest, CandidatesAgreeWithScan) {
  CheckAll();
}

TEST_F(PayloadIndexTest, CandidatesAgreeWithScanAfterEraseAndReinsert) {
  std::mt19937 rng(1234);
  for (uint32_t slot = 0; slot < points_.payloads.size(); slot += 5) {
    intended_.Erase(slot, *points_.payloads[slot]);
    swapped_.Erase(slot, *points_.payloads[slot]);
    if (slot % 10 == 0) {  // updated in place with a new payload
      points_.payloads[slot] = RandomPayload(rng);
      intended_.Insert(slot, *points_.payloads[slot]);
      swapped_.Insert(slot, *points_.payloads[slot]);
    } else {  // deleted
      points_.payloads[slot].reset();
      points_.slot_of.erase(points_.ids[slot]);
    }
  }
  for (size_t i = 5000; i < 5500; ++i) {
    uint32_t slot = points_.Add(IdFor(i), RandomPayload(rng));
    intended_.Insert(slot, *points_.payloads[slot]);
    swapped_.Insert(slot, *points_.payloads[slot]);
  }
  CheckAll();
}

// Two segments' index files: [0, 2500) as it is, [2500, 5000) without its erased slots (as a
// merge writes them), loaded into empty sets one after the other.
TEST_F(PayloadIndexTest, CandidatesAgreeWithScanAfterSaveAndLoad) {
  const uint32_t total = static_cast<uint32_t>(points_.payloads.size()), half = total / 2;
  for (uint32_t slot = 2; slot < total; slot += 9) {
    intended_.Erase(slot, *points_.payloads[slot]);
    swapped_.Erase(slot, *points_.payloads[slot]);
    points_.payloads[slot].reset();
  }
  std::vector<uint32_t> second(total - half, kDroppedSlot);
  Points renumbered;
  for (uint32_t slot = 0; slot < total; ++slot) {
    if (slot >= half && !points_.payloads[slot]) continue;
    if (slot >= half) second[slot - half] = static_cast<uint32_t>(renumbered.payloads.size()) - half;
    const uint32_t to = static_cast<uint32_t>(renumbered.payloads.size());
    renumbered.payloads.push_back(points_.payloads[slot]);
    renumbered.ids.push_back(points_.ids[slot]);
    if (points_.payloads[slot]) renumbered.slot_of[points_.ids[slot]] = to;
  }
  const uint32_t kept = static_cast<uint32_t>(renumbered.payloads.size()) - half;
  testing::TempDir dir;
  Env* env = Env::Default();
  auto reload = [&](PayloadIndexSet* set) {
    ASSERT_TRUE(set->Save(env, dir.path() + "/a.idx", half, {0, {}, half}).ok());
    ASSERT_TRUE(set->Save(env, dir.path() + "/b.idx", kept, {half, second}).ok());
    PayloadIndexSet loaded;
    for (const auto& [field, type] : set->List()) ASSERT_TRUE(loaded.Create(field, type).ok());
    bool partial = true;
    auto a = loaded.Load(env, dir.path() + "/a.idx", half, {0, {}}, &partial);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->size(), set->List().size());
    auto b = loaded.Load(env, dir.path() + "/b.idx", kept, {half, {}}, &partial);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    // Saving what was loaded gives the same bytes.
    ASSERT_TRUE(loaded.Save(env, dir.path() + "/b2.idx", kept, {half, {}, kept}).ok());
    EXPECT_EQ(*env->ReadFile(dir.path() + "/b.idx"), *env->ReadFile(dir.path() + "/b2.idx"));
    *set = std::move(loaded);
  };
  reload(&intended_);
  reload(&swapped_);
  points_ = std::move(renumbered);
  CheckAll();
}

// A damaged or mismatched file is refused before the set is touched, or says it was touched.
TEST_F(PayloadIndexTest, LoadRefusesDamagedOrMismatchedFiles) {
  testing::TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.path() + "/a.idx";
  const uint32_t n = static_cast<uint32_t>(points_.payloads.size());
  ASSERT_TRUE(intended_.Save(env, path, n, {0, {}, n}).ok());
  std::string bytes = *env->ReadFile(path);
  PayloadIndexSet fresh;
  ASSERT_TRUE(fresh.Create("kw", PayloadIndexType::kKeyword).ok());
  ASSERT_TRUE(fresh.Create("f", PayloadIndexType::kInteger).ok());  // saved as a float index
  ASSERT_TRUE(fresh.Create("other", PayloadIndexType::kKeyword).ok());
  bool partial = true;
  auto wrong_size = fresh.Load(env, path, n + 1, {0, {}}, &partial);
  EXPECT_TRUE(wrong_size.status().IsCorruption()) << wrong_size.status().ToString();
  EXPECT_NE(wrong_size.status().message().find(std::to_string(n)), std::string::npos);
  EXPECT_FALSE(partial);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  ASSERT_TRUE(WriteFileAtomically(env, path, flipped).ok());
  auto damaged = fresh.Load(env, path, n, {0, {}}, &partial);
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find("checksum"), std::string::npos);
  EXPECT_FALSE(partial);
  EXPECT_TRUE(fresh.Load(env, dir.path() + "/missing.idx", n, {0, {}}, &partial).status().IsNotFound());
  // Only the field saved with the same type loads; the caller indexes the others itself.
  ASSERT_TRUE(WriteFileAtomically(env, path, bytes).ok());
  auto loaded = fresh.Load(env, path, n, {0, {}}, &partial);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, std::vector<std::string>{"kw"});
  Result<Filter> f = Filter::Parse(R"({"must": {"key": "kw", "match": {"value": "k007"}}})");
  ASSERT_TRUE(f.ok());
  auto want = intended_.Candidates(f->root(), [](const PointId&) { return std::nullopt; });
  auto got = fresh.Candidates(f->root(), [](const PointId&) { return std::nullopt; });
  ASSERT_TRUE(want && got);
  EXPECT_EQ(*got, *want);
  EXPECT_FALSE(want->empty());
}

TEST_F(PayloadIndexTest, ErasingEverythingEmptiesTheIndex) {
  size_t before = intended_.MemoryBytes();
  for (uint32_t slot = 0; slot < points_.payloads.size(); ++slot)
    intended_.Erase(slot, *points_.payloads[slot]);
  EXPECT_LT(intended_.MemoryBytes(), before);
  for (const char* text : {R"({"must": {"key": "kw", "match": {"value": "k007"}}})",
                           R"({"must": {"key": "i", "range": {"gt": -1e300}}})",
                           R"({"must": {"key": "f", "range": {"lt": 1e300}}})",
                           R"({"must": {"key": "dt", "range": {"gt": "0001-01-01"}}})"}) {
    Result<Filter> f = Filter::Parse(text);
    ASSERT_TRUE(f.ok());
    auto cand = intended_.Candidates(f->root(), [](const PointId&) { return std::nullopt; });
    ASSERT_TRUE(cand.has_value()) << text;
    EXPECT_TRUE(cand->empty()) << text;
  }
}

TEST(PayloadIndexSetTest, CreateDropList) {
  PayloadIndexSet set;
  EXPECT_TRUE(set.Create("a.b", PayloadIndexType::kKeyword).ok());
  EXPECT_TRUE(set.Create("items[].n", PayloadIndexType::kInteger).ok());
  Status dup = set.Create("a.b", PayloadIndexType::kFloat);
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();
  EXPECT_NE(dup.message().find("\"a.b\""), std::string::npos) << dup.message();
  Status bad = set.Create("a..b", PayloadIndexType::kFloat);
  EXPECT_TRUE(bad.IsInvalidArgument()) << bad.ToString();
  EXPECT_NE(bad.message().find("a..b"), std::string::npos) << bad.message();
  EXPECT_EQ(set.List(),
            (std::map<std::string, PayloadIndexType>{{"a.b", PayloadIndexType::kKeyword},
                                                     {"items[].n", PayloadIndexType::kInteger}}));
  EXPECT_TRUE(set.Drop("a.b").ok());
  Status missing = set.Drop("a.b");
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  EXPECT_EQ(set.List().size(), 1u);
}

TEST(PayloadIndexSetTest, DuplicateValuesInOnePayloadAreIndexedOnce) {
  PayloadIndexSet set;
  ASSERT_TRUE(set.Create("t", PayloadIndexType::kKeyword).ok());
  ASSERT_TRUE(set.Create("n", PayloadIndexType::kInteger).ok());
  Json p = Json::parse(R"({"t": ["x", "x", "y"], "n": [3, 3.0, 2.5, 2.5]})");
  set.Insert(4, p);
  set.Insert(2, p);
  Result<Filter> f = Filter::Parse(R"({"must": [{"key": "t", "match": {"any": ["x", "y"]}},
                                                {"key": "n", "range": {"gte": 2}}]})");
  ASSERT_TRUE(f.ok());
  auto no_ids = [](const PointId&) -> std::optional<uint32_t> { return std::nullopt; };
  EXPECT_EQ(set.Candidates(f->root(), no_ids), (std::vector<uint32_t>{2, 4}));
  set.Erase(4, p);
  EXPECT_EQ(set.Candidates(f->root(), no_ids), (std::vector<uint32_t>{2}));
  set.Erase(2, p);
  EXPECT_EQ(set.Candidates(f->root(), no_ids), (std::vector<uint32_t>{}));
}

// The point of the index: a 0.1%-selective condition yields about 0.1% of the points as
// candidates, alone or next to unselective conditions, instead of a scan of all of them.
TEST(PayloadIndexSetTest, SelectiveFiltersYieldFewCandidates) {
  constexpr uint32_t kPoints = 200'000;
  PayloadIndexSet set;
  ASSERT_TRUE(set.Create("k", PayloadIndexType::kKeyword).ok());
  ASSERT_TRUE(set.Create("u", PayloadIndexType::kInteger).ok());
  ASSERT_TRUE(set.Create("x", PayloadIndexType::kFloat).ok());
  ASSERT_TRUE(set.Create("t", PayloadIndexType::kDatetime).ok());
  // One payload object rewritten in place: building 200,000 fresh ones dominated the sanitizer
  // pass's time.
  Json payload = Json::object();
  for (uint32_t slot = 0; slot < kPoints; ++slot) {
    char day[32];
    std::snprintf(day, sizeof day, "2024-01-01T00:%02u:%02uZ", slot / 60 % 60, slot % 60);
    payload["k"] = "v" + std::to_string(slot % 1000);
    payload["u"] = slot;
    payload["x"] = slot / 1000.0;
    payload["t"] = day;
    payload["half"] = slot % 2 == 0 ? "even" : "odd";
    set.Insert(slot, payload);
  }
  ASSERT_TRUE(set.Create("half", PayloadIndexType::kKeyword).ok());
  Json half = Json::object();
  for (uint32_t slot = 0; slot < kPoints; ++slot) {
    half["half"] = slot % 2 == 0 ? "even" : "odd";
    set.Insert(slot, half);
  }
  auto no_ids = [](const PointId&) -> std::optional<uint32_t> { return std::nullopt; };
  auto count = [&](const char* text) -> size_t {
    Result<Filter> f = Filter::Parse(text);
    EXPECT_TRUE(f.ok()) << text;
    auto cand = set.Candidates(f->root(), no_ids);
    EXPECT_TRUE(cand.has_value()) << text;
    return cand ? cand->size() : kPoints;
  };
  EXPECT_EQ(count(R"({"must": {"key": "k", "match": {"value": "v7"}}})"), 200u);
  EXPECT_EQ(count(R"({"must": {"key": "u", "range": {"gte": 5000, "lt": 5200}}})"), 200u);
  EXPECT_EQ(count(R"({"must": {"key": "x", "range": {"gte": 5.0, "lt": 5.2}}})"), 200u);
  EXPECT_EQ(count(R"({"must": [{"key": "half", "match": {"value": "even"}},
                               {"key": "k", "match": {"value": "v7"}},
                               {"key": "u", "range": {"gte": 0}}]})"),
            200u);
  // Two selective conditions intersect.
  EXPECT_EQ(count(R"({"must": [{"key": "k", "match": {"value": "v7"}},
                               {"key": "u", "range": {"lt": 100000}}]})"),
            200u);
  EXPECT_EQ(count(R"({"must": [{"key": "k", "match": {"any": ["v7", "v8"]}},
                               {"key": "u", "range": {"gte": 1000, "lt": 3000}}]})"),
            4u);
  EXPECT_EQ(count(R"({"must": {"key": "t", "range": {"gte": "2024-01-01T00:10:00Z",
                                                      "lt": "2024-01-01T00:10:01Z"}}})"),
            kPoints / 3600 + 1);
}

}  // namespace
}  // namespace mosaic::index
