// The query engine over real collections: pages that never repeat or skip a hit (HNSW, filters,
// fusion), fusion and recommend against rankings computed from the collection's own searches,
// group by, ordered listings with cursors, facets, autocut, MMR, understood filters and the
// errors a user can make.
#include "query/engine.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "io/vector_file.h"
#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"
#include "util/shared_fixture.h"

namespace mosaic::query {
namespace {

using testing::TempDir;

std::vector<uint64_t> Ids(const QueryResponse& r) {
  std::vector<uint64_t> ids;
  for (const Hit& h : r.hits)
    ids.push_back(h.id.num());
  return ids;
}

// ---- pages over Fashion-MNIST with an HNSW graph --------------------------------------------

const size_t kPoints = mosaic::testing::Scaled(12000, 2500);
const size_t kQueries = mosaic::testing::Scaled(12, 3);

struct Fashion {
  TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
  io::Matrix queries;
};

mosaic::testing::SharedFixture<Fashion> g_fashion;

Fashion& GetFashion() {
  return g_fashion.Get([] {
    auto* f = new Fashion;
    const std::string data = mosaic::testing::DataDir() + "/fashion-mnist";
    io::Matrix base = io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz", kPoints).value();
    std::vector<int32_t> labels = io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz").value();
    f->queries = io::ReadVectorFile(data + "/t10k-images-idx3-ubyte.gz", kQueries).value();
    f->db = Db::Open(f->dir.path()).value();
    CollectionSchema schema;
    VectorSpec v{"image", 784, Metric::kL2};
    v.index.kind = IndexKind::kHnsw;
    v.index.m = 8;
    v.index.ef_construction = 64;
    v.index.ef_search = 16;  // small, so that deeper searches do find other points
    schema.vectors = {v};
    f->c = f->db->CreateCollection("fashion", schema).value();
    EXPECT_TRUE(f->c->CreatePayloadIndex("label", PayloadIndexType::kInteger).ok());
    std::vector<Point> points;
    for (size_t i = 0; i < kPoints; ++i) {
      Point p;
      p.id = i;
      p.vectors["image"].assign(base.row(i), base.row(i) + 784);
      p.payload = {{"label", labels[i]}};
      points.push_back(std::move(p));
    }
    EXPECT_TRUE(f->c->Upsert(points).ok());
    return f;
  });
}

QueryRequest NearestRequest(size_t q) {
  const Fashion& f = GetFashion();
  QueryRequest r;
  r.query =
      NearestQuery{{Input::Vector(std::vector<float>(f.queries.row(q), f.queries.row(q) + 784))}};
  r.with_payload = false;
  return r;
}

// Pages of `page` hits up to `total`, concatenated; fails the test on a repeated hit.
std::vector<uint64_t> Paged(const QueryEngine& e, QueryRequest r, size_t page, size_t total) {
  std::vector<uint64_t> all;
  std::set<uint64_t> seen;
  r.limit = page;
  for (r.offset = 0; r.offset < total; r.offset += page) {
    auto resp = e.Query(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok()) break;
    for (uint64_t id : Ids(*resp)) {
      EXPECT_TRUE(seen.insert(id).second)
          << "id " << id << " repeated at offset " << r.offset << ", page " << page;
      all.push_back(id);
    }
  }
  all.resize(std::min(all.size(), total));
  return all;
}

void CheckPages(const QueryEngine& e, const QueryRequest& base, size_t total) {
  QueryRequest once = base;
  once.limit = total;
  auto whole = e.Query(once);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(whole->hits.size(), total);
  for (size_t page : {1, 7, 10, 33})
    EXPECT_EQ(Paged(e, base, page, total), Ids(*whole)) << "page size " << page;
}

TEST(EnginePages, NeverRepeatOrSkipOverHnsw) {
  Fashion& f = GetFashion();
  QueryEngine e(*f.c);
  for (size_t q = 0; q < kQueries; ++q)
    CheckPages(e, NearestRequest(q), 250);
  // The data does exercise the problem: plain Collection::Search pages (each a search of
  // offset + limit with its own beam) disagree with one search of them all.
  size_t disagree = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    SearchRequest s;
    s.vector.assign(f.queries.row(q), f.queries.row(q) + 784);
    s.with_payload = false;
    s.limit = 250;
    std::vector<PointId> whole;
    for (const auto& h : f.c->Search(s).value())
      whole.push_back(h.id);
    s.limit = 7;
    for (s.offset = 0; s.offset + 7 <= 250; s.offset += 7) {
      auto page = f.c->Search(s).value();
      for (size_t i = 0; i < page.size(); ++i)
        disagree += page[i].id != whole[s.offset + i];
    }
  }
  EXPECT_GT(disagree, 0u);
}

TEST(EnginePages, NeverRepeatOrSkipWithAFilter) {
  // Half the labels: at full scale 6000 survivors, more than the planner scores exactly, so the
  // graph is walked with an allow-set.
  Fashion& f = GetFashion();
  QueryEngine e(*f.c);
  for (size_t q = 0; q < kQueries; ++q) {
    QueryRequest r = NearestRequest(q);
    r.filter =
        Filter::Parse(R"({"must": [{"key": "label", "match": {"any": [0, 2, 4, 6, 8]}}]})").value();
    CheckPages(e, r, 250);
  }
}

TEST(EnginePages, NeverRepeatOrSkipWhenFused) {
  Fashion& f = GetFashion();
  QueryEngine e(*f.c);
  for (size_t q = 0; q + 1 < kQueries; ++q) {
    QueryRequest r;
    r.with_payload = false;
    for (size_t k : {q, q + 1}) {
      Prefetch p;
      p.query = NearestQuery{
          {Input::Vector(std::vector<float>(f.queries.row(k), f.queries.row(k) + 784))}};
      r.prefetch.push_back(std::move(p));
    }
    r.query = FusionQuery{FusionMethod::kRrf, 60};
    CheckPages(e, r, 250);
  }
}

TEST(EnginePages, FirstPagesKeepRecall) {
  Fashion& f = GetFashion();
  QueryEngine e(*f.c);
  size_t hit = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    QueryRequest r = NearestRequest(q);
    r.limit = 10;
    auto got = e.Query(r);
    r.params.exact = true;
    auto exact = e.Query(r);
    ASSERT_TRUE(got.ok() && exact.ok());
    std::set<uint64_t> truth;
    for (uint64_t id : Ids(*exact))
      truth.insert(id);
    for (uint64_t id : Ids(*got))
      hit += truth.count(id);
  }
  EXPECT_GE(double(hit) / (10.0 * kQueries), 0.9);
}

