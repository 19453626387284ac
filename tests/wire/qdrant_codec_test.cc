// Qdrant's REST JSON in and out (wire/qdrant_codec.h): ids, collection configs, points, filters,
// query requests, selectors. The same API end to end through Qdrant's own client:
// tests/qdrant/scenario.mjs.
#include "wire/qdrant_codec.h"

#include <gtest/gtest.h>

namespace mosaic::wire::qdrant {
namespace {

CollectionSchema Unnamed(uint32_t dim = 4, Metric metric = Metric::kCosine) {
  auto s = CreateCollectionFromJson(Json{
      {"vectors", {{"size", dim}, {"distance", metric == Metric::kCosine ? "Cosine" : "Euclid"}}}});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? s.value() : CollectionSchema();
}

CollectionSchema Named() {
  auto s = CreateCollectionFromJson(Json::parse(
      R"({"vectors": {"img": {"size": 3, "distance": "Euclid"}, "txt": {"size": 2, "distance": "Dot"}}})"));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? s.value() : CollectionSchema();
}

std::string Error(const Status& s) {
  EXPECT_FALSE(s.ok());
  return s.message();
}

TEST(QdrantIds, UuidsAreNormalizedFromEveryForm) {
  const std::string canonical = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
  for (const char* form :
       {"5C56C793-69F3-4FBF-87E6-C4BF54C28C26", "5c56c79369f34fbf87e6c4bf54c28c26",
        "{5c56c793-69f3-4fbf-87e6-c4bf54c28c26}", "urn:uuid:5c56c793-69f3-4fbf-87e6-c4bf54c28c26"})
    EXPECT_EQ(NormalizeUuid(form), canonical) << form;
  for (const char* bad :
       {"", "5c56c793-69f3-4fbf-87e6-c4bf54c28c2", "5c56c79369f3-4fbf-87e6-c4bf54c28c26x",
        "zc56c793-69f3-4fbf-87e6-c4bf54c28c26", "5c56c793_69f3-4fbf-87e6-c4bf54c28c26"})
    EXPECT_FALSE(NormalizeUuid(bad)) << bad;
}

TEST(QdrantIds, UnsignedIntegersUpTo64BitsAndUuids) {
  auto max = IdFromJson(Json::parse("18446744073709551615"), "id");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max.value(), PointId(UINT64_MAX));
  EXPECT_EQ(IdToJson(max.value()).dump(), "18446744073709551615");
  auto uuid = IdFromJson(Json("5C56C793-69F3-4FBF-87E6-C4BF54C28C26"), "id", IdUse::kNewPoint);
  ASSERT_TRUE(uuid.ok());
  EXPECT_EQ(uuid.value(), PointId("5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
  // 2^64 does not fit: JSON makes it a float, which is not an id.
  EXPECT_NE(Error(IdFromJson(Json::parse("18446744073709551616"), "points[3].id").status())
                .find("points[3].id: expected a point id"),
            std::string::npos);
  EXPECT_FALSE(IdFromJson(Json(-1), "id").ok());
  EXPECT_FALSE(IdFromJson(Json(1.5), "id").ok());
  // A new point needs a UUID; a lookup takes other strings (ids of natively made collections).
  EXPECT_NE(Error(IdFromJson(Json("photo-7"), "id", IdUse::kNewPoint).status()).find("UUID"),
            std::string::npos);
  EXPECT_EQ(IdFromJson(Json("photo-7"), "id", IdUse::kLookup).value(), PointId("photo-7"));
}

TEST(QdrantCollections, UnnamedAndNamedVectorConfigs) {
  CollectionSchema u = Unnamed(8);
  ASSERT_EQ(u.vectors.size(), 1u);
  EXPECT_EQ(u.vectors[0].name, kUnnamedVector);
  EXPECT_EQ(u.vectors[0].dim, 8u);
  EXPECT_EQ(u.vectors[0].metric, Metric::kCosine);
  EXPECT_EQ(u.vectors[0].index.kind,
            IndexKind::kHnsw);  // Qdrant's defaults: m 16, ef_construct 100
  EXPECT_EQ(u.vectors[0].index.m, 16u);
  EXPECT_EQ(u.vectors[0].index.ef_construction, 100u);
  EXPECT_TRUE(IsUnnamed(u));
  EXPECT_EQ(VectorsConfigToJson(u), Json::parse(R"({"size": 8, "distance": "Cosine"})"));

  CollectionSchema n = Named();
  EXPECT_FALSE(IsUnnamed(n));
  EXPECT_EQ(n.Find("img")->metric, Metric::kL2);
  EXPECT_EQ(n.Find("txt")->metric, Metric::kInnerProduct);
  EXPECT_EQ(VectorsConfigToJson(n)["txt"], Json::parse(R"({"size": 2, "distance": "Dot"})"));
}

TEST(QdrantCollections, HnswQuantizationAndWhatIsRefused) {
  auto flat = CreateCollectionFromJson(Json::parse(
      R"({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 0}, "shard_number": 2,
          "optimizers_config": null, "on_disk_payload": true})"));
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(flat.value().vectors[0].index.kind, IndexKind::kFlat);
  auto sq8 = CreateCollectionFromJson(Json::parse(
      R"({"vectors": {"a": {"size": 4, "distance": "Cosine", "hnsw_config": {"m": 8, "ef_construct": 50}}},
          "quantization_config": {"scalar": {"type": "int8", "always_ram": true}}})"));
  ASSERT_TRUE(sq8.ok()) << sq8.status().ToString();
  EXPECT_EQ(sq8.value().vectors[0].index.m, 8u);
  EXPECT_EQ(sq8.value().vectors[0].index.ef_search, 50u);  // Qdrant searches with ef_construct
  EXPECT_TRUE(sq8.value().vectors[0].index.sq8);

  EXPECT_NE(Error(CreateCollectionFromJson(
                      Json::parse(R"({"vectors": {"size": 4, "distance": "Manhattan"}})"))
                      .status())
                .find("Manhattan"),
            std::string::npos);
  EXPECT_NE(
      Error(
          CreateCollectionFromJson(
              Json::parse(
                  R"({"vectors": {"size": 4, "distance": "Cosine"}, "sparse_vectors": {"s": {}}})"))
              .status())
          .find("sparse"),
      std::string::npos);
  EXPECT_FALSE(
      CreateCollectionFromJson(Json::parse(R"({"vectors": {"size": 0, "distance": "Cosine"}})"))
          .ok());
  EXPECT_FALSE(CreateCollectionFromJson(Json::parse(R"({"sparse_vectors": null})")).ok());
}

TEST(QdrantCollections, InfoHasQdrantsShape) {
  CollectionInfo info;
  info.name = "c";
  info.schema = Unnamed(4);
  info.points = 7;
  info.payload_indexes["color"] = PayloadIndexType::kKeyword;
  Json j = CollectionInfoToJson(info, {{"color", 5}});
  EXPECT_EQ(j["status"], "green");
  EXPECT_EQ(j["optimizer_status"], "ok");
  EXPECT_EQ(j["points_count"], 7);
  EXPECT_EQ(j["config"]["params"]["vectors"]["size"], 4);
  EXPECT_EQ(j["config"]["hnsw_config"]["m"], 16);
  EXPECT_TRUE(j["config"]["quantization_config"].is_null());
  EXPECT_EQ(j["payload_schema"]["color"], Json::parse(R"({"data_type": "keyword", "points": 5})"));
}

TEST(QdrantCollections, FieldSchemas) {
  EXPECT_EQ(FieldSchemaFromJson(Json("keyword")).value(), PayloadIndexType::kKeyword);
  EXPECT_EQ(FieldSchemaFromJson(Json::parse(R"({"type": "integer", "range": true})")).value(),
            PayloadIndexType::kInteger);
  EXPECT_EQ(FieldSchemaFromJson(Json("uuid")).value(), PayloadIndexType::kKeyword);
  EXPECT_EQ(FieldSchemaFromJson(Json("bool")).value(), std::nullopt);  // accepted, nothing to build
  EXPECT_NE(Error(FieldSchemaFromJson(Json("geo")).status()).find("geo"), std::string::npos);
  EXPECT_FALSE(FieldSchemaFromJson(Json("blob")).ok());
}

TEST(QdrantPoints, ListAndBatchForms) {
  CollectionSchema u = Unnamed(2);
  auto list = PointsFromJson(Json::parse(R"({"points": [
      {"id": 1, "vector": [1, 2], "payload": {"a": 1}},
      {"id": "5C56C793-69F3-4FBF-87E6-C4BF54C28C26", "vector": [3, 4], "payload": null}]})"),
                             u);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list.value().size(), 2u);
  EXPECT_EQ(list.value()[0].vectors.at(kUnnamedVector), (std::vector<float>{1, 2}));
  EXPECT_EQ(list.value()[1].id, PointId("5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
  EXPECT_EQ(list.value()[1].payload, Json::object());

  CollectionSchema n = Named();
  auto batch = PointsFromJson(Json::parse(R"({"batch": {"ids": [7, 8],
      "vectors": {"img": [[1, 2, 3], [4, 5, 6]], "txt": [[1, 0], [0, 1]]},
      "payloads": [{"k": "v"}, null]}})"),
                              n);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch.value()[1].vectors.at("img"), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(batch.value()[0].payload, Json::parse(R"({"k": "v"})"));

