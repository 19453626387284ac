#include "simd/sq8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "simd/distance.h"

namespace mosaic::simd {
namespace {

TEST(Sq8Kernels, EveryLevelMatchesADoubleReference) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-3, 3);
  const Level best = ActiveLevel();
  for (Level level : {Level::kScalar, Level::kAvx2, Level::kAvx512}) {
    if (level > best) continue;
    SetLevelForTesting(level);
    for (size_t dim : {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 100, 784, 1000}) {
      std::vector<float> q(dim), step(dim), offset(dim);
      // +1: the kernels must not read past dim
      std::vector<uint8_t> code(dim + 1), other(dim + 1);
      for (size_t d = 0; d < dim; ++d) {
        q[d] = u(rng);
        step[d] = std::abs(u(rng)) / 100 + 1e-3f;
        offset[d] = u(rng);
        code[d] = static_cast<uint8_t>(rng());
        other[d] = static_cast<uint8_t>(rng());
      }
      double l2 = 0, ws = 0, pair_l2 = 0, pair_dot = 0;
      for (size_t d = 0; d < dim; ++d) {
        double t = double(q[d]) - double(code[d]) * step[d];
        l2 += t * t;
        ws += double(q[d]) * code[d];
        const double a = offset[d] + double(code[d]) * step[d];
        const double b = offset[d] + double(other[d]) * step[d];
        pair_l2 += (a - b) * (a - b);
        pair_dot += a * b;
      }
      EXPECT_NEAR(Sq8PairL2Sqr(code.data(), other.data(), step.data(), dim), pair_l2,
                  1e-4 * (1 + pair_l2))
          << LevelName(level) << " dim " << dim;
      EXPECT_NEAR(Sq8PairDot(code.data(), other.data(), offset.data(), step.data(), dim), pair_dot,
                  1e-4 * (1 + std::abs(pair_dot)))
          << LevelName(level) << " dim " << dim;
      EXPECT_NEAR(Sq8L2Sqr(q.data(), step.data(), code.data(), dim), l2, 1e-4 * (1 + l2))
          << LevelName(level) << " dim " << dim;
      EXPECT_NEAR(Sq8WeightedSum(q.data(), code.data(), dim), ws, 1e-4 * (1 + std::abs(ws)))
          << LevelName(level) << " dim " << dim;
    }
  }
  SetLevelForTesting(best);
}

TEST(Sq8Kernels, IntegerDotIsExactAtEveryLevel) {
  std::mt19937 rng(5);
  const Level best = ActiveLevel();
  for (Level level : {Level::kScalar, Level::kAvx2, Level::kAvx512}) {
    if (level > best) continue;
    SetLevelForTesting(level);
    for (size_t dim : {1, 3, 63, 64, 65, 127, 128, 129, 200, 784, 808, 4096}) {
      std::vector<uint8_t> code(dim + 1);  // +1: the kernels must not read past dim
      std::vector<int8_t> w(dim + 1);
      int64_t want = 0;
      for (size_t d = 0; d < dim; ++d) {
        // The extremes included: 255 * -127 is the largest product in magnitude.
        code[d] = d % 17 == 0 ? 255 : static_cast<uint8_t>(rng());
        w[d] = d % 13 == 0 ? int8_t{-127} : static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
        want += int64_t{code[d]} * w[d];
      }
      EXPECT_EQ(DotU8I8(code.data(), w.data(), dim), want) << LevelName(level) << " dim " << dim;
      // The 15-bit form: hi = w, lo = the extremes -64 / 64 alternating.
      std::vector<int8_t> lo(dim + 1);
      int64_t want15 = 0;
      for (size_t d = 0; d < dim; ++d) {
        lo[d] = d % 2 == 0 ? int8_t{-64} : int8_t{64};
        want15 += int64_t{code[d]} * (128 * int64_t{w[d]} + lo[d]);
      }
      EXPECT_EQ(DotU8I15(code.data(), w.data(), lo.data(), dim), want15)
          << LevelName(level) << " dim " << dim;
    }
  }
  SetLevelForTesting(best);
}

