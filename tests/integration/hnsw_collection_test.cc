// A collection whose vector has an HNSW index, on Fashion-MNIST images: recall against the same
// collection's exact search, after deletes, under filters of every selectivity (the planner's
// graph and exact paths), across compaction (graph remapped, not rebuilt) and reopen (graph
// loaded from its file), and with a damaged graph file (rebuilt, reported, nothing lost).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "io/vector_file.h"
#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

const size_t kPoints = testing::Scaled(10000, 3000);
const size_t kQueries = testing::Scaled(100, 30);

std::string DataDir() {
  const char* d = std::getenv("MOSAIC_DATA_DIR");
  return std::string(d ? d : MOSAIC_SOURCE_DIR "/.cache/data") + "/fashion-mnist";
}

struct Data {
  io::Matrix base, queries;
  std::vector<int32_t> labels;
  std::vector<int> r;
};

const Data& GetData() {
  static Data* d = [] {
    auto* d = new Data;
    d->base = *io::ReadVectorFile(DataDir() + "/train-images-idx3-ubyte.gz", kPoints);
    d->queries = *io::ReadVectorFile(DataDir() + "/t10k-images-idx3-ubyte.gz", kQueries);
    d->labels = *io::ReadIdxLabels(DataDir() + "/train-labels-idx1-ubyte.gz");
    std::mt19937 rng(3);
    for (size_t i = 0; i < kPoints; ++i) d->r.push_back(static_cast<int>(rng() % 1000));
    return d;
  }();
  return *d;
}

// Mean recall@10 of graph search against exact search in the same collection.
double Recall(Collection& c, const std::optional<Filter>& filter, size_t* returned_deleted,
              const std::set<uint64_t>& deleted) {
  const Data& d = GetData();
  size_t hit = 0, total = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    SearchRequest r;
    r.vector.assign(d.queries.row(q), d.queries.row(q) + 784);
    r.limit = 10;
    r.filter = filter;
    r.with_payload = false;
    r.exact = true;
    auto exact = c.Search(r);
    r.exact = false;
    auto approx = c.Search(r);
    EXPECT_TRUE(exact.ok() && approx.ok());
    std::set<PointId> truth;
    for (const auto& h : *exact) truth.insert(h.id);
    for (const auto& h : *approx) {
      hit += truth.count(h.id);
      if (deleted.count(h.id.num())) ++*returned_deleted;
    }
    total += exact->size();
  }
  return total ? double(hit) / total : 1.0;
}

CollectionSchema HnswSchema(bool sq8) {
  VectorSpec spec{"pixels", 784, Metric::kL2};
  spec.index.kind = IndexKind::kHnsw;
  spec.index.ef_construction = 100;
  spec.index.sq8 = sq8;
  CollectionSchema schema;
  schema.vectors = {spec};
  return schema;
}

