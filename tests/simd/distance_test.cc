// Every SIMD level the CPU supports against a double-precision reference and against scalar,
// over dimensions that exercise every tail length, and with unaligned pointers.
#include "simd/distance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace mosaic::simd {
namespace {

const size_t kDims[] = {1,  2,  3,  4,  5,  7,  8,   9,   15,  16,  17,
                        31, 32, 33, 63, 64, 65, 100, 128, 784, 1000};

double RefL2(const float* a, const float* b, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; ++i)
    s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s;
}

double RefDot(const float* a, const float* b, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; ++i)
    s += double(a[i]) * b[i];
  return s;
}

// Float accumulation error grows with the dimension and the magnitude of the terms, not of the
// (possibly cancelling) result.
double Tolerance(const float* a, const float* b, size_t dim, bool l2) {
  double mag = 0;
  for (size_t i = 0; i < dim; ++i) {
    mag += l2 ? (double(a[i]) - b[i]) * (double(a[i]) - b[i]) : std::fabs(double(a[i]) * b[i]);
  }
  return 1e-6 * (dim + 8) * mag + 1e-30;
}

class DistanceTest : public ::testing::TestWithParam<Level> {
 protected:
  void SetUp() override {
    best_ = ActiveLevel();
    if (GetParam() > best_) GTEST_SKIP() << "CPU lacks " << LevelName(GetParam());
    SetLevelForTesting(GetParam());
    ASSERT_EQ(ActiveLevel(), GetParam());
  }
  void TearDown() override { SetLevelForTesting(best_); }

  std::vector<float> Random(size_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-2.f, 2.f);
    std::vector<float> v(count);
    for (float& x : v)
      x = u(rng);
    return v;
  }

  Level best_ = Level::kScalar;
};

TEST_P(DistanceTest, SingleMatchesReferenceAndScalar) {
  for (size_t dim : kDims) {
    for (size_t offset : {0, 1, 3}) {
      std::vector<float> buf = Random(2 * dim + 8, static_cast<uint32_t>(dim * 7 + offset));
      const float* a = buf.data() + offset;
      const float* b = buf.data() + offset + dim + 2;
      float l2 = L2Sqr(a, b, dim), dot = Dot(a, b, dim), norm = NormSqr(a, dim);
      EXPECT_NEAR(l2, RefL2(a, b, dim), Tolerance(a, b, dim, true)) << "dim " << dim;
      EXPECT_NEAR(dot, RefDot(a, b, dim), Tolerance(a, b, dim, false)) << "dim " << dim;
      EXPECT_NEAR(norm, RefDot(a, a, dim), Tolerance(a, a, dim, false)) << "dim " << dim;

      SetLevelForTesting(Level::kScalar);
      float l2_scalar = L2Sqr(a, b, dim), dot_scalar = Dot(a, b, dim);
      SetLevelForTesting(GetParam());
      EXPECT_NEAR(l2, l2_scalar, 2 * Tolerance(a, b, dim, true)) << "dim " << dim;
      EXPECT_NEAR(dot, dot_scalar, 2 * Tolerance(a, b, dim, false)) << "dim " << dim;
    }
  }
}

TEST_P(DistanceTest, IdenticalVectorsHaveZeroL2) {
  for (size_t dim : kDims) {
    std::vector<float> a = Random(dim, 11);
    EXPECT_EQ(L2Sqr(a.data(), a.data(), dim), 0.f);
    float out = -1;
    L2SqrBatch(a.data(), a.data(), 1, dim, &out);
    EXPECT_EQ(out, 0.f);
  }
}

TEST_P(DistanceTest, BatchMatchesSingle) {
  for (size_t dim : kDims) {
    for (size_t n : {0, 1, 2, 3, 4, 5, 7, 8, 13}) {
      std::vector<float> buf = Random((n + 1) * dim + 1, static_cast<uint32_t>(dim + 100 * n));
      const float* q = buf.data() + 1;  // misaligned
      const float* base = q + dim;
      std::vector<float> l2(n + 1, -1), dot(n + 1, -1);
      L2SqrBatch(q, base, n, dim, l2.data());
      DotBatch(q, base, n, dim, dot.data());
      for (size_t i = 0; i < n; ++i) {
        const float* x = base + i * dim;
        EXPECT_NEAR(l2[i], L2Sqr(q, x, dim), 2 * Tolerance(q, x, dim, true));
        EXPECT_NEAR(dot[i], Dot(q, x, dim), 2 * Tolerance(q, x, dim, false));
        EXPECT_NEAR(l2[i], RefL2(q, x, dim), Tolerance(q, x, dim, true));
      }
      EXPECT_EQ(l2[n], -1) << "wrote past the end";
      EXPECT_EQ(dot[n], -1) << "wrote past the end";
    }
  }
}

