// Runs the built `mosaic` binary for CLI tests, capturing its exit status, stdout and stderr.
#pragma once

#include <string>

namespace mosaic::testing {

struct CliRun {
  int code = -1;    // exit status; -1 when killed by a signal
  std::string out;  // stdout
  std::string err;  // stderr (sanitizer builds add their reports here)
  std::string all() const { return out + err; }
};

/// Runs `<build>/bin/mosaic ARGS` through the shell (ARGS is shell words: quote paths).
CliRun RunMosaic(const std::string& args);

/// The binary's path.
std::string MosaicBinary();

}  // namespace mosaic::testing
