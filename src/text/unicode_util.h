// Small Unicode helpers for the tokenizers: strict UTF-8 decoding, lossy UTF-8 repair, the character
// classes CLIP's pre-tokenizer uses, and ICU-backed normalization and lower-casing.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::text {

/// Decodes UTF-8 into code points. Overlong forms, surrogates, code points above U+10FFFF and
/// truncated sequences are rejected with InvalidArgument naming the byte offset.
Result<std::u32string> DecodeUtf8(std::string_view bytes);

void AppendUtf8(char32_t c, std::string* out);
std::string EncodeUtf8(std::u32string_view text);

/// Decodes possibly invalid UTF-8 and re-encodes it, replacing each maximal invalid subpart with
/// U+FFFD (what Python's bytes.decode("utf-8", errors="replace") does).
std::string ReplaceInvalidUtf8(std::string_view bytes);

/// The Unicode White_Space property: exactly what `\s` matches in Python's `regex` module.
bool IsWhiteSpace(char32_t c);
/// General_Category L* (`\p{L}`).
bool IsLetter(char32_t c);
/// General_Category N* (`\p{N}`).
bool IsNumber(char32_t c);
/// General_Category Nd (`\d` in Python's `re`).
bool IsDecimalDigit(char32_t c);

/// For each UTF-16 unit of `utf8` as ICU's UnicodeString::fromUTF8 converts it (invalid bytes as
/// U+FFFD), the byte offset of the character it belongs to, plus one last entry: utf8.size().
/// Maps ICU break-iterator positions back into the UTF-8 text.
std::vector<size_t> Utf16ByteOffsets(std::string_view utf8);

std::u32string NormalizeNfc(std::u32string_view text);
std::u32string NormalizeNfkc(std::u32string_view text);

/// Full Unicode lower-casing with the root locale (SpecialCasing, final sigma), like Python's
/// str.lower().
std::u32string ToLower(std::u32string_view text);

}  // namespace mosaic::text
