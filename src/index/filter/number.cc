#include "index/filter/number.h"

#include <cmath>

namespace mosaic::index {
namespace {

// Beyond this magnitude a double is far outside every integer a Number can hold, and below it a
// truncated double converts to Int128 exactly.
constexpr double kIntegralLimit = 0x1p100;

int CompareIntFloat(Int128 i, double f) {
  if (f >= kIntegralLimit) return -1;
  if (f <= -kIntegralLimit) return 1;
  double whole = std::trunc(f);
  Int128 t = static_cast<Int128>(whole);
  if (i != t) return i < t ? -1 : 1;
  double frac = f - whole;  // exact: subtracting the integral part of a double loses no bits
  if (frac > 0) return -1;
  if (frac < 0) return 1;
  return 0;
}

}  // namespace

std::optional<Number> NumberOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::number_integer:
      return Number::Int(v.get<int64_t>());
    case Json::value_t::number_unsigned:
      return Number::Int(v.get<uint64_t>());
    case Json::value_t::number_float: {
      double f = v.get<double>();
      if (std::isnan(f)) return std::nullopt;
      return Number::Float(f);
    }
    default:
      return std::nullopt;
  }
}

int CompareNumbers(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  if (!a.is_int && !b.is_int) return a.f < b.f ? -1 : (a.f > b.f ? 1 : 0);
  if (a.is_int) return CompareIntFloat(a.i, b.f);
  return -CompareIntFloat(b.i, a.f);
}

std::optional<Int128> IntegralValue(const Number& n) {
  if (n.is_int) return n.i;
  if (!(std::fabs(n.f) < kIntegralLimit) || std::trunc(n.f) != n.f) return std::nullopt;
  return static_cast<Int128>(n.f);
}

double ToDouble(const Number& n) {
  return n.is_int ? static_cast<double>(n.i) : n.f;
}

}  // namespace mosaic::index
