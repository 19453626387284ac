#include "query/understand.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/civil_date.h"

namespace mosaic::query {
namespace {

struct Day {
  int y = 0, m = 1, d = 1;
};

Day CivilFromDaysAsDay(int64_t z) {
  const CivilDate c = CivilFromDays(z);
  return {static_cast<int>(c.year), c.month, c.day};
}

Day AddMonths(Day day, int months) {
  int index = day.y * 12 + (day.m - 1) + months;
  return {index / 12, index % 12 + 1, 1};
}

std::string Iso(Day day) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT00:00:00Z", day.y, day.m, day.d);
  return buf;
}

struct Range {
  std::optional<Day> from, to;  // [from, to)
};

Range YearRange(int y) {
  return {Day{y, 1, 1}, Day{y + 1, 1, 1}};
}
Range MonthRange(int y, int m) {
  return {Day{y, m, 1}, AddMonths(Day{y, m, 1}, 1)};
}
Range DayRange(int y, int m, int d) {
  return {Day{y, m, d}, CivilFromDaysAsDay(DaysFromCivil(y, m, d) + 1)};
}

int MonthOf(const std::string& w) {
  static const std::map<std::string, int> kMonths = {
      {"january", 1},   {"jan", 1},   {"february", 2},  {"feb", 2},      {"march", 3},
      {"mar", 3},       {"april", 4}, {"apr", 4},       {"may", 5},      {"june", 6},
      {"jun", 6},       {"july", 7},  {"jul", 7},       {"august", 8},   {"aug", 8},
      {"september", 9}, {"sep", 9},   {"sept", 9},      {"october", 10}, {"oct", 10},
      {"november", 11}, {"nov", 11},  {"december", 12}, {"dec", 12}};
  auto it = kMonths.find(w);
  return it == kMonths.end() ? 0 : it->second;
}

// The first month of a season in the northern hemisphere, 0 if `w` is none.
int SeasonStart(const std::string& w) {
  if (w == "spring") return 3;
  if (w == "summer") return 6;
  if (w == "autumn" || w == "fall") return 9;
  if (w == "winter") return 12;
  return 0;
}

bool AllDigits(const std::string& w, size_t n) {
  return w.size() == n && std::all_of(w.begin(), w.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

// A year 1800..2199 written as four digits, else 0.
int YearOf(const std::string& w) {
  if (!AllDigits(w, 4)) return 0;
  int y = std::stoi(w);
  return y >= 1800 && y < 2200 ? y : 0;
}

// "14", "14th", "1st" as a day of the month, else 0.
int DayOf(const std::string& w) {
  std::string digits = w;
  for (const char* suffix : {"st", "nd", "rd", "th"})
    if (digits.size() > 2 && digits.ends_with(suffix)) digits.resize(digits.size() - 2);
  if (digits.empty() || digits.size() > 2 || !AllDigits(digits, digits.size())) return 0;
  int d = std::stoi(digits);
  return d >= 1 && d <= 31 ? d : 0;
}

// "2023-07-14", "2023/07/14", "2023-07" as a range.
std::optional<Range> IsoDate(const std::string& w) {
  int y = 0, m = 0, d = 0;
  char s1 = 0, s2 = 0;
  int consumed = 0;
  if (std::sscanf(w.c_str(), "%4d%c%2d%c%2d%n", &y, &s1, &m, &s2, &d, &consumed) == 5 &&
      consumed == static_cast<int>(w.size()) && (s1 == '-' || s1 == '/') && s2 == s1 &&
      w.size() == 10) {
    if (m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m) && YearOf(w.substr(0, 4)))
      return DayRange(y, m, d);
    return std::nullopt;
  }
  consumed = 0;
  if (std::sscanf(w.c_str(), "%4d%c%2d%n", &y, &s1, &m, &consumed) == 3 &&
      consumed == static_cast<int>(w.size()) && (s1 == '-' || s1 == '/') && w.size() == 7 &&
      m >= 1 && m <= 12 && YearOf(w.substr(0, 4)))
    return MonthRange(y, m);
  return std::nullopt;
}

struct Token {
  std::string raw;   // as written
  std::string word;  // lower-case, surrounding punctuation removed
  bool used = false;
  bool in_phrase = false;
};

// Words that may introduce a date and go with it ("in 2019", "from July 2023").
bool IsDatePreposition(const std::string& w) {
  return w == "in" || w == "during" || w == "from" || w == "of" || w == "on" || w == "taken" ||
         w == "around";
}

struct KindWord {
  const char* word;
  std::vector<std::string> kinds;
};

const std::vector<KindWord>& KindWords() {
  static const std::vector<KindWord> kWords = {
      {"video", {"video", "shot"}},
      {"videos", {"video", "shot"}},
      {"clip", {"video", "shot"}},
      {"clips", {"video", "shot"}},
      {"footage", {"video", "shot"}},
      {"movie", {"video", "shot"}},
      {"movies", {"video", "shot"}},
      {"shot", {"shot"}},
      {"shots", {"shot"}},
      {"scene", {"shot"}},
      {"scenes", {"shot"}},
      {"photo", {"image"}},
      {"photos", {"image"}},
      {"picture", {"image"}},
      {"pictures", {"image"}},
      {"image", {"image"}},
      {"images", {"image"}},
      {"pic", {"image"}},
      {"pics", {"image"}},
      {"snapshot", {"image"}},
      {"snapshots", {"image"}},
      {"pdf", {"document", "chunk"}},
      {"pdfs", {"document", "chunk"}},
      {"document", {"document", "chunk"}},
      {"documents", {"document", "chunk"}},
      {"doc", {"document", "chunk"}},
      {"docs", {"document", "chunk"}},
      {"paper", {"document", "chunk"}},
      {"papers", {"document", "chunk"}},
      {"slide", {"document", "chunk"}},
      {"slides", {"document", "chunk"}},
      {"recording", {"audio", "speech"}},
      {"recordings", {"audio", "speech"}},
      {"audio", {"audio", "speech"}},
      {"podcast", {"audio", "speech"}},
      {"podcasts", {"audio", "speech"}},
  };
  return kWords;
}

class Parser {
 public:
  Parser(std::string_view text, int64_t now_s) {
    const time_t now = static_cast<time_t>(now_s != 0 ? now_s : std::time(nullptr));
    today_ = CivilFromDaysAsDay(static_cast<int64_t>(now) / 86400);
    Split(text);
  }

  Understanding Run() {
    Understanding u;
    Kinds(&u);
    Dates(&u);
    std::string rest;
    for (const Token& t : tokens_)
      if (!t.used) rest += (rest.empty() ? "" : " ") + t.raw;
    u.text = rest;
    u.phrases = phrases_;
    for (const std::string& p : phrases_)
      u.understood.push_back({{"text", "\"" + p + "\""}, {"as", "phrase"}});
    return u;
  }

 private:
  void Split(std::string_view text) {
    // Quoted phrases: their words stay searchable, the phrase must match, and nothing in them is
    // read as a date or a kind.
    for (size_t i = 0; i < text.size();) {
      const bool ascii_quote = text[i] == '"';
      const bool curly = text.substr(i, 3) == "\xE2\x80\x9C";  // left double quotation mark
      size_t open = ascii_quote ? 1 : 3, close = std::string_view::npos, close_len = 1;
      if (ascii_quote || curly) {
        for (size_t j = i + open; j < text.size(); ++j) {
          if (text[j] == '"') {
            close = j;
            close_len = 1;
            break;
          }
          if (text.substr(j, 3) == "\xE2\x80\x9D") {
            close = j;
            close_len = 3;
            break;
          }
        }
      }
      if (close == std::string_view::npos) {
        size_t next = text.find_first_of("\"\xE2", i + 1);
        if (next == std::string_view::npos) next = text.size();
        AddWords(text.substr(i, next - i), false);
        i = next;
        continue;
      }
      std::string_view phrase = text.substr(i + open, close - i - open);
      if (phrase.find_first_not_of(" \t") != std::string_view::npos) phrases_.emplace_back(phrase);
      AddWords(phrase, true);
      i = close + close_len;
    }
  }

  void AddWords(std::string_view part, bool in_phrase) {
    size_t i = 0;
    while (i < part.size()) {
      while (i < part.size() && std::isspace(static_cast<unsigned char>(part[i])))
        ++i;
      size_t j = i;
      while (j < part.size() && !std::isspace(static_cast<unsigned char>(part[j])))
        ++j;
      if (j > i) {
        Token t;
        t.raw = std::string(part.substr(i, j - i));
        t.in_phrase = in_phrase;
        std::string w;
        for (char c : t.raw)
          w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t b = w.find_first_not_of(",.;:!?()[]'\"");
        const size_t e = w.find_last_not_of(",.;:!?()[]'\"");
        t.word = b == std::string::npos ? "" : w.substr(b, e - b + 1);
        tokens_.push_back(std::move(t));
      }
      i = j;
    }
  }

  const std::string& W(size_t i) const {
    static const std::string kEmpty;
    return i < tokens_.size() && !tokens_[i].used && !tokens_[i].in_phrase ? tokens_[i].word
                                                                           : kEmpty;
  }

  std::string Span(size_t b, size_t e) const {
    std::string s;
    for (size_t i = b; i < e; ++i)
      s += (s.empty() ? "" : " ") + tokens_[i].raw;
    return s;
  }

  void Use(size_t b, size_t e) {
    for (size_t i = b; i < e; ++i)
      tokens_[i].used = true;
  }

  void Kinds(Understanding* u) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      for (const KindWord& k : KindWords()) {
        if (W(i) != k.word) continue;
        size_t e = i + 1;
        // "photos of", "videos with", "a video about": the connecting word goes with it.
        if (W(e) == "of" || W(e) == "with" || W(e) == "about" || W(e) == "showing") ++e;
        size_t b = i;
        if (b > 0 && (W(b - 1) == "a" || W(b - 1) == "an" || W(b - 1) == "the" ||
                      W(b - 1) == "my" || W(b - 1) == "all"))
          --b;
        u->understood.push_back({{"text", Span(b, e)}, {"as", "kind"}, {"kinds", k.kinds}});
        for (const std::string& kind : k.kinds)
          if (std::find(u->kinds.begin(), u->kinds.end(), kind) == u->kinds.end())
            u->kinds.push_back(kind);
        Use(b, e);
        break;
      }
    }
  }

