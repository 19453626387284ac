// FlatSearch and FlatSearchSlots against a naive reference: compute every distance with the
// same kernel, sort by (distance, slot), keep k.
#include "index/flat/flat_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "simd/distance.h"

namespace mosaic::index {
namespace {

struct Dataset {
  size_t dim = 0;
  std::vector<std::vector<float>> block_data;
  std::vector<VectorBlock> blocks;
};

// Blocks of the given sizes; block b starts at slot first_slots[b]. Values are small integers
// so near-ties (and exact ties, via duplicated rows) are common.
Dataset MakeDataset(size_t dim, const std::vector<uint32_t>& counts,
                    const std::vector<uint32_t>& first_slots, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-3, 3);
  Dataset d;
  d.dim = dim;
  for (size_t b = 0; b < counts.size(); ++b) {
    std::vector<float> data(counts[b] * dim);
    for (float& x : data)
      x = static_cast<float>(v(rng));
    // Duplicate a few rows so that distances tie exactly and the slot order must break them.
    for (uint32_t r = 3; r < counts[b]; r += 7) {
      std::copy_n(data.begin(), dim, data.begin() + r * dim);
    }
    d.block_data.push_back(std::move(data));
  }
  for (size_t b = 0; b < counts.size(); ++b) {
    d.blocks.push_back({d.block_data[b].data(), first_slots[b], counts[b]});
  }
  return d;
}

std::vector<float> RandomQueries(size_t nq, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-3, 3);
  std::vector<float> q(nq * dim);
  for (float& x : q)
    x = static_cast<float>(v(rng));
  return q;
}

float Distance(Metric metric, const float* q, const float* x, size_t dim) {
  float d;
  if (metric == Metric::kL2) {
    simd::L2SqrBatch(q, x, 1, dim, &d);
    return d;
  }
  simd::DotBatch(q, x, 1, dim, &d);
  return -d;
}

std::vector<Neighbor> Naive(const Dataset& d, Metric metric, const float* q, size_t k,
                            const Bitset* allow) {
  std::vector<Neighbor> all;
  for (const VectorBlock& b : d.blocks) {
    for (uint32_t r = 0; r < b.count; ++r) {
      uint32_t slot = b.first_slot + r;
      if (allow != nullptr && (slot >= allow->size() || !allow->Test(slot))) continue;
      all.push_back({slot, Distance(metric, q, b.data + r * d.dim, d.dim)});
    }
  }
  std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

void ExpectSame(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].slot, want[i].slot) << what << " rank " << i;
    EXPECT_EQ(got[i].distance, want[i].distance) << what << " rank " << i;
  }
}

const Metric kMetrics[] = {Metric::kL2, Metric::kInnerProduct, Metric::kCosine};

void CheckAgainstNaive(const Dataset& d, size_t nq, size_t k, const Bitset* allow, ThreadPool* pool,
                       const std::string& what) {
  std::vector<float> queries = RandomQueries(nq, d.dim, static_cast<uint32_t>(nq * 13 + k));
  for (Metric metric : kMetrics) {
    std::vector<std::vector<Neighbor>> out;
    FlatSearch(d.blocks, d.dim, metric, queries.data(), nq, k, allow, pool, &out);
    ASSERT_EQ(out.size(), nq);
    for (size_t i = 0; i < nq; ++i) {
      ExpectSame(out[i], Naive(d, metric, queries.data() + i * d.dim, k, allow),
                 what + " metric " + MetricName(metric) + " query " + std::to_string(i));
    }
  }
}

TEST(FlatSearchTest, MatchesNaiveForAllMetrics) {
  for (size_t dim : {1, 3, 8, 17, 64, 100}) {
    Dataset d = MakeDataset(dim, {500}, {0}, static_cast<uint32_t>(dim));
    for (size_t nq : {1, 3, 4, 5, 16, 17, 40}) {
      CheckAgainstNaive(d, nq, 10, nullptr, nullptr, "dim " + std::to_string(dim));
    }
  }
}

// Batches of L2 queries are screened through norms and dot products, which cancel badly when
// the vectors are far from the origin relative to their distances; results must stay exact.
TEST(FlatSearchTest, ScreenedL2IsExactWhenNormsDwarfDistances) {
  Dataset d = MakeDataset(48, {700, 300}, {0, 700}, 8);
  for (std::vector<float>& data : d.block_data) {
    for (float& x : data)
      x += 3000.f;
  }
  std::vector<float> queries = RandomQueries(21, 48, 8);
  for (float& x : queries)
    x += 3000.f;
  std::vector<std::vector<Neighbor>> out;
  FlatSearch(d.blocks, 48, Metric::kL2, queries.data(), 21, 10, nullptr, nullptr, &out);
  for (size_t i = 0; i < 21; ++i) {
    ExpectSame(out[i], Naive(d, Metric::kL2, queries.data() + i * 48, 10, nullptr), "offset");
  }
}

