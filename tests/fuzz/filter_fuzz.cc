// Fuzzes the filter language (docs/filters.md): Filter::Parse on any text, then every filter that
// parses is evaluated against payloads of each JSON type and must survive a round trip through its
// own JSON.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mosaic/filter.h"

namespace {

const mosaic::Json& Payloads() {
  static const mosaic::Json p = mosaic::Json::parse(R"([
    {},
    {"color": "red", "price": 12.5, "count": 3, "neg": -7, "ok": true, "none": null,
     "tags": ["a", "b", 1, 2.5, true, null], "empty": [], "blank": "",
     "date": "2024-03-05T10:00:00Z", "day": "2024-03-05",
     "text": "The quick brown foxes jumped over the lazy dogs",
     "nested": {"x": 1, "y": "z", "arr": [{"k": 2}, {"k": "v"}, []]},
     "deep": [[1, [2, [3]]], {"a": {"b": {"c": "d"}}}]},
    {"color": ["red", "green"], "price": "12", "count": 18446744073709551615,
     "text": ["Ünïcödé wörds", "日本語のテキスト"], "nested": [{"x": 2}, {"x": null}]}
  ])");
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mosaic::Result<mosaic::Filter> f = mosaic::Filter::Parse(text);
  if (!f.ok()) return 0;
  const mosaic::PointId ids[] = {mosaic::PointId(uint64_t{0}), mosaic::PointId(uint64_t{42}),
                                 mosaic::PointId("550e8400-e29b-41d4-a716-446655440000")};
  for (const mosaic::Json& payload : Payloads())
    for (const mosaic::PointId& id : ids) f->Matches(id, payload);
  mosaic::Result<mosaic::Filter> again = mosaic::Filter::FromJson(f->json());
  if (!again.ok()) {
    std::fprintf(stderr, "filter %s parsed once, not again: %s\n", f->json().dump().c_str(),
                 again.status().ToString().c_str());
    std::abort();
  }
  return 0;
}