  EXPECT_NE(
      Error(PointsFromJson(Json::parse(R"({"batch": {"ids": [1, 2], "vectors": [[1, 2]]}})"), u)
                .status())
          .find("one per id"),
      std::string::npos);
  EXPECT_NE(
      Error(
          PointsFromJson(
              Json::parse(
                  R"({"points": [{"id": 1, "vector": {"img": {"indices": [0], "values": [1]}}}]})"),
              n)
              .status())
          .find("sparse"),
      std::string::npos);
  EXPECT_NE(
      Error(PointsFromJson(Json::parse(R"({"points": [{"id": 1, "vector": [[1, 2], [3, 4]]}]})"), u)
                .status())
          .find("multivector"),
      std::string::npos);
  EXPECT_NE(
      Error(PointsFromJson(Json::parse(R"({"points": [{"id": 1, "payload": {}}]})"), u).status())
          .find("points[0].vector: missing"),
      std::string::npos);
  // A bare vector in a collection of named vectors: which one is ambiguous.
  EXPECT_FALSE(
      PointsFromJson(Json::parse(R"({"points": [{"id": 1, "vector": [1, 2, 3]}]})"), n).ok());
  EXPECT_NE(
      Error(PointsFromJson(Json::parse(R"({"points": [{"id": 1, "vector": {"nope": [1]}}]})"), n)
                .status())
          .find("nope"),
      std::string::npos);
}

