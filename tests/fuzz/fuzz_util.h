// Helpers shared by the libFuzzer targets of tests/fuzz (docs/fuzzing.md).
//
// Loaders that take a path get the input through a scratch file (in /dev/shm when there is one,
// so no run touches a disk) and read through HeapEnv(): segments, graphs and index files go into
// heap blocks of their size, never a mapping, so ASan sees a read past the end. Single-threaded,
// like libFuzzer's runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mosaic/env.h"

namespace mosaic::fuzz {

// Env::Default(), except that OpenFileView never maps: a mapping is page-granular, so a loader
// reading a few bytes past a file's end would go unnoticed.
Env* HeapEnv();

// A directory private to this process, removed at exit: /dev/shm/mosaic-fuzz-<pid>, or under
// $TMPDIR (else /tmp) when /dev/shm is missing.
const std::string& ScratchDir();

// Writes `data` to ScratchDir()/<name> (replacing it) and returns the path. Aborts on an I/O
// error: a harness that cannot write its input tests nothing.
std::string WriteScratchFile(const std::string& name, std::string_view data);

// Calls fn(input), then, for a file ending in a masked CRC32C of everything before it, fn again
// with that checksum recomputed (when it differs), so that mutated bodies reach the checks
// behind it.
void WithTrailingCrcFixed(std::string_view input, const std::function<void(std::string_view)>& fn);

}  // namespace mosaic::fuzz
