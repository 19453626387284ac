// Binary encoding of point ids, shared by the WAL and segment formats: a tag byte, then a varint
// (tag 0, integer id) or a length-prefixed string (tag 1). Stateless; thread-safe.
#pragma once

#include <string>

#include "common/coding.h"
#include "mosaic/types.h"

namespace mosaic {

inline void PutPointId(std::string* dst, const PointId& id) {
  if (id.is_num()) {
    dst->push_back(0);
    PutVarint64(dst, id.num());
  } else {
    dst->push_back(1);
    PutLengthPrefixed(dst, id.str());
  }
}

// False on truncated input or an unknown tag.
inline bool GetPointId(Decoder* d, PointId* id) {
  uint8_t tag;
  if (!d->GetByte(&tag)) return false;
  if (tag == 0) {
    uint64_t n;
    if (!d->GetVarint64(&n)) return false;
    *id = PointId(n);
    return true;
  }
  std::string_view s;
  if (tag != 1 || !d->GetLengthPrefixed(&s)) return false;
  *id = PointId(std::string(s));
  return true;
}

}  // namespace mosaic
