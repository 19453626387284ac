// Search through the collection: exact results against a brute-force reference for every metric,
// with and without filters (indexed and not), pagination, thresholds, batch search, concurrent
// writers; and the errors for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "mosaic/db.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

using testing::TempDir;

constexpr uint32_t kDim = 24;

struct Fixture {
  TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
  std::vector<Point> points;
};

std::unique_ptr<Fixture> Make(Metric metric, size_t n, bool flush_half) {
  auto f = std::make_unique<Fixture>();
  f->db = *Db::Open(f->dir.path());
  CollectionSchema s;
  s.vectors = {{"v", kDim, metric, StorageType::kFloat32}};
  f->c = *f->db->CreateCollection("c", s);
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  for (size_t i = 0; i < n; ++i) {
    Point p;
    p.id = uint64_t{i};
    p.vectors["v"].resize(kDim);
    for (float& x : p.vectors["v"]) x = g(rng);
    p.payload = {{"bucket", static_cast<int>(i % 100)}, {"tag", i % 3 == 0 ? "a" : "b"}};
    f->points.push_back(p);
  }
  // Half in the segment, half in the in-memory tail, so search spans both.
  std::span<const Point> all(f->points);
  EXPECT_TRUE(f->c->Upsert(all.subspan(0, n / 2)).ok());
  if (flush_half) {
    EXPECT_TRUE(f->c->Flush().ok());
  }
  EXPECT_TRUE(f->c->Upsert(all.subspan(n / 2)).ok());
  return f;
}

// Reference: score every allowed point in double precision and sort.
std::vector<std::pair<PointId, double>> Reference(const std::vector<Point>& pts, Metric m,
                                                  const std::vector<float>& q,
                                                  const std::function<bool(const Point&)>& allow) {
  std::vector<double> qn(q.begin(), q.end());
  if (m == Metric::kCosine) {
    double n = 0;
    for (double x : qn) n += x * x;
    for (double& x : qn) x /= std::sqrt(n);
  }
  std::vector<std::pair<PointId, double>> out;
  for (const auto& p : pts) {
    if (!allow(p)) continue;
    const auto& v = p.vectors.at("v");
    double norm = 0, dot = 0, l2 = 0;
    for (size_t i = 0; i < kDim; ++i) {
      norm += double(v[i]) * v[i];
      dot += qn[i] * v[i];
      l2 += (qn[i] - v[i]) * (qn[i] - v[i]);
    }
    double score = m == Metric::kL2 ? std::sqrt(l2) : m == Metric::kCosine ? dot / std::sqrt(norm) : dot;
    out.emplace_back(p.id, score);
  }
  std::sort(out.begin(), out.end(), [&](auto& a, auto& b) {
    return m == Metric::kL2 ? a.second < b.second : a.second > b.second;
  });
  return out;
}

void ExpectSame(const std::vector<ScoredPoint>& got,
                const std::vector<std::pair<PointId, double>>& want, size_t offset, size_t limit) {
  size_t n = std::min(limit, want.size() > offset ? want.size() - offset : 0);
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].id, want[offset + i].first) << "rank " << i;
    EXPECT_NEAR(got[i].score, want[offset + i].second, 1e-3 * (1 + std::abs(want[offset + i].second)));
  }
}

class SearchTest : public ::testing::TestWithParam<Metric> {};

TEST_P(SearchTest, MatchesBruteForceWithFiltersAndPages) {
  const Metric m = GetParam();
  auto f = Make(m, 3000, true);
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  auto by_bucket = *Filter::Parse(R"({"must":[{"key":"bucket","range":{"lt":3}}]})");
  auto by_tag = *Filter::Parse(R"({"must":[{"key":"tag","match":{"value":"a"}}],
                                  "must_not":[{"key":"bucket","match":{"any":[0,1,2,3]}}]})");
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {  // the same queries with payload indexes in place
      ASSERT_TRUE(f->c->CreatePayloadIndex("bucket", PayloadIndexType::kInteger).ok());
      ASSERT_TRUE(f->c->CreatePayloadIndex("tag", PayloadIndexType::kKeyword).ok());
    }
    for (int t = 0; t < 10; ++t) {
      SearchRequest r;
      r.vector.resize(kDim);
      for (float& x : r.vector) x = g(rng);
      r.limit = 10;
      r.offset = t % 3 == 0 ? 5 : 0;
      ExpectSame(*f->c->Search(r), Reference(f->points, m, r.vector, [](auto&) { return true; }),
                 r.offset, r.limit);
      r.filter = by_bucket;  // 3% of points: the selective path
      ExpectSame(*f->c->Search(r),
                 Reference(f->points, m, r.vector,
                           [](const Point& p) { return p.payload["bucket"].get<int>() < 3; }),
                 r.offset, r.limit);
      r.filter = by_tag;  // ~32%: the scan-with-allow-set path
      ExpectSame(*f->c->Search(r), Reference(f->points, m, r.vector, [](const Point& p) {
                   int b = p.payload["bucket"].get<int>();
                   return p.payload["tag"] == "a" && b > 3;
                 }),
                 r.offset, r.limit);
    }
  }
}

TEST_P(SearchTest, BatchEqualsSingle) {
  auto f = Make(GetParam(), 2000, false);
  std::mt19937 rng(9);
  std::normal_distribution<float> g;
  std::vector<SearchRequest> reqs(40);
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].vector.resize(kDim);
    for (float& x : reqs[i].vector) x = g(rng);
    reqs[i].limit = 1 + i % 15;
    if (i % 4 == 0) reqs[i].filter = *Filter::Parse(R"({"must":[{"key":"tag","match":{"value":"a"}}]})");
  }
  auto batch = f->c->SearchBatch(reqs);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto single = *f->c->Search(reqs[i]);
    ASSERT_EQ((*batch)[i].size(), single.size());
    for (size_t j = 0; j < single.size(); ++j) EXPECT_EQ((*batch)[i][j].id, single[j].id);
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, SearchTest,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct));

