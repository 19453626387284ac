// The JSON request grammar of docs/query.md: every form parses into the request it describes,
// and every mistake is an error naming its path and value.
#include "wire/query_codec.h"

#include <gtest/gtest.h>

#include "wire/apps_codec.h"
#include "wire/point_codec.h"

namespace mosaic::wire {
namespace {

using query::InputKind;

query::QueryRequest Parse(const char* text, const QueryCodecOptions& o = {}) {
  auto r = QueryRequestFromJson(Json::parse(text), o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : query::QueryRequest();
}

std::string Error(const char* text, const QueryCodecOptions& o = {}) {
  auto r = QueryRequestFromJson(Json::parse(text), o);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(QueryCodec, TextIsAnAutoQuery) {
  auto q = Parse(R"({"query": "a dog on the beach", "limit": 5, "offset": 10, "explain": true})");
  auto* a = std::get_if<query::AutoQuery>(&q.query);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->inputs.size(), 1u);
  EXPECT_EQ(a->inputs[0].text, "a dog on the beach");
  EXPECT_EQ(q.limit, 5u);
  EXPECT_EQ(q.offset, 10u);
  EXPECT_TRUE(q.explain);
  EXPECT_TRUE(q.understand);
}

TEST(QueryCodec, MixWithWeightsAndAResolver) {
  QueryCodecOptions o;
  o.resolver = [](const std::string& key) -> Result<query::Input> {
    if (key.ends_with(".jpg")) return query::Input::File(InputKind::kImage, key);
    return query::Input::Text(key);
  };
  auto q = Parse(R"({"query": {"mix": {"a red car": 1.0, "./photo.jpg": 0.6, "night": -0.3}}})", o);
  auto* a = std::get_if<query::AutoQuery>(&q.query);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->inputs.size(), 3u);
  std::map<std::string, std::pair<InputKind, float>> got;
  for (const auto& in : a->inputs)
    got[in.kind == InputKind::kText ? in.text : in.path] = {in.kind, in.weight};
  EXPECT_EQ(got["a red car"].second, 1.0f);
  EXPECT_EQ(got["./photo.jpg"].first, InputKind::kImage);
  EXPECT_FLOAT_EQ(got["./photo.jpg"].second, 0.6f);
  EXPECT_FLOAT_EQ(got["night"].second, -0.3f);
}

TEST(QueryCodec, PrefetchTreeFusionAndShaping) {
  auto q = Parse(R"({
    "prefetch": [
      {"query": {"nearest": [0.1, 0.2]}, "using": "clip", "limit": 50, "name": "dense", "weight": 2,
       "filter": {"must": [{"key": "kind", "match": {"value": "image"}}]}, "params": {"hnsw_ef": 128}},
      {"query": {"bm25": {"query": "red car", "fields": ["title^0.5", "text"]}}},
      {"prefetch": {"query": {"nearest": {"id": 7}}}, "query": {"tags": "dog"}}
    ],
    "query": {"rrf": {"k": 10}},
    "group_by": "file_id", "group_size": 2, "autocut": 2, "score_threshold": 0.01,
    "facets": ["kind", {"key": "date", "bucket": "year", "limit": 5}],
    "with_payload": false, "with_vector": true, "understand": false, "snippet": false})");
  ASSERT_EQ(q.prefetch.size(), 3u);
  EXPECT_EQ(q.prefetch[0].using_vector, "clip");
  EXPECT_EQ(q.prefetch[0].limit, std::optional<size_t>(50));
  EXPECT_EQ(q.prefetch[0].name, "dense");
  EXPECT_EQ(q.prefetch[0].weight, 2.0f);
  EXPECT_EQ(q.prefetch[0].params.ef, 128u);
  ASSERT_TRUE(q.prefetch[0].filter.has_value());
  auto* n = std::get_if<query::NearestQuery>(&q.prefetch[0].query);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->inputs[0].kind, InputKind::kVector);
  EXPECT_EQ(n->inputs[0].vector, (std::vector<float>{0.1f, 0.2f}));
  auto* t = std::get_if<query::TextQuery>(&q.prefetch[1].query);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->fields, (std::vector<std::string>{"title^0.5", "text"}));
  ASSERT_EQ(q.prefetch[2].prefetch.size(), 1u);
  auto* inner = std::get_if<query::NearestQuery>(&q.prefetch[2].prefetch[0].query);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->inputs[0].kind, InputKind::kPoint);
  EXPECT_EQ(inner->inputs[0].id, PointId(uint64_t{7}));
  EXPECT_NE(std::get_if<query::TagsQuery>(&q.prefetch[2].query), nullptr);
  auto* f = std::get_if<query::FusionQuery>(&q.query);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->method, query::FusionMethod::kRrf);
  EXPECT_EQ(f->k, 10.0f);
  ASSERT_TRUE(q.group_by.has_value());
  EXPECT_EQ(q.group_by->key, "file_id");
  EXPECT_EQ(q.group_by->group_size, 2u);
  ASSERT_TRUE(q.autocut.has_value());
  EXPECT_EQ(q.autocut->jumps, 2u);
  EXPECT_EQ(q.score_threshold, std::optional<float>(0.01f));
  ASSERT_EQ(q.facets.size(), 2u);
  EXPECT_EQ(q.facets[1].bucket, FacetBucket::kYear);
  EXPECT_EQ(q.facets[1].limit, 5u);
  EXPECT_FALSE(q.with_payload);
  EXPECT_TRUE(q.with_vectors);
  EXPECT_FALSE(q.understand);
  EXPECT_FALSE(q.snippet);
}

