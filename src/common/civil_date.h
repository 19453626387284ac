// Calendar arithmetic on the proleptic Gregorian calendar in UTC: days since 1970-01-01 to and
// from year-month-day (Howard Hinnant's algorithms, eras of 400 years from March 1st). Used by
// datetime filters and facets and by query understanding. Pure functions; thread-safe.
#pragma once

#include <cstdint>

namespace mosaic {

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
};

bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);
// Days from 1970-01-01 to the date (negative before it).
int64_t DaysFromCivil(int64_t year, int month, int day);
CivilDate CivilFromDays(int64_t days);

}  // namespace mosaic