// The block kernel must agree bit for bit with the batch kernel for every query count and row
// count, including the remainders of its register tiles, and honour out_stride.
TEST_P(DistanceTest, BlockIsBitIdenticalToBatch) {
  for (size_t dim : {1, 3, 7, 8, 15, 16, 17, 33, 100, 784}) {
    for (size_t nq : {1, 3, 4, 5, 8, 9, 16}) {
      for (size_t n : {1, 2, 3, 5, 8, 11}) {
        std::vector<float> buf =
            Random((nq + n) * dim + 3, static_cast<uint32_t>(dim * 31 + nq * 7 + n));
        const float* queries = buf.data() + 3;
        const float* base = queries + nq * dim;
        size_t stride = n + 2;
        std::vector<float> l2(nq * stride, -1), dot(nq * stride, -1);
        L2SqrBlock(queries, nq, base, n, dim, l2.data(), stride);
        DotBlock(queries, nq, base, n, dim, dot.data(), stride);
        for (size_t i = 0; i < nq; ++i) {
          std::vector<float> l2_row(n), dot_row(n);
          L2SqrBatch(queries + i * dim, base, n, dim, l2_row.data());
          DotBatch(queries + i * dim, base, n, dim, dot_row.data());
          for (size_t j = 0; j < n; ++j) {
            EXPECT_EQ(l2[i * stride + j], l2_row[j]) << "dim " << dim << " q " << i << " row " << j;
            EXPECT_EQ(dot[i * stride + j], dot_row[j])
                << "dim " << dim << " q " << i << " row " << j;
          }
          EXPECT_EQ(l2[i * stride + n], -1) << "wrote into the stride padding";
          EXPECT_EQ(dot[i * stride + n + 1], -1) << "wrote into the stride padding";
        }
      }
    }
  }
}

// Integer-valued vectors (like image pixels) have exact squared distances as long as the sums
// stay below 2^24; every level must then return them exactly.
TEST_P(DistanceTest, IntegerPixelsAreExact) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> px(0, 255);
  const size_t dim = 784;
  std::vector<float> a(dim), b(dim);
  for (size_t i = 0; i < dim; ++i) {
    a[i] = static_cast<float>(px(rng));
    b[i] = std::min(255.f, std::max(0.f, a[i] + static_cast<float>(px(rng) % 21 - 10)));
  }
  double ref = RefL2(a.data(), b.data(), dim);
  ASSERT_LT(ref, 1 << 24);
  float batch = 0;
  L2SqrBatch(a.data(), b.data(), 1, dim, &batch);
  EXPECT_EQ(L2Sqr(a.data(), b.data(), dim), static_cast<float>(ref));
  EXPECT_EQ(batch, static_cast<float>(ref));
}

TEST(PackRowsTest, LaysOutPanelsDimensionMajorAndZeroPads) {
  const size_t dim = 3, n = 18;
  std::vector<float> rows(n * dim);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = static_cast<float>(i + 1);
  ASSERT_EQ(PackedFloats(n, dim), 2 * kPanelRows * dim);
  std::vector<float> packed(PackedFloats(n, dim), -1);
  PackRows(rows.data(), n, dim, packed.data());
  for (size_t r = 0; r < 2 * kPanelRows; ++r) {
    for (size_t d = 0; d < dim; ++d) {
      float want = r < n ? rows[r * dim + d] : 0.0f;
      EXPECT_EQ(packed[((r / kPanelRows) * dim + d) * kPanelRows + r % kPanelRows], want)
          << "row " << r << " dim " << d;
    }
  }
}

