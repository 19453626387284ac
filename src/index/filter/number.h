// Number: a JSON number (int64, uint64 or double) with exact comparison across the three, so that
// filters and numeric payload indexes agree on every value: 5 equals 5.0, 2^53 + 1 does not equal
// 2^53 even though both convert to the same double. Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "mosaic/json.h"

namespace mosaic::index {

// Wide enough for every int64 and uint64 (and for one step past either end, which the integer
// index needs when it turns "gt 2^63 - 1" into a key bound). A GCC/Clang extension.
using Int128 = __int128;

struct Number {
  bool is_int = true;
  Int128 i = 0;  // when is_int
  double f = 0;  // when !is_int; never NaN

  static Number Int(Int128 v) { return Number{true, v, 0}; }
  static Number Float(double v) { return Number{false, 0, v}; }
};

// The number a JSON value holds; nullopt for non-numbers (booleans included) and NaN.
std::optional<Number> NumberOf(const Json& v);

// -1, 0 or 1 as a is less than, equal to or greater than b, compared as exact real numbers.
int CompareNumbers(const Number& a, const Number& b);

// The exact integer value of `n` if it is integral and within +-2^100, else nullopt.
std::optional<Int128> IntegralValue(const Number& n);

// The nearest double; monotonic, so a <= b implies ToDouble(a) <= ToDouble(b).
double ToDouble(const Number& n);

}  // namespace mosaic::index