  // A date expression starting at token i: its range and the index after it.
  std::optional<std::pair<Range, size_t>> DateAt(size_t i) const {
    const std::string& w = W(i);
    if (w.empty()) return std::nullopt;
    if (auto r = IsoDate(w)) return std::make_pair(*r, i + 1);
    // "1990s"
    if (w.size() == 5 && w.back() == 's' && YearOf(w.substr(0, 4)) && w[3] == '0') {
      int y = YearOf(w.substr(0, 4));
      return std::make_pair(Range{Day{y, 1, 1}, Day{y + 10, 1, 1}}, i + 1);
    }
    // "July 14, 2023", "July 2023", "July of 2023"
    if (int m = MonthOf(w)) {
      if (int d = DayOf(W(i + 1)); d && YearOf(W(i + 2)) && d <= DaysInMonth(YearOf(W(i + 2)), m))
        return std::make_pair(DayRange(YearOf(W(i + 2)), m, d), i + 3);
      if (int y = YearOf(W(i + 1))) return std::make_pair(MonthRange(y, m), i + 2);
      if (W(i + 1) == "of" && YearOf(W(i + 2)))
        return std::make_pair(MonthRange(YearOf(W(i + 2)), m), i + 3);
      return std::nullopt;
    }
    // "14 July 2023"
    if (int d = DayOf(w)) {
      if (int m = MonthOf(W(i + 1)); m && YearOf(W(i + 2)) && d <= DaysInMonth(YearOf(W(i + 2)), m))
        return std::make_pair(DayRange(YearOf(W(i + 2)), m, d), i + 3);
    }
    // "summer 2022", "winter of 2021" (northern seasons; winter runs into the next year)
    if (int s = SeasonStart(w)) {
      size_t yi = W(i + 1) == "of" ? i + 2 : i + 1;
      if (int y = YearOf(W(yi))) {
        Day from{y, s, 1};
        return std::make_pair(Range{from, AddMonths(from, 3)}, yi + 1);
      }
      return std::nullopt;
    }
    // Relative periods.
    if (w == "today") return std::make_pair(DayRange(today_.y, today_.m, today_.d), i + 1);
    if (w == "yesterday") {
      Day y = CivilFromDaysAsDay(DaysFromCivil(today_.y, today_.m, today_.d) - 1);
      return std::make_pair(DayRange(y.y, y.m, y.d), i + 1);
    }
    if ((w == "this" || w == "last") && !W(i + 1).empty()) {
      const std::string& unit = W(i + 1);
      const int back = w == "last" ? 1 : 0;
      if (unit == "year") return std::make_pair(YearRange(today_.y - back), i + 2);
      if (unit == "month") {
        Day m = AddMonths(Day{today_.y, today_.m, 1}, -back);
        return std::make_pair(MonthRange(m.y, m.m), i + 2);
      }
      if (unit == "week") {  // weeks start on Monday
        const int64_t days = DaysFromCivil(today_.y, today_.m, today_.d);
        const int64_t monday = days - ((days + 3) % 7) - 7 * back;
        return std::make_pair(Range{CivilFromDaysAsDay(monday), CivilFromDaysAsDay(monday + 7)},
                              i + 2);
      }
      if (int s = SeasonStart(unit)) {
        // The latest such season that has begun (this) or ended (last) by today.
        int y = today_.y;
        Day from{y, s, 1};
        while (DaysFromCivil(from.y, from.m, 1) > DaysFromCivil(today_.y, today_.m, today_.d) ||
               (back && DaysFromCivil(AddMonths(from, 3).y, AddMonths(from, 3).m, 1) >
                            DaysFromCivil(today_.y, today_.m, today_.d)))
          from = Day{--y, s, 1};
        return std::make_pair(Range{from, AddMonths(from, 3)}, i + 2);
      }
    }
    return std::nullopt;
  }

