// MergeGraphs: parts' graphs merged into one over a new numbering (as a merge of segments does),
// most of the smaller parts' nodes inserted by short searches from their old neighbours. The
// merged graph must answer as well as one built by full inserts, hold every live node and find
// each, with deleted nodes dropped; checked with f32 and SQ8 graphs on clustered data.
#include "collection/graph_merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "index/flat/flat_search.h"
#include "util/test_scale.h"

namespace mosaic::collection {
namespace {

using index::HnswIndex;
using index::HnswParams;
using index::Neighbor;

constexpr uint32_t kDim = 24;
constexpr size_t kK = 10;

class MatrixRows final : public index::VectorRows {
 public:
  explicit MatrixRows(const float* data) : data_(data) {}
  const float* Row(uint32_t slot) const override { return data_ + size_t{slot} * kDim; }

 private:
  const float* data_;
};

// n points around 40 Gaussian centres.
std::vector<float> Clustered(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> centre(-10.0f, 10.0f);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(40 * kDim);
  for (float& c : centres) c = centre(rng);
  std::vector<float> out(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % 40;
    for (uint32_t d = 0; d < kDim; ++d) out[i * kDim + d] = centres[c * kDim + d] + noise(rng);
  }
  return out;
}

struct Merged {
  std::unique_ptr<HnswIndex> graph;
  GraphMergeStats stats;
};

class GraphMergeTest : public ::testing::TestWithParam<bool> {
 protected:
  // Four parts of the old slots (10,000 + 3 x 4,000, half that in the sanitizer pass); every 7th
  // slot of part 2 deleted (a tombstone in its graph and no new node).
  void SetUp() override {
    params_.sq8 = GetParam();
    const std::vector<float> all = Clustered(num_old_ + kQueries, 7);
    old_.assign(all.begin(), all.begin() + num_old_ * kDim);
    queries_.assign(all.begin() + num_old_ * kDim, all.end());
    const uint32_t sizes[] = {large_, small_, small_, small_};
    ThreadPool pool(2);
    uint32_t first = 0;
    for (uint32_t size : sizes) {
      rows_.push_back(std::make_unique<MatrixRows>(old_.data() + size_t{first} * kDim));
      auto g = std::make_unique<HnswIndex>(kDim, Metric::kL2, params_, rows_.back().get());
      if (!graphs_.empty() && params_.sq8) g->AdoptCodec(*graphs_.front());
      std::vector<uint32_t> slots(size);
      for (uint32_t i = 0; i < size; ++i) slots[i] = i;
      EXPECT_TRUE(g->AddBatch(slots, &pool).ok());
      parts_.push_back({g.get(), first, size});
      graphs_.push_back(std::move(g));
      first += size;
    }
    old_to_new_.assign(num_old_, -1);
    for (uint32_t o = 0; o < num_old_; ++o) {
      if (o >= large_ + small_ && o < large_ + 2 * small_ && o % 7 == 0) {
        graphs_[2]->Remove(o - (large_ + small_));
        continue;
      }
      old_to_new_[o] = static_cast<int64_t>(new_to_old_.size());
      new_to_old_.push_back(o);
    }
    for (uint32_t o : new_to_old_) new_.insert(new_.end(), &old_[o * kDim], &old_[(o + 1) * kDim]);
    new_rows_ = std::make_unique<MatrixRows>(new_.data());
  }

  Merged Merge(const GraphMergeOptions& options) {
    ThreadPool pool(2);
    Merged m;
    Status st;
    m.graph = MergeGraphs(parts_, old_to_new_, new_to_old_, [](uint32_t) { return true; },
                          new_rows_.get(), &pool, &st, options, &m.stats);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return m;
  }

  double Recall(const HnswIndex& g, size_t ef) const {
    index::VectorBlock block{new_.data(), 0, static_cast<uint32_t>(new_to_old_.size())};
    std::vector<std::vector<Neighbor>> truth;
    ThreadPool pool(2);
    index::FlatSearch({&block, 1}, kDim, Metric::kL2, queries_.data(), kQueries, kK, nullptr,
                      &pool, &truth);
    index::IndexSearchParams p;
    p.ef = ef;
    size_t hits = 0;
    for (size_t q = 0; q < kQueries; ++q) {
      const std::vector<Neighbor> got = g.Search(&queries_[q * kDim], kK, p, nullptr);
      for (const Neighbor& t : truth[q])
        hits += std::any_of(got.begin(), got.end(), [&](const Neighbor& n) { return n.slot == t.slot; });
    }
    return static_cast<double>(hits) / static_cast<double>(kQueries * kK);
  }