TEST(QueryCodec, OtherQueryKinds) {
  auto rec = Parse(
      R"({"query": {"recommend": {"positive": [1, 2], "negative": 3, "strategy": "best_score"}}})");
  auto* r = std::get_if<query::RecommendQuery>(&rec.query);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->positive.size(), 2u);
  EXPECT_EQ(r->negative.size(), 1u);
  EXPECT_EQ(r->strategy, query::RecommendStrategy::kBestScore);
  auto order = Parse(
      R"({"query": {"order_by": {"key": "date", "direction": "desc"}}, "cursor": {"order_value": "2023", "id": "x"}})");
  auto* o = std::get_if<query::OrderByQuery>(&order.query);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->order_by.descending);
  ASSERT_TRUE(order.cursor.has_value());
  EXPECT_EQ(order.cursor->id, PointId("x"));
  auto mmr =
      Parse(R"({"query": {"nearest": {"text": "dog", "weight": 2}, "mmr": {"diversity": 0.7}}})");
  ASSERT_TRUE(mmr.mmr.has_value());
  EXPECT_FLOAT_EQ(mmr.mmr->diversity, 0.7f);
  auto* n = std::get_if<query::NearestQuery>(&mmr.query);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->inputs[0].weight, 2.0f);
  auto upload = Parse(R"({"query": {"auto": [{"image_base64": "aGVsbG8="}, "and text"]}})");
  auto* a = std::get_if<query::AutoQuery>(&upload.query);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->inputs[0].bytes, "hello");
  EXPECT_EQ(a->inputs[1].text, "and text");
  auto dbsf = Parse(R"({"prefetch": [{}], "query": {"fusion": "dbsf"}})");
  EXPECT_EQ(std::get<query::FusionQuery>(dbsf.query).method, query::FusionMethod::kDbsf);
}

TEST(QueryCodec, ErrorsNameThePathAndValue) {
  EXPECT_NE(Error(R"({"limt": 5})").find("limt: unknown key"), std::string::npos);
  EXPECT_NE(Error(R"({"limit": -3})").find("limit: expected an integer from 0"), std::string::npos);
  EXPECT_NE(Error(R"({"limit": 0})").find("limit"), std::string::npos);
  EXPECT_NE(Error(R"({"query": {"nearst": [1]}})").find("unknown query kind \"nearst\""),
            std::string::npos);
  EXPECT_NE(Error(R"({"prefetch": [{"query": {"bm25": {"query": "x"}}}]})")
                .find("prefetch[0].query.bm25.fields"),
            std::string::npos);
  EXPECT_NE(
      Error(R"({"query": {"nearest": [1, "a"]}})").find("query.nearest[1]: expected a number"),
      std::string::npos);
  EXPECT_NE(Error(R"({"query": {"mix": {"night": 0}}})")
                .find("query.mix.night: expected a non-zero weight"),
            std::string::npos);
  EXPECT_NE(Error(R"({"query": {"auto": {"image": "a.jpg", "text": "b"}}})").find("exactly one of"),
            std::string::npos);
  EXPECT_NE(
      Error(R"({"query": {"recommend": {"positive": [1], "strategy": "best"}}})").find("\"best\""),
      std::string::npos);
  EXPECT_NE(Error(R"({"query": {"order_by": {"key": "d", "direction": "up"}}})").find("\"up\""),
            std::string::npos);
  EXPECT_NE(Error(R"({"filter": {"must": [{"key": "a", "match": {"valu": 1}}]}})").find("filter"),
            std::string::npos);
  EXPECT_NE(Error(R"({"group_size": 3})").find("group_size: given without group_by"),
            std::string::npos);
  EXPECT_NE(Error(R"({"autocut": 0})").find("autocut"), std::string::npos);
  EXPECT_NE(Error(R"({"facets": [{"key": "date", "bucket": "week"}]})").find("facets[0].bucket"),
            std::string::npos);
  EXPECT_NE(Error(R"({"query": {"auto": {"image_base64": "@@@"}}})").find("not base64"),
            std::string::npos);
  QueryCodecOptions no_paths;
  no_paths.allow_paths = false;
  EXPECT_NE(
      Error(R"({"query": {"auto": {"image": "/etc/passwd"}}})", no_paths).find("image_base64"),
      std::string::npos);
}

