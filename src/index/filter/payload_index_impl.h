// PayloadIndexSet::Impl: the field indexes of a set and the filter planner over them, shared by
// payload_index.cc (updates, plans) and payload_index_io.cc (index files). Internal.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/filter/conditions.h"
#include "index/filter/field_index.h"
#include "index/filter/payload_index.h"

namespace mosaic::index {

using fields::IntersectionOfPlans;
using fields::SortUnique;
using fields::UnionOfPlans;

struct PayloadIndexSet::Impl {
  using FieldIndex = fields::FieldIndex;
  using Plan = fields::Plan;
  using SlotList = fields::SlotList;
  using IdToSlot = std::function<std::optional<uint32_t>(const PointId&)>;

  // A superset of the slots matching `node`, or nullopt when no index bounds it.
  std::optional<Plan> PlanNode(const FilterNode& node, const IdToSlot& id_to_slot) const {
    switch (node.kind()) {
      case FilterNodeKind::kBool:
        return PlanBool(static_cast<const BoolNode&>(node), id_to_slot);
      case FilterNodeKind::kMatch: {
        const auto& match = static_cast<const MatchNode&>(node);
        const FieldIndex* index = Find(match.path());
        return index ? index->PlanMatch(match) : std::nullopt;
      }
      case FilterNodeKind::kText: {
        const auto& text = static_cast<const TextMatchNode&>(node);
        const FieldIndex* index = Find(text.path());
        return index ? index->PlanText(text) : std::nullopt;
      }
      case FilterNodeKind::kRange: {
        const auto& range = static_cast<const RangeNode&>(node);
        const FieldIndex* index = Find(range.path());
        return index ? index->PlanRange(range) : std::nullopt;
      }
      case FilterNodeKind::kHasId: {
        SlotList slots;
        for (const PointId& id : static_cast<const HasIdNode&>(node).ids()) {
          std::optional<uint32_t> slot = id_to_slot(id);
          if (slot) slots.push_back(*slot);
        }
        SortUnique(&slots);
        size_t estimate = slots.size();
        return Plan{estimate, true, [slots = std::move(slots)](bool*) { return slots; }};
      }
      case FilterNodeKind::kIsNull:
      case FilterNodeKind::kIsEmpty:
        return std::nullopt;
    }
    return std::nullopt;
  }

  // Every must clause holds, and so does some should clause: each bounded clause narrows the
  // candidates. must_not never does (its complement is not a short list).
  // The plan is exact when every clause is planned exactly and there is no must_not.
  std::optional<Plan> PlanBool(const BoolNode& node, const IdToSlot& id_to_slot) const {
    std::vector<Plan> required;
    bool exact = node.must_not().empty();
    for (const auto& child : node.must()) {
      std::optional<Plan> plan = PlanNode(*child, id_to_slot);
      if (plan) {
        required.push_back(std::move(*plan));
      } else {
        exact = false;
      }
    }
    if (!node.should().empty()) {
      std::vector<Plan> alternatives;
      for (const auto& child : node.should()) {
        std::optional<Plan> plan = PlanNode(*child, id_to_slot);
        if (!plan) {
          alternatives.clear();
          exact = false;
          break;
        }
        alternatives.push_back(std::move(*plan));
      }
      if (alternatives.size() == 1) {
        required.push_back(std::move(alternatives.front()));
      } else if (!alternatives.empty()) {
        required.push_back(UnionOfPlans(std::move(alternatives)));
      }
    }
    if (required.empty()) return std::nullopt;
    Plan plan = required.size() == 1 ? std::move(required.front())
                                     : IntersectionOfPlans(std::move(required));
    plan.exact = plan.exact && exact;
    return plan;
  }

  const FieldIndex* Find(const JsonPath& path) const {
    auto it = fields.find(path.text());
    return it == fields.end() ? nullptr : it->second.get();
  }

  std::map<std::string, std::unique_ptr<FieldIndex>> fields;
};

}  // namespace mosaic::index