Json Translate(const char* filter) {
  auto f = FilterToMosaicJson(Json::parse(filter), "filter");
  EXPECT_TRUE(f.ok()) << filter << ": " << f.status().ToString();
  if (f.ok()) {
    EXPECT_TRUE(Filter::FromJson(f.value()).ok()) << f.value().dump();
  }
  return f.ok() ? f.value() : Json();
}

TEST(QdrantFilters, PassThroughAndNullsDropped) {
  EXPECT_EQ(
      Translate(
          R"({"must": [{"key": "a", "match": {"value": "x"}, "range": null, "geo_radius": null,
                                    "values_count": null, "is_empty": null}],
                          "should": null, "min_should": null})"),
      Json::parse(R"({"must": [{"key": "a", "match": {"value": "x"}}]})"));
  EXPECT_EQ(
      Translate(R"({"must_not": {"has_id": [1, "5C56C793-69F3-4FBF-87E6-C4BF54C28C26"]}})"),
      Json::parse(R"({"must_not": [{"has_id": [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}]})"));
}

TEST(QdrantFilters, TranslatedConditions) {
  EXPECT_EQ(Translate(R"({"must": [{"key": "t", "match": {"text_any": "red the car"}}]})"),
            Json::parse(R"({"must": [{"should": [{"key": "t", "match": {"text": "red"}},
                                                   {"key": "t", "match": {"text": "car"}}]}]})"));
  EXPECT_EQ(
      Translate(R"({"must": [{"key": "n", "is_empty": false}, {"key": "m", "is_null": true}]})"),
      Json::parse(
          R"({"must": [{"must_not": [{"is_empty": {"key": "n"}}]}, {"is_null": {"key": "m"}}]})"));
  EXPECT_EQ(
      Translate(
          R"({"must": [{"nested": {"key": "items", "filter": {"must": [{"key": "kind", "match": {"value": "x"}}]}}}]})"),
      Json::parse(R"({"must": [{"key": "items[].kind", "match": {"value": "x"}}]})"));
  EXPECT_EQ(Translate(R"({"must": [{"nested": {"key": "a[]", "filter": {"should": [
                          {"key": "b", "range": {"gt": 1}}, {"nested": {"key": "c", "filter": {"must": {"key": "d", "match": {"value": 2}}}}}]}}}]})"),
            Json::parse(R"({"must": [{"should": [{"key": "a[].b", "range": {"gt": 1}},
                                                   {"key": "a[].c[].d", "match": {"value": 2}}]}]})"));
  // min_should 2 of 3: every pair must hold.
  Json ms = Translate(R"({"min_should": {"conditions": [{"key": "a", "match": {"value": 1}},
                          {"key": "b", "match": {"value": 2}}, {"key": "c", "match": {"value": 3}}], "min_count": 2}})");
  ASSERT_EQ(ms["must"].size(), 1u);
  EXPECT_EQ(ms["must"][0]["should"].size(), 3u);
  EXPECT_EQ(ms["must"][0]["should"][2]["must"][0]["key"], "b");
  Filter f = Filter::FromJson(ms).value();
  EXPECT_TRUE(f.Matches(PointId(1), Json::parse(R"({"a": 1, "c": 3})")));
  EXPECT_FALSE(f.Matches(PointId(1), Json::parse(R"({"a": 1, "c": 4})")));
  EXPECT_EQ(
      Translate(
          R"({"min_should": {"conditions": [{"key": "a", "match": {"value": 1}}], "min_count": 1}})"),
      Json::parse(R"({"must": [{"should": [{"key": "a", "match": {"value": 1}}]}]})"));
}

