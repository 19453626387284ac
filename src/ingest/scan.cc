#include "ingest/scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "document/document.h"
#include "media/image_decode.h"

namespace mosaic::ingest {

const char* FileKindName(FileKind k) {
  switch (k) {
    case FileKind::kImage: return "image";
    case FileKind::kVideo: return "video";
    case FileKind::kAudio: return "audio";
    case FileKind::kDocument: return "document";
    case FileKind::kUnsupported: break;
  }
  return "unsupported";
}

namespace {

std::string LowerExt(std::string_view path) {
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "";
  std::string e(path.substr(dot + 1));
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool At(std::string_view s, size_t off, std::string_view magic) {
  return s.size() >= off + magic.size() && s.substr(off, magic.size()) == magic;
}

struct ExtKind {
  const char* ext;
  FileKind kind;
  const char* mime;
};
constexpr ExtKind kByExtension[] = {
    {"jpg", FileKind::kImage, "image/jpeg"},   {"jpeg", FileKind::kImage, "image/jpeg"},
    {"png", FileKind::kImage, "image/png"},    {"gif", FileKind::kImage, "image/gif"},
    {"webp", FileKind::kImage, "image/webp"},  {"bmp", FileKind::kImage, "image/bmp"},
    {"tif", FileKind::kImage, "image/tiff"},   {"tiff", FileKind::kImage, "image/tiff"},
    {"mp4", FileKind::kVideo, "video/mp4"},    {"m4v", FileKind::kVideo, "video/mp4"},
    {"mov", FileKind::kVideo, "video/quicktime"}, {"avi", FileKind::kVideo, "video/x-msvideo"},
    {"mkv", FileKind::kVideo, "video/x-matroska"}, {"webm", FileKind::kVideo, "video/webm"},
    {"mpg", FileKind::kVideo, "video/mpeg"},   {"mpeg", FileKind::kVideo, "video/mpeg"},
    {"ts", FileKind::kVideo, "video/mp2t"},    {"flv", FileKind::kVideo, "video/x-flv"},
    {"wmv", FileKind::kVideo, "video/x-ms-wmv"}, {"ogv", FileKind::kVideo, "video/ogg"},
    {"wav", FileKind::kAudio, "audio/wav"},    {"mp3", FileKind::kAudio, "audio/mpeg"},
    {"flac", FileKind::kAudio, "audio/flac"},  {"ogg", FileKind::kAudio, "audio/ogg"},
    {"oga", FileKind::kAudio, "audio/ogg"},    {"opus", FileKind::kAudio, "audio/opus"},
    {"m4a", FileKind::kAudio, "audio/mp4"},    {"aac", FileKind::kAudio, "audio/aac"},
    {"txt", FileKind::kDocument, "text/plain"}, {"text", FileKind::kDocument, "text/plain"},
    {"md", FileKind::kDocument, "text/markdown"}, {"markdown", FileKind::kDocument, "text/markdown"},
    {"html", FileKind::kDocument, "text/html"}, {"htm", FileKind::kDocument, "text/html"},
    {"xhtml", FileKind::kDocument, "text/html"}, {"pdf", FileKind::kDocument, "application/pdf"},
};

FileKind ByExtension(std::string_view path, std::string* mime) {
  std::string ext = LowerExt(path);
  for (const auto& e : kByExtension)
    if (ext == e.ext) {
      *mime = e.mime;
      return e.kind;
    }
  return FileKind::kUnsupported;
}

}  // namespace

FileKind DetectKind(std::string_view path, std::string_view head, std::string* mime) {
  auto set = [&](FileKind k, const char* m) {
    *mime = m;
    return k;
  };
  const auto* bytes = reinterpret_cast<const uint8_t*>(head.data());
  switch (media::SniffImageFormat({bytes, head.size()})) {
    case media::ImageFormat::kJpeg: return set(FileKind::kImage, "image/jpeg");
    case media::ImageFormat::kPng: return set(FileKind::kImage, "image/png");
    case media::ImageFormat::kWebp: return set(FileKind::kImage, "image/webp");
    case media::ImageFormat::kGif: return set(FileKind::kImage, "image/gif");
    case media::ImageFormat::kBmp: return set(FileKind::kImage, "image/bmp");
    case media::ImageFormat::kTiff: return set(FileKind::kImage, "image/tiff");
    case media::ImageFormat::kUnknown: break;
  }
  if (At(head, 4, "ftyp")) {  // ISO base media: the brand tells audio-only files apart
    if (At(head, 8, "M4A ") || At(head, 8, "M4B ") || At(head, 8, "M4P "))
      return set(FileKind::kAudio, "audio/mp4");
    if (At(head, 8, "qt  ")) return set(FileKind::kVideo, "video/quicktime");
    return set(FileKind::kVideo, "video/mp4");
  }
  if (At(head, 0, "RIFF") && At(head, 8, "AVI ")) return set(FileKind::kVideo, "video/x-msvideo");
  if (At(head, 0, "RIFF") && At(head, 8, "WAVE")) return set(FileKind::kAudio, "audio/wav");
  if (At(head, 0, "\x1a\x45\xdf\xa3")) {
    return LowerExt(path) == "webm" ? set(FileKind::kVideo, "video/webm")
                                    : set(FileKind::kVideo, "video/x-matroska");
  }
  if (At(head, 0, "FLV")) return set(FileKind::kVideo, "video/x-flv");
  if (At(head, 0, std::string_view("\x00\x00\x01\xba", 4))) return set(FileKind::kVideo, "video/mpeg");
  if (At(head, 0, "\x30\x26\xb2\x75")) return set(FileKind::kVideo, "video/x-ms-asf");
  if (head.size() > 188 && bytes[0] == 0x47 && bytes[188] == 0x47) return set(FileKind::kVideo, "video/mp2t");
  if (At(head, 0, "OggS")) {
    std::string ext = LowerExt(path);
    return ext == "ogv" ? set(FileKind::kVideo, "video/ogg") : set(FileKind::kAudio, "audio/ogg");
  }
  if (At(head, 0, "fLaC")) return set(FileKind::kAudio, "audio/flac");
  if (At(head, 0, "ID3")) return set(FileKind::kAudio, "audio/mpeg");
  if (head.size() >= 2 && bytes[0] == 0xff && (bytes[1] & 0xe0) == 0xe0) {
    // MPEG audio frame sync (mp3) or ADTS (AAC: layer bits 00).
    return (bytes[1] & 0x06) == 0 ? set(FileKind::kAudio, "audio/aac") : set(FileKind::kAudio, "audio/mpeg");
  }
  if (At(head, 0, "%PDF-")) return set(FileKind::kDocument, "application/pdf");
  auto doc = document::DetectDocFormat(path, head);
  if (doc.ok()) return set(FileKind::kDocument, document::DocFormatMime(*doc));
  // Bytes say nothing known: a damaged or empty file with a media extension still goes to its
  // decoder, which reports what is wrong.
  return ByExtension(path, mime);
}

bool GlobMatch(const std::string& pattern, std::string_view rel) {
  std::string target(rel);
  if (pattern.find('/') == std::string::npos) {
    size_t slash = target.rfind('/');
    if (slash != std::string::npos) target = target.substr(slash + 1);
  }
  return ::fnmatch(pattern.c_str(), target.c_str(), 0) == 0;
}

bool UnderRoots(std::string_view path, const std::vector<std::string>& roots) {
  for (const auto& r : roots) {
    if (path == r) return true;
    if (path.size() > r.size() && path.substr(0, r.size()) == r &&
        (r.back() == '/' || path[r.size()] == '/'))
      return true;
  }
  return false;
}

namespace {

class Walker {
 public:
  Walker(const Options& o, ScanResult* out) : o_(o), out_(out) {}