TEST(EnginePages, ExactPagesAreTheExactRanking) {
  Fashion& f = GetFashion();
  QueryEngine e(*f.c);
  QueryRequest r = NearestRequest(0);
  r.params.exact = true;
  SearchRequest s;
  s.vector.assign(f.queries.row(0), f.queries.row(0) + 784);
  s.limit = 120;
  s.exact = true;
  s.with_payload = false;
  std::vector<uint64_t> truth;
  for (const auto& h : f.c->Search(s).value())
    truth.push_back(h.id.num());
  EXPECT_EQ(Paged(e, r, 12, 120), truth);
}

// ---- small collections made by hand ---------------------------------------------------------

struct Small {
  TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

// Ten points on the unit circle (cosine), a text field, a kind, a date and a document id.
std::unique_ptr<Small> MakeSmall() {
  auto s = std::make_unique<Small>();
  s->db = Db::Open(s->dir.path()).value();
  CollectionSchema schema;
  schema.vectors = {VectorSpec{"v", 2, Metric::kCosine}};
  s->c = s->db->CreateCollection("small", schema).value();
  for (auto [f, t] :
       std::vector<std::pair<std::string, PayloadIndexType>>{{"text", PayloadIndexType::kText},
                                                             {"kind", PayloadIndexType::kKeyword},
                                                             {"date", PayloadIndexType::kDatetime},
                                                             {"doc", PayloadIndexType::kKeyword}})
    EXPECT_TRUE(s->c->CreatePayloadIndex(f, t).ok());
  const char* texts[] = {"a red car at night",  "a red bicycle",        "blue car in the rain",
                         "a dog on a beach",    "dogs running on sand", "a cat asleep",
                         "red sunset over sea", "night city lights",    "a car ferry",
                         "the beach at dawn"};
  const char* kinds[] = {"image", "image", "shot", "image", "shot",
                         "image", "image", "shot", "chunk", "image"};
  const char* dates[] = {"2019-03-01T10:00:00Z", "2019-07-15T10:00:00Z", "2020-01-02T10:00:00Z",
                         "2023-07-04T10:00:00Z", "2023-07-20T10:00:00Z", "2021-05-05T10:00:00Z",
                         "2023-08-01T10:00:00Z", "2018-12-31T10:00:00Z", "2019-11-11T10:00:00Z",
                         "2023-07-31T10:00:00Z"};
  std::vector<Point> points;
  for (uint64_t i = 0; i < 10; ++i) {
    Point p;
    p.id = i;
    const double a = 0.3 * static_cast<double>(i);
    p.vectors["v"] = {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
    p.payload = {{"text", texts[i]},
                 {"kind", kinds[i]},
                 {"date", dates[i]},
                 {"doc", "d" + std::to_string(i / 3)},
                 {"n", 10 - i}};
    points.push_back(std::move(p));
  }
  EXPECT_TRUE(s->c->Upsert(points).ok());
  return s;
}

Input Angle(double a, float weight = 1) {
  return Input::Vector({static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))}, weight);
}

