#include "util/wal_v1.h"

#include "common/coding.h"
#include "common/crc32c.h"

namespace mosaic::testing {

std::string Version1Wal(const std::vector<std::pair<uint8_t, std::string>>& records) {
  std::string out("MOSWAL\0\0", 8);
  PutFixed32(&out, 1);
  PutFixed32(&out, 0);
  for (const auto& [type, payload] : records) {
    // masked crc32c of type + payload | length | type | payload
    const char t = static_cast<char>(type);
    uint32_t crc = crc32c::Extend(crc32c::Extend(0, &t, 1), payload.data(), payload.size());
    PutFixed32(&out, crc32c::Mask(crc));
    PutFixed32(&out, static_cast<uint32_t>(payload.size()));
    out.push_back(t);
    out += payload;
  }
  return out;
}

}  // namespace mosaic::testing