TEST(Search, ScoreThresholdAndDeletedPointsNeverReturned) {
  auto f = Make(Metric::kL2, 1000, true);
  std::vector<PointId> del;
  for (uint64_t i = 0; i < 1000; i += 2) del.push_back(i);
  ASSERT_EQ(*f->c->Delete(del), 500u);
  SearchRequest r;
  r.vector = f->points[0].vectors["v"];
  r.limit = 1000;
  auto hits = *f->c->Search(r);
  EXPECT_EQ(hits.size(), 500u);
  for (const auto& h : hits) EXPECT_EQ(h.id.num() % 2, 1u);
  r.score_threshold = hits[9].score;
  auto near = *f->c->Search(r);
  EXPECT_EQ(near.size(), 10u);
  for (const auto& h : near) EXPECT_LE(h.score, hits[9].score);
}

TEST(Search, ConcurrentWritersAndReaders) {
  auto f = Make(Metric::kL2, 500, true);
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      SearchRequest r;
      r.vector.assign(kDim, 0.5f);
      r.limit = 5;
      while (!stop) {
        auto hits = f->c->Search(r);
        ASSERT_TRUE(hits.ok());
        ASSERT_EQ(hits->size(), 5u);
        ++searches;
      }
    });
  for (uint64_t i = 0; i < 300; ++i) {
    Point p = f->points[i % 500];
    p.id = 10000 + i;
    ASSERT_TRUE(f->c->Upsert(std::vector<Point>{p}).ok());
    if (i % 50 == 0) {
      ASSERT_TRUE(f->c->Flush().ok());
    }
    if (i % 7 == 0) {
      ASSERT_TRUE(f->c->Delete(std::vector<PointId>{10000 + i}).ok());
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(*f->c->Count(), 500u + 300u - 43u);
}

TEST(Errors, BadInputsNameTheProblemAndChangeNothing) {
  auto f = Make(Metric::kCosine, 10, false);
  auto& c = *f->c;
  auto expect = [](const Status& s, StatusCode code, const std::string& needle) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  };
  Point p = f->points[0];
  p.id = uint64_t{77};
  p.vectors["v"].pop_back();
  expect(c.Upsert(std::vector<Point>{f->points[1], p}), StatusCode::kInvalidArgument,
         "point 77 (#1) of collection 'c': vector 'v' has 23 dims, expected 24");
  p.vectors["v"].push_back(std::nanf(""));
  expect(c.Upsert(std::vector<Point>{p}), StatusCode::kInvalidArgument, "NaN at index 23");
  p.vectors["v"][23] = INFINITY;
  expect(c.Upsert(std::vector<Point>{p}), StatusCode::kInvalidArgument, "Inf at index 23");
  p.vectors["v"].assign(kDim, 0.0f);
  expect(c.Upsert(std::vector<Point>{p}), StatusCode::kInvalidArgument, "zero norm");
  p.vectors = {{"nope", std::vector<float>(kDim, 1.0f)}};
  expect(c.Upsert(std::vector<Point>{p}), StatusCode::kInvalidArgument, "unknown vector 'nope'");
  p.vectors = {};
  p.payload = Json::array({1, 2});
  expect(c.Upsert(std::vector<Point>{p}), StatusCode::kInvalidArgument, "must be a JSON object");
  EXPECT_EQ(*c.Count(), 10u);  // nothing from the failed batches got in
  EXPECT_TRUE(c.Get(std::vector<PointId>{77})->empty());

  SearchRequest r;
  r.vector.assign(5, 1.0f);
  expect(c.Search(r).status(), StatusCode::kInvalidArgument, "query vector has 5 dims");
  r.vector.assign(kDim, 1.0f);
  r.limit = 0;
  expect(c.Search(r).status(), StatusCode::kInvalidArgument, "limit");
  r.limit = 3;
  r.vector_name = "other";
  expect(c.Search(r).status(), StatusCode::kInvalidArgument, "no vector named 'other'");

  expect(Filter::Parse("{\"must\": [").status(), StatusCode::kInvalidArgument, "JSON");
  expect(f->db->GetCollection("missing").status(), StatusCode::kNotFound, "'missing'");
  expect(f->db->CreateCollection("c", c.schema()).status(), StatusCode::kAlreadyExists, "'c'");
  expect(f->db->CreateCollection("bad name!", c.schema()).status(), StatusCode::kInvalidArgument,
         "bad name!");
  CollectionSchema empty;
  expect(f->db->CreateCollection("e", empty).status(), StatusCode::kInvalidArgument, "no vectors");
  CollectionSchema zero;
  zero.vectors = {{"v", 0, Metric::kL2, StorageType::kFloat32}};
  expect(f->db->CreateCollection("z", zero).status(), StatusCode::kInvalidArgument, "dimension 0");
  // A second process (or Db) on the same directory is refused.
  expect(Db::Open(f->dir.path()).status(), StatusCode::kUnavailable, "locked");
  // A dropped collection's handle reports it.
  ASSERT_TRUE(f->db->DropCollection("c").ok());
  expect(c.Upsert(std::vector<Point>{f->points[0]}), StatusCode::kNotFound, "dropped");
  EXPECT_TRUE(f->db->ListCollections().empty());
}

}  // namespace
}  // namespace mosaic
