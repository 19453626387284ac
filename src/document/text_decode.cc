#include "document/text_decode.h"

#include <unicode/ucnv.h>
#include <unicode/ustring.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "text/html_entities.h"
#include "text/unicode_util.h"

namespace mosaic::document {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + need >= s.size()) return 0;
  for (size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return need + 1;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    // Fast path over ASCII.
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Result<std::string> Utf16ToUtf8(std::string_view bytes, bool big_endian) {
  if (bytes.size() % 2 != 0)
    return Status::InvalidArgument("UTF-16 text has an odd byte count (" +
                                   std::to_string(bytes.size()) + ")");
  std::vector<UChar> units(bytes.size() / 2);
  for (size_t i = 0; i < units.size(); ++i) {
    auto b0 = static_cast<uint8_t>(bytes[2 * i]), b1 = static_cast<uint8_t>(bytes[2 * i + 1]);
    units[i] = static_cast<UChar>(big_endian ? (b0 << 8) | b1 : (b1 << 8) | b0);
  }
  UErrorCode err = U_ZERO_ERROR;
  int32_t len = 0;
  u_strToUTF8(nullptr, 0, &len, units.data(), static_cast<int32_t>(units.size()), &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err))
    return Status::InvalidArgument(std::string("malformed UTF-16 text: ") + u_errorName(err));
  std::string out(static_cast<size_t>(len), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), len, &len, units.data(), static_cast<int32_t>(units.size()), &err);
  if (U_FAILURE(err))
    return Status::InvalidArgument(std::string("malformed UTF-16 text: ") + u_errorName(err));
  return out;
}

Result<std::string> Windows1252ToUtf8(std::string_view bytes) {
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UConverter, void (*)(UConverter*)> conv(ucnv_open("windows-1252", &err),
                                                          ucnv_close);
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU windows-1252: ") + u_errorName(err));
  // Every byte is one UTF-16 unit in Windows-1252.
  std::vector<UChar> units(bytes.size() + 1);
  int32_t n = ucnv_toUChars(conv.get(), units.data(), static_cast<int32_t>(units.size()),
                            bytes.data(), static_cast<int32_t>(bytes.size()), &err);
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU windows-1252: ") + u_errorName(err));
  std::string out(static_cast<size_t>(n) * 3, '\0');
  int32_t len = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len, units.data(), n, &err);
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU UTF-8: ") + u_errorName(err));
  out.resize(static_cast<size_t>(len));
  return out;
}

// Newlines normalized, control characters (other than \n \t) and stray BOMs dropped. `s` is
// valid UTF-8.
std::string Clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c < 0x20) {
      if (c == '\n' || c == '\t') out.push_back(static_cast<char>(c));
    } else if (c == 0x7F) {
      // DEL
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<uint8_t>(s[i + 1]) < 0xA0) {
      ++i;  // C1 control U+0080..U+009F
    } else if (c == 0xEF && s.substr(i, 3) == "\xEF\xBB\xBF") {
      i += 2;  // U+FEFF
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

Result<std::string> DecodeTextBytes(std::string_view bytes) {
  std::string utf8;
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    bytes.remove_prefix(3);
    if (!IsValidUtf8(bytes)) {
      utf8 = text::ReplaceInvalidUtf8(bytes);  // declared UTF-8: repair, don't reinterpret
      return Clean(utf8);
    }
    return Clean(bytes);
  }
  if (bytes.starts_with("\xFF\xFE")) {
    MOSAIC_ASSIGN_OR_RETURN(utf8, Utf16ToUtf8(bytes.substr(2), /*big_endian=*/false));
    return Clean(utf8);
  }
  if (bytes.starts_with("\xFE\xFF")) {
    MOSAIC_ASSIGN_OR_RETURN(utf8, Utf16ToUtf8(bytes.substr(2), /*big_endian=*/true));
    return Clean(utf8);
  }
  if (IsValidUtf8(bytes)) return Clean(bytes);
  MOSAIC_ASSIGN_OR_RETURN(utf8, Windows1252ToUtf8(bytes));
  return Clean(utf8);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool space = IsSpace(s[i]) || s[i] == '\r';
    if (!space && s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      space = true;  // U+00A0
      ++i;
    }
    if (space) {
      pending = !out.empty();
      continue;
    }
    if (pending) out.push_back(' ');
    pending = false;
    out.push_back(s[i]);
  }
  return out;
}

std::string DecodeEntities(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  Result<std::u32string> cps = text::DecodeUtf8(s);
  if (!cps.ok()) return std::string(s);
  return Clean(text::EncodeUtf8(text::HtmlUnescape(*cps)));
}

void DocBuilder::Add(BlockKind kind, std::string_view text, int level, int page) {
  text = Trim(text);
  if (text.empty()) return;
  if (!doc_.text.empty()) doc_.text += "\n\n";
  Block b;
  b.kind = kind;
  b.level = level;
  b.page = page;
  b.offset = doc_.text.size();
  b.length = text.size();
  doc_.text.append(text);
  doc_.blocks.push_back(b);
}

}  // namespace mosaic::document