TEST(Sq8Kernels, Int16DotIsExactAtEveryLevel) {
  std::mt19937 rng(6);
  const Level best = ActiveLevel();
  for (Level level : {Level::kScalar, Level::kAvx2, Level::kAvx512}) {
    if (level > best) continue;
    SetLevelForTesting(level);
    // Past 4,096 the kernel sums a block in int64 before the next: dims on both sides of it.
    for (size_t dim : {1, 15, 16, 17, 31, 32, 33, 48, 784, 808, 4095, 4096, 4097, 4112, 9000}) {
      std::vector<uint8_t> code(dim + 1);  // +1: the kernel must not read past dim
      std::vector<int16_t> w(dim + 1);
      int64_t want = 0;
      for (size_t d = 0; d < dim; ++d) {
        code[d] = d % 7 == 0 ? 255 : static_cast<uint8_t>(rng());
        w[d] = d % 5 == 0 ? int16_t{-16384}
                          : static_cast<int16_t>(static_cast<int>(rng() % 32769) - 16384);
        want += int64_t{code[d]} * w[d];
      }
      EXPECT_EQ(DotU8I16(code.data(), w.data(), dim), want) << LevelName(level) << " dim " << dim;
      // The largest sum: every product 255 * 2^14, far past 2^31 in total.
      std::fill(code.begin(), code.end(), uint8_t{255});
      std::fill(w.begin(), w.end(), int16_t{16384});
      EXPECT_EQ(DotU8I16(code.data(), w.data(), dim), int64_t{255} * 16384 * int64_t(dim))
          << LevelName(level) << " dim " << dim;
    }
  }
  SetLevelForTesting(best);
}

// The query's int16 weights: every level the same bits as a reference written from the
// contract (std::nearbyint, clamping, NaN as 0, the scale from the finite products only).
TEST(Sq8Kernels, QueryWeightsAgreeAcrossLevels) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  const float inf = std::numeric_limits<float>::infinity();
  const Level best = ActiveLevel();
  for (size_t dim : {1, 7, 8, 9, 16, 23, 784, 808}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::vector<float> q(dim), step(dim);
      for (size_t d = 0; d < dim; ++d) {
        q[d] = u(rng);
        step[d] = std::abs(u(rng)) / 255.0f + 1e-6f;
      }
      if (variant == 1) {  // a damaged codec: infinite and NaN products, in the SIMD part and the tail
        step[0] = inf;
        step[dim - 1] = std::numeric_limits<float>::quiet_NaN();
      } else if (variant == 2) {  // ties: t / scale exactly k + 0.5 (scale 1 when the top is 16256)
        for (size_t d = 0; d < dim; ++d) {
          q[d] = d == 0 ? float(kMaxWeightI16) : float(int(d % 41) - 20) + 0.5f;
          step[d] = 1.0f;
        }
      } else if (variant == 3) {  // all zero: scale 1, weights 0
        std::fill(q.begin(), q.end(), 0.0f);
      }
      float top = 0;
      for (size_t d = 0; d < dim; ++d) {
        const float t = std::abs(q[d] * step[d]);
        if (std::isfinite(t)) top = std::max(top, t);
      }
      const float want_scale = top > 0 ? top / kMaxWeightI16 : 1.0f;
      std::vector<int16_t> want(dim);
      for (size_t d = 0; d < dim; ++d) {
        float x = std::nearbyint(q[d] * step[d] / want_scale);
        if (std::isnan(x)) x = 0;
        want[d] = static_cast<int16_t>(std::clamp<float>(x, -kMaxWeightI16, kMaxWeightI16));
      }
      for (Level level : {Level::kScalar, Level::kAvx2, Level::kAvx512}) {
        if (level > best) continue;
        SetLevelForTesting(level);
        std::vector<int16_t> w(dim + 1, int16_t{12345});  // +1: nothing written past dim
        EXPECT_EQ(QueryWeightsI16(q.data(), step.data(), dim, w.data()), want_scale)
            << LevelName(level) << " dim " << dim << " variant " << variant;
        EXPECT_EQ(w[dim], 12345) << LevelName(level) << " dim " << dim;
        w.resize(dim);
        EXPECT_EQ(w, want) << LevelName(level) << " dim " << dim << " variant " << variant;
      }
      SetLevelForTesting(best);
    }
  }
}

}  // namespace
}  // namespace mosaic::simd
