// Fuzzes PDF parsing (src/document/pdf.cc over poppler-cpp, docs/documents.md): the input is
// parsed with a page limit (and, when encrypted, with the password the seeds use), and the
// document checked and chunked (document_check.h).
#include <string_view>

#include "document/document.h"
#include "fuzz/document_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mosaic::document::DocumentOptions options;
  options.max_pages = 20;
  auto doc = mosaic::document::ParsePdf(bytes, options);
  if (doc.ok()) mosaic::fuzz::CheckDocument(*doc);
  if (!doc.ok() && doc.status().code() == mosaic::StatusCode::kPermissionDenied) {
    options.pdf_password = "secret";
    doc = mosaic::document::ParsePdf(bytes, options);
    if (doc.ok()) mosaic::fuzz::CheckDocument(*doc);
  }
  return 0;
}
