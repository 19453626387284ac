#include "index/quant/sq8_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "index/flat/flat_search.h"
#include "io/vector_file.h"
#include "simd/distance.h"
#include "util/test_scale.h"

namespace mosaic::index {
namespace {

TEST(Sq8Codec, RoundTripErrorIsAtMostHalfAStep) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0, 5);
  const size_t dim = 37, n = 500;
  std::vector<float> data(n * dim);
  for (float& x : data) x = g(rng);
  data[5] = 7;  // make one dimension constant below
  for (size_t i = 0; i < n; ++i) data[i * dim + 10] = 2.5f;
  auto codec = Sq8Codec::Train(dim, Metric::kL2, n, [&](size_t i) { return &data[i * dim]; });
  std::vector<uint8_t> code(dim);
  std::vector<float> back(dim);
  for (size_t i = 0; i < n; ++i) {
    codec.Encode(&data[i * dim], code.data());
    codec.Decode(code.data(), back.data());
    for (size_t d = 0; d < dim; ++d) {
      float lo = data[d], hi = data[d];
      for (size_t j = 0; j < n; ++j) {
        lo = std::min(lo, data[j * dim + d]);
        hi = std::max(hi, data[j * dim + d]);
      }
      float step = hi > lo ? (hi - lo) / 255 : 1;
      ASSERT_LE(std::abs(back[d] - data[i * dim + d]), step / 2 + 1e-5f) << i << "," << d;
    }
  }
  // Out-of-range values saturate instead of wrapping.
  std::vector<float> big(dim, 1e6f), small(dim, -1e6f);
  codec.Encode(big.data(), code.data());
  EXPECT_EQ(code[0], 255);
  codec.Encode(small.data(), code.data());
  EXPECT_EQ(code[0], 0);
}

TEST(Sq8Codec, DistancesApproximateExactOnesForEveryMetric) {
  std::mt19937 rng(2);
  std::normal_distribution<float> g;
  const size_t dim = 64, n = 300;
  std::vector<float> data(n * dim), q(dim);
  for (float& x : data) x = g(rng);
  for (float& x : q) x = g(rng);
  for (Metric m : {Metric::kL2, Metric::kInnerProduct}) {
    auto codec = Sq8Codec::Train(dim, m, n, [&](size_t i) { return &data[i * dim]; });
    auto prepared = codec.Prepare(q.data());
    std::vector<uint8_t> code(dim);
    std::vector<float> back(dim);
    for (size_t i = 0; i < n; ++i) {
      codec.Encode(&data[i * dim], code.data());
      codec.Decode(code.data(), back.data());
      double exact = 0;  // the distance to the decoded vector, which SQ8 computes
      for (size_t d = 0; d < dim; ++d)
        exact += m == Metric::kL2 ? (q[d] - back[d]) * double(q[d] - back[d]) : -double(q[d]) * back[d];
      EXPECT_NEAR(codec.Distance(prepared, code.data()), exact, 1e-3 * (1 + std::abs(exact)));
      // The integer form: the query's weights are rounded to scale / 2 at most, so the dot
      // product moves by at most scale / 2 * sum(code), the l2 distance by twice that.
      double bound = 1e-3 * (1 + std::abs(exact));
      if (!prepared.hi.empty() || !prepared.w.empty()) {
        double codes = 0;
        for (size_t d = 0; d < dim; ++d) codes += code[d];
        bound += (m == Metric::kL2 ? 1.0 : 0.5) * prepared.scale * codes;
      }
      EXPECT_NEAR(codec.FastDistance(prepared, code.data(), codec.CodeNorm(code.data())), exact,
                  bound);
    }
    // Code against code: the distance between the two decoded vectors.
    std::vector<uint8_t> other(dim);
    std::vector<float> other_back(dim);
    codec.Encode(&data[0], other.data());
    codec.Decode(other.data(), other_back.data());
    for (size_t i = 1; i < n; i += 7) {
      codec.Encode(&data[i * dim], code.data());
      codec.Decode(code.data(), back.data());
      double exact = 0;
      for (size_t d = 0; d < dim; ++d) {
        const double a = back[d], b = other_back[d];
        exact += m == Metric::kL2 ? (a - b) * (a - b) : -a * b;
      }
      EXPECT_NEAR(codec.PairDistance(code.data(), other.data()), exact,
                  1e-3 * (1 + std::abs(exact)));
    }
    EXPECT_EQ(prepared.hi.empty(), !simd::FastDotU8I8());
    EXPECT_EQ(prepared.w.empty(), simd::FastDotU8I8() || !simd::FastDotU8I16());
    auto again = Sq8Codec::Deserialize(codec.Serialize());
    ASSERT_TRUE(again.ok());
    codec.Encode(&data[0], code.data());
    EXPECT_EQ(again->Distance(again->Prepare(q.data()), code.data()),
              codec.Distance(prepared, code.data()));
  }
  std::string bad = Sq8Codec::Train(4, Metric::kL2, 0, nullptr).Serialize();
  bad.pop_back();
  EXPECT_TRUE(Sq8Codec::Deserialize(bad).status().IsCorruption());
}