TEST(HnswCollection, RecallDeletesFiltersCompactionReopen) {
  const Data& d = GetData();
  testing::TempDir dir;
  CollectionSchema schema = HnswSchema(/*sq8=*/false);
  std::set<uint64_t> deleted;
  size_t returned_deleted = 0;
  std::vector<std::pair<const char*, Filter>> filters = {
      {"50%", *Filter::Parse(R"({"must":[{"key":"label","range":{"lt":5}}]})")},
      {"10%", *Filter::Parse(R"({"must":[{"key":"label","match":{"value":3}}]})")},
      {"1%", *Filter::Parse(R"({"must":[{"key":"r","range":{"lt":10}}]})")},
      {"0.1%", *Filter::Parse(R"({"must":[{"key":"r","range":{"lt":1}}]})")}};
  std::vector<std::vector<ScoredPoint>> before_reopen;
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("fashion", schema);
    std::vector<Point> batch;
    for (size_t i = 0; i < kPoints; ++i) {
      Point p;
      p.id = uint64_t{i};
      p.vectors["pixels"].assign(d.base.row(i), d.base.row(i) + 784);
      p.payload = {{"label", d.labels[i]}, {"r", d.r[i]}};
      batch.push_back(std::move(p));
      if (batch.size() == 2500 || i + 1 == kPoints) {
        ASSERT_TRUE(c->Upsert(batch).ok());
        batch.clear();
      }
    }
    EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, deleted), 0.95);
    EXPECT_GT(c->Info().index_bytes["pixels"], 0u);

    // Delete 30%: never returned, recall holds.
    std::vector<PointId> del;
    std::mt19937 rng(8);
    for (size_t i = 0; i < kPoints; ++i)
      if (rng() % 10 < 3) {
        del.emplace_back(uint64_t{i});
        deleted.insert(i);
      }
    ASSERT_EQ(*c->Delete(del), del.size());
    EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, deleted), 0.95);
    for (const auto& [name, f] : filters)
      EXPECT_GE(Recall(*c, f, &returned_deleted, deleted), 0.95) << name;
    EXPECT_EQ(returned_deleted, 0u);

    // Compaction renumbers the slots; the graph is remapped and saved with the new segment.
    ASSERT_TRUE(c->Compact().ok());
    EXPECT_EQ(c->Info().deleted_pending, 0u);
    EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, deleted), 0.95);
    EXPECT_EQ(returned_deleted, 0u);
    for (size_t q = 0; q < 20; ++q) {
      SearchRequest r;
      r.vector.assign(d.queries.row(q), d.queries.row(q) + 784);
      before_reopen.push_back(*c->Search(r));
    }
  }
  std::string graph;
  for (const auto& e : std::filesystem::directory_iterator(dir / "collections/fashion"))
    if (e.path().extension() == ".hnsw") graph = e.path().string();
  ASSERT_FALSE(graph.empty()) << "the graph is saved next to the segment";
  {
    // Reopen: the graph is loaded, so results are identical.
    auto db = *Db::Open(dir.path());
    auto c = *db->GetCollection("fashion");
    for (size_t q = 0; q < 20; ++q) {
      SearchRequest r;
      r.vector.assign(d.queries.row(q), d.queries.row(q) + 784);
      auto hits = *c->Search(r);
      ASSERT_EQ(hits.size(), before_reopen[q].size());
      for (size_t j = 0; j < hits.size(); ++j) EXPECT_EQ(hits[j].id, before_reopen[q][j].id);
    }
  }
  // A damaged graph file is reported and rebuilt from the vectors; nothing is lost.
  std::string bytes = *Env::Default()->ReadFile(graph);
  bytes[bytes.size() / 2] ^= 0x5a;
  auto f = *Env::Default()->NewWritableFile(graph);
  ASSERT_TRUE(f->Append(bytes).ok());
  ASSERT_TRUE(f->Close().ok());
  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto c = *(*db)->GetCollection("fashion");
  EXPECT_EQ(*c->Count(), kPoints - deleted.size());
  EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, deleted), 0.95);
  EXPECT_EQ(returned_deleted, 0u);
}

// SQ8: the graph starts in f32 while small, switches to codes trained on all points at the first
// flush past 1000 points, keeps recall, and its memory (graph + codes) is reported.
TEST(HnswCollection, Sq8SwitchesOnAfterTheFirstFlushAndKeepsRecall) {
  const Data& d = GetData();
  testing::TempDir dir;
  CollectionSchema schema = HnswSchema(/*sq8=*/true);
  auto db = *Db::Open(dir.path());
  auto c = *db->CreateCollection("fashion", schema);
  std::vector<Point> batch;
  for (size_t i = 0; i < kPoints; ++i) {
    Point p;
    p.id = uint64_t{i};
    p.vectors["pixels"].assign(d.base.row(i), d.base.row(i) + 784);
    batch.push_back(std::move(p));
    if (batch.size() == 1 || batch.size() == 2500 || i + 1 == kPoints) {  // a 1-point first batch
      ASSERT_TRUE(c->Upsert(batch).ok());
      batch.clear();
    }
  }
  size_t returned_deleted = 0;
  uint64_t f32_graph = c->Info().index_bytes["pixels"];
  EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, {}), 0.95);
  ASSERT_TRUE(c->Flush().ok());
  // The flush sealed an f32 graph; a merge in the background rebuilds it with SQ8 codes.
  for (int i = 0; i < 1200 && c->Info().merges_pending > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(c->Info().merges_pending, 0u);
  EXPECT_EQ(c->Info().merges_done, 1u);
  uint64_t sq8_graph = c->Info().index_bytes["pixels"];
  EXPECT_GT(sq8_graph, f32_graph);
  // Now also holds the codes: a byte per principal component (Fashion-MNIST's pixels are coded
  // in 16 or more of them) and a norm, a point.
  EXPECT_GE(sq8_graph - f32_graph, kPoints * (16 + sizeof(float)));
  EXPECT_GE(Recall(*c, std::nullopt, &returned_deleted, {}), 0.95);
  SearchRequest r;
  r.vector.assign(d.base.row(5), d.base.row(5) + 784);
  r.limit = 1;
  auto hit = *c->Search(r);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].id, PointId(uint64_t{5}));
  EXPECT_FLOAT_EQ(hit[0].score, 0.0f);  // re-scored in f32: exact
}

}  // namespace
}  // namespace mosaic
