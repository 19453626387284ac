#include "query/filters.h"

namespace mosaic::query {
namespace {

Json IdsJson(std::span<const PointId> ids) {
  Json a = Json::array();
  for (const PointId& id : ids)
    a.push_back(id.ToJson());
  return a;
}

Result<std::optional<Filter>> Compile(Json j) {
  MOSAIC_ASSIGN_OR_RETURN(Filter f, Filter::FromJson(j));
  return std::optional<Filter>(std::move(f));
}

}  // namespace

Result<std::optional<Filter>> AndFilters(const std::optional<Filter>& a,
                                         const std::optional<Filter>& b) {
  if (!a) return b;
  if (!b) return a;
  return Compile({{"must", Json::array({a->json(), b->json()})}});
}

Result<std::optional<Filter>> RestrictToIds(const std::optional<Filter>& base,
                                            std::span<const PointId> ids) {
  Json must = Json::array({{{"has_id", IdsJson(ids)}}});
  if (base) must.push_back(base->json());
  return Compile({{"must", std::move(must)}});
}

Result<std::optional<Filter>> ExcludeIds(const std::optional<Filter>& base,
                                         std::span<const PointId> ids) {
  if (ids.empty()) return base;
  Json j = {{"must_not", Json::array({{{"has_id", IdsJson(ids)}}})}};
  if (base) j["must"] = Json::array({base->json()});
  return Compile(std::move(j));
}

}  // namespace mosaic::query