TEST(QdrantFilters, WhatIsRefusedIsNamed) {
  auto err = [](const char* filter) {
    auto f = FilterToMosaicJson(Json::parse(filter), "filter");
    EXPECT_FALSE(f.ok()) << filter;
    return f.ok() ? "" : f.status().message();
  };
  EXPECT_NE(
      err(R"({"must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1}}]})")
          .find("geo"),
      std::string::npos);
  EXPECT_NE(err(R"({"must": [{"key": "tags", "values_count": {"gt": 1}}]})").find("values_count"),
            std::string::npos);
  EXPECT_NE(err(R"({"must": [{"has_vector": "img"}]})").find("has_vector"), std::string::npos);
  EXPECT_NE(
      err(R"({"must": [{"nested": {"key": "i", "filter": {"must": [{"key": "a", "match": {"value": 1}},
                               {"key": "b", "match": {"value": 2}}]}}}]})")
          .find("several conditions"),
      std::string::npos);
  EXPECT_NE(
      err(R"({"must": [{"nested": {"key": "i", "filter": {"must_not": [{"key": "a", "match": {"value": 1}}]}}}]})")
          .find("must_not"),
      std::string::npos);
  EXPECT_NE(err(R"({"must": [{"key": "t", "match": {"text_any": "the of"}}]})").find("no words"),
            std::string::npos);
  EXPECT_NE(err(R"({"must": [{"has_id": [-1]}]})").find("filter.must[0].has_id[0]"),
            std::string::npos);
}

