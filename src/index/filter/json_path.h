// JsonPath: a parsed payload key such as "a.b.c" or "items[].color", and the walk that finds the
// values it names in a payload. Immutable after Parse; thread-safe to share.
//
// Each dot-separated segment names an object member. A segment ending in "[]" descends into every
// element of the array it names (a non-array value there is taken as a one-element array), which
// is how conditions reach into arrays of objects. An array met without "[]" in the middle of a
// path ends the walk: "items.color" does not look inside an array of items.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::index {

class JsonPath {
 public:
  // InvalidArgument (naming `text`) for an empty path or segment, or a bracket other than a
  // trailing "[]".
  static Result<JsonPath> Parse(std::string_view text);

  const std::string& text() const { return text_; }

  // Calls `fn(value)` on each value the path reaches in `payload` until `fn` returns true, and
  // returns whether it did. With `flatten_leaf_arrays`, an array at the end of the path stands for
  // its elements, which gives conditions their "any element matches" meaning; without it the
  // array itself is visited (is_null wants to see [null] as an array, not as a null).
  template <typename Fn>
  bool AnyValue(const Json& payload, bool flatten_leaf_arrays, Fn&& fn) const {
    return Walk(payload, 0, flatten_leaf_arrays, fn);
  }

 private:
  struct Segment {
    std::string name;
    bool expand = false;  // written "name[]"
  };

  template <typename Fn>
  bool Walk(const Json& node, size_t depth, bool flatten, Fn& fn) const {
    if (depth == segments_.size()) {
      if (flatten && node.is_array()) {
        for (const Json& element : node)
          if (fn(element)) return true;
        return false;
      }
      return fn(node);
    }
    if (!node.is_object()) return false;
    const Segment& segment = segments_[depth];
    auto it = node.find(segment.name);
    if (it == node.end()) return false;
    if (segment.expand && it->is_array()) {
      for (const Json& element : *it)
        if (Walk(element, depth + 1, flatten, fn)) return true;
      return false;
    }
    return Walk(*it, depth + 1, flatten, fn);
  }

  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace mosaic::index
