// PDF extraction through poppler on files made by tests/util/pdf_writer: text per page, page
// numbers, the Info dictionary, encryption, damaged and foreign bytes, limits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "document/document.h"
#include "util/pdf_writer.h"

namespace mosaic::document {
namespace {

using mosaic::testing::PdfSpec;
using mosaic::testing::WritePdf;

PdfSpec ThreePages() {
  PdfSpec s;
  s.title = "Annual Report (2023)";
  s.author = "Jane Doe";
  s.creation_date = "D:20240305143000+01'00'";
  s.pages = {
      {"Introduction", "", "Mosaic indexes photos, videos and docu-", "ments on one machine. It runs",
       "without a network connection.", "", "A second paragraph on page one."},
      {"Results on page two: recall 0.98 at", "2.5 ms per query."},
      {"Conclusion", "", "Page three closes the report."},
  };
  return s;
}

TEST(PdfWriterTest, ValidXref) {
  std::string pdf = WritePdf(ThreePages());
  ASSERT_TRUE(pdf.starts_with("%PDF-1.4"));
  size_t sx = pdf.rfind("startxref\n");
  ASSERT_NE(sx, std::string::npos);
  size_t xref = std::stoul(pdf.substr(sx + 10));
  ASSERT_EQ(pdf.substr(xref, 5), "xref\n");
  // Each in-use entry points at "N 0 obj".
  std::string table = pdf.substr(xref + 5);
  int count = std::stoi(table.substr(table.find(' ') + 1));
  size_t line = table.find('\n') + 1 + 20;  // past the header and the free entry
  for (int i = 1; i < count; ++i, line += 20) {
    size_t off = std::stoul(table.substr(line, 10));
    EXPECT_EQ(pdf.substr(off, std::to_string(i).size() + 6), std::to_string(i) + " 0 obj") << i;
  }
}

TEST(PdfTest, PagesTitleAuthorDate) {
  Result<Document> r = ParsePdf(WritePdf(ThreePages()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Document& d = *r;
  EXPECT_EQ(d.format, DocFormat::kPdf);
  EXPECT_EQ(d.pages, 3);
  EXPECT_EQ(d.title, "Annual Report (2023)");
  EXPECT_EQ(d.metadata.value("author", ""), "Jane Doe");
  EXPECT_EQ(d.metadata.value("created", ""), "2024-03-05T14:30:00+01:00");
  std::vector<std::pair<int, std::string>> blocks;
  for (const Block& b : d.blocks) blocks.emplace_back(b.page, std::string(d.block_text(b)));
  EXPECT_EQ(blocks, (std::vector<std::pair<int, std::string>>{
                        {1, "Introduction"},
                        {1, "Mosaic indexes photos, videos and documents on one machine. It runs "
                            "without a network connection."},
                        {1, "A second paragraph on page one."},
                        {2, "Results on page two: recall 0.98 at 2.5 ms per query."},
                        {3, "Conclusion"},
                        {3, "Page three closes the report."},
                    }));
}

TEST(PdfTest, PasswordProtected) {
  for (int revision : {2, 3}) {
    PdfSpec s = ThreePages();
    s.user_password = "open sesame";
    s.owner_password = "owner";
    s.revision = revision;
    std::string pdf = WritePdf(s);
    Result<Document> locked = ParsePdf(pdf);
    EXPECT_EQ(locked.status().code(), StatusCode::kPermissionDenied) << locked.status().ToString();
    EXPECT_NE(locked.status().message().find("password-protected PDF"), std::string::npos);

    DocumentOptions wrong;
    wrong.pdf_password = "guess";
    Result<Document> bad = ParsePdf(pdf, wrong);
    EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(bad.status().message().find("password given is wrong"), std::string::npos) << bad.status().ToString();

    DocumentOptions right;
    right.pdf_password = "open sesame";
    Result<Document> open = ParsePdf(pdf, right);
    ASSERT_TRUE(open.ok()) << "revision " << revision << ": " << open.status().ToString();
    EXPECT_EQ(open->title, "Annual Report (2023)");  // Info strings are encrypted too
    ASSERT_EQ(open->blocks.size(), 6u);
    EXPECT_EQ(open->block_text(open->blocks[5]), "Page three closes the report.");
  }
}

TEST(PdfTest, DamagedAndForeignBytes) {
  Result<Document> garbage = ParsePdf("%PDF-1.7\n\x01\x02 this is not a PDF body at all \xFF\xFE");
  EXPECT_TRUE(garbage.status().IsCorruption()) << garbage.status().ToString();

  Result<Document> text = ParsePdf("Hello, I am plain text.");
  EXPECT_TRUE(text.status().IsInvalidArgument());
  EXPECT_NE(text.status().message().find("not a PDF"), std::string::npos);

  // Cut inside the second page's content: poppler reconstructs what it can or reports damage;
  // either way no crash and no stderr noise.
  std::string pdf = WritePdf(ThreePages());
  for (size_t cut : {pdf.size() / 4, pdf.size() / 2, pdf.size() - 40}) {
    Result<Document> r = ParsePdf(pdf.substr(0, cut));
    if (r.ok()) {
      EXPECT_LE(r->pages, 3);
    } else {
      EXPECT_TRUE(r.status().IsCorruption()) << cut << ": " << r.status().ToString();
    }
  }
  // Cut right after the header: nothing to reconstruct.
  Result<Document> stub = ParsePdf(pdf.substr(0, 15));
  EXPECT_TRUE(stub.status().IsCorruption()) << stub.status().ToString();
}

TEST(PdfTest, ReadDocumentNamesThePath) {
  auto dir = std::filesystem::temp_directory_path() / ("mosaic_pdf_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string truncated = (dir / "truncated.pdf").string();
  std::ofstream(truncated, std::ios::binary) << WritePdf(ThreePages()).substr(0, 15);
  Result<Document> r = ReadDocument(truncated, DocFormat::kPdf);
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_TRUE(r.status().message().starts_with(truncated + ": ")) << r.status().message();

  std::string good = (dir / "good.pdf").string();
  std::ofstream(good, std::ios::binary) << WritePdf(ThreePages());
  DocumentOptions two_pages;
  two_pages.max_pages = 2;
  Result<Document> over = ReadDocument(good, DocFormat::kPdf, two_pages);
  EXPECT_TRUE(over.status().IsResourceExhausted()) << over.status().ToString();
  EXPECT_NE(over.status().message().find("3 pages"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mosaic::document