TEST(QdrantRequests, SearchRecommendAndQuery) {
  CollectionSchema n = Named();
  auto s = SearchRequestFromJson(
      Json::parse(R"({"vector": {"name": "img", "vector": [1, 2, 3]}, "limit": 3,
      "offset": 2, "score_threshold": 0.5, "params": {"hnsw_ef": 32, "exact": false}, "with_payload": ["a"]})"),
      n);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s.value().request.using_vector, "img");
  EXPECT_EQ(s.value().request.limit, 3u);
  EXPECT_EQ(s.value().request.offset, 2u);
  EXPECT_EQ(s.value().request.params.ef, 32u);
  EXPECT_FLOAT_EQ(*s.value().request.score_threshold, 0.5f);
  EXPECT_EQ(s.value().output.payload.kind, PayloadSelector::Kind::kInclude);
  EXPECT_FALSE(s.value().output.vectors.any);

  auto r = RecommendRequestFromJson(
      Json::parse(R"({"positive": [1, "5C56C793-69F3-4FBF-87E6-C4BF54C28C26", [0.5, 0.5]],
      "negative": [2], "strategy": "best_score", "using": "txt"})"),
      n);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto* rq = std::get_if<query::RecommendQuery>(&r.value().request.query);
  ASSERT_NE(rq, nullptr);
  ASSERT_EQ(rq->positive.size(), 3u);
  EXPECT_EQ(rq->positive[1].id, PointId("5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
  EXPECT_EQ(rq->positive[2].kind, query::InputKind::kVector);
  EXPECT_EQ(rq->strategy, query::RecommendStrategy::kBestScore);
  EXPECT_NE(
      RecommendRequestFromJson(Json::parse(R"({"positive": [1], "strategy": "sum_scores"})"), n)
          .status()
          .message()
          .find("sum_scores"),
      std::string::npos);

  CollectionSchema u = Unnamed(2);
  auto q = QueryRequestFromJson(
      Json::parse(R"({"prefetch": [{"query": [1, 0]}, {"query": 7, "limit": 50}],
      "query": {"rrf": {"k": 60}}, "limit": 5, "with_vector": true})"),
      u);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const query::QueryRequest& qr = q.value().request;
  ASSERT_EQ(qr.prefetch.size(), 2u);
  EXPECT_EQ(*qr.prefetch[0].limit, 10u);  // Qdrant's default prefetch limit
  EXPECT_EQ(qr.prefetch[0].using_vector, kUnnamedVector);
  auto* by_id = std::get_if<query::NearestQuery>(&qr.prefetch[1].query);
  ASSERT_NE(by_id, nullptr);
  EXPECT_EQ(by_id->inputs[0].id, PointId(7));
  // Qdrant's 1 / (k + position from 0) is Mosaic's 1 / (k' + rank from 1) with k' = k - 1.
  EXPECT_FLOAT_EQ(std::get<query::FusionQuery>(qr.query).k, 59.0f);
  EXPECT_FALSE(qr.snippet);
  EXPECT_TRUE(q.value().output.vectors.any);
  auto dflt = QueryRequestFromJson(
      Json::parse(R"({"prefetch": {"query": [1, 0]}, "query": {"fusion": "rrf"}})"), u);
  EXPECT_FLOAT_EQ(std::get<query::FusionQuery>(dflt.value().request.query).k,
                  1.0f);  // Qdrant's k 2

  auto ob = QueryRequestFromJson(
      Json::parse(R"({"query": {"order_by": {"key": "p", "direction": "desc", "start_from": 5}}})"),
      u);
  ASSERT_TRUE(ob.ok()) << ob.status().ToString();
  EXPECT_TRUE(std::get<query::OrderByQuery>(ob.value().request.query).order_by.descending);
  ASSERT_TRUE(ob.value().request.filter);
  EXPECT_TRUE(ob.value().request.filter->Matches(PointId(1), Json::parse(R"({"p": 4})")));
  EXPECT_FALSE(ob.value().request.filter->Matches(PointId(1), Json::parse(R"({"p": 6})")));
  EXPECT_FALSE(ob.value().request.filter->Matches(PointId(1), Json::parse(R"({"q": 1})")));

  auto groups = QueryRequestFromJson(Json::parse(R"({"query": [1, 0], "group_by": "g"})"), u);
  ASSERT_TRUE(groups.value().request.group_by);
  EXPECT_EQ(groups.value().request.group_by->group_size, 3u);  // Qdrant's default

  for (const char* bad :
       {R"({"query": {"discover": {"target": 1, "context": []}}})",
        R"({"query": {"indices": [1], "values": [1]}})",
        R"({"query": {"rrf": {"weights": [2, 1]}}, "prefetch": [{"query": [1, 0]}]})",
        R"({"query": {"text": "a dog", "model": "m"}})",
        R"({"query": [1, 0], "lookup_from": {"collection": "other"}})",
        R"({"query": [1, 0], "using": "nope"})"})
    EXPECT_FALSE(QueryRequestFromJson(Json::parse(bad), u).ok()) << bad;
}

TEST(QdrantOutput, SelectorsAndVectorShapes) {
  Json payload = Json::parse(R"({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]})");
  PayloadSelector inc{PayloadSelector::Kind::kInclude, {"a", "b.c", "missing"}};
  EXPECT_EQ(SelectPayload(payload, inc), Json::parse(R"({"a": 1, "b": {"c": 2}})"));
  PayloadSelector exc{PayloadSelector::Kind::kExclude, {"b.d", "e"}};
  EXPECT_EQ(SelectPayload(payload, exc), Json::parse(R"({"a": 1, "b": {"c": 2}})"));
  EXPECT_FALSE(PayloadSelectorFromJson(nullptr, false, "with_payload").value().any());
  Json t = true;
  EXPECT_EQ(PayloadSelectorFromJson(&t, false, "with_payload").value().kind,
            PayloadSelector::Kind::kAll);

  query::Hit h;
  h.id = PointId(UINT64_MAX);
  h.score = 0.5f;
  h.payload = payload;
  h.vectors[kUnnamedVector] = {1, 2};
  OutputSpec out;
  out.vectors.any = true;
  out.payload.kind = PayloadSelector::Kind::kNone;
  Json j = ScoredPointToJson(h, Unnamed(2), out);
  EXPECT_EQ(j.dump(), R"({"id":18446744073709551615,"score":0.5,"vector":[1.0,2.0],"version":0})");

  Point p;
  p.id = PointId("5c56c793-69f3-4fbf-87e6-c4bf54c28c26");
  p.vectors = {{"img", {1, 2, 3}}, {"txt", {4, 5}}};
  Json names = Json::array({"txt"});
  out.vectors = VectorSelectorFromJson(&names, Named(), "with_vector").value();
  out.payload.kind = PayloadSelector::Kind::kAll;
  EXPECT_EQ(
      RecordToJson(p, Named(), out),
      Json::parse(
          R"({"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "payload": {}, "vector": {"txt": [4, 5]}})"));
}

}  // namespace
}  // namespace mosaic::wire::qdrant
