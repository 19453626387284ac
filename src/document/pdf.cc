// PDF text through poppler-cpp. Each page is read in poppler's physical layout, which keeps
// vertical gaps as blank lines (the reading-order mode merges paragraphs); on a two-column page it
// interleaves the columns line by line, a known limitation. Lines are then joined into paragraphs
// at blank lines, with hyphenated line ends rejoined.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "document/document.h"
#include "document/text_decode.h"

namespace mosaic::document {
namespace {

// poppler reports errors through one process-wide hook. It is installed once; messages go to the
// buffer of the parse running on the calling thread (poppler calls back synchronously), never to
// stderr.
thread_local std::string* t_poppler_errors = nullptr;

void OnPopplerError(const std::string& msg, void*) {
  if (t_poppler_errors == nullptr || t_poppler_errors->size() > 400) return;
  if (!t_poppler_errors->empty()) *t_poppler_errors += "; ";
  *t_poppler_errors += msg;
}

class PopplerErrorCapture {
 public:
  PopplerErrorCapture() {
    static std::once_flag once;
    std::call_once(once, [] { poppler::set_debug_error_function(OnPopplerError, nullptr); });
    t_poppler_errors = &errors_;
  }
  ~PopplerErrorCapture() { t_poppler_errors = nullptr; }
  // " (poppler: ...)" or "".
  std::string Suffix() const { return errors_.empty() ? "" : " (poppler: " + errors_ + ")"; }

 private:
  std::string errors_;
};

std::string ToUtf8(const poppler::ustring& s) {
  poppler::byte_array b = s.to_utf8();
  return std::string(b.begin(), b.end());
}

// "D:20240305143000+01'00'" -> "2024-03-05T14:30:00+01:00"; missing fields default as the spec
// says (month and day 01, time 00); no zone gives a local time without offset. Empty when not a
// date.
std::string PdfDateToIso(std::string_view d) {
  if (d.starts_with("D:")) d.remove_prefix(2);
  auto digits = [&](size_t pos, size_t n, const char* dflt) -> std::string {
    if (pos + n <= d.size()) {
      std::string_view v = d.substr(pos, n);
      bool ok = true;
      for (char c : v) ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (ok) return std::string(v);
    }
    return dflt;
  };
  std::string year = digits(0, 4, "");
  if (year.empty()) return "";
  std::string iso = year + "-" + digits(4, 2, "01") + "-" + digits(6, 2, "01") + "T" +
                    digits(8, 2, "00") + ":" + digits(10, 2, "00") + ":" + digits(12, 2, "00");
  if (d.size() > 14) {
    char z = d[14];
    if (z == 'Z') {
      iso += "Z";
    } else if (z == '+' || z == '-') {
      std::string hh = digits(15, 2, "00");
      std::string mm = digits(18, 2, "00");  // after the apostrophe
      iso += std::string(1, z) + hh + ":" + mm;
    }
  }
  return iso;
}

bool IsLower(std::string_view s) {
  return !s.empty() && std::islower(static_cast<unsigned char>(s[0])) != 0;
}

// One page's text into paragraph blocks.
void AddPage(const std::string& text, int page, DocBuilder* b) {
  std::string para;
  auto flush = [&] {
    b->Add(BlockKind::kParagraph, para, 0, page);
    para.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = CollapseWhitespace(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty()) {
      flush();
      continue;
    }
    // "hyphen-" + "ated" -> "hyphenated" when the break splits a word.
    if (para.size() >= 2 && para.back() == '-' &&
        std::isalpha(static_cast<unsigned char>(para[para.size() - 2])) && IsLower(line)) {
      para.pop_back();
    } else if (para.ends_with("\xC2\xAD")) {  // soft hyphen
      para.resize(para.size() - 2);
    } else if (!para.empty()) {
      para.push_back(' ');
    }
    para += line;
  }
  flush();
}

bool HasPdfHeader(std::string_view bytes) {
  // Readers accept junk before the header within the first KB.
  return bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

Result<Document> ParsePdfImpl(std::string_view bytes, const DocumentOptions& options) {
  if (!HasPdfHeader(bytes)) return Status::InvalidArgument("not a PDF (no %PDF- header)");
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return Status::ResourceExhausted("PDF of " + std::to_string(bytes.size()) +
                                     " bytes is over poppler's 2 GiB limit");
  PopplerErrorCapture errors;
  std::unique_ptr<poppler::document> pdf(poppler::document::load_from_raw_data(
      bytes.data(), static_cast<int>(bytes.size()), std::string(), options.pdf_password));
  if (pdf == nullptr)
    return Status::Corruption("damaged PDF, poppler cannot open it" + errors.Suffix());
  if (pdf->is_locked())
    return Status::PermissionDenied(options.pdf_password.empty()
                                        ? "password-protected PDF"
                                        : "password-protected PDF (the password given is wrong)");
  const int pages = pdf->pages();
  if (pages > options.max_pages)
    return Status::ResourceExhausted("PDF has " + std::to_string(pages) +
                                     " pages, over the limit of " +
                                     std::to_string(options.max_pages));
  DocBuilder b(DocFormat::kPdf);
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (page == nullptr)
      return Status::Corruption("PDF page " + std::to_string(i + 1) + " of " +
                                std::to_string(pages) + " cannot be read" + errors.Suffix());
    Result<std::string> text =
        DecodeTextBytes(ToUtf8(page->text(poppler::rectf(), poppler::page::physical_layout)));
    if (text.ok()) AddPage(*text, i + 1, &b);
  }
  Document doc = b.Finish();
  doc.pages = pages;
  doc.title = CollapseWhitespace(ToUtf8(pdf->get_title()));
  auto info = [&](const char* key, const char* field) {
    std::string v = CollapseWhitespace(ToUtf8(pdf->info_key(key)));
    if (!v.empty()) doc.metadata[field] = v;
  };
  info("Author", "author");
  info("Subject", "description");
  info("Keywords", "keywords");
  info("Creator", "creator");
  info("Producer", "producer");
  for (auto [key, field] : {std::pair{"CreationDate", "created"}, std::pair{"ModDate", "modified"}}) {
    std::string iso = PdfDateToIso(ToUtf8(pdf->info_key(key)));
    if (!iso.empty()) doc.metadata[field] = iso;
  }
  if (doc.blocks.empty() && pages > 0) doc.metadata["no_text"] = true;  // scanned pages
  return doc;
}

}  // namespace

Result<Document> ParsePdf(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  try {
    return ParsePdfImpl(bytes, options);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("PDF could not be read: ") + e.what());
  } catch (...) {
    return Status::Corruption("PDF could not be read");
  }
}

}  // namespace mosaic::document
