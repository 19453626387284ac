// Datetime parsing for filters and payload indexes: RFC 3339 / ISO 8601 text becomes an instant,
// microseconds since the Unix epoch in UTC, so that datetimes written with different offsets or
// precisions compare as the moments they name. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/civil_date.h"

namespace mosaic::index {

// Accepts "YYYY-MM-DD" (midnight UTC) and "YYYY-MM-DD(T|t| )HH:MM[:SS[(.|,)fraction]][offset]"
// where offset is Z, z, +HH:MM, -HH:MM, +HHMM or -HHMM; without an offset the time is UTC.
// Years 0001-9999; the calendar date must exist (2024-02-30 does not); seconds 00-59 (a leap
// second is rejected rather than silently folded into the next minute). Fraction digits past the
// sixth are truncated, so instants compare at microsecond precision. nullopt if `text` is not such
// a datetime.
std::optional<int64_t> ParseDatetime(std::string_view text);

// The UTC calendar date of an instant (microseconds since the epoch), proleptic Gregorian.
using mosaic::CivilDate;
CivilDate CivilDateOf(int64_t micros);

}  // namespace mosaic::index
