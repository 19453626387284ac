// The part of ftfy.fix_text (ftfy 6, default configuration) that applies to well-formed Unicode
// input, so that CLIP's text cleanup can be reproduced without Python.
//
// Implemented, in ftfy's order and repeated per line until nothing changes: unescape_html (in
// ftfy's "auto" mode: skipped from the first line containing '<' on), fix_c1_controls,
// fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
// remove_terminal_escapes, remove_control_chars, then NFC normalization.
//
// Left out: fix_encoding (mojibake detection and repair: "CafÃ©" stays as is) with its helpers
// restore_byte_a0, replace_lossy_sequences and decode_inconsistent_utf8. Those guess at text that
// was decoded with the wrong codec; Mosaic rejects invalid UTF-8 before this point and does not try
// to undo double encodings. fix_surrogates has nothing to do on decoded UTF-8.
//
// Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mosaic::text {

std::u32string FixText(std::u32string_view text);

}  // namespace mosaic::text
