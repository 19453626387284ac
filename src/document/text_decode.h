// Internal to src/document: byte decoding and the helpers every parser shares (building the
// normalized text with its block table, whitespace collapsing, entity decoding).
//
// Thread safety: pure functions; a DocBuilder is used by one thread.
#pragma once

#include <string>
#include <string_view>

#include "document/document.h"
#include "mosaic/status.h"

namespace mosaic::document {

/// Bytes to clean UTF-8: a UTF-8 BOM is stripped; UTF-16LE/BE with a BOM is converted; bytes
/// that are not valid UTF-8 are read as Windows-1252. CR LF and lone CR become LF; control
/// characters other than LF and TAB (C0, DEL, C1) are dropped. InvalidArgument for malformed
/// UTF-16 (an odd byte count or unpaired surrogates).
Result<std::string> DecodeTextBytes(std::string_view bytes);

/// Runs of spaces, tabs and newlines (and U+00A0) become one space; leading and trailing ones go.
std::string CollapseWhitespace(std::string_view s);

/// HTML character references decoded (HTML5 rules, as Python's html.unescape).
std::string DecodeEntities(std::string_view s);

/// InvalidArgument for empty input, ResourceExhausted over options.max_bytes.
Status CheckInput(std::string_view bytes, const DocumentOptions& options);

bool IsSpace(char c);
std::string_view Trim(std::string_view s);

/// Appends blocks to a Document: the text of each is trimmed, empty ones are skipped, and blocks
/// are separated by "\n\n" so that offsets stay exact.
class DocBuilder {
 public:
  explicit DocBuilder(DocFormat format) { doc_.format = format; }

  void Add(BlockKind kind, std::string_view text, int level = 0, int page = 0);
  Document& doc() { return doc_; }
  Document Finish() { return std::move(doc_); }

 private:
  Document doc_;
};

}  // namespace mosaic::document
