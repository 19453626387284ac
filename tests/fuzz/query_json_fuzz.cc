// Fuzzes the native API's request bodies (docs/query.md, docs/applications.md): the text is
// parsed as the server parses a body (wire::ParseJson, simdjson), checked against nlohmann's
// parser (json_parse.h promises the same values), then read as a query request and as the
// request of each application, with and without server-side paths allowed.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "wire/apps_codec.h"
#include "wire/json_parse.h"
#include "wire/query_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  mosaic::Result<mosaic::Json> parsed = mosaic::wire::ParseJson(text);
  if (!parsed.ok()) return 0;
  const mosaic::Json& j = *parsed;
  mosaic::Json reference = mosaic::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!reference.is_discarded() && reference != j) {
    std::fprintf(stderr, "simdjson and nlohmann disagree:\n  %s\n  %s\n", j.dump().c_str(),
                 reference.dump().c_str());
    std::abort();
  }
  for (bool allow_paths : {false, true}) {
    mosaic::wire::QueryCodecOptions options;
    options.allow_paths = allow_paths;
    mosaic::wire::QueryRequestFromJson(j, options).ok();
    mosaic::wire::RecommendRequestFromJson(j, options).ok();
    if (j.is_object() && j.contains("query"))
      mosaic::wire::InputFromJson(j["query"], "query", options).ok();
  }
  mosaic::wire::ClassifyRequestFromJson(j).ok();
  mosaic::wire::ClusterRequestFromJson(j).ok();
  mosaic::wire::DedupOptionsFromJson(j).ok();
  mosaic::wire::PeopleClusterOptionsFromJson(j).ok();
  mosaic::wire::PassageRequestFromJson(j).ok();
  mosaic::wire::AskRequestFromJson(j).ok();
  return 0;
}
