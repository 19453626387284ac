// Documents as structured plain text: txt, Markdown, HTML and PDF (poppler-cpp) become a list of
// blocks (headings, paragraphs, list items, code, table rows) over one normalized text, with the
// title, page numbers and byte offsets kept so chunks can point back into the source.
//
// Text bytes are decoded from UTF-8, UTF-16 (with a BOM) or, when not valid UTF-8, Windows-1252,
// and cleaned of control characters. HTML: scripts, styles and other invisible elements are
// dropped, entities decoded, <title>/<h1> give the title, block elements give blocks. PDF: one
// pass per page in reading order (poppler's text layout), hyphenated line ends joined, page
// numbers kept; the Info dictionary gives title/author/dates.
//
// Errors (ReadDocument prefixes the path): NotFound (missing file), InvalidArgument (empty input,
// bytes that are not the format: "not a PDF"), PermissionDenied (a password-protected PDF opened
// without its password, or with a wrong one), Corruption (a PDF poppler cannot
// parse; poppler's own error lines are appended), ResourceExhausted (over
// DocumentOptions::max_bytes, max_pages or max_html_depth), IOError (read failures). See docs/documents.md.
//
// Thread safety: the functions are thread-safe and may run in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::document {

enum class DocFormat { kText, kMarkdown, kHtml, kPdf };
const char* DocFormatName(DocFormat f);  // "text", "markdown", "html", "pdf"
const char* DocFormatMime(DocFormat f);  // "text/plain", "text/markdown", "text/html", "application/pdf"

enum class BlockKind { kHeading, kParagraph, kListItem, kCode, kTableRow };

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  int level = 0;        // headings: 1..6
  int page = 0;         // PDF: 1-based page; 0 for formats without pages
  size_t offset = 0;    // byte offset of the block's text in Document::text
  size_t length = 0;    // bytes
};

struct Document {
  DocFormat format = DocFormat::kText;
  std::string title;     // may be empty
  std::string text;      // UTF-8; blocks separated by "\n\n"
  std::vector<Block> blocks;
  int pages = 0;         // PDF page count; 0 otherwise
  Json metadata = Json::object();  // e.g. "author", "created" (ISO 8601), "language", "description"

  std::string_view block_text(const Block& b) const { return std::string_view(text).substr(b.offset, b.length); }
};

struct DocumentOptions {
  uint64_t max_bytes = 256ull << 20;  // input size limit, all formats
  int max_pages = 5000;               // PDF
  size_t max_html_depth = 4096;       // HTML: deeper nesting of elements is refused (html.cc)
  std::string pdf_password;           // tried as the user password of an encrypted PDF
};

/// Guesses the format from the bytes (%PDF-, HTML tags) and then the file name's extension
/// (.md/.markdown, .htm/.html, .txt/.text, .pdf). InvalidArgument for none of these.
Result<DocFormat> DetectDocFormat(std::string_view path, std::string_view head);

/// Parsers over the raw bytes of one file. Empty input is InvalidArgument.
Result<Document> ParseText(std::string_view bytes, const DocumentOptions& options = {});
Result<Document> ParseMarkdown(std::string_view bytes, const DocumentOptions& options = {});
Result<Document> ParseHtml(std::string_view bytes, const DocumentOptions& options = {});
Result<Document> ParsePdf(std::string_view bytes, const DocumentOptions& options = {});
/// ParseText/ParseMarkdown/ParseHtml/ParsePdf by `format`.
Result<Document> ParseDocument(std::string_view bytes, DocFormat format,
                               const DocumentOptions& options = {});

/// Reads `path` and parses it in `format`.
Result<Document> ReadDocument(const std::string& path, DocFormat format,
                              const DocumentOptions& options = {});

}  // namespace mosaic::document
