// Whole-file reads shared by the decoders (images, documents).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic {

/// Reads the regular file at `path` into `out`. Errors name the path: NotFound (missing),
/// InvalidArgument (not a regular file), ResourceExhausted (larger than `max_bytes`, judged
/// before reading), IOError (open/read failures, with the byte count reached).
Status ReadWholeFile(const std::string& path, std::string* out,
                     uint64_t max_bytes = std::numeric_limits<uint64_t>::max());
Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* out,
                     uint64_t max_bytes = std::numeric_limits<uint64_t>::max());

}  // namespace mosaic
