#include "mosaic/filter.h"

#include <string>

#include "index/filter/filter_node.h"

namespace mosaic {

Result<Filter> Filter::Parse(std::string_view json_text) {
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1, column 18: <detail>";
    // keep the detail and report the byte offset, which is what a one-line CLI argument needs.
    std::string detail = e.what();
    size_t at = detail.find("parse error");
    size_t colon = at == std::string::npos ? std::string::npos : detail.find(": ", at);
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    return Status::InvalidArgument("invalid filter JSON at byte " + std::to_string(e.byte) + ": " +
                                   detail);
  } catch (const Json::out_of_range& e) {
    // A number past double's range (1e400) is out_of_range, not a parse_error.
    return Status::InvalidArgument(std::string("invalid filter JSON: ") + e.what());
  }
  return FromJson(j);
}

Result<Filter> Filter::FromJson(const Json& j) {
  MOSAIC_ASSIGN_OR_RETURN(auto root, index::CompileFilter(j));
  Filter filter;
  filter.json_ = j;
  filter.root_ = std::move(root);
  return filter;
}

bool Filter::Matches(const PointId& id, const Json& payload) const {
  // A default-constructed Filter has no root and, like the empty filter {}, matches everything.
  return root_ == nullptr || root_->Matches(id, payload);
}

}  // namespace mosaic