TEST(EngineFusion, RrfOfVectorAndBm25MatchesTheirRankings) {
  auto s = MakeSmall();
  // The two lists straight from the collection...
  SearchRequest vs;
  vs.vector = {1, 0};
  vs.limit = 100;
  auto vhits = s->c->Search(vs).value();
  TextSearchRequest ts;
  ts.fields = {"text"};
  ts.query = "red car";
  ts.limit = 100;
  auto thits = s->c->SearchText(ts).value();
  // ...fused by hand: weight / (k + rank), weights 1 and 2, k = 10.
  std::map<uint64_t, double> want;
  for (size_t i = 0; i < vhits.size(); ++i)
    want[vhits[i].id.num()] += 1.0 / (10 + i + 1);
  for (size_t i = 0; i < thits.size(); ++i)
    want[thits[i].id.num()] += 2.0 / (10 + i + 1);
  std::vector<std::pair<double, uint64_t>> order;
  for (auto [id, score] : want)
    order.emplace_back(-score, id);
  std::sort(order.begin(), order.end());

  QueryRequest r;
  Prefetch a;
  a.query = NearestQuery{{Input::Vector({1, 0})}};
  Prefetch b;
  b.query = TextQuery{"red car", {"text"}};
  b.weight = 2;
  r.prefetch = {a, b};
  r.query = FusionQuery{FusionMethod::kRrf, 10};
  r.limit = 10;
  r.explain = true;
  QueryEngine e(*s->c);
  auto resp = e.Query(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->hits.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(resp->hits[i].id.num(), order[i].second) << "rank " << i + 1;
    EXPECT_NEAR(resp->hits[i].score, -order[i].first, 1e-6);
  }
  // Explain: each signal's rank and contribution for the top hit.
  const Hit& top = resp->hits[0];
  ASSERT_EQ(top.signals.size(), 2u);
  double sum = 0;
  for (const SignalMatch& m : top.signals)
    sum += m.contribution;
  EXPECT_NEAR(sum, top.score, 1e-6);
  EXPECT_EQ(top.signals[1].signal, "bm25");
  EXPECT_EQ(top.signals[1].rank, 1u);  // "a red car at night" ranks first for "red car"
}