  // New nodes that a wide search for their own vector does not return.
  size_t Unfound(const HnswIndex& g) const {
    index::IndexSearchParams p;
    p.ef = 256;
    size_t unfound = 0;
    for (uint32_t j = 0; j < new_to_old_.size(); ++j) {
      const std::vector<Neighbor> got = g.Search(&new_[size_t{j} * kDim], kK, p, nullptr);
      unfound += std::none_of(got.begin(), got.end(), [j](const Neighbor& n) { return n.slot == j; });
    }
    return unfound;
  }

  const uint32_t large_ = static_cast<uint32_t>(testing::Scaled(10000, 5000));
  const uint32_t small_ = large_ * 2 / 5;
  const size_t num_old_ = large_ + 3 * small_;
  static constexpr size_t kQueries = 1000;
  HnswParams params_;
  std::vector<float> old_, new_, queries_;
  std::vector<std::unique_ptr<MatrixRows>> rows_;
  std::vector<std::unique_ptr<HnswIndex>> graphs_;
  std::vector<GraphPart> parts_;
  std::vector<int64_t> old_to_new_;
  std::vector<uint32_t> new_to_old_;
  std::unique_ptr<MatrixRows> new_rows_;
};

TEST_P(GraphMergeTest, FromOldNeighboursAnswersAsFullInserts) {
  const Merged near = Merge({});
  GraphMergeOptions full_options;
  full_options.from_old_neighbours = false;
  const Merged full = Merge(full_options);

  const size_t live = new_to_old_.size();
  EXPECT_EQ(near.graph->size(), live);
  EXPECT_EQ(full.graph->size(), live);
  EXPECT_EQ(near.stats.renumbered, large_);
  EXPECT_EQ(near.stats.renumbered + near.stats.full + near.stats.near, live);
  EXPECT_EQ(full.stats.near, 0u);
  // Most of the smaller parts' nodes are placed from their old neighbours.
  EXPECT_GT(near.stats.near, near.stats.full) << near.stats.full << " full inserts";

  for (size_t ef : {16, 64}) {
    const double r_near = Recall(*near.graph, ef), r_full = Recall(*full.graph, ef);
    // Measured: within 0.006 at ef 16 (both about 0.96) and 1.0 at ef 64; threads make both vary.
    EXPECT_GE(r_near, r_full - 0.02) << "ef " << ef << ": full inserts " << r_full;
    EXPECT_GE(r_near, 0.9) << "ef " << ef;
  }
  // Before HnswIndex::KeepWayIn, 5 of 50 runs of the SQ8 case left one node (an outlier placed
  // from its seeds with a single neighbour, which then dropped it) with no in-link.
  EXPECT_EQ(Unfound(*near.graph), 0u);
}

// A merge reads the parts' graphs in place while deletes go on tombstoning them: the merged
// graph holds every node of the map but those tombstoned before it was read (nodes tombstoned
// later stay, for the caller to tombstone in it), and no list links to a node it left out.
TEST_P(GraphMergeTest, DeletesMayTombstoneThePartsWhileTheyMerge) {
  std::atomic<bool> stop{false};
  std::thread deleter([&] {
    std::mt19937 rng(11);
    while (!stop.load()) {
      const uint32_t slot = static_cast<uint32_t>(rng() % large_);
      graphs_[0]->Remove(slot);
      graphs_[1]->Remove(slot % small_);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const Merged merged = Merge({});
  stop = true;
  deleter.join();
  EXPECT_GT(graphs_[0]->num_removed(), 100u);  // the deletes overlapped the merge
  // A node left out must be tombstoned in its part by now (tombstones are never lifted).
  size_t left_out = 0, left_out_live = 0;
  for (uint32_t j = 0; j < new_to_old_.size(); ++j) {
    if (merged.graph->Contains(j)) continue;
    ++left_out;
    const uint32_t old = new_to_old_[j];
    for (const GraphPart& p : parts_)
      if (old >= p.first && old - p.first < p.size) left_out_live += p.graph->Contains(old - p.first);
  }
  EXPECT_EQ(left_out_live, 0u) << left_out << " left out";
  EXPECT_EQ(merged.graph->size() + left_out, new_to_old_.size());
  std::vector<uint32_t> links;
  size_t dangling = 0, lonely = 0;
  for (uint32_t j = 0; j < new_to_old_.size(); ++j) {
    if (!merged.graph->Contains(j)) continue;
    merged.graph->LayerZeroLinks(j, &links);
    lonely += links.empty();
    for (uint32_t u : links) dangling += !merged.graph->Contains(u);
  }
  EXPECT_EQ(dangling, 0u);
  EXPECT_EQ(lonely, 0u);
  EXPECT_GE(Recall(*merged.graph, 64), 0.9);
}

INSTANTIATE_TEST_SUITE_P(F32AndSq8, GraphMergeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Sq8" : "F32"; });

}  // namespace
}  // namespace mosaic::collection