  void AddPath(const std::string& given) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(given, ec).lexically_normal().string();
    if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    out_->roots.push_back(abs);
    struct stat st;
    if (::stat(abs.c_str(), &st) != 0) {
      out_->errors.push_back({given, "scan", Status::NotFound(given + ": " + std::strerror(errno))});
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      Dir(abs, abs.size() + 1, 0);
    } else {
      File(abs, abs.substr(abs.rfind('/') + 1), st, /*explicit_file=*/true);
    }
  }

 private:
  void Dir(const std::string& dir, size_t root_len, int depth) {
    if (depth > 64) return;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      out_->errors.push_back({dir, "scan", Status::IOError(dir + ": cannot list: " + std::strerror(errno))});
      return;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      if (!o_.hidden && n[0] == '.') continue;
      names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string p = dir + "/" + n;
      std::string rel = root_len <= p.size() ? p.substr(root_len) : n;
      struct stat lst;
      if (::lstat(p.c_str(), &lst) != 0) continue;
      if (S_ISDIR(lst.st_mode)) {
        if (Excluded(rel + "/")) continue;
        Dir(p, root_len, depth + 1);
        continue;
      }
      struct stat st;
      if (S_ISLNK(lst.st_mode)) {
        if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // dangling, or a dir
      } else if (S_ISREG(lst.st_mode)) {
        st = lst;
      } else {
        continue;  // fifos, sockets, devices
      }
      File(p, rel, st, false);
    }
  }

  bool Excluded(const std::string& rel) const {
    for (const auto& g : o_.exclude) {
      if (GlobMatch(g, rel)) return true;
      // "dir/*" style patterns also exclude the directory itself.
      if (!rel.empty() && rel.back() == '/' && GlobMatch(g, rel.substr(0, rel.size() - 1))) return true;
    }
    return false;
  }

  void File(const std::string& path, const std::string& rel, const struct stat& st, bool explicit_file) {
    if (Excluded(rel)) return;
    if (!o_.include.empty()) {
      bool any = false;
      for (const auto& g : o_.include) any = any || GlobMatch(g, rel);
      if (!any) return;
    }
    FileEntry f;
    f.path = path;
    f.size = static_cast<uint64_t>(st.st_size);
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    char head[512];
    ssize_t n = 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      // Unreadable: report it when it would have been ingested.
      std::string mime;
      if (ByExtension(path, &mime) != FileKind::kUnsupported || explicit_file)
        out_->errors.push_back({path, "read", Status::IOError(path + ": " + std::strerror(errno))});
      else
        out_->unsupported++;
      return;
    }
    n = ::pread(fd, head, sizeof(head), 0);
    ::close(fd);
    f.kind = DetectKind(path, std::string_view(head, n > 0 ? size_t(n) : 0), &f.mime);
    if (f.kind == FileKind::kUnsupported) {
      if (explicit_file)
        out_->errors.push_back({path, "scan", Status::InvalidArgument(path + ": not a supported image, video, audio or document file")});
      else
        out_->unsupported++;
      return;
    }
    out_->files.push_back(std::move(f));
  }

  const Options& o_;
  ScanResult* out_;
};

}  // namespace

ScanResult Scan(std::span<const std::string> paths, const Options& options) {
  ScanResult out;
  Walker w(options, &out);
  for (const auto& p : paths) w.AddPath(p);
  std::sort(out.files.begin(), out.files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  out.files.erase(std::unique(out.files.begin(), out.files.end(),
                              [](const FileEntry& a, const FileEntry& b) { return a.path == b.path; }),
                  out.files.end());
  return out;
}

}  // namespace mosaic::ingest