TEST(EngineFusion, NegativeWeightPushesAway) {
  auto s = MakeSmall();
  QueryEngine e(*s->c);
  QueryRequest plain;
  plain.query = AutoQuery{{Input::Text("car")}};
  auto before = e.Query(plain).value();
  QueryRequest minus = plain;
  minus.query = AutoQuery{{Input::Text("car"), Input::Text("night", -0.5f)}};
  auto after = e.Query(minus).value();
  // "a red car at night" (0) ranks above the other cars alone, and last among them with -night.
  ASSERT_FALSE(before.hits.empty());
  std::vector<uint64_t> b = Ids(before), a = Ids(after);
  EXPECT_EQ(std::set<uint64_t>(b.begin(), b.end()), std::set<uint64_t>(a.begin(), a.end()));
  EXPECT_NE(a.front(), 0u);
  EXPECT_EQ(a.back(), 0u);
  for (uint64_t id : a)
    EXPECT_NE(id, 7u) << "only the avoided text matches 'night city lights'";
}

TEST(EngineFusion, DbsfThroughTheEngine) {
  auto s = MakeSmall();
  QueryRequest r;
  Prefetch a;
  a.query = NearestQuery{{Angle(0.0)}};
  Prefetch b;
  b.query = NearestQuery{{Angle(2.7)}};
  r.prefetch = {a, b};
  r.query = FusionQuery{FusionMethod::kDbsf, 0};
  r.limit = 10;
  auto resp = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(resp.hits.size(), 10u);
  for (size_t i = 1; i < resp.hits.size(); ++i)
    EXPECT_GE(resp.hits[i - 1].score, resp.hits[i].score);
}

