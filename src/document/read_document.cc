#include <string>

#include "common/file_util.h"
#include "document/document.h"

namespace mosaic::document {

Result<Document> ParseDocument(std::string_view bytes, DocFormat format,
                               const DocumentOptions& options) {
  switch (format) {
    case DocFormat::kText: return ParseText(bytes, options);
    case DocFormat::kMarkdown: return ParseMarkdown(bytes, options);
    case DocFormat::kHtml: return ParseHtml(bytes, options);
    case DocFormat::kPdf: return ParsePdf(bytes, options);
  }
  return Status::InvalidArgument("unknown document format");
}

Result<Document> ReadDocument(const std::string& path, DocFormat format,
                              const DocumentOptions& options) {
  std::string bytes;
  MOSAIC_RETURN_IF_ERROR(ReadWholeFile(path, &bytes, options.max_bytes));
  Result<Document> doc = ParseDocument(bytes, format, options);
  if (!doc.ok()) return doc.status().WithContext(path);
  return doc;
}

}  // namespace mosaic::document
