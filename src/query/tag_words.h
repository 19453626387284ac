// Words for matching object tags against a query: case-folded, stopwords dropped and plurals made
// singular ("dogs" -> "dog", "berries" -> "berry", "people" -> "person"), but not stemmed: a
// stemmer makes "animal" and "animate being" (WordNet's term for a person) both "anim".
// Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mosaic::query {

std::vector<std::string> TagWords(std::string_view text);

}  // namespace mosaic::query
