// Payloads are JSON documents (nlohmann::json). This header names the type Mosaic uses.
#pragma once

#include <nlohmann/json.hpp>

namespace mosaic {
using Json = nlohmann::json;
}  // namespace mosaic
