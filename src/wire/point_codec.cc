#include "wire/point_codec.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "wire/json_reader.h"

namespace mosaic::wire {

Result<std::vector<float>> VectorFromJson(const Json& j, const std::string& where) {
  if (!j.is_array())
    return Status::InvalidArgument(where + ": expected an array of numbers, got " + Shown(j));
  std::vector<float> v;
  v.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number())
      return Status::InvalidArgument(where + "[" + std::to_string(i) +
                                     "]: expected a number, got " + Shown(j[i]));
    v.push_back(j[i].get<float>());
  }
  return v;
}

Result<Point> PointFromJson(const Json& j, const std::string& default_vector) {
  JsonReader r(j, "point");
  MOSAIC_RETURN_IF_ERROR(r.Expect({"id", "vector", "vectors", "payload"}));
  if (!r.Has("id")) return Status::InvalidArgument("point: missing \"id\"");
  Point p;
  MOSAIC_ASSIGN_OR_RETURN(p.id, PointId::FromJson(j["id"]));
  if (r.Has("vector")) {
    MOSAIC_ASSIGN_OR_RETURN(p.vectors[default_vector], VectorFromJson(j["vector"], "point.vector"));
  }
  if (r.Has("vectors")) {
    if (!j["vectors"].is_object())
      return Status::InvalidArgument("point.vectors: expected an object of name -> array, got " +
                                     Shown(j["vectors"]));
    for (const auto& [name, v] : j["vectors"].items()) {
      MOSAIC_ASSIGN_OR_RETURN(p.vectors[name], VectorFromJson(v, "point.vectors." + name));
    }
  }
  if (r.Has("payload")) {
    if (!j["payload"].is_object() && !j["payload"].is_null())
      return Status::InvalidArgument("point.payload: expected an object, got " +
                                     Shown(j["payload"]));
    if (j["payload"].is_object()) p.payload = j["payload"];
  }
  return p;
}

Json PointToJson(const Point& p) {
  Json j = {{"id", p.id.ToJson()}, {"payload", p.payload}};
  if (!p.vectors.empty()) j["vectors"] = p.vectors;
  return j;
}

Json ScoredPointToJson(const ScoredPoint& p) {
  Json j = {{"id", p.id.ToJson()}, {"score", p.score}};
  if (p.payload) j["payload"] = *p.payload;
  if (!p.vectors.empty()) j["vectors"] = p.vectors;
  return j;
}

PointId PointIdFromText(const std::string& s) {
  if (!s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return PointId(static_cast<uint64_t>(n));
  }
  return PointId(s);
}

}  // namespace mosaic::wire
