// Fuzzes the text document parsers (src/document, docs/documents.md): format detection, then the
// input parsed as plain text, as Markdown and as HTML, each result checked (document_check.h:
// UTF-8 text, blocks and chunks in range) and chunked. PDF has its own target (pdf_fuzz.cc).
#include <string_view>

#include "document/document.h"
#include "fuzz/document_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mosaic::document::DetectDocFormat("input", bytes.substr(0, 1024)).ok();
  for (auto parse : {mosaic::document::ParseText, mosaic::document::ParseMarkdown,
                     mosaic::document::ParseHtml}) {
    auto doc = parse(bytes, {});
    if (doc.ok()) mosaic::fuzz::CheckDocument(*doc);
  }
  return 0;
}
