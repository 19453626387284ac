// HTML character-reference decoding, in the two flavours CLIP's text cleanup applies: Python's
// html.unescape (HTML5 rules: named references with and without ';', numeric references with the
// Windows-1252 and invalid-code-point fixups) and ftfy's stricter unescape_html (only references
// that end in ';', plus upper-cased names such as "&NTILDE;").
//
// The named-reference table is the WHATWG list (the same data as Python's html.entities.html5).
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mosaic::text {

/// Python's html.unescape.
std::u32string HtmlUnescape(std::u32string_view text);

/// ftfy.fixes.unescape_html.
std::u32string FtfyUnescapeHtml(std::u32string_view text);

/// The Windows-1252 reading of a C1 control character U+0080..U+009F (bytes that Windows-1252
/// leaves undefined map to themselves); any other code point is returned unchanged.
char32_t Windows1252ForC1(char32_t c);

}  // namespace mosaic::text
