// Base64 (RFC 4648, standard alphabet, with padding): thumbnails in payloads, uploads in requests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mosaic/status.h"

namespace mosaic {

std::string Base64Encode(std::span<const uint8_t> bytes);
// Accepts missing padding and ignores ASCII white space; InvalidArgument naming the offset of
// the first character outside the alphabet.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace mosaic