TEST(EngineRecommend, AverageVectorAndBestScore) {
  auto s = MakeSmall();
  QueryEngine e(*s->c);
  QueryRequest r;
  r.query = RecommendQuery{{Input::Point(PointId(uint64_t{2}))},
                           {Input::Point(PointId(uint64_t{8}))},
                           RecommendStrategy::kAverageVector};
  auto avg = e.Query(r).value();
  // avg(+) + (avg(+) - avg(-)) = 2 v2 - v8: its nearest by angle, examples excluded.
  const double a2 = 0.6, a8 = 2.4;
  const double x = 2 * std::cos(a2) - std::cos(a8), y = 2 * std::sin(a2) - std::sin(a8);
  const double target = std::atan2(y, x);
  std::vector<std::pair<double, uint64_t>> want;
  for (uint64_t i = 0; i < 10; ++i)
    if (i != 2 && i != 8) want.emplace_back(-std::cos(0.3 * i - target), i);
  std::sort(want.begin(), want.end());
  ASSERT_GE(avg.hits.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(avg.hits[i].id.num(), want[i].second);
  for (const Hit& h : avg.hits)
    EXPECT_TRUE(h.id.num() != 2 && h.id.num() != 8);

  r.query = RecommendQuery{{Input::Point(PointId(uint64_t{0}))},
                           {Input::Point(PointId(uint64_t{9}))},
                           RecommendStrategy::kBestScore};
  auto best = e.Query(r).value();
  // Points nearer 0 than 9 score sigmoid(cos to 0) > 0; the rest -sigmoid(cos to 9) < 0.
  for (const Hit& h : best.hits) {
    const double a = 0.3 * h.id.num();
    const double to_pos = std::cos(a), to_neg = std::cos(a - 2.7);
    if (to_pos > to_neg) {
      EXPECT_GT(h.score, 0) << h.id.ToString();
    } else {
      EXPECT_LT(h.score, 0) << h.id.ToString();
    }
  }
  for (size_t i = 1; i < best.hits.size(); ++i)
    EXPECT_GE(best.hits[i - 1].score, best.hits[i].score);
}

// best_score over l2 vectors of large values (raw pixels): every sigmoid of minus a distance is
// 0, yet the hits must come nearest first, not in id order.
TEST(EngineRecommend, BestScoreRanksLargeL2DistancesNearestFirst) {
  TempDir dir;
  auto db = Db::Open(dir.path()).value();
  CollectionSchema schema;
  schema.vectors = {VectorSpec{"v", 2, Metric::kL2}};
  auto c = db->CreateCollection("far", schema).value();
  std::vector<Point> points;
  for (uint64_t i = 0; i < 10; ++i) {
    Point p;
    p.id = i;
    p.vectors["v"] = {static_cast<float>((9 - i) * 100), 0};  // id 9 at 0, id 0 at 900
    points.push_back(p);
  }
  ASSERT_TRUE(c->Upsert(points).ok());
  QueryRequest r;
  r.query = RecommendQuery{{Input::Point(PointId(uint64_t{9}))}, {}, RecommendStrategy::kBestScore};
  r.limit = 5;
  auto resp = QueryEngine(*c).Query(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::vector<uint64_t> ids;
  for (const Hit& h : resp->hits) ids.push_back(h.id.num());
  EXPECT_EQ(ids, (std::vector<uint64_t>{8, 7, 6, 5, 4}));
}

TEST(EngineShape, GroupByKeepsTheBestPerGroup) {
  auto s = MakeSmall();
  QueryRequest r;
  r.query = NearestQuery{{Angle(0.0)}};
  r.group_by = GroupBy{"doc", 2};
  r.limit = 2;
  auto resp = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(resp.groups.size(), 2u);
  // Nearest to angle 0: 0, 1, 2 (d0) then 3 (d1): d0 gets 0 and 1, d1 gets 3 and 4.
  EXPECT_EQ(resp.groups[0].key, "d0");
  ASSERT_EQ(resp.groups[0].hits.size(), 2u);
  EXPECT_EQ(resp.groups[0].hits[0].id, PointId(uint64_t{0}));
  EXPECT_EQ(resp.groups[0].hits[1].id, PointId(uint64_t{1}));
  EXPECT_EQ(resp.groups[1].key, "d1");
  EXPECT_EQ(resp.groups[1].hits[0].id, PointId(uint64_t{3}));
  r.offset = 1;
  r.limit = 1;
  auto second = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(second.groups.size(), 1u);
  EXPECT_EQ(second.groups[0].key, "d1");
}

TEST(EngineShape, OrderedListingPagesByCursor) {
  auto s = MakeSmall();
  QueryEngine e(*s->c);
  QueryRequest r;
  r.query = OrderByQuery{OrderBy{"date", true}};
  r.limit = 3;
  std::vector<std::string> dates;
  for (int page = 0; page < 10; ++page) {
    auto resp = e.Query(r);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    for (const Hit& h : resp->hits)
      dates.push_back(h.payload->at("date").get<std::string>());
    if (!resp->next_cursor) break;
    r.cursor = resp->next_cursor;
  }
  ASSERT_EQ(dates.size(), 10u);
  EXPECT_TRUE(std::is_sorted(dates.rbegin(), dates.rend()));
  // Offsets give the same pages.
  r.cursor.reset();
  r.offset = 3;
  auto second = e.Query(r).value();
  EXPECT_EQ(second.hits[0].payload->at("date"), dates[3]);
}

TEST(EngineShape, SortTheHitsOfAQueryByAField) {
  auto s = MakeSmall();
  QueryRequest r;
  Prefetch p;
  p.query = TextQuery{"car", {"text"}};
  r.prefetch = {p};
  r.query = OrderByQuery{OrderBy{"n", false}};
  auto resp = QueryEngine(*s->c).Query(r).value();
  // The cars (0, 2, 8) by n = 10 - id ascending: 8, 2, 0.
  EXPECT_EQ(Ids(resp), (std::vector<uint64_t>{8, 2, 0}));
  EXPECT_EQ(resp.hits[0].order_value, Json(2));
}

TEST(EngineShape, FacetsCountTheFilteredCollection) {
  auto s = MakeSmall();
  QueryRequest r;
  r.query = NearestQuery{{Angle(0.0)}};
  r.filter =
      Filter::Parse(
          R"({"must": [{"key": "date", "range": {"gte": "2019-01-01", "lt": "2024-01-01"}}]})")
          .value();
  r.facets = {FacetSpec{"kind", 10, FacetBucket::kValue},
              FacetSpec{"date", 10, FacetBucket::kYear}};
  auto resp = QueryEngine(*s->c).Query(r).value();
  // Without 7 (2018): image 6, shot 2, chunk 1; years 2023: 4, 2019: 3, 2020: 1, 2021: 1.
  ASSERT_EQ(resp.facets["kind"].size(), 3u);
  EXPECT_EQ(resp.facets["kind"][0].value, "image");
  EXPECT_EQ(resp.facets["kind"][0].count, 6u);
  EXPECT_EQ(resp.facets["kind"][1].value, "shot");
  EXPECT_EQ(resp.facets["kind"][1].count, 2u);
  ASSERT_GE(resp.facets["date"].size(), 2u);
  EXPECT_EQ(resp.facets["date"][0].value, "2023");
  EXPECT_EQ(resp.facets["date"][0].count, 4u);
  EXPECT_EQ(resp.facets["date"][1].value, "2019");
  EXPECT_EQ(resp.facets["date"][1].count, 3u);
}

TEST(EngineShape, SnippetsShowTheMatchingSentenceUnlessTurnedOff) {
  auto s = MakeSmall();
  QueryRequest r;
  r.query = TextQuery{"sunset", {"text"}};
  auto with = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(with.hits.size(), 1u);
  EXPECT_EQ(with.hits[0].snippet, "red sunset over sea");
  r.snippet = false;
  auto without = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(without.hits.size(), 1u);
  EXPECT_TRUE(without.hits[0].snippet.empty());
  EXPECT_TRUE(without.hits[0].payload.has_value());
}

TEST(EngineShape, AutocutDropsTheTail) {
  auto s = MakeSmall();
  QueryRequest r;
  // "a red car at night" matches all three words; five others one each.
  r.query = TextQuery{"red car night", {"text"}};
  r.limit = 10;
  auto all = QueryEngine(*s->c).Query(r).value();
  r.autocut = Autocut{1};
  auto cut = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(all.hits.size(), 6u);
  ASSERT_EQ(cut.hits.size(), 1u);
  for (size_t i = 0; i < cut.hits.size(); ++i)
    EXPECT_EQ(cut.hits[i].id, all.hits[i].id);
}

TEST(EngineShape, MmrSpreadsTheHits) {
  auto s = MakeSmall();
  QueryRequest r;
  r.query = NearestQuery{{Angle(0.0)}};
  r.limit = 3;
  auto plain = QueryEngine(*s->c).Query(r).value();
  EXPECT_EQ(Ids(plain), (std::vector<uint64_t>{0, 1, 2}));
  r.mmr = Mmr{0.9f, "", 0};
  auto diverse = QueryEngine(*s->c).Query(r).value();
  ASSERT_EQ(diverse.hits.size(), 3u);
  EXPECT_EQ(diverse.hits[0].id.num(), 0u);
  // Far apart on the circle: the second pick is not the neighbour 1.
  EXPECT_GT(diverse.hits[1].id.num(), 3u);
}

TEST(EngineUnderstanding, DatesKindsAndPhrasesFilter) {
  auto s = MakeSmall();
  QueryEngine e(*s->c);
  QueryRequest r;
  r.query = AutoQuery{{Input::Text("photos of the beach July 2023")}};
  auto resp = e.Query(r).value();
  // Images dated July 2023 that match "beach": 3 (2023-07-04, "a dog on a beach") and
  // 9 (2023-07-31, "the beach at dawn"); 4 is a shot, 6 is August.
  std::vector<uint64_t> ids = Ids(resp);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()), (std::set<uint64_t>{3, 9}));
  ASSERT_TRUE(resp.explain.contains("understood"));
  EXPECT_EQ(resp.explain["understood"].size(), 2u);

  r.understand = false;
  auto literal = e.Query(r).value();
  EXPECT_FALSE(literal.explain.contains("understood"));
  std::vector<uint64_t> lit = Ids(literal);
  EXPECT_TRUE(std::find(lit.begin(), lit.end(), 4u) == lit.end() || true);  // "beach" only: 3, 9
  EXPECT_EQ(std::set<uint64_t>(lit.begin(), lit.end()), (std::set<uint64_t>{3, 9}));

  r.understand = true;
  r.query = AutoQuery{{Input::Text("\"red car\"")}};
  auto phrase = e.Query(r).value();
  EXPECT_EQ(Ids(phrase), (std::vector<uint64_t>{0}));  // "a red car at night"; not "red sunset"
  r.query = AutoQuery{{Input::Text("videos from 2023")}};
  auto listing = e.Query(r).value();
  // Only filters left: shots of 2023, newest first.
  EXPECT_EQ(Ids(listing), (std::vector<uint64_t>{4}));
}

