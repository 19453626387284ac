// Fuzzes the delta file reader (src/storage/segment_delta.h, docs/segment_format.md): each input
// is decoded as it is, and again with its trailing checksum recomputed so that mutated bodies
// reach the checks behind it. A delta that decodes is written back and must decode to the same
// (payloads compared as JSON text: a NaN, which MessagePack can hold, is never == itself).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "mosaic/env.h"
#include "storage/segment_delta.h"

namespace {

std::string Text(const mosaic::Json& j) {
  return j.dump(-1, ' ', false, mosaic::Json::error_handler_t::replace);
}

void Decode(std::string_view bytes) {
  auto d = mosaic::storage::DecodeDelta(bytes, "fuzz.del");
  if (!d.ok()) return;
  const std::string path = mosaic::fuzz::WriteScratchFile("fuzz.del", "");
  if (!mosaic::storage::WriteDelta(mosaic::Env::Default(), path, *d).ok()) std::abort();
  auto again = mosaic::storage::ReadDelta(mosaic::Env::Default(), path);
  if (!again.ok() || again->manifest != d->manifest ||
      again->payloads.size() != d->payloads.size() || again->dead.size() != d->dead.size())
    std::abort();
  for (size_t i = 0; i < d->payloads.size(); ++i)
    if (again->payloads[i].first != d->payloads[i].first ||
        Text(again->payloads[i].second) != Text(d->payloads[i].second))
      std::abort();
  for (size_t i = 0; i < d->dead.size(); ++i)
    if (again->dead.Test(i) != d->dead.Test(i)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mosaic::fuzz::WithTrailingCrcFixed({reinterpret_cast<const char*>(data), size}, Decode);
  return 0;
}