// The integer form held as int8 halves (VNNI) and as int16 (AVX2) is the same integer sum, so
// FastDistance gives the same float at every level that has an integer form.
TEST(Sq8Codec, IntegerFormsAgreeAcrossLevels) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0, 3);
  const simd::Level best = simd::ActiveLevel();
  for (size_t dim : {7, 64, 784, 5000}) {
    const size_t n = 50;
    std::vector<float> data(n * dim), q(dim);
    for (float& x : data) x = g(rng);
    for (float& x : q) x = g(rng);
    for (Metric m : {Metric::kL2, Metric::kInnerProduct}) {
      auto codec = Sq8Codec::Train(dim, m, n, [&](size_t i) { return &data[i * dim]; });
      std::vector<uint8_t> code(dim);
      std::vector<float> reference;  // the first integer form's distances
      for (simd::Level level : {simd::Level::kAvx512, simd::Level::kAvx2, simd::Level::kScalar}) {
        if (level > best) continue;
        simd::SetLevelForTesting(level);
        const Sq8Codec::Query prepared = codec.Prepare(q.data());
        if (prepared.hi.empty() && prepared.w.empty()) continue;  // no integer form here
        std::vector<float> got;
        for (size_t i = 0; i < n; ++i) {
          codec.Encode(&data[i * dim], code.data());
          got.push_back(codec.FastDistance(prepared, code.data(), codec.CodeNorm(code.data())));
        }
        if (reference.empty()) {
          reference = got;
        } else {
          EXPECT_EQ(got, reference) << simd::LevelName(level) << " dim " << dim;
        }
      }
      simd::SetLevelForTesting(best);
      if (best >= simd::Level::kAvx2) {
        EXPECT_FALSE(reference.empty()) << "dim " << dim;
      }
    }
  }
}

// SQ8 scan of Fashion-MNIST keeping the best 4k by code distance, re-scored in f32: recall@10
// against the exact f32 top-10, and the codes' memory against f32.
// Per dimension and projected onto principal components (which Fashion-MNIST's pixels allow:
// 95% of their variance in fewer than half the dimensions): 40 candidates by code distance,
// re-scored with f32, hold the exact top 10.
TEST(Sq8Codec, FashionMnistRecallAfterRescoring) {
  const char* env = std::getenv("MOSAIC_DATA_DIR");
  std::string dir = std::string(env ? env : MOSAIC_SOURCE_DIR "/.cache/data") + "/fashion-mnist";
  // Half the rows at small scale (the sanitizer pass): the same bars.
  auto base = io::ReadVectorFile(dir + "/train-images-idx3-ubyte.gz", testing::Scaled(20000, 10000));
  auto queries = io::ReadVectorFile(dir + "/t10k-images-idx3-ubyte.gz", 50);
  ASSERT_TRUE(base.ok() && queries.ok()) << "run scripts/fetch-data";
  const size_t n = base->rows, dim = base->dim, k = 10, rerank = 4 * k;
  for (bool project : {false, true}) {
    SCOPED_TRACE(project ? "projected" : "per dimension");
    auto trained = Sq8Codec::Train(
        dim, Metric::kL2, n, [&](size_t i) { return base->row(i); }, project);
    ASSERT_EQ(trained.projected(), project);
    ASSERT_EQ(trained.dim(), dim);
    const size_t size = trained.code_size();
    if (project) {
      EXPECT_EQ(size % 16, 0u);
      EXPECT_LE(size, dim / 2);
    } else {
      EXPECT_EQ(size, dim);
    }
    // What is used below is the codec read back: the projection survives serialization.
    auto codec = Sq8Codec::Deserialize(trained.Serialize());
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    ASSERT_EQ(codec->code_size(), size);
    std::vector<uint8_t> codes(n * size), again(size);
    for (size_t i = 0; i < n; ++i) codec->Encode(base->row(i), &codes[i * size]);
    trained.Encode(base->row(7), again.data());
    EXPECT_TRUE(std::equal(again.begin(), again.end(), codes.begin() + 7 * size));
    EXPECT_LE(double(codes.size()) / (base->data.size() * sizeof(float)), project ? 0.13 : 0.3);

    size_t hit = 0;
    std::vector<VectorBlock> blocks = {{base->data.data(), 0, static_cast<uint32_t>(n)}};
    for (size_t q = 0; q < queries->rows; ++q) {
      std::vector<std::vector<Neighbor>> exact;
      FlatSearch(blocks, dim, Metric::kL2, queries->row(q), 1, k, nullptr, nullptr, &exact);
      auto prepared = codec->Prepare(queries->row(q));
      std::vector<Neighbor> approx(n);
      for (size_t i = 0; i < n; ++i)
        approx[i] = {static_cast<uint32_t>(i), codec->Distance(prepared, &codes[i * size])};
      std::partial_sort(approx.begin(), approx.begin() + rerank, approx.end(),
                        [](auto& a, auto& b) { return a.distance < b.distance; });
      std::vector<uint32_t> cand;
      for (size_t j = 0; j < rerank; ++j) cand.push_back(approx[j].slot);
      std::sort(cand.begin(), cand.end());
      auto rescored = FlatSearchSlots(cand, [&](uint32_t s) { return base->row(s); }, dim,
                                      Metric::kL2, queries->row(q), k);
      for (const auto& e : exact[0])
        for (const auto& r : rescored) hit += e.slot == r.slot;
    }
    EXPECT_GE(double(hit) / (k * queries->rows), 0.95);
  }
}

