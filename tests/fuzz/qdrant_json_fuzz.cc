// Fuzzes the Qdrant-compatible API's request bodies (src/wire/qdrant_codec.h, docs/qdrant.md):
// each body is read by every request parser of the codec, against a collection with Qdrant's
// single unnamed vector and against one with two named vectors.
#include <cstdlib>
#include <string>

#include "wire/json_parse.h"
#include "wire/qdrant_codec.h"

namespace {

namespace qdrant = mosaic::wire::qdrant;

mosaic::CollectionSchema Schema(const char* create_body) {
  auto s = qdrant::CreateCollectionFromJson(mosaic::Json::parse(create_body));
  if (!s.ok()) std::abort();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mosaic::CollectionSchema schemas[] = {
      Schema(R"({"vectors": {"size": 4, "distance": "Cosine"}})"),
      Schema(R"({"vectors": {"image": {"size": 3, "distance": "Dot"},
                             "text": {"size": 2, "distance": "Euclid"}},
                 "hnsw_config": {"m": 0}})"),
  };
  mosaic::Result<mosaic::Json> parsed =
      mosaic::wire::ParseJson(std::string(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  const mosaic::Json& j = *parsed;
  qdrant::CreateCollectionFromJson(j).ok();
  qdrant::FieldSchemaFromJson(j).ok();
  qdrant::FacetRequestFromJson(j).ok();
  qdrant::FilterFromJson(&j, "filter").ok();
  qdrant::IdsFromJson(j, "ids").ok();
  for (const mosaic::CollectionSchema& schema : schemas) {
    qdrant::PointsFromJson(j, schema).ok();
    qdrant::SearchRequestFromJson(j, schema).ok();
    qdrant::RecommendRequestFromJson(j, schema).ok();
    qdrant::QueryRequestFromJson(j, schema).ok();
    qdrant::ScrollRequestFromJson(j, schema).ok();
    qdrant::VectorSelectorFromJson(&j, schema, "with_vector").ok();
    qdrant::PayloadSelectorFromJson(&j, true, "with_payload").ok();
  }
  return 0;
}
