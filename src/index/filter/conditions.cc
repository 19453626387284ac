#include "index/filter/conditions.h"

#include <algorithm>
#include <unordered_set>

#include "index/filter/datetime.h"

namespace mosaic::index {

bool BoolNode::Matches(const PointId& id, const Json& payload) const {
  for (const auto& node : must_)
    if (!node->Matches(id, payload)) return false;
  for (const auto& node : must_not_)
    if (node->Matches(id, payload)) return false;
  if (should_.empty()) return true;
  for (const auto& node : should_)
    if (node->Matches(id, payload)) return true;
  return false;
}

void MatchValues::Seal() {
  std::sort(strings_.begin(), strings_.end());
  strings_.erase(std::unique(strings_.begin(), strings_.end()), strings_.end());
  std::sort(integers_.begin(), integers_.end());
  integers_.erase(std::unique(integers_.begin(), integers_.end()), integers_.end());
}

bool MatchValues::Contains(const Json& value) const {
  switch (value.type()) {
    case Json::value_t::string:
      return std::binary_search(strings_.begin(), strings_.end(),
                                value.get_ref<const std::string&>());
    case Json::value_t::boolean:
      return value.get<bool>() ? has_true_ : has_false_;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      if (integers_.empty()) return false;
      std::optional<Number> n = NumberOf(value);
      if (!n) return false;
      std::optional<Int128> integral = IntegralValue(*n);
      return integral && std::binary_search(integers_.begin(), integers_.end(), *integral);
    }
    default:
      return false;
  }
}

bool MatchNode::Matches(const PointId&, const Json& payload) const {
  if (mode_ == Mode::kAny)
    return path_.AnyValue(payload, true, [&](const Json& v) { return values_.Contains(v); });
  return path_.AnyValue(payload, true, [&](const Json& v) {
    return (v.is_string() || v.is_number() || v.is_boolean()) && !values_.Contains(v);
  });
}

TextMatchNode::TextMatchNode(JsonPath path, Mode mode, std::vector<std::string> terms,
                             text::WordTokenizer tokenizer)
    : path_(std::move(path)),
      mode_(mode),
      terms_(std::move(terms)),
      distinct_terms_(terms_),
      tokenizer_(std::move(tokenizer)) {
  std::sort(distinct_terms_.begin(), distinct_terms_.end());
  distinct_terms_.erase(std::unique(distinct_terms_.begin(), distinct_terms_.end()),
                        distinct_terms_.end());
}

bool TextMatchNode::Matches(const PointId&, const Json& payload) const {
  if (mode_ == Mode::kPhrase) {
    return path_.AnyValue(payload, true, [&](const Json& v) {
      if (!v.is_string()) return false;
      std::vector<std::string> words = tokenizer_.Terms(v.get_ref<const std::string&>());
      return std::search(words.begin(), words.end(), terms_.begin(), terms_.end()) != words.end();
    });
  }
  // The terms may be spread over several strings: note each one found until all are.
  std::unordered_set<std::string_view> missing(distinct_terms_.begin(), distinct_terms_.end());
  return path_.AnyValue(payload, true, [&](const Json& v) {
    if (!v.is_string()) return false;
    for (const std::string& word : tokenizer_.Terms(v.get_ref<const std::string&>()))
      missing.erase(word);
    return missing.empty();
  });
}

bool RangeNode::Contains(const Number& n) const {
  if (bounds_.gt && CompareNumbers(n, *bounds_.gt) <= 0) return false;
  if (bounds_.gte && CompareNumbers(n, *bounds_.gte) < 0) return false;
  if (bounds_.lt && CompareNumbers(n, *bounds_.lt) >= 0) return false;
  if (bounds_.lte && CompareNumbers(n, *bounds_.lte) > 0) return false;
  return true;
}

bool RangeNode::Matches(const PointId&, const Json& payload) const {
  if (datetime_) {
    return path_.AnyValue(payload, true, [&](const Json& v) {
      if (!v.is_string()) return false;
      std::optional<int64_t> instant = ParseDatetime(v.get_ref<const std::string&>());
      return instant && Contains(Number::Int(*instant));
    });
  }
  return path_.AnyValue(payload, true, [&](const Json& v) {
    std::optional<Number> n = NumberOf(v);
    return n && Contains(*n);
  });
}

bool IsNullNode::Matches(const PointId&, const Json& payload) const {
  return path_.AnyValue(payload, false, [](const Json& v) { return v.is_null(); });
}

bool IsEmptyNode::Matches(const PointId&, const Json& payload) const {
  return !path_.AnyValue(payload, true, [](const Json& v) { return !v.is_null(); });
}

HasIdNode::HasIdNode(std::vector<PointId> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool HasIdNode::Matches(const PointId& id, const Json&) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

}  // namespace mosaic::index
