// Markdown to blocks with md4c (CommonMark 0.30 plus the GitHub tables, strikethrough and task
// lists): the parser reports blocks and text through callbacks, and this file turns them into
// headings, paragraphs, list items, code and table rows. YAML front matter, which md4c does not
// know, is read first. md4c never fails on odd input: whatever it does not recognise is text.
#include <md4c.h>

#include <string>
#include <utility>
#include <vector>

#include "document/document.h"
#include "document/text_decode.h"

namespace mosaic::document {
namespace {

std::string Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

// YAML front matter between "---" lines at the very start: the title and a few well-known
// scalar keys. Returns the bytes it spans (0 without a closing line: then it is not front matter).
size_t ReadFrontMatter(std::string_view text, std::string* title,
                       std::vector<std::pair<std::string, std::string>>* meta) {
  auto line_at = [&](size_t pos, size_t* next) {
    size_t nl = text.find('\n', pos);
    *next = nl == std::string_view::npos ? text.size() : nl + 1;
    return text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
  };
  size_t pos;
  if (Trim(line_at(0, &pos)) != "---") return 0;
  std::vector<std::string_view> lines;
  while (pos < text.size()) {
    size_t next;
    std::string_view l = line_at(pos, &next);
    pos = next;
    if (Trim(l) == "---" || Trim(l) == "...") {
      for (std::string_view kv : lines) {
        size_t colon = kv.find(':');
        if (colon == std::string_view::npos || IsSpace(kv[0])) continue;
        std::string key(Trim(kv.substr(0, colon)));
        std::string value = Unquote(kv.substr(colon + 1));
        if (value.empty()) continue;
        if (key == "title") *title = value;
        else if (key == "author" || key == "description") meta->emplace_back(key, value);
        else if (key == "date") meta->emplace_back("created", value);
        else if (key == "lang" || key == "language") meta->emplace_back("language", value);
      }
      return pos;
    }
    lines.push_back(l);
  }
  return 0;
}

// md4c's callbacks in, blocks out. Text accumulates in buf_ until the block holding it ends, or
// until a block opens inside it (a tight list item's text before its nested list).
class MarkdownReader {
 public:
  explicit MarkdownReader(const DocumentOptions& options) : options_(options) {}

  Status Run(std::string_view text) {
    MD_PARSER parser{};
    parser.flags = MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_TASKLISTS;
    parser.enter_block = [](MD_BLOCKTYPE type, void* detail, void* self) {
      return static_cast<MarkdownReader*>(self)->Enter(type, detail);
    };
    parser.leave_block = [](MD_BLOCKTYPE type, void*, void* self) {
      return static_cast<MarkdownReader*>(self)->Leave(type);
    };
    parser.enter_span = [](MD_SPANTYPE, void*, void*) { return 0; };
    parser.leave_span = [](MD_SPANTYPE, void*, void*) { return 0; };
    parser.text = [](MD_TEXTTYPE type, const MD_CHAR* t, MD_SIZE size, void* self) {
      return static_cast<MarkdownReader*>(self)->Text(type, std::string_view(t, size));
    };
    if (md_parse(text.data(), static_cast<MD_SIZE>(text.size()), &parser, this) != 0)
      return Status::ResourceExhausted("the Markdown parser ran out of memory");
    return Status::OK();
  }

  DocBuilder& builder() { return b_; }
  const std::string& h1() const { return h1_; }

 private:
  struct Open {
    MD_BLOCKTYPE type;
    int level;  // headings
  };

  int Enter(MD_BLOCKTYPE type, void* detail) {
    if (type == MD_BLOCK_TH || type == MD_BLOCK_TD) {
      if (cells_++ > 0) buf_ += " | ";
      return 0;
    }
    if (type == MD_BLOCK_DOC) return 0;
    Flush();
    if (type == MD_BLOCK_TR) cells_ = 0;
    if (type == MD_BLOCK_HTML) html_.clear();
    const int level = type == MD_BLOCK_H ? static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level) : 0;
    open_.push_back({type, level});
    return 0;
  }

