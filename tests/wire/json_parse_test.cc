// wire::ParseJson (simdjson) gives what nlohmann's parser gives, and names where bad JSON breaks.
#include "wire/json_parse.h"

#include <gtest/gtest.h>

#include <random>

namespace mosaic::wire {
namespace {

TEST(JsonParseTest, SameValuesAndTypesAsNlohmann) {
  const char* docs[] = {
      R"({"query": {"nearest": [0.5, -1.25e-3, 3, -7, 0, 1e300]}, "using": "v", "limit": 10})",
      R"({"id": 18446744073709551615, "neg": -9223372036854775808, "big": 1e19, "f": 2.0})",
      R"({"s": "caf\u00e9 \"quoted\" \n tab\t", "u": "日本", "b": [true, false, null], "e": {}, "a": []})",
      R"({"k": 1, "k": 2})",
      R"([1, [2, [3, [4, {"x": [5.5]}]]]])",
      R"("just a string")",
      R"(  42  )",
      R"(123456789012345678901234567890)",  // past 64 bits: nlohmann makes it a double
  };
  for (const char* d : docs) {
    auto got = ParseJson(d);
    ASSERT_TRUE(got.ok()) << d << ": " << got.status().ToString();
    Json want = Json::parse(d);
    EXPECT_EQ(got.value(), want) << d;
    EXPECT_EQ(got.value().dump(), want.dump()) << d;  // types too: 3 stays an integer
  }
  // Random vectors, as clients send them, round-trip exactly.
  std::mt19937 rng(5);
  std::normal_distribution<float> n;
  Json v = Json::array();
  for (int i = 0; i < 512; ++i) v.push_back(n(rng));
  std::string text = Json{{"vector", v}}.dump();
  EXPECT_EQ(ParseJson(text).value(), Json::parse(text));
}

TEST(JsonParseTest, BadJsonNamesTheByte) {
  for (const char* bad : {R"({"a": 1,)", R"({"a" 1})", "[1, 2", "nul", R"({"a": "\x"})"}) {
    auto got = ParseJson(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("at byte"), std::string::npos) << got.status().message();
  }
}

// Found by tests/fuzz/query_json_fuzz (corpus/query_json/number-overflow.json): simdjson declines
// 1e400, and nlohmann's out_of_range exception for it escaped ParseJson.
TEST(JsonParseTest, NumberOutOfRangeIsInvalidArgument) {
  auto got = ParseJson(R"({"limit": 3, "x": 1e400})");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("1e400"), std::string::npos) << got.status().message();
}

// Deep nesting is refused up front: a 100,000-deep body crashed the server (stack overflow in
// the error message's dump) before the limit. Brackets inside strings do not count.
TEST(JsonParseTest, NestingDeeperThanTheLimitIsRefused) {
  auto nested = [](size_t depth, char open, char close) {
    std::string s;
    for (size_t i = 0; i < depth; ++i) s += open == '{' ? "{\"a\":" : std::string(1, open);
    s += "1";
    s += std::string(depth, close);
    return s;
  };
  EXPECT_TRUE(ParseJson(nested(1000, '[', ']')).ok());
  for (const std::string& deep : {nested(kMaxJsonDepth + 1, '[', ']'), nested(100000, '[', ']'),
                                  nested(5000, '{', '}'), std::string(100000, '[')}) {
    auto r = ParseJson(deep);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("nested deeper than 1024"), std::string::npos)
        << r.status().ToString();
  }
  // A number no double holds is a 400, not an escaped exception (it was a 500).
  for (const char* huge : {"[1e999]", "{\"v\": [-1e999, 0]}"}) {
    auto r = ParseJson(huge);
    ASSERT_FALSE(r.ok()) << huge;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("1e999"), std::string::npos) << r.status().ToString();
  }
  auto in_string = ParseJson("{\"s\": \"" + std::string(5000, '[') + "\"}");
  ASSERT_TRUE(in_string.ok()) << in_string.status().ToString();
  EXPECT_EQ(in_string.value()["s"].get<std::string>().size(), 5000u);
}

}  // namespace
}  // namespace mosaic::wire
