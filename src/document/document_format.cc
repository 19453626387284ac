#include <algorithm>
#include <cctype>
#include <string>

#include "document/document.h"

namespace mosaic::document {

const char* DocFormatName(DocFormat f) {
  switch (f) {
    case DocFormat::kText: return "text";
    case DocFormat::kMarkdown: return "markdown";
    case DocFormat::kHtml: return "html";
    case DocFormat::kPdf: return "pdf";
  }
  return "?";
}

const char* DocFormatMime(DocFormat f) {
  switch (f) {
    case DocFormat::kText: return "text/plain";
    case DocFormat::kMarkdown: return "text/markdown";
    case DocFormat::kHtml: return "text/html";
    case DocFormat::kPdf: return "application/pdf";
  }
  return "application/octet-stream";
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// HTML announces itself in its first bytes (after a BOM and whitespace).
bool LooksLikeHtml(std::string_view head) {
  std::string h = Lower(head.substr(0, 1024));
  size_t i = h.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;
  while (i < h.size() && std::isspace(static_cast<unsigned char>(h[i]))) ++i;
  std::string_view rest = std::string_view(h).substr(i);
  return rest.starts_with("<!doctype html") || rest.starts_with("<html") ||
         rest.starts_with("<head") || rest.starts_with("<body") ||
         (rest.starts_with("<!--") && h.find("<html") != std::string::npos);
}

}  // namespace

Result<DocFormat> DetectDocFormat(std::string_view path, std::string_view head) {
  if (head.starts_with("%PDF-")) return DocFormat::kPdf;
  if (LooksLikeHtml(head)) return DocFormat::kHtml;
  std::string p = Lower(path);
  if (EndsWith(p, ".md") || EndsWith(p, ".markdown")) return DocFormat::kMarkdown;
  if (EndsWith(p, ".htm") || EndsWith(p, ".html") || EndsWith(p, ".xhtml")) return DocFormat::kHtml;
  if (EndsWith(p, ".txt") || EndsWith(p, ".text")) return DocFormat::kText;
  if (EndsWith(p, ".pdf"))
    return Status::InvalidArgument(std::string(path) + ": named .pdf but not a PDF (no %PDF- header)");
  return Status::InvalidArgument(std::string(path) + ": not a known document format");
}

}  // namespace mosaic::document
