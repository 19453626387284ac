// The concrete nodes of a compiled filter: the boolean combination (must / should / must_not) and
// the leaf conditions match (values, and full-text terms or phrases), range, is_null, is_empty
// and has_id. Built only by CompileFilter,
// which has already validated them; immutable and thread-safe to evaluate concurrently. The
// semantics (arrays, missing keys, nulls) are specified in docs/filters.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/filter/filter_node.h"
#include "index/filter/json_path.h"
#include "index/filter/number.h"
#include "text/word_tokenizer.h"

namespace mosaic::index {

using FilterNodes = std::vector<std::unique_ptr<const FilterNode>>;

class BoolNode final : public FilterNode {
 public:
  BoolNode(FilterNodes must, FilterNodes should, FilterNodes must_not)
      : must_(std::move(must)), should_(std::move(should)), must_not_(std::move(must_not)) {}

  FilterNodeKind kind() const override { return FilterNodeKind::kBool; }
  // All of must, at least one of should (when should is not empty), none of must_not.
  bool Matches(const PointId& id, const Json& payload) const override;

  const FilterNodes& must() const { return must_; }
  const FilterNodes& should() const { return should_; }
  const FilterNodes& must_not() const { return must_not_; }

 private:
  FilterNodes must_;
  FilterNodes should_;
  FilterNodes must_not_;
};

// The values of a match condition: strings, integers and booleans, kept sorted for lookups.
class MatchValues {
 public:
  void AddString(std::string s) { strings_.push_back(std::move(s)); }
  void AddInteger(Int128 v) { integers_.push_back(v); }
  void AddBool(bool b) { (b ? has_true_ : has_false_) = true; }
  // Sorts and deduplicates; call once after the last Add.
  void Seal();

  // Whether a payload value equals one of the values: strings bytewise, integers numerically
  // against any JSON number (5 equals 5.0), booleans only against booleans.
  bool Contains(const Json& value) const;

  const std::vector<std::string>& strings() const { return strings_; }
  const std::vector<Int128>& integers() const { return integers_; }
  bool has_bools() const { return has_true_ || has_false_; }

 private:
  std::vector<std::string> strings_;
  std::vector<Int128> integers_;
  bool has_true_ = false;
  bool has_false_ = false;
};

// "match": {"value": v} and {"any": [...]} (kAny), {"except": [...]} (kExcept).
class MatchNode final : public FilterNode {
 public:
  enum class Mode : uint8_t { kAny, kExcept };

  MatchNode(JsonPath path, Mode mode, MatchValues values)
      : path_(std::move(path)), mode_(mode), values_(std::move(values)) {}

  FilterNodeKind kind() const override { return FilterNodeKind::kMatch; }
  // kAny: some value at the path is in the set. kExcept: some string, number or boolean at the
  // path is not in the set (nulls, objects and a missing key never satisfy either).
  bool Matches(const PointId& id, const Json& payload) const override;

  const JsonPath& path() const { return path_; }
  Mode mode() const { return mode_; }
  const MatchValues& values() const { return values_; }

 private:
  JsonPath path_;
  Mode mode_;
  MatchValues values_;
};

// "match": {"text": "..."} (kAllTerms) and {"phrase": "..."} (kPhrase): full-text conditions over
// terms as a text index sees them (FullTextTokenizer: case-folded, stopwords dropped, stemmed).
class TextMatchNode final : public FilterNode {
 public:
  enum class Mode : uint8_t { kAllTerms, kPhrase };

  // `terms`: the query's terms in order, at least one.
  TextMatchNode(JsonPath path, Mode mode, std::vector<std::string> terms,
                text::WordTokenizer tokenizer);

  FilterNodeKind kind() const override { return FilterNodeKind::kText; }
  // kAllTerms: every query term occurs in the strings at the path (together, as one document).
  // kPhrase: the query's terms occur consecutively, in order, in one string at the path.
  bool Matches(const PointId& id, const Json& payload) const override;

  const JsonPath& path() const { return path_; }
  Mode mode() const { return mode_; }
  // Distinct and sorted: what a point's strings must hold in either mode.
  const std::vector<std::string>& distinct_terms() const { return distinct_terms_; }

 private:
  JsonPath path_;
  Mode mode_;
  std::vector<std::string> terms_;
  std::vector<std::string> distinct_terms_;
  text::WordTokenizer tokenizer_;
};

// "range": bounds on numbers, or on datetimes (bounds then hold instants in microseconds since the
// epoch, UTC, and only payload strings that parse as datetimes are compared).
class RangeNode final : public FilterNode {
 public:
  struct Bounds {
    std::optional<Number> gt, gte, lt, lte;
  };

  RangeNode(JsonPath path, bool datetime, Bounds bounds)
      : path_(std::move(path)), datetime_(datetime), bounds_(bounds) {}

  FilterNodeKind kind() const override { return FilterNodeKind::kRange; }
  // Some single value at the path satisfies every bound.
  bool Matches(const PointId& id, const Json& payload) const override;

  const JsonPath& path() const { return path_; }
  bool datetime() const { return datetime_; }
  const Bounds& bounds() const { return bounds_; }
  bool Contains(const Number& n) const;

 private:
  JsonPath path_;
  bool datetime_;
  Bounds bounds_;
};

// "is_null": the path reaches a JSON null (an array is never null; "tags[]" tests its elements).
class IsNullNode final : public FilterNode {
 public:
  explicit IsNullNode(JsonPath path) : path_(std::move(path)) {}
  FilterNodeKind kind() const override { return FilterNodeKind::kIsNull; }
  bool Matches(const PointId& id, const Json& payload) const override;

 private:
  JsonPath path_;
};

// "is_empty": the path reaches no value other than null (missing, null, [] and [null] are empty).
class IsEmptyNode final : public FilterNode {
 public:
  explicit IsEmptyNode(JsonPath path) : path_(std::move(path)) {}
  FilterNodeKind kind() const override { return FilterNodeKind::kIsEmpty; }
  bool Matches(const PointId& id, const Json& payload) const override;

 private:
  JsonPath path_;
};

// "has_id": the point's id is one of `ids`.
class HasIdNode final : public FilterNode {
 public:
  explicit HasIdNode(std::vector<PointId> ids);  // sorts and deduplicates
  FilterNodeKind kind() const override { return FilterNodeKind::kHasId; }
  bool Matches(const PointId& id, const Json& payload) const override;

  const std::vector<PointId>& ids() const { return ids_; }

 private:
  std::vector<PointId> ids_;
};

}  // namespace mosaic::index