  void Dates(Understanding* u) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (W(i).empty()) continue;
      const std::string& w = W(i);
      std::optional<Range> range;
      size_t b = i, e = i;
      // Year spans: "2019-2021", "2019 to 2021", "between 2019 and 2021", "from 2019 to 2021".
      int y1 = 0, y2 = 0;
      char sep[4] = {};
      if (w.size() == 9 && std::sscanf(w.c_str(), "%4d%1[-/]%4d", &y1, sep, &y2) == 3 &&
          YearOf(w.substr(0, 4)) && YearOf(w.substr(5)) && y1 <= y2) {
        range = Range{Day{y1, 1, 1}, Day{y2 + 1, 1, 1}};
        e = i + 1;
      } else if ((w == "between" || w == "from") && YearOf(W(i + 1)) &&
                 (W(i + 2) == "and" || W(i + 2) == "to" || W(i + 2) == "until") &&
                 YearOf(W(i + 3)) && YearOf(W(i + 1)) <= YearOf(W(i + 3))) {
        range = Range{Day{YearOf(W(i + 1)), 1, 1}, Day{YearOf(W(i + 3)) + 1, 1, 1}};
        e = i + 4;
      } else if (YearOf(w) && (W(i + 1) == "to" || W(i + 1) == "until") && YearOf(W(i + 2)) &&
                 YearOf(w) <= YearOf(W(i + 2))) {
        range = Range{Day{YearOf(w), 1, 1}, Day{YearOf(W(i + 2)) + 1, 1, 1}};
        e = i + 3;
      } else if (w == "before" || w == "after" || w == "since" || w == "until") {
        std::optional<std::pair<Range, size_t>> at = DateAt(i + 1);
        if (!at && YearOf(W(i + 1))) at = std::make_pair(YearRange(YearOf(W(i + 1))), i + 2);
        if (at) {
          if (w == "before") range = Range{std::nullopt, at->first.from};
          if (w == "until") range = Range{std::nullopt, at->first.to};
          if (w == "after") range = Range{at->first.to, std::nullopt};
          if (w == "since") range = Range{at->first.from, std::nullopt};
          e = at->second;
        }
      } else if (IsDatePreposition(w) && YearOf(W(i + 1)) && !DateAt(i + 1)) {
        // A bare year only after a preposition ("in 2019"): "blade runner 2049" stays text.
        range = YearRange(YearOf(W(i + 1)));
        e = i + 2;
      } else {
        size_t at_i = IsDatePreposition(w) ? i + 1 : i;
        if (auto at = DateAt(at_i)) {
          range = at->first;
          e = at->second;
        }
      }
      if (!range) continue;
      if (u->date_from || u->date_to) {  // one period per query: the first
        u->understood.push_back(
            {{"text", Span(b, e)}, {"as", "ignored"}, {"why", "only the first date is used"}});
        Use(b, e);
        continue;
      }
      Json as = {{"text", Span(b, e)}, {"as", "date"}};
      if (range->from) {
        u->date_from = Iso(*range->from);
        as["from"] = *u->date_from;
      }
      if (range->to) {
        u->date_to = Iso(*range->to);
        as["to"] = *u->date_to;
      }
      u->understood.push_back(std::move(as));
      Use(b, e);
      i = e - 1;
    }
  }

  std::vector<Token> tokens_;
  std::vector<std::string> phrases_;
  Day today_;
};

}  // namespace

Understanding Understand(std::string_view text, const UnderstandOptions& options) {
  return Parser(text, options.now_unix_s).Run();
}

}  // namespace mosaic::query
