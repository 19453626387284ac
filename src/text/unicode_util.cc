#include "text/unicode_util.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdint>

namespace mosaic::text {
namespace {

// Length of the maximal prefix of bytes[i..] that starts a well-formed UTF-8 sequence (Unicode
// "maximal subpart"), and whether the whole sequence is complete. Sets *cp when complete.
struct Utf8Step {
  size_t length = 0;
  bool complete = false;
  char32_t cp = 0;
};

Utf8Step NextUtf8(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return {1, true, b0};
  int need = 0;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {1, false, 0};
  }
  size_t len = 1;
  for (int k = 0; k < need; ++k) {
    if (i + len >= s.size()) return {len, false, 0};
    const auto b = static_cast<uint8_t>(s[i + len]);
    const uint8_t min = k == 0 ? lo : 0x80;
    const uint8_t max = k == 0 ? hi : 0xBF;
    if (b < min || b > max) return {len, false, 0};
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {len, true, cp};
}

icu::UnicodeString ToIcu(std::u32string_view text) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                       static_cast<int32_t>(text.size()));
}

std::u32string FromIcu(const icu::UnicodeString& s) {
  std::u32string out(static_cast<size_t>(s.countChar32()), U'\0');
  UErrorCode status = U_ZERO_ERROR;
  s.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
  return out;
}

std::u32string Normalize(const icu::Normalizer2* norm, std::u32string_view text) {
  const icu::UnicodeString src = ToIcu(text);
  UErrorCode status = U_ZERO_ERROR;
  // quickCheck is much cheaper than normalize and "yes" for almost all real text.
  if (norm->quickCheck(src, status) == UNORM_YES && U_SUCCESS(status)) {
    return std::u32string(text);
  }
  status = U_ZERO_ERROR;
  const icu::UnicodeString dst = norm->normalize(src, status);
  return U_SUCCESS(status) ? FromIcu(dst) : std::u32string(text);
}

}  // namespace

Result<std::u32string> DecodeUtf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const Utf8Step step = NextUtf8(bytes, i);
    if (!step.complete) {
      return Status::InvalidArgument("text is not valid UTF-8 at byte offset " + std::to_string(i));
    }
    out.push_back(step.cp);
    i += step.length;
  }
  return out;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) AppendUtf8(c, &out);
  return out;
}

std::string ReplaceInvalidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const Utf8Step step = NextUtf8(bytes, i);
    if (step.complete) {
      out.append(bytes.substr(i, step.length));
    } else {
      AppendUtf8(U'\uFFFD', &out);
    }
    i += step.length;
  }
  return out;
}

bool IsWhiteSpace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool IsLetter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0;
}

bool IsNumber(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0;
}

bool IsDecimalDigit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return u_charType(static_cast<UChar32>(c)) == U_DECIMAL_DIGIT_NUMBER;
}

std::u32string NormalizeNfc(std::u32string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFCInstance(status);
  return U_SUCCESS(status) ? Normalize(norm, text) : std::u32string(text);
}

std::u32string NormalizeNfkc(std::u32string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFKCInstance(status);
  return U_SUCCESS(status) ? Normalize(norm, text) : std::u32string(text);
}

std::u32string ToLower(std::u32string_view text) {
  bool ascii = true;
  for (char32_t c : text) ascii = ascii && c < 0x80;
  if (ascii) {
    std::u32string out(text);
    for (char32_t& c : out) {
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    }
    return out;
  }
  icu::UnicodeString s = ToIcu(text);
  s.toLower(icu::Locale::getRoot());
  return FromIcu(s);
}

std::vector<size_t> Utf16ByteOffsets(std::string_view utf8) {
  std::vector<size_t> at;
  at.reserve(utf8.size() + 1);
  const int32_t n = static_cast<int32_t>(utf8.size());
  for (int32_t i = 0; i < n;) {
    const size_t begin = static_cast<size_t>(i);
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(utf8.data()), i, n, c);
    at.push_back(begin);
    if (c >= 0x10000) at.push_back(begin);  // a surrogate pair
  }
  at.push_back(utf8.size());
  return at;
}

}  // namespace mosaic::text
