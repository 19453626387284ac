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
  int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay;
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

CivilDate CivilDateOf(int64_t micros) {
  constexpr int64_t kMicrosPerDay = kMicrosPerSecond * kSecondsPerDay;
  int64_t days = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay < 0) --days;  // floor: instants before 1970 belong to earlier days
  return CivilFromDays(days);
}

}  // namespace mosaic::index
