// The scan stage: paths → the files to consider, each with its kind recognized from its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/ingest.h"

namespace mosaic::ingest {

enum class FileKind { kUnsupported, kImage, kVideo, kAudio, kDocument };
const char* FileKindName(FileKind k);  // "image", "video", "audio", "document"

struct FileEntry {
  std::string path;      // absolute, lexically normalized
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  FileKind kind = FileKind::kUnsupported;
  std::string mime;      // from the content ("image/jpeg", "video/mp4", ...)
};

// Recognizes a file from its first bytes (`head`, at least 64 when the file has them), falling
// back to the extension for files whose bytes say nothing (plain text) or are damaged — so a
// corrupt "photo.jpg" is still handed to the image decoder, which reports why it fails.
FileKind DetectKind(std::string_view path, std::string_view head, std::string* mime);

// True when `pattern` (fnmatch syntax) matches: patterns with '/' against `rel` (the path below
// the scanned root), others against the file name.
bool GlobMatch(const std::string& pattern, std::string_view rel);

struct ScanResult {
  std::vector<FileEntry> files;      // supported files, sorted by path, no duplicates
  uint64_t unsupported = 0;
  std::vector<FileError> errors;     // unreadable directories/files, missing paths
  std::vector<std::string> roots;    // the given paths, absolute: the scope of --sync
};

// Walks `paths` (files are taken as given, directories recursively; symlinks to files are
// followed, symlinks to directories are not, to avoid cycles).
ScanResult Scan(std::span<const std::string> paths, const Options& options);

// True when `path` lies at or below one of `roots`.
bool UnderRoots(std::string_view path, const std::vector<std::string>& roots);

}  // namespace mosaic::ingest
