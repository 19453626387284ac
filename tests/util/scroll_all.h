// The observable contents of a collection, for tests that compare states: every point as
// id -> (payload, vector), read by scrolling. Header-only (the test binary links the collection).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mosaic/collection.h"

namespace mosaic::testing {

using PointModel = std::map<PointId, std::pair<Json, std::vector<float>>>;

// The points of `c` with their payloads and the vector named `vector`.
inline PointModel ScrollAll(Collection& c, const std::string& vector = "v") {
  PointModel m;
  ScrollRequest r;
  r.limit = 1000;
  r.with_vectors = true;
  for (;;) {
    auto page = c.Scroll(r);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return m;
    for (auto& p : page->points) m[p.id] = {p.payload, p.vectors[vector]};
    if (!page->next_offset) return m;
    r.offset = page->next_offset;
  }
}

}  // namespace mosaic::testing
