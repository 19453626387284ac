#include "index/filter/datetime.h"

namespace mosaic::index {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Reads exactly `n` ASCII digits at `pos`.
bool ReadDigits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*pos + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool IsLeapYear(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Proleptic Gregorian days from 1970-01-01 to y-m-d, for y >= 1.
int64_t DaysSinceEpoch(int y, int m, int d) {
  static constexpr int kDaysBeforeMonth[12] = {0,   31,  59,  90,  120, 151,
                                               181, 212, 243, 273, 304, 334};
  auto days_before_year = [](int64_t year) {
    int64_t p = year - 1;
    return p * 365 + p / 4 - p / 100 + p / 400;
  };
  int64_t day_of_year = kDaysBeforeMonth[m - 1] + (m > 2 && IsLeapYear(y) ? 1 : 0) + (d - 1);
  return days_before_year(y) - days_before_year(1970) + day_of_year;
}

}  // namespace

std::optional<int64_t> ParseDatetime(std::string_view s) {
  size_t pos = 0;
  int year, month, day;
  if (!ReadDigits(s, &pos, 4, &year) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, &pos, 2, &month) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, &pos, 2, &day))
    return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month))
    return std::nullopt;
  int64_t seconds = DaysSinceEpoch(year, month, day) * kSecondsPerDay;
  if (pos == s.size()) return seconds * kMicrosPerSecond;

  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  int hour, minute, second = 0;
  if (!ReadDigits(s, &pos, 2, &hour) || pos >= s.size() || s[pos++] != ':' ||
      !ReadDigits(s, &pos, 2, &minute))
    return std::nullopt;
  if (hour > 23 || minute > 59) return std::nullopt;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!ReadDigits(s, &pos, 2, &second) || second > 59) return std::nullopt;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      size_t first = pos;
      int64_t scale = kMicrosPerSecond;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (scale > 1) {
          scale /= 10;
          micros += (s[pos] - '0') * scale;
        }
        ++pos;
      }
      if (pos == first) return std::nullopt;
    }
  }
  seconds += hour * 3600 + minute * 60 + second;

  if (pos < s.size()) {
    char sign = s[pos++];
    if (sign == 'Z' || sign == 'z') {
      if (pos != s.size()) return std::nullopt;
    } else if (sign == '+' || sign == '-') {
      int off_hour, off_minute;
      if (!ReadDigits(s, &pos, 2, &off_hour)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (!ReadDigits(s, &pos, 2, &off_minute) || pos != s.size()) return std::nullopt;
      if (off_hour > 23 || off_minute > 59) return std::nullopt;
      // Local time = UTC + offset, so UTC = local - offset.
      int64_t offset = off_hour * 3600 + off_minute * 60;
      seconds += sign == '+' ? -offset : offset;
    } else {
      return std::nullopt;
    }
  }
  return seconds * kMicrosPerSecond + micros;
}

}  // namespace mosaic::index
