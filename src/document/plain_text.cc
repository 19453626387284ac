#include <string>
#include <vector>

#include "document/document.h"
#include "document/text_decode.h"

namespace mosaic::document {

Status CheckInput(std::string_view bytes, const DocumentOptions& options) {
  if (bytes.empty()) return Status::InvalidArgument("empty file");
  if (bytes.size() > options.max_bytes)
    return Status::ResourceExhausted(std::to_string(bytes.size()) + " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  return Status::OK();
}

// Paragraphs are runs of non-blank lines; a paragraph's lines are joined with single spaces, since
// plain text is usually hard-wrapped and a newline would read as a sentence end.
Result<Document> ParseText(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  MOSAIC_ASSIGN_OR_RETURN(std::string text, DecodeTextBytes(bytes));
  DocBuilder b(DocFormat::kText);
  std::string para;
  std::string first_line;
  auto flush = [&] {
    b.Add(BlockKind::kParagraph, CollapseWhitespace(para));
    para.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line = Trim(std::string_view(text).substr(pos, nl - pos));
    if (line.empty()) {
      flush();
    } else {
      if (first_line.empty()) first_line = CollapseWhitespace(line);
      para.append(line).push_back(' ');
    }
    pos = nl + 1;
  }
  flush();
  Document doc = b.Finish();
  if (first_line.size() <= 120) doc.title = first_line;
  return doc;
}

}  // namespace mosaic::document