  int Leave(MD_BLOCKTYPE type) {
    if (type == MD_BLOCK_TH || type == MD_BLOCK_TD || type == MD_BLOCK_DOC) return 0;
    if (type == MD_BLOCK_HTML) {
      // Raw HTML between the Markdown: its visible text, read by the HTML reader.
      Result<Document> html = ParseHtml(html_, options_);
      if (html.ok())
        for (const Block& blk : html->blocks) Add(blk.kind, html->block_text(blk), blk.level);
      html_.clear();
    } else {
      Flush();
    }
    if (!open_.empty()) open_.pop_back();
    return 0;
  }

  int Text(MD_TEXTTYPE type, std::string_view t) {
    switch (type) {
      case MD_TEXT_NULLCHAR:
        buf_ += "\xEF\xBF\xBD";
        break;
      case MD_TEXT_BR:  // a hard line break reads as a space, as a soft one does
      case MD_TEXT_SOFTBR:
        buf_.push_back(' ');
        break;
      case MD_TEXT_ENTITY:
        buf_ += DecodeEntities(t);
        break;
      case MD_TEXT_HTML:
        // Inside an HTML block the markup is kept for the HTML reader; an inline tag goes, with
        // a space, as it may separate words.
        if (!open_.empty() && open_.back().type == MD_BLOCK_HTML) html_.append(t);
        else buf_.push_back(' ');
        break;
      default:  // normal text, code (spans and blocks, with their newlines), LaTeX
        buf_.append(t);
        break;
    }
    return 0;
  }

  // The kind of text the innermost open block holds: a paragraph right inside a list item is
  // the item's text (a loose list), a quote's is a paragraph.
  std::pair<BlockKind, int> Kind() const {
    for (size_t k = open_.size(); k-- > 0;) {
      switch (open_[k].type) {
        case MD_BLOCK_H:
          return {BlockKind::kHeading, open_[k].level};
        case MD_BLOCK_CODE:
          return {BlockKind::kCode, 0};
        case MD_BLOCK_TR:
          return {BlockKind::kTableRow, 0};
        case MD_BLOCK_LI:
          return {BlockKind::kListItem, 0};
        case MD_BLOCK_P:
          continue;
        default:
          return {BlockKind::kParagraph, 0};
      }
    }
    return {BlockKind::kParagraph, 0};
  }

  void Flush() {
    if (buf_.empty()) return;
    auto [kind, level] = Kind();
    Add(kind, kind == BlockKind::kCode ? buf_ : CollapseWhitespace(buf_), level);
    buf_.clear();
  }

  void Add(BlockKind kind, std::string_view text, int level) {
    if (kind == BlockKind::kHeading && level == 1 && h1_.empty()) h1_ = std::string(Trim(text));
    b_.Add(kind, text, level);
  }

  const DocumentOptions& options_;  // the caller's, for the HTML blocks
  DocBuilder b_{DocFormat::kMarkdown};
  std::vector<Open> open_;
  std::string buf_;
  std::string html_;
  int cells_ = 0;
  std::string h1_;
};

}  // namespace

Result<Document> ParseMarkdown(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  MOSAIC_ASSIGN_OR_RETURN(std::string text, DecodeTextBytes(bytes));
  std::string title;
  std::vector<std::pair<std::string, std::string>> meta;
  const size_t body = ReadFrontMatter(text, &title, &meta);
  MarkdownReader reader(options);
  MOSAIC_RETURN_IF_ERROR(reader.Run(std::string_view(text).substr(body)));
  Document doc = reader.builder().Finish();
  doc.title = !title.empty() ? title : reader.h1();
  for (auto& [k, v] : meta) doc.metadata[k] = v;
  return doc;
}

}  // namespace mosaic::document