// No projection where it would not pay: variance spread evenly over the dimensions, inner
// products (whose ranking squared L2 between projections does not keep), too few rows or
// dimensions.
TEST(Sq8Codec, ProjectsOnlyWhereFewComponentsHoldTheVariance) {
  std::mt19937 rng(4);
  std::normal_distribution<float> g;
  const size_t dim = 256, n = 2000;
  std::vector<float> spread(n * dim), low_rank(n * dim);
  for (float& v : spread) v = g(rng);
  // 20 directions carry almost everything.
  std::vector<float> dirs(20 * dim);
  for (float& v : dirs) v = g(rng);
  for (size_t i = 0; i < n; ++i) {
    float* x = &low_rank[i * dim];
    for (size_t j = 0; j < dim; ++j) x[j] = 0.01f * g(rng);
    for (size_t c = 0; c < 20; ++c) {
      const float w = g(rng);
      for (size_t j = 0; j < dim; ++j) x[j] += w * dirs[c * dim + j];
    }
  }
  auto rows_of = [&](const std::vector<float>& m) {
    return [&m](size_t i) { return m.data() + i * dim; };
  };
  EXPECT_FALSE(Sq8Codec::Train(dim, Metric::kL2, n, rows_of(spread), true).projected());
  const Sq8Codec low = Sq8Codec::Train(dim, Metric::kL2, n, rows_of(low_rank), true);
  ASSERT_TRUE(low.projected());
  EXPECT_EQ(low.code_size(), 32u);  // 20 components and the residual, rounded up to 16s
  EXPECT_EQ(low.code_metric(), Metric::kL2);
  EXPECT_TRUE(Sq8Codec::Train(dim, Metric::kCosine, n, rows_of(low_rank), true).projected());
  EXPECT_FALSE(
      Sq8Codec::Train(dim, Metric::kInnerProduct, n, rows_of(low_rank), true).projected());
  EXPECT_FALSE(Sq8Codec::Train(dim, Metric::kL2, 999, rows_of(low_rank), true).projected());
  EXPECT_FALSE(Sq8Codec::Train(dim, Metric::kL2, n, rows_of(low_rank), false).projected());
  // Projected distances rank like the exact ones on this data: the nearest of 2000 by code
  // is within the exact 5 nearest for most queries.
  std::vector<uint8_t> codes(n * low.code_size());
  for (size_t i = 0; i < n; ++i) low.Encode(&low_rank[i * dim], &codes[i * low.code_size()]);
  int good = 0;
  for (size_t q = 0; q < 50; ++q) {
    const float* x = &low_rank[q * dim];
    auto prepared = low.Prepare(x);
    std::vector<std::pair<float, size_t>> exact, coded;
    for (size_t i = 0; i < n; ++i) {
      exact.push_back({simd::L2Sqr(x, &low_rank[i * dim], dim), i});
      coded.push_back({low.Distance(prepared, &codes[i * low.code_size()]), i});
    }
    std::sort(exact.begin(), exact.end());
    const size_t best = std::min_element(coded.begin(), coded.end())->second;
    for (size_t j = 0; j < 5; ++j) good += exact[j].second == best;
  }
  EXPECT_GE(good, 45);
  // A damaged projection is refused.
  std::string bytes = low.Serialize();
  EXPECT_TRUE(Sq8Codec::Deserialize(bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bytes.data() + bytes.size() - 4, &nan, 4);
  EXPECT_TRUE(Sq8Codec::Deserialize(bytes).status().IsCorruption());
}

}  // namespace
}  // namespace mosaic::index
