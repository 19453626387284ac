// Dataset sizes for tests that run on real data. The sanitizer pass of scripts/test sets
// MOSAIC_TEST_SCALE=small: the same code paths and assertions run on a smaller slice, so the
// instrumented (10-50x slower) build stays within CI's time.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace mosaic::testing {

inline bool SmallScale() {
  const char* s = std::getenv("MOSAIC_TEST_SCALE");
  return s != nullptr && std::strcmp(s, "small") == 0;
}

inline size_t Scaled(size_t full, size_t small) { return SmallScale() ? small : full; }

}  // namespace mosaic::testing
