#include "text/sentences.h"

#include <unicode/brkiter.h>
#include <unicode/unistr.h>

#include <cctype>
#include <memory>

#include "text/unicode_util.h"

namespace mosaic::text {

std::vector<std::pair<size_t, size_t>> SentenceSpans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  thread_local std::unique_ptr<icu::BreakIterator> breaker = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(
        icu::BreakIterator::createSentenceInstance(icu::Locale::getRoot(), status));
    return U_SUCCESS(status) ? std::move(b) : nullptr;
  }();
  if (text.empty()) return out;
  if (breaker == nullptr) {
    out.emplace_back(0, text.size());
    return out;
  }
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const std::vector<size_t> byte_at = Utf16ByteOffsets(text);
  if (byte_at.size() != static_cast<size_t>(u.length()) + 1) {
    out.emplace_back(0, text.size());
    return out;
  }
  breaker->setText(u);
  for (int32_t start = breaker->first(), end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    size_t b = byte_at[static_cast<size_t>(start)], e = byte_at[static_cast<size_t>(end)];
    while (b < e && std::isspace(static_cast<unsigned char>(text[b])))
      ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1])))
      --e;
    if (e > b) out.emplace_back(b, e);
  }
  return out;
}

}  // namespace mosaic::text