TEST(FlatSearchTest, KLargerThanRowsReturnsEverythingSorted) {
  Dataset d = MakeDataset(12, {7}, {0}, 1);
  CheckAgainstNaive(d, 3, 50, nullptr, nullptr, "k > n");
  std::vector<float> q = RandomQueries(1, 12, 2);
  std::vector<std::vector<Neighbor>> out;
  FlatSearch(d.blocks, 12, Metric::kL2, q.data(), 1, 50, nullptr, nullptr, &out);
  EXPECT_EQ(out[0].size(), 7u);
}

TEST(FlatSearchTest, MultipleBlocksWithSlotOffsetsAndEmptyBlocks) {
  Dataset d = MakeDataset(20, {0, 300, 0, 1, 1200, 0, 77}, {0, 0, 300, 300, 1000, 2200, 5000}, 3);
  for (size_t nq : {1, 2, 9, 33})
    CheckAgainstNaive(d, nq, 15, nullptr, nullptr, "blocks");
}

TEST(FlatSearchTest, NoBlocksOrZeroKGiveEmptyResults) {
  std::vector<float> q = RandomQueries(2, 4, 1);
  std::vector<std::vector<Neighbor>> out;
  FlatSearch({}, 4, Metric::kL2, q.data(), 2, 10, nullptr, nullptr, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].empty() && out[1].empty());

  Dataset d = MakeDataset(4, {10}, {0}, 1);
  FlatSearch(d.blocks, 4, Metric::kL2, q.data(), 2, 0, nullptr, nullptr, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].empty() && out[1].empty());

  FlatSearch(d.blocks, 4, Metric::kL2, q.data(), 0, 5, nullptr, nullptr, &out);
  EXPECT_TRUE(out.empty());
}

TEST(FlatSearchTest, AllowBitsetFiltersSlots) {
  Dataset d = MakeDataset(24, {900, 400}, {0, 1500}, 4);
  std::mt19937 rng(9);
  // Sparse, dense, a bitset shorter than the slot range (slots past its end are not allowed),
  // and one allowing nothing.
  for (double density : {0.02, 0.5, 0.97}) {
    Bitset allow(1900);
    std::bernoulli_distribution keep(density);
    for (size_t s = 0; s < allow.size(); ++s)
      allow.Assign(s, keep(rng));
    for (size_t nq : {1, 6, 20})
      CheckAgainstNaive(d, nq, 12, &allow, nullptr, "allow");
  }
  Bitset none(1900);
  CheckAgainstNaive(d, 3, 5, &none, nullptr, "allow none");
}

TEST(FlatSearchTest, ThreadPoolGivesIdenticalResults) {
  // Enough rows that a single query is split across threads, and enough queries that batches
  // are split by query.
  Dataset d = MakeDataset(32, {6000, 9000, 5}, {0, 6000, 20000}, 5);
  Bitset allow(20005, true);
  for (size_t s = 0; s < allow.size(); s += 3)
    allow.Reset(s);
  ThreadPool pool(4);
  for (size_t nq : {1, 2, 3, 37}) {
    std::vector<float> queries = RandomQueries(nq, 32, static_cast<uint32_t>(nq));
    for (Metric metric : kMetrics) {
      for (const Bitset* a :
           {static_cast<const Bitset*>(nullptr), static_cast<const Bitset*>(&allow)}) {
        std::vector<std::vector<Neighbor>> serial, parallel;
        FlatSearch(d.blocks, 32, metric, queries.data(), nq, 20, a, nullptr, &serial);
        FlatSearch(d.blocks, 32, metric, queries.data(), nq, 20, a, &pool, &parallel);
        ASSERT_EQ(serial.size(), parallel.size());
        for (size_t i = 0; i < nq; ++i) {
          ExpectSame(parallel[i], serial[i], "nq " + std::to_string(nq));
          ExpectSame(serial[i], Naive(d, metric, queries.data() + i * 32, 20, a), "naive");
        }
      }
    }
  }
}

