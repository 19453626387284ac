// A tiny PDF writer for tests: pages of text lines in Helvetica (a standard-14 font, not
// embedded), an Info dictionary, and optionally the standard security handler (RC4, revision 2
// or 3, PDF 1.7 section 7.6.3) with a user password. The cross-reference table carries exact byte
// offsets, so strict readers accept the file without reconstruction.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

namespace mosaic::testing {

struct PdfSpec {
  // Lines per page, top to bottom. An empty line leaves a blank line (a paragraph gap).
  // Bytes are written as WinAnsiEncoding: keep them ASCII (or Latin-1 bytes).
  std::vector<std::vector<std::string>> pages;
  std::string title;          // Info /Title; empty: omitted
  std::string author;         // Info /Author
  std::string creation_date;  // Info /CreationDate in PDF form, e.g. "D:20240305143000+01'00'"
  double font_size = 12;
  // Non-empty: encrypt with the standard security handler (RC4, revision 2: 40-bit key,
  // revision 3: 128-bit key). An empty owner password means the user password.
  std::string user_password;
  std::string owner_password;
  int revision = 3;
};

/// The bytes of a complete PDF 1.4 file.
std::string WritePdf(const PdfSpec& spec);

}  // namespace mosaic::testing
