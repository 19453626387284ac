// Fashion-MNIST (Debian package dataset-fashion-mnist, fetched by scripts/fetch-data): the 60k
// training images in a collection, recall@10 of search against brute-force ground truth computed
// here in double precision (must be 1.0 for the exact index), filtered search on the real labels,
// and the same after a reopen from disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "io/vector_file.h"
#include "mosaic/db.h"
#include "util/fault_env.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

std::string DataDir() {
  const char* d = std::getenv("MOSAIC_DATA_DIR");
  return std::string(d ? d : MOSAIC_SOURCE_DIR "/.cache/data") + "/fashion-mnist";
}

class FashionMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto base = io::ReadVectorFile(DataDir() + "/train-images-idx3-ubyte.gz",
                                   testing::Scaled(60000, 10000));
    if (!base.ok()) GTEST_FAIL() << base.status().ToString() << " (run scripts/fetch-data)";
    base_ = new io::Matrix(std::move(base).value());
    labels_ = new std::vector<int32_t>(*io::ReadIdxLabels(DataDir() + "/train-labels-idx1-ubyte.gz"));
    queries_ = new io::Matrix(
        *io::ReadVectorFile(DataDir() + "/t10k-images-idx3-ubyte.gz", testing::Scaled(200, 40)));
  }
  static void TearDownTestSuite() {
    delete base_;
    delete labels_;
    delete queries_;
  }

  // Exact top-10 squared distances in double precision, over points allowed by `allow`.
  static std::vector<double> TrueKth(const std::function<bool(size_t)>& allow) {
    std::vector<double> kth(queries_->rows);
    auto work = [&](size_t b, size_t e) {
      std::vector<double> d;
      for (size_t q = b; q < e; ++q) {
        d.clear();
        for (size_t i = 0; i < base_->rows; ++i) {
          if (!allow(i)) continue;
          double acc[4] = {0, 0, 0, 0};
          const float* x = base_->row(i);
          const float* y = queries_->row(q);
          for (size_t j = 0; j < 784; j += 4)
            for (size_t u = 0; u < 4; ++u) {
              double t = double(x[j + u]) - y[j + u];
              acc[u] += t * t;
            }
          d.push_back(acc[0] + acc[1] + acc[2] + acc[3]);
        }
        std::nth_element(d.begin(), d.begin() + 9, d.end());
        kth[q] = d[9];
      }
    };
    std::thread t(work, 0, queries_->rows / 2);
    work(queries_->rows / 2, queries_->rows);
    t.join();
    return kth;
  }

  // Share of hits whose exact distance is within the true 10th distance.
  static double Recall(Collection& c, const std::vector<double>& kth,
                       const std::optional<Filter>& filter) {
    size_t ok = 0;
    for (size_t q = 0; q < queries_->rows; ++q) {
      SearchRequest r;
      r.vector.assign(queries_->row(q), queries_->row(q) + 784);
      r.limit = 10;
      r.filter = filter;
      auto hits = c.Search(r);
      EXPECT_TRUE(hits.ok()) << hits.status().ToString();
      if (!hits.ok()) continue;
      EXPECT_EQ(hits->size(), 10u);
      for (const auto& h : *hits) {
        double dist = double(h.score) * h.score;
        if (dist <= kth[q] * (1 + 1e-5) + 1e-3) ++ok;
      }
    }
    return ok / (10.0 * queries_->rows);
  }

  static inline io::Matrix* base_ = nullptr;
  static inline std::vector<int32_t>* labels_ = nullptr;
  static inline io::Matrix* queries_ = nullptr;
};

TEST_F(FashionMnist, ExactSearchHasPerfectRecallBeforeAndAfterReopen) {
  testing::TempDir dir;
  CollectionSchema schema;
  schema.vectors = {{"pixels", 784, Metric::kL2, StorageType::kFloat32}};
  std::vector<double> kth_all = TrueKth([](size_t) { return true; });
  std::vector<double> kth_label3 = TrueKth([](size_t i) { return (*labels_)[i] == 3; });
  auto label3 = *Filter::Parse(R"({"must": [{"key": "label", "match": {"value": 3}}]})");
  {
    auto db = *Db::Open(dir.path());
    auto c = *db->CreateCollection("fashion", schema);
    std::vector<Point> batch;
    for (size_t i = 0; i < base_->rows; ++i) {
      Point p;
      p.id = uint64_t{i};
      p.vectors["pixels"].assign(base_->row(i), base_->row(i) + 784);
      p.payload = {{"label", (*labels_)[i]}};
      batch.push_back(std::move(p));
      if (batch.size() == 5000 || i + 1 == base_->rows) {
        ASSERT_TRUE(c->Upsert(batch).ok());
        batch.clear();
      }
    }
    ASSERT_EQ(*c->Count(), base_->rows);
    EXPECT_DOUBLE_EQ(Recall(*c, kth_all, std::nullopt), 1.0);  // WAL + in-memory tail
    EXPECT_DOUBLE_EQ(Recall(*c, kth_label3, label3), 1.0);
  }
  auto db = *Db::Open(dir.path());
  auto c = *db->GetCollection("fashion");
  ASSERT_TRUE(c->Flush().ok());
  ASSERT_TRUE(c->CreatePayloadIndex("label", PayloadIndexType::kInteger).ok());
  EXPECT_DOUBLE_EQ(Recall(*c, kth_all, std::nullopt), 1.0);  // the flushed segment
  EXPECT_DOUBLE_EQ(Recall(*c, kth_label3, label3), 1.0);     // through the payload index
  size_t label3_count = 0;
  for (size_t i = 0; i < base_->rows; ++i) label3_count += (*labels_)[i] == 3;
  EXPECT_EQ(*c->Count(&label3), label3_count);
}

}  // namespace
}  // namespace mosaic