TEST(QueryCodec, ResponseJson) {
  query::QueryResponse r;
  query::Hit h;
  h.id = PointId(uint64_t{3});
  h.score = 0.5f;
  h.payload = Json{{"title", "t"}};
  h.snippet = "snip";
  h.signals = {{"clip", 2, 0.3f, 0.1f}, {"bm25", 0, 0, 0}};
  h.evidence = {{"kind", "image"}};
  r.hits.push_back(h);
  r.facets["kind"] = {FacetCount{"image", 4}};
  r.next_cursor = query::Cursor{Json("2023"), PointId("n")};
  Json j = QueryResponseToJson(r);
  EXPECT_EQ(j["points"][0]["id"], 3);
  EXPECT_EQ(j["points"][0]["snippet"], "snip");
  EXPECT_EQ(j["points"][0]["explain"]["signals"][0]["rank"], 2);
  EXPECT_FALSE(j["points"][0]["explain"]["signals"][1].contains("score"));
  EXPECT_EQ(j["facets"]["kind"][0]["count"], 4);
  EXPECT_EQ(j["next_cursor"]["id"], "n");
}

TEST(PointCodec, StrictPoints) {
  auto p = PointFromJson(
      Json::parse(R"({"id": "a", "vector": [1, 2], "vectors": {"t": [3]}, "payload": {"x": 1}})"),
      "img");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->vectors.at("img"), (std::vector<float>{1, 2}));
  EXPECT_EQ(p->vectors.at("t"), (std::vector<float>{3}));
  EXPECT_EQ(PointToJson(*p)["payload"]["x"], 1);
  auto bad = PointFromJson(Json::parse(R"({"id": 1, "vectors": {"t": [1, "x"]}})"), "img");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("point.vectors.t[1]"), std::string::npos);
  EXPECT_FALSE(PointFromJson(Json::parse(R"({"vector": [1]})"), "img").ok());
  EXPECT_FALSE(PointFromJson(Json::parse(R"({"id": 1, "extra": 2})"), "img").ok());
  EXPECT_EQ(PointIdFromText("42"), PointId(uint64_t{42}));
  EXPECT_EQ(PointIdFromText("42a"), PointId("42a"));
  EXPECT_EQ(PointIdFromText("99999999999999999999"), PointId("99999999999999999999"));
}

TEST(AppsCodec, RecommendRequestAndAnswers) {
  auto r = RecommendRequestFromJson(Json::parse(R"({
      "positive": [7, {"text": "red"}], "negative": [[0.5, 0.5]], "strategy": "best_score",
      "history": [3, {"id": "a", "time": "2026-01-02", "weight": -1}], "half_life": 3600,
      "exclude_seen": false, "using": "clip", "limit": 4,
      "filter": {"must": [{"key": "kind", "match": {"value": "shot"}}]}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->positive.size(), 2u);
  EXPECT_EQ(r->positive[0].kind, InputKind::kPoint);
  EXPECT_EQ(r->negative[0].kind, InputKind::kVector);
  EXPECT_EQ(r->strategy, query::RecommendStrategy::kBestScore);
  ASSERT_EQ(r->history.size(), 2u);
  EXPECT_EQ(r->history[1].id, PointId("a"));
  EXPECT_EQ(r->history[1].time, 1767312000);
  EXPECT_EQ(r->half_life_s, 3600);
  EXPECT_FALSE(r->exclude_seen);
  EXPECT_TRUE(r->filter.has_value());
  for (auto [text, message] :
       {std::pair{R"({"strategy": "newest"})", "strategy: expected"},
        std::pair{R"({"history": [{"time": 5}]})", "history: history line 1: no \"id\""},
        std::pair{R"({"limit": 0})", "limit: expected at least 1"},
        std::pair{R"({"positive": [1], "colour": 1})", "colour"}}) {
    auto bad = RecommendRequestFromJson(Json::parse(text));
    EXPECT_NE(bad.status().message().find(message), std::string::npos)
        << text << ": " << bad.status().ToString();
  }
  query::Answer a;
  a.id = 5;
  a.source = "qa";
  a.answer = "Yes.";
  a.question = "Is it?";
  a.signals = {{"question words", 1, 2.5f, 0.016f}, {"question clip", 0, 0, 0}};
  Json j = AnswerToJson(a);
  EXPECT_EQ(j["question"], "Is it?");
  EXPECT_EQ(j["signals"].size(), 1u);  // only the signals it ranked in
  EXPECT_FALSE(j.contains("sentence"));
}

}  // namespace
}  // namespace mosaic::wire
