// CompileFilter: turns filter JSON into a FilterNode tree, rejecting anything that is not exactly
// the grammar of docs/filters.md. Being strict here is what keeps a typo ("mtch", "lte": "10")
// from silently matching everything or nothing.
#include <array>
#include <string_view>

#include "index/filter/conditions.h"
#include "index/filter/datetime.h"
#include "index/filter/filter_node.h"
#include "index/text/bm25_index.h"

namespace mosaic::index {
namespace {

// Filters arrive from users; bound the recursion so a hostile one cannot exhaust the stack.
constexpr int kMaxDepth = 64;
// Error messages quote the offending JSON, cut to this many bytes.
constexpr size_t kMaxQuotedBytes = 200;

constexpr std::array<std::string_view, 3> kClauses = {"must", "should", "must_not"};

std::string Quote(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > kMaxQuotedBytes) {
    s.resize(kMaxQuotedBytes);
    s += "...";
  }
  return s;
}

using NodeResult = Result<std::unique_ptr<const FilterNode>>;

template <typename Node, typename... Args>
NodeResult Make(Args&&... args) {
  return std::unique_ptr<const FilterNode>(
      std::make_unique<const Node>(std::forward<Args>(args)...));
}

Status Invalid(const std::string& message) {
  return Status::InvalidArgument("filter: " + message);
}

bool IsClause(std::string_view key) {
  for (std::string_view c : kClauses)
    if (key == c) return true;
  return false;
}

NodeResult CompileCondition(const Json& c, int depth);

Result<FilterNodes> CompileClause(const Json& filter, std::string_view name, int depth) {
  FilterNodes nodes;
  auto it = filter.find(name);
  if (it == filter.end()) return nodes;
  if (it->is_object()) {
    MOSAIC_ASSIGN_OR_RETURN(auto node, CompileCondition(*it, depth));
    nodes.push_back(std::move(node));
    return nodes;
  }
  if (!it->is_array())
    return Invalid("\"" + std::string(name) +
                   "\" must be an array of conditions or a single condition, got " + Quote(*it));
  for (const Json& c : *it) {
    MOSAIC_ASSIGN_OR_RETURN(auto node, CompileCondition(c, depth));
    nodes.push_back(std::move(node));
  }
  return nodes;
}

NodeResult CompileBool(const Json& f, int depth) {
  if (depth > kMaxDepth)
    return Invalid("filters nest more than " + std::to_string(kMaxDepth) + " levels deep");
  for (const auto& [key, value] : f.items()) {
    if (IsClause(key)) continue;
    std::string hint =
        depth == 0 ? "; a condition goes inside one of them, as in {\"must\": [...]}" : "";
    return Invalid("unknown key \"" + key + "\" in " + Quote(f) +
                   " (expected must, should or must_not" + hint + ")");
  }
  MOSAIC_ASSIGN_OR_RETURN(FilterNodes must, CompileClause(f, "must", depth + 1));
  MOSAIC_ASSIGN_OR_RETURN(FilterNodes should, CompileClause(f, "should", depth + 1));
  MOSAIC_ASSIGN_OR_RETURN(FilterNodes must_not, CompileClause(f, "must_not", depth + 1));
  return Make<BoolNode>(std::move(must), std::move(should), std::move(must_not));
}

Result<JsonPath> CompileKey(const Json& key, const Json& condition) {
  if (!key.is_string())
    return Invalid("\"key\" must be a string, got " + Quote(key) + " in " + Quote(condition));
  Result<JsonPath> path = JsonPath::Parse(key.get_ref<const std::string&>());
  if (!path.ok()) return path.status().WithContext("filter");
  return path;
}

// Adds a match value; false if it is not a string, integer or boolean.
bool AddMatchValue(const Json& v, MatchValues* values) {
  if (v.is_string()) {
    values->AddString(v.get<std::string>());
  } else if (v.is_boolean()) {
    values->AddBool(v.get<bool>());
  } else if (v.is_number_integer()) {  // includes unsigned
    values->AddInteger(NumberOf(v)->i);
  } else {
    return false;
  }
  return true;
}

NodeResult CompileTextMatch(JsonPath path, const std::string& key, const Json& query) {
  if (!query.is_string())
    return Invalid("\"match." + key + "\" must be a string of words, got " + Quote(query));
  const Result<text::WordTokenizer>& tokenizer = FullTextTokenizer();
  if (!tokenizer.ok()) return tokenizer.status().WithContext("filter: \"match." + key + "\"");
  std::vector<std::string> terms = tokenizer->Terms(query.get_ref<const std::string&>());
  // Without terms the condition would hold for every point (or none): surely not what was meant.
  if (terms.empty())
    return Invalid("\"match." + key + "\" has no words to search for (stopwords and punctuation " +
                   "are not indexed), got " + Quote(query));
  auto mode = key == "text" ? TextMatchNode::Mode::kAllTerms : TextMatchNode::Mode::kPhrase;
  return Make<TextMatchNode>(std::move(path), mode, std::move(terms), *tokenizer);
}

NodeResult CompileMatch(JsonPath path, const Json& match) {
  if (!match.is_object())
    return Invalid("\"match\" must be an object such as {\"value\": \"red\"}, got " + Quote(match));
  for (const auto& [key, value] : match.items()) {
    if (key != "value" && key != "any" && key != "except" && key != "text" && key != "phrase")
      return Invalid("unknown \"match\" key \"" + key + "\" in " + Quote(match) +
                     " (expected value, any, except, text or phrase)");
  }
  if (match.size() != 1)
    return Invalid("\"match\" takes exactly one of value, any, except, text, phrase, got " +
                   Quote(match));

  MatchValues values;
  const std::string& key = match.begin().key();
  const Json& value = match.begin().value();
  if (key == "text" || key == "phrase") return CompileTextMatch(std::move(path), key, value);
  if (key == "value") {
    if (!AddMatchValue(value, &values)) {
      std::string hint = value.is_number_float() ? " (use \"range\" to compare floats)" : "";
      return Invalid("\"match.value\" must be a string, integer or bool, got " + Quote(value) +
                     hint);
    }
    values.Seal();
    return Make<MatchNode>(std::move(path), MatchNode::Mode::kAny, std::move(values));
  }
  if (!value.is_array())
    return Invalid("\"match." + key + "\" must be an array of strings, integers or bools, got " +
                   Quote(value));
  for (const Json& v : value) {
    if (!AddMatchValue(v, &values))
      return Invalid("\"match." + key + "\" items must be strings, integers or bools, got " +
                     Quote(v) + " in " + Quote(value));
  }
  values.Seal();
  auto mode = key == "any" ? MatchNode::Mode::kAny : MatchNode::Mode::kExcept;
  return Make<MatchNode>(std::move(path), mode, std::move(values));
}

NodeResult CompileRange(JsonPath path, const Json& range) {
  if (!range.is_object())
    return Invalid("\"range\" must be an object such as {\"gte\": 1, \"lt\": 5}, got " +
                   Quote(range));
  RangeNode::Bounds bounds;
  std::pair<std::string_view, std::optional<Number>*> slots[] = {
      {"gt", &bounds.gt}, {"gte", &bounds.gte}, {"lt", &bounds.lt}, {"lte", &bounds.lte}};
  int numbers = 0, datetimes = 0;
  for (auto& [name, slot] : slots) {
    auto it = range.find(name);
    // null is "no bound": clients that serialize unset optional fields send it.
    if (it == range.end() || it->is_null()) continue;
    std::optional<Number> n = NumberOf(*it);
    if (n) {
      ++numbers;
      *slot = n;
      continue;
    }
    std::optional<int64_t> instant;
    if (it->is_string()) instant = ParseDatetime(it->get_ref<const std::string&>());
    if (!instant)
      return Invalid("\"range." + std::string(name) +
                     "\" must be a number or an RFC 3339 datetime such as "
                     "\"2024-01-02T03:04:05Z\", got " +
                     Quote(*it));
    ++datetimes;
    *slot = Number::Int(*instant);
  }
  if (numbers + datetimes == 0)
    return Invalid("\"range\" needs at least one of gt, gte, lt, lte, got " + Quote(range));
  for (const auto& [key, value] : range.items()) {
    if (key != "gt" && key != "gte" && key != "lt" && key != "lte")
      return Invalid("unknown \"range\" key \"" + key + "\" in " + Quote(range) +
                     " (expected gt, gte, lt, lte)");
  }
  if (numbers > 0 && datetimes > 0)
    return Invalid("\"range\" mixes numbers and datetimes in " + Quote(range));
  return Make<RangeNode>(std::move(path), datetimes > 0, bounds);
}

NodeResult CompileFieldCondition(const Json& c) {
  for (const auto& [key, value] : c.items()) {
    if (key != "key" && key != "match" && key != "range")
      return Invalid("unknown condition key \"" + key + "\" in " + Quote(c) +
                     " (a condition with \"key\" takes \"match\" or \"range\")");
  }
  MOSAIC_ASSIGN_OR_RETURN(JsonPath path, CompileKey(c["key"], c));
  bool has_match = c.contains("match"), has_range = c.contains("range");
  if (has_match == has_range)
    return Invalid("a condition on \"" + path.text() + "\" takes exactly one of \"match\" or " +
                   "\"range\", got " + Quote(c));
  if (has_match) return CompileMatch(std::move(path), c["match"]);
  return CompileRange(std::move(path), c["range"]);
}

NodeResult CompileKeyOnly(std::string_view name, const Json& arg, const Json& c) {
  if (!arg.is_object() || arg.size() != 1 || !arg.contains("key"))
    return Invalid("\"" + std::string(name) + "\" must be {\"key\": \"<path>\"}, got " +
                   Quote(arg));
  MOSAIC_ASSIGN_OR_RETURN(JsonPath path, CompileKey(arg["key"], c));
  if (name == "is_null") return Make<IsNullNode>(std::move(path));
  return Make<IsEmptyNode>(std::move(path));
}

NodeResult CompileHasId(const Json& arg) {
  if (!arg.is_array())
    return Invalid("\"has_id\" must be an array of point ids, got " + Quote(arg));
  std::vector<PointId> ids;
  ids.reserve(arg.size());
  for (const Json& v : arg) {
    Result<PointId> id = PointId::FromJson(v);
    if (!id.ok())
      return Invalid("\"has_id\" items must be unsigned integers or non-empty strings, got " +
                     Quote(v));
    ids.push_back(std::move(id).value());
  }
  return Make<HasIdNode>(std::move(ids));
}

NodeResult CompileCondition(const Json& c, int depth) {
  if (!c.is_object()) return Invalid("a condition must be an object, got " + Quote(c));
  if (c.empty())
    return Invalid(
        "empty condition {} (an empty filter matches everything, but a condition "
        "must say what it tests)");
  if (c.contains("key")) return CompileFieldCondition(c);
  for (std::string_view clause : kClauses)
    if (c.contains(clause)) return CompileBool(c, depth);

  for (const auto& [key, value] : c.items()) {
    if (key != "is_null" && key != "is_empty" && key != "has_id")
      return Invalid("unknown condition key \"" + key + "\" in " + Quote(c) +
                     " (expected key, is_null, is_empty, has_id, must, should or must_not)");
  }
  const std::string& key = c.begin().key();
  const Json& value = c.begin().value();
  if (c.size() != 1)
    return Invalid("a condition takes exactly one of is_null, is_empty, has_id, got " + Quote(c));
  if (key == "has_id") return CompileHasId(value);
  return CompileKeyOnly(key, value, c);
}

}  // namespace

Result<std::shared_ptr<const FilterNode>> CompileFilter(const Json& filter) {
  if (!filter.is_object())
    return Invalid("a filter must be a JSON object such as {\"must\": [...]}, got " +
                   Quote(filter));
  MOSAIC_ASSIGN_OR_RETURN(auto root, CompileBool(filter, 0));
  return std::shared_ptr<const FilterNode>(std::move(root));
}

}  // namespace mosaic::index
