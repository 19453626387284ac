// Query understanding on a table of phrases: what stays as text, the date range, the kinds and
// the phrases. "Today" is fixed at Thursday 2026-12-03.
#include "query/understand.h"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>

namespace mosaic::query {
namespace {

constexpr int64_t kNow = 1796299200;  // 2026-12-03T12:00:00Z

struct Case {
  const char* query;
  const char* text;
  const char* from;  // "" : no lower bound
  const char* to;    // "" : no upper bound
  std::vector<std::string> kinds;
  std::vector<std::string> phrases;
};

// gtest prints a failing case by its query, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.query << '"'; }

// "beach July 2023" -> "beach_July_2023": the case's name in ctest.
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  for (const char* p = info.param.query; *p; ++p)
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name.empty() ? "empty" : name + "_" + std::to_string(info.index);
}

std::string Day(const char* d) {
  return *d ? std::string(d) + "T00:00:00Z" : "";
}

class UnderstandTable : public ::testing::TestWithParam<Case> {};

TEST_P(UnderstandTable, Reads) {
  const Case& c = GetParam();
  Understanding u = Understand(c.query, {kNow});
  EXPECT_EQ(u.text, c.text);
  EXPECT_EQ(u.date_from.value_or(""), Day(c.from));
  EXPECT_EQ(u.date_to.value_or(""), Day(c.to));
  EXPECT_EQ(u.kinds, c.kinds);
  EXPECT_EQ(u.phrases, c.phrases);
}

const std::vector<std::string> kVideo = {"video", "shot"};
const std::vector<std::string> kPhoto = {"image"};
const std::vector<std::string> kDoc = {"document", "chunk"};
const std::vector<std::string> kAudio = {"audio", "speech"};

INSTANTIATE_TEST_SUITE_P(
    Phrases, UnderstandTable,
    ::testing::Values(
        // Dates and periods.
        Case{"beach July 2023", "beach", "2023-07-01", "2023-08-01", {}, {}},
        Case{"dogs in 2019", "dogs", "2019-01-01", "2020-01-01", {}, {}},
        Case{"snow during 2021", "snow", "2021-01-01", "2022-01-01", {}, {}},
        Case{"party on 14 July 2023", "party", "2023-07-14", "2023-07-15", {}, {}},
        Case{"party July 14th, 2023", "party", "2023-07-14", "2023-07-15", {}, {}},
        Case{"2023-07-14 fireworks", "fireworks", "2023-07-14", "2023-07-15", {}, {}},
        Case{"trip 2023-07", "trip", "2023-07-01", "2023-08-01", {}, {}},
        Case{"summer 2022 lake", "lake", "2022-06-01", "2022-09-01", {}, {}},
        Case{"winter of 2021 skiing", "skiing", "2021-12-01", "2022-03-01", {}, {}},
        Case{"graduation 2019-2021", "graduation", "2019-01-01", "2022-01-01", {}, {}},
        Case{"concerts from 2015 to 2017", "concerts", "2015-01-01", "2018-01-01", {}, {}},
        Case{"between 2010 and 2012 cars", "cars", "2010-01-01", "2013-01-01", {}, {}},
        Case{"before 2020 office", "office", "", "2020-01-01", {}, {}},
        Case{"after March 2024 garden", "garden", "2024-04-01", "", {}, {}},
        Case{"since 2024 garden", "garden", "2024-01-01", "", {}, {}},
        Case{"music of the 1990s", "music of the", "1990-01-01", "2000-01-01", {}, {}},
        Case{"cats last year", "cats", "2025-01-01", "2026-01-01", {}, {}},
        Case{"cats this month", "cats", "2026-12-01", "2027-01-01", {}, {}},
        Case{"cats last month", "cats", "2026-11-01", "2026-12-01", {}, {}},
        Case{"cats last week", "cats", "2026-11-23", "2026-11-30", {}, {}},
        Case{"cats yesterday", "cats", "2026-12-02", "2026-12-03", {}, {}},
        Case{"cats last summer", "cats", "2026-06-01", "2026-09-01", {}, {}},
        Case{"cats last winter", "cats", "2025-12-01", "2026-03-01", {}, {}},
        // Not dates: a bare year without a preposition, "may" as a verb, a number.
        Case{"blade runner 2049", "blade runner 2049", "", "", {}, {}},
        Case{"dogs may run", "dogs may run", "", "", {}, {}},
        Case{"route 66 march", "route 66 march", "", "", {}, {}},
        // Kinds.
        Case{"video of a dog on the beach", "a dog on the beach", "", "", kVideo, {}},
        Case{"photos of cats", "cats", "", "", kPhoto, {}},
        Case{"dog pictures", "dog", "", "", kPhoto, {}},
        Case{"pdf about RRF", "RRF", "", "", kDoc, {}},
        Case{"recordings about cards", "cards", "", "", kAudio, {}},
        Case{"videos from 2019", "", "2019-01-01", "2020-01-01", kVideo, {}},
        // Quoted phrases stay in the text and must match; nothing inside is reinterpreted.
        Case{"\"red car\" at night", "red car at night", "", "", {}, {"red car"}},
        Case{"\"photos of 2019\" album", "photos of 2019 album", "", "", {}, {"photos of 2019"}},
        Case{"\xE2\x80\x9Csleeping cats\xE2\x80\x9D video",
             "sleeping cats",
             "",
             "",
             kVideo,
             {"sleeping cats"}},
        Case{"a \"half open quote", "a \"half open quote", "", "", {}, {}}),
    CaseName);

TEST(Understand, OnlyTheFirstDateCounts) {
  Understanding u = Understand("beach July 2023 and in 2019", {kNow});
  EXPECT_EQ(u.date_from.value_or(""), "2023-07-01T00:00:00Z");
  bool ignored = false;
  for (const Json& item : u.understood)
    ignored = ignored || item.value("as", "") == "ignored";
  EXPECT_TRUE(ignored);
}

TEST(Understand, ReportsWhatItUnderstood) {
  Understanding u = Understand("video of dogs in 2019", {kNow});
  ASSERT_EQ(u.understood.size(), 2u);
  EXPECT_EQ(u.understood[0]["text"], "video of");
  EXPECT_EQ(u.understood[0]["as"], "kind");
  EXPECT_EQ(u.understood[1]["text"], "in 2019");
  EXPECT_EQ(u.understood[1]["as"], "date");
}

}  // namespace
}  // namespace mosaic::query
