// SHA-256 of byte streams and files (OpenSSL EVP), as lowercase hex: how the model registry
// checks that a downloaded or copied file is the one its manifest names. A Sha256 object is
// single-use and not synchronized; the free functions are thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "mosaic/status.h"

namespace mosaic::embed {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t n);
  /// Starts over, as if freshly constructed.
  void Reset();
  /// The digest of everything passed to Update since construction or Reset, as 64 hex digits.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Feeds the whole file at `path` to `hash`; IOError names the path.
Status HashFileInto(const std::string& path, Sha256& hash);

/// SHA-256 of the file at `path` as 64 lowercase hex digits.
Result<std::string> Sha256File(const std::string& path);

/// True for exactly 64 lowercase hex digits.
bool IsSha256Hex(const std::string& s);

}  // namespace mosaic::embed
