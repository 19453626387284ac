#include "index/filter/json_path.h"

namespace mosaic::index {

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("invalid key \"" + std::string(text) +
                                   "\": " + std::string(why));
  };
  if (text.empty()) return invalid("the key is empty");
  JsonPath path;
  path.text_ = std::string(text);
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view piece =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    Segment segment;
    if (piece.size() >= 2 && piece.substr(piece.size() - 2) == "[]") {
      segment.expand = true;
      piece.remove_suffix(2);
    }
    if (piece.empty()) return invalid("empty path segment");
    if (piece.find_first_of("[]") != std::string_view::npos)
      return invalid("only a trailing \"[]\" may follow a segment name");
    segment.name = std::string(piece);
    path.segments_.push_back(std::move(segment));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

}  // namespace mosaic::index
