// Memory-mapped file views for the POSIX Env (file_view.cc): a mapping whose unreadable pages
// read as zeros and are reported by CheckReadable() instead of raising SIGBUS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mosaic/env.h"

namespace mosaic::storage {

// Maps `size` bytes of the open file `fd` read-only. A null view (not an error) when the file is
// empty or the guard cannot take another mapping: the caller reads the file instead.
Result<std::unique_ptr<FileView>> MapFileView(int fd, const std::string& path, uint64_t size);

}  // namespace mosaic::storage
