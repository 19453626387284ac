// Query understanding: reads what a search text says besides what to look for. Dates and periods
// ("beach July 2023", "in 2019", "summer 2022", "2019-2021", "before 2020", "last year") become a
// range on the date field; words for kinds ("video of", "photos", "pdf", "recording") become a
// kind filter; "quoted phrases" must match. What is understood is taken out of the text that is
// searched (quoted phrases stay in it) and reported, so a user can see it and turn it off.
// The grammar is in docs/query.md. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/json.h"

namespace mosaic::query {

struct Understanding {
  std::string text;  // the query without the understood parts ("beach July 2023" -> "beach")
  // The date range, as ISO 8601 instants in UTC, start included, end excluded; either may be
  // absent ("before 2020" has only an end).
  std::optional<std::string> date_from, date_to;
  std::vector<std::string> kinds;    // point kinds ("video", "shot"), empty: any
  std::vector<std::string> phrases;  // must appear as written (in order, as words)
  // What was understood: [{"text": "July 2023", "as": "date", "from": ..., "to": ...}, ...].
  Json understood = Json::array();
};

struct UnderstandOptions {
  int64_t now_unix_s = 0;  // for "today", "last year", ...; 0: the current time
};

Understanding Understand(std::string_view text, const UnderstandOptions& options = {});

}  // namespace mosaic::query