// Screens queries against packed rows and checks every value against a double-precision
// reference, and every hit bit against its value and limit, over query counts and row counts that
// hit every remainder of the register tiles. Integer data makes every sum exact, so there the
// values must also match the reference bit for bit at every level.
void CheckScreenPacked(size_t nq, size_t n, size_t dim, bool integers, bool with_bias,
                       uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::uniform_int_distribution<int> px(-8, 8);
  auto value = [&] { return integers ? static_cast<float>(px(rng)) : u(rng); };
  std::vector<float> buf(nq * dim + 1), rows(n * dim);
  for (float& x : buf)
    x = value();
  for (float& x : rows)
    x = value();
  const float* queries = buf.data() + 1;  // misaligned
  const size_t padded = (n + kPanelRows - 1) / kPanelRows * kPanelRows;
  std::vector<float> packed(PackedFloats(n, dim));
  PackRows(rows.data(), n, dim, packed.data());
  std::vector<float> bias(padded, 0.0f);
  for (size_t j = 0; j < n; ++j)
    bias[j] = with_bias ? value() * 8 : 0.0f;
  const float scale = with_bias ? 2.0f : 1.0f;
  // Limits around the middle of each query's values, so hits and misses both occur; one query
  // takes +inf (everything hits) when there are several.
  std::vector<float> limits(nq);
  for (size_t i = 0; i < nq; ++i)
    limits[i] = (i == 1) ? std::numeric_limits<float>::infinity() : value();
  const size_t stride = padded + 3, hits_stride = padded / kPanelRows + 1;
  std::vector<float> values(nq * stride, -7.f);
  std::vector<uint16_t> hits(nq * hits_stride, 0xabcd);
  ScreenPacked(queries, nq, dim, packed.data(), n, with_bias ? bias.data() : nullptr, scale,
               limits.data(), values.data(), stride, hits.data(), hits_stride);
  for (size_t i = 0; i < nq; ++i) {
    const float* q = queries + i * dim;
    for (size_t j = 0; j < n; ++j) {
      const float* x = rows.data() + j * dim;
      double want = bias[j] - scale * RefDot(q, x, dim);
      float got = values[i * stride + j];
      if (integers) {
        EXPECT_EQ(got, static_cast<float>(want)) << "q " << i << " row " << j;
      } else {
        EXPECT_NEAR(got, want, scale * Tolerance(q, x, dim, false) + 1e-5)
            << "q " << i << " row " << j;
      }
      bool hit = (hits[i * hits_stride + j / kPanelRows] >> (j % kPanelRows)) & 1;
      EXPECT_EQ(hit, !(got > limits[i])) << "q " << i << " row " << j;
    }
    for (size_t j = n; j < padded; ++j) {
      EXPECT_FALSE((hits[i * hits_stride + j / kPanelRows] >> (j % kPanelRows)) & 1)
          << "hit on padding row " << j;
    }
    EXPECT_EQ(values[i * stride + padded], -7.f) << "wrote past the padded rows";
    EXPECT_EQ(hits[i * hits_stride + padded / kPanelRows], 0xabcd) << "wrote past the hits";
  }
}

TEST_P(DistanceTest, ScreenPackedMatchesReference) {
  uint32_t seed = 1;
  for (size_t dim : {1, 2, 7, 16, 17, 100, 784}) {
    for (size_t nq : {1, 2, 5, 6, 7, 11, 12, 13, 24, 31}) {
      for (size_t n : {1, 15, 16, 17, 31, 32, 33, 64, 100}) {
        SCOPED_TRACE("dim " + std::to_string(dim) + " nq " + std::to_string(nq) + " n " +
                     std::to_string(n));
        CheckScreenPacked(nq, n, dim, /*integers=*/false, /*with_bias=*/(seed & 1) != 0, seed);
        CheckScreenPacked(nq, n, dim, /*integers=*/true, /*with_bias=*/(seed & 1) == 0, seed);
        ++seed;
      }
    }
  }
}

TEST(DistanceDispatchTest, LevelNames) {
  EXPECT_STREQ(LevelName(Level::kScalar), "scalar");
  EXPECT_STREQ(LevelName(Level::kAvx2), "avx2");
  EXPECT_STREQ(LevelName(Level::kAvx512), "avx512");
}

TEST(DistanceDispatchTest, SetLevelNeverExceedsCpu) {
  Level best = ActiveLevel();
  SetLevelForTesting(Level::kAvx512);
  EXPECT_LE(ActiveLevel(), Level::kAvx512);
  SetLevelForTesting(Level::kScalar);
  EXPECT_EQ(ActiveLevel(), Level::kScalar);
  SetLevelForTesting(best);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, DistanceTest,
                         ::testing::Values(Level::kScalar, Level::kAvx2, Level::kAvx512),
                         [](const ::testing::TestParamInfo<Level>& info) {
                           return std::string(LevelName(info.param));
                         });

}  // namespace
}  // namespace mosaic::simd