TEST(EngineErrors, NameTheProblemAndTheValue) {
  auto s = MakeSmall();
  QueryEngine e(*s->c);
  auto message = [&](const QueryRequest& r) {
    auto resp = e.Query(r);
    EXPECT_FALSE(resp.ok());
    return resp.ok() ? std::string() : resp.status().ToString();
  };
  QueryRequest r;
  r.query = NearestQuery{{Input::Vector({1, 0})}};
  r.using_vector = "clip";
  EXPECT_NE(message(r).find("no vector named 'clip'"), std::string::npos);
  r.using_vector.clear();
  r.query = NearestQuery{{Input::Vector({1, 0, 0})}};
  EXPECT_NE(message(r).find("3 dims"), std::string::npos);
  r.query = NearestQuery{{Input::File(InputKind::kImage, "/photos/cat.jpg")}};
  EXPECT_NE(message(r).find("/photos/cat.jpg"), std::string::npos);
  r.query = NearestQuery{{Input::Point(PointId(uint64_t{99}))}};
  EXPECT_NE(message(r).find("point 99"), std::string::npos);
  r.query = RecommendQuery{};
  EXPECT_NE(message(r).find("positive"), std::string::npos);
  r.query = FusionQuery{};
  EXPECT_NE(message(r).find("prefetches"), std::string::npos);
  r.query = NearestQuery{{Input::Vector({1, 0})}};
  r.cursor = Cursor{Json(), PointId(uint64_t{1})};
  EXPECT_NE(message(r).find("cursor"), std::string::npos);
  r.cursor.reset();
  r.limit = 0;
  EXPECT_NE(message(r).find("limit"), std::string::npos);
  r.limit = 10;
  r.group_by = GroupBy{"", 1};
  EXPECT_NE(message(r).find("group_by"), std::string::npos);

  // A collection with neither text fields nor a text model has no text signal.
  TempDir dir;
  auto db = Db::Open(dir.path()).value();
  CollectionSchema schema;
  schema.vectors = {VectorSpec{"v", 2, Metric::kCosine}};
  auto bare = db->CreateCollection("bare", schema).value();
  QueryRequest t;
  t.query = AutoQuery{{Input::Text("red car")}};
  auto resp = QueryEngine(*bare).Query(t);
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.status().message().find("no text signal"), std::string::npos)
      << resp.status().ToString();
}

}  // namespace
}  // namespace mosaic::query
