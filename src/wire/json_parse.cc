#include "wire/json_parse.h"

#include <simdjson.h>

namespace mosaic::wire {

namespace {

Json Convert(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::ARRAY: {
      Json out = Json::array();
      auto& items = out.get_ref<Json::array_t&>();
      simdjson::dom::array a;
      if (e.get_array().get(a) != simdjson::SUCCESS) return out;  // the type is known
      items.reserve(a.size());
      for (simdjson::dom::element v : a) items.push_back(Convert(v));
      return out;
    }
    case T::OBJECT: {
      Json out = Json::object();
      simdjson::dom::object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) return out;
      for (auto field : o)
        out[std::string(field.key)] = Convert(field.value);
      return out;
    }
    case T::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? Json(static_cast<uint64_t>(v)) : Json(v);
    }
    case T::UINT64:
      return Json(e.get_uint64().value_unsafe());
    case T::DOUBLE:
      return Json(e.get_double().value_unsafe());
    case T::STRING:
      return Json(std::string(e.get_string().value_unsafe()));
    case T::BOOL:
      return Json(e.get_bool().value_unsafe());
    case T::NULL_VALUE:
      return Json(nullptr);
  }
  return Json(nullptr);
}

// Whether `text` nests arrays and objects deeper than kMaxJsonDepth (brackets inside strings
// do not count).
bool TooDeep(const std::string& text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<Json> ParseJson(const std::string& text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(text).get(root);
  if (error == simdjson::SUCCESS) return Convert(root);
  if (error == simdjson::DEPTH_ERROR || TooDeep(text))
    return Status::InvalidArgument("request body is nested deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels of arrays and objects");
  // Not JSON, or JSON simdjson declines (integers past 64 bits): nlohmann's parser takes the
  // latter and says where the former goes wrong.
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument("request body is not valid JSON: at byte " +
                                   std::to_string(e.byte) + ": " + e.what());
  } catch (const Json::exception& e) {  // a number out of range (1e999): no float holds it
    return Status::InvalidArgument(std::string("request body has a value JSON cannot carry: ") +
                                   e.what());
  }
}

}  // namespace mosaic::wire
