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

// Reads `size` bytes of the open file `fd` into a HugeArray (transparent huge pages: a read then
// takes one page fault per 2 MiB rather than per 4 KiB). A null view (not an
// error) for a file under 4 MiB: the caller reads it into a string instead. The file must not
// change while it is read (segment and index files never do).
Result<std::unique_ptr<FileView>> ReadFileView(int fd, const std::string& path, uint64_t size);

}  // namespace mosaic::storage