// Large batches are screened through packed dot products whose summation order differs from the
// single-query kernels; the results must still equal per-query searches bit for bit. Real-valued
// data (so the order matters), exact ties from duplicated rows, an offset that makes norms dwarf
// distances, several screened tiles per block, and allow-sets of every density.
TEST(FlatSearchTest, BatchEqualsPerQueryOnRealValuedData) {
  ThreadPool pool(2);
  for (size_t dim : {5, 33, 300}) {
    for (float offset : {0.0f, 50.0f, 1000.0f}) {
      std::mt19937 rng(static_cast<uint32_t>(dim));
      std::normal_distribution<float> g(0.0f, 1.0f);
      // Enough rows for several screened tiles at every dim (at most 4096 rows per tile).
      const uint32_t counts[] = {dim < 100 ? 5000u : 1500u, 777u};
      Dataset d;
      d.dim = dim;
      uint32_t first_slot = 0;
      for (uint32_t count : counts) {
        std::vector<float> data(count * dim);
        for (float& x : data)
          x = g(rng) + offset;
        for (uint32_t r = 5; r < count; r += 11)
          std::copy_n(data.begin() + (r / 2) * dim, dim, data.begin() + r * dim);
        // Permutations of one long row: against a constant query their distances are equal in
        // exact arithmetic and differ only by rounding, so near-ties crowd the top k.
        for (uint32_t r = 13; r < count; r += 13) {
          std::copy_n(data.begin(), dim, data.begin() + r * dim);
          std::shuffle(data.begin() + r * dim, data.begin() + (r + 1) * dim, rng);
          for (size_t c = 0; c < dim; ++c)
            data[r * dim + c] *= 1.5f;
        }
        d.block_data.push_back(std::move(data));
        d.blocks.push_back({d.block_data.back().data(), first_slot, count});
        first_slot += count + 100;
      }
      const size_t nq = 29;
      std::vector<float> queries(nq * dim);
      for (size_t i = 0; i < nq; ++i) {
        // Some queries sit on a row, so distance 0 and its duplicates tie.
        const float* row = d.block_data[0].data() + (i * 37 % counts[0]) * dim;
        for (size_t c = 0; c < dim; ++c)
          queries[i * dim + c] = i % 3 == 0 ? row[c] : i % 3 == 1 ? offset + 1.0f : g(rng) + offset;
      }
      Bitset sparse(first_slot), dense(first_slot);
      std::bernoulli_distribution keep(0.03);
      for (size_t s = 0; s < first_slot; ++s) {
        sparse.Assign(s, keep(rng));
        dense.Assign(s, s % 5 != 0);
      }
      for (Metric metric : kMetrics) {
        for (const Bitset* allow :
             {static_cast<const Bitset*>(nullptr), static_cast<const Bitset*>(&sparse),
              static_cast<const Bitset*>(&dense)}) {
          const std::string what = "dim " + std::to_string(dim) + " offset " +
                                   std::to_string(offset) + " metric " + MetricName(metric);
          std::vector<std::vector<Neighbor>> batch, parallel, single;
          FlatSearch(d.blocks, dim, metric, queries.data(), nq, 10, allow, nullptr, &batch);
          FlatSearch(d.blocks, dim, metric, queries.data(), nq, 10, allow, &pool, &parallel);
          for (size_t i = 0; i < nq; ++i) {
            FlatSearch(d.blocks, dim, metric, queries.data() + i * dim, 1, 10, allow, nullptr,
                       &single);
            ExpectSame(batch[i], single[0], what + " query " + std::to_string(i));
            ExpectSame(parallel[i], single[0], what + " pool, query " + std::to_string(i));
          }
        }
      }
    }
  }
}

TEST(FlatSearchTest, SlotsMatchesNaiveOverTheSameSlots) {
  Dataset d = MakeDataset(16, {400}, {100}, 6);
  const VectorBlock& block = d.blocks[0];
  auto row = [&](uint32_t slot) { return block.data + (slot - block.first_slot) * d.dim; };
  // Unsorted, as a filter's survivors may be.
  std::vector<uint32_t> slots;
  for (uint32_t s = 499; s >= 100; s -= 3)
    slots.push_back(s);
  Bitset allow(500);
  for (uint32_t s : slots)
    allow.Set(s);
  std::vector<float> q = RandomQueries(1, 16, 7);
  for (Metric metric : kMetrics) {
    for (size_t k : {0, 1, 10, 1000}) {
      std::vector<Neighbor> got = FlatSearchSlots(slots, row, 16, metric, q.data(), k);
      ExpectSame(got, Naive(d, metric, q.data(), k, &allow), "slots");
    }
  }
  EXPECT_TRUE(FlatSearchSlots({}, row, 16, Metric::kL2, q.data(), 5).empty());
}

}  // namespace
}  // namespace mosaic::index
