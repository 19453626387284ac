#include "text/text_fixer.h"

#include <array>

#include "text/html_entities.h"
#include "text/unicode_util.h"

namespace mosaic::text {
namespace {

// ftfy processes at most this many code points as one segment when a line is longer.
constexpr size_t kMaxSegmentLength = 1'000'000;

// Latin typographic ligatures and legacy digraphs that ftfy takes apart (it keeps æ, œ, ...).
std::u32string_view Ligature(char32_t c) {
  switch (c) {
    case 0x0132: return U"IJ";
    case 0x0133: return U"ij";
    case 0x0149: return U"\u02BCn";
    case 0x01C4: return U"D\u017D";
    case 0x01C5: return U"D\u017E";
    case 0x01C6: return U"d\u017E";
    case 0x01C7: return U"LJ";
    case 0x01C8: return U"Lj";
    case 0x01C9: return U"lj";
    case 0x01CA: return U"NJ";
    case 0x01CB: return U"Nj";
    case 0x01CC: return U"nj";
    case 0x01F1: return U"DZ";
    case 0x01F2: return U"Dz";
    case 0x01F3: return U"dz";
    case 0xFB00: return U"ff";
    case 0xFB01: return U"fi";
    case 0xFB02: return U"fl";
    case 0xFB03: return U"ffi";
    case 0xFB04: return U"ffl";
    case 0xFB05: return U"\u017Ft";
    case 0xFB06: return U"st";
    default: return {};
  }
}

bool IsRemovedControl(char32_t c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
         (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

// Fixes that map one code point to zero or more: C1 controls, ligatures, character width,
// curly quotes, line breaks. They are applied as separate passes in ftfy, but none of them
// produces a character another one would change, so one pass per character is equivalent,
// except that a C1 U+0085 becomes "…" (fix_c1_controls) before fix_line_breaks could see it.
void AppendCharacterFixes(char32_t c, std::u32string* out) {
  if (c < 0x80) {
    if (c == '\r') {
      out->push_back(U'\n');  // a following '\n' is dropped by the caller
    } else {
      out->push_back(c);
    }
    return;
  }
  if (c <= 0x9F) {
    c = Windows1252ForC1(c);
    if (c <= 0x9F) {  // undefined in Windows-1252: stays a C1 control
      out->push_back(c);
      return;
    }
  }
  if (const std::u32string_view lig = Ligature(c); !lig.empty()) {
    for (char32_t l : lig) out->push_back(l == 0x02BC ? U'\'' : l);  // uncurl_quotes runs later
    return;
  }
  if (c == 0x3000) {
    out->push_back(U' ');
    return;
  }
  if (c >= 0xFF01 && c <= 0xFFEF) {
    out->append(NormalizeNfkc(std::u32string_view(&c, 1)));
    return;
  }
  if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) {
    out->push_back(U'\'');
  } else if (c >= 0x201C && c <= 0x201F) {
    out->push_back(U'"');
  } else if (c == 0x2028 || c == 0x2029) {
    out->push_back(U'\n');
  } else {
    out->push_back(c);
  }
}

std::u32string ApplyCharacterFixes(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    AppendCharacterFixes(text[i], &out);
    if (text[i] == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n') ++i;
  }
  return out;
}

// "\x1b[" digits-or-';' a letter (ftfy's ANSI_RE; its \d is any decimal digit).
std::u32string RemoveTerminalEscapes(std::u32string_view text) {
  if (text.find(U'\x1b') == std::u32string_view::npos) return std::u32string(text);
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == U'\x1b' && i + 1 < text.size() && text[i + 1] == U'[') {
      size_t k = i + 2;
      while (k < text.size() && (text[k] == U';' || IsDecimalDigit(text[k]))) ++k;
      if (k < text.size() && (((text[k] | 0x20) >= 'a' && (text[k] | 0x20) <= 'z'))) {
        i = k + 1;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::u32string RemoveControlChars(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (!IsRemovedControl(c)) out.push_back(c);
  }
  return out;
}

// Printable ASCII and ordinary white space, without '&': no fixer changes it.
bool NeedsNoFixes(std::u32string_view text) {
  for (char32_t c : text) {
    if (c > 0x7E || c == U'&' || (c < 0x20 && c != U'\t' && c != U'\n' && c != U'\f')) return false;
  }
  return true;
}

std::u32string FixSegment(std::u32string_view segment, bool unescape_html) {
  if (NeedsNoFixes(segment)) return std::u32string(segment);
  std::u32string text(segment);
  while (true) {
    std::u32string fixed = unescape_html ? FtfyUnescapeHtml(text) : text;
    fixed = ApplyCharacterFixes(fixed);
    fixed = RemoveTerminalEscapes(fixed);
    fixed = RemoveControlChars(fixed);
    fixed = NormalizeNfc(fixed);
    if (fixed == text) return text;
    text = std::move(fixed);
  }
}

}  // namespace

std::u32string FixText(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  bool unescape_html = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(U'\n', pos);
    end = end == std::u32string_view::npos ? text.size() : end + 1;
    end = std::min(end, pos + kMaxSegmentLength);
    const std::u32string_view segment = text.substr(pos, end - pos);
    // ftfy's "auto": text with '<' may be HTML source whose entities are meant literally. Once
    // seen, ftfy keeps unescaping off for the rest of the text.
    if (segment.find(U'<') != std::u32string_view::npos) unescape_html = false;
    out += FixSegment(segment, unescape_html);
    pos = end;
  }
  return out;
}

}  // namespace mosaic::text
