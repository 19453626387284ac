// HTML to blocks with a tolerant tokenizer: tags, comments, doctype and raw-text elements are
// recognised; nothing is ever an error, unclosed and stray tags are simply absorbed. Block-level
// elements end the current block; inline ones are transparent.
#include <cctype>
#include <string>
#include <vector>

#include "document/document.h"
#include "document/text_decode.h"

namespace mosaic::document {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Elements whose content is never visible text (<title> is read separately).
bool IsHidden(const std::string& n) {
  return n == "script" || n == "style" || n == "noscript" || n == "template" || n == "svg" ||
         n == "math" || n == "head" || n == "nav" || n == "iframe" || n == "object" ||
         n == "canvas" || n == "select" || n == "button";
}

// Raw text: the content is not markup and ends only at the matching end tag.
bool IsRawText(const std::string& n) {
  return n == "script" || n == "style" || n == "title" || n == "textarea" || n == "xmp";
}

bool IsVoid(const std::string& n) {
  return n == "br" || n == "hr" || n == "img" || n == "meta" || n == "link" || n == "input" ||
         n == "area" || n == "base" || n == "col" || n == "embed" || n == "source" ||
         n == "track" || n == "wbr" || n == "param";
}

bool IsHeading(const std::string& n) {
  return n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6';
}

bool IsBlock(const std::string& n) {
  static const char* const kBlocks[] = {
      "p",       "div",     "li",      "ul",         "ol",     "dl",      "dt",     "dd",
      "pre",     "tr",      "table",   "thead",      "tbody",  "tfoot",   "caption", "blockquote",
      "section", "article", "header",  "footer",     "main",   "aside",   "figure", "figcaption",
      "form",    "fieldset", "address", "hr",        "body",   "html",    "details", "summary",
      "center",  "legend",  "option",  "hgroup",     "menu"};
  for (const char* b : kBlocks)
    if (n == b) return true;
  return IsHeading(n);
}

struct Tag {
  std::string name;  // lower case
  bool end = false;
  bool self_closing = false;
  std::vector<std::pair<std::string, std::string>> attrs;  // names lower case, values decoded

  const std::string* Attr(std::string_view key) const {
    for (const auto& [k, v] : attrs)
      if (k == key) return &v;
    return nullptr;
  }
};

// Parses the tag starting at s[i] == '<' (name already known to start with a letter or '/').
// Returns the index after '>'.
size_t ParseTag(std::string_view s, size_t i, Tag* tag) {
  const size_t n = s.size();
  ++i;
  if (i < n && s[i] == '/') {
    tag->end = true;
    ++i;
  }
  size_t start = i;
  while (i < n && !IsSpace(s[i]) && s[i] != '>' && s[i] != '/') ++i;
  tag->name = Lower(s.substr(start, i - start));
  for (;;) {
    while (i < n && (IsSpace(s[i]) || s[i] == '/')) {
      if (s[i] == '/' && i + 1 < n && s[i + 1] == '>') tag->self_closing = true;
      ++i;
    }
    if (i >= n) return n;
    if (s[i] == '>') return i + 1;
    start = i;
    while (i < n && !IsSpace(s[i]) && s[i] != '>' && s[i] != '=' && s[i] != '/') ++i;
    std::string key = Lower(s.substr(start, i - start));
    while (i < n && IsSpace(s[i])) ++i;
    std::string value;
    if (i < n && s[i] == '=') {
      ++i;
      while (i < n && IsSpace(s[i])) ++i;
      if (i < n && (s[i] == '"' || s[i] == '\'')) {
        char q = s[i++];
        size_t close = s.find(q, i);
        if (close == std::string_view::npos) close = n;
        value = DecodeEntities(s.substr(i, close - i));
        i = close < n ? close + 1 : n;
      } else {
        start = i;
        while (i < n && !IsSpace(s[i]) && s[i] != '>') ++i;
        value = DecodeEntities(s.substr(start, i - start));
      }
    }
    if (!key.empty()) tag->attrs.emplace_back(std::move(key), std::move(value));
  }
}

class HtmlReader {
 public:
  Document Run(std::string_view s) {
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
      size_t lt = s.find('<', i);
      if (lt == std::string_view::npos) lt = n;
      if (lt > i) Text(s.substr(i, lt - i));
      i = lt;
      if (i >= n) break;
      if (s.substr(i, 4) == "<!--") {
        size_t end = s.find("-->", i + 4);
        i = end == std::string_view::npos ? n : end + 3;
      } else if (s.substr(i, 9) == "<![CDATA[") {
        size_t end = s.find("]]>", i + 9);
        size_t stop = end == std::string_view::npos ? n : end;
        if (skip_.empty()) AppendText(s.substr(i + 9, stop - i - 9), /*decode=*/false);
        i = end == std::string_view::npos ? n : end + 3;
      } else if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
        size_t end = s.find('>', i);
        i = end == std::string_view::npos ? n : end + 1;
      } else if (i + 1 < n && (std::isalpha(static_cast<unsigned char>(s[i + 1])) ||
                               (s[i + 1] == '/' && i + 2 < n &&
                                std::isalpha(static_cast<unsigned char>(s[i + 2]))))) {
        Tag tag;
        i = ParseTag(s, i, &tag);
        if (!tag.end && IsRawText(tag.name) && !tag.self_closing) {
          // Content up to the matching end tag, case-insensitively.
          size_t end = i;
          const std::string close = "</" + tag.name;
          for (;;) {
            end = s.find("</", end);
            if (end == std::string_view::npos) break;
            if (Lower(s.substr(end, close.size())) == close) break;
            end += 2;
          }
          std::string_view content = s.substr(i, (end == std::string_view::npos ? n : end) - i);
          RawText(tag, content);
          i = end == std::string_view::npos ? n : s.find('>', end);
          i = i == std::string_view::npos ? n : i + 1;
        } else {
          Element(tag);
        }
      } else {
        Text(s.substr(i, 1));  // a lone '<'
        ++i;
      }
    }
    Flush();
    Document doc = b_.Finish();
    doc.title = !title_.empty() ? title_ : h1_;
    if (!lang_.empty()) doc.metadata["language"] = lang_;
    if (!description_.empty()) doc.metadata["description"] = description_;
    if (!author_.empty()) doc.metadata["author"] = author_;
    return doc;
  }

 private:
  struct Context {
    std::string name;
    BlockKind kind;
    int level;
  };

  void Text(std::string_view t) {
    if (!skip_.empty()) return;
    AppendText(t, /*decode=*/true);
  }

  void AppendText(std::string_view t, bool decode) {
    std::string text = decode ? DecodeEntities(t) : std::string(t);
    if (pre_depth_ > 0) {
      buf_ += text;
      return;
    }
    // Collapse as we go; a pending space is kept only between words.
    for (size_t k = 0; k < text.size(); ++k) {
      bool space = IsSpace(text[k]) || text[k] == '\r';
      if (!space && text[k] == '\xC2' && k + 1 < text.size() && text[k + 1] == '\xA0') {
        space = true;
        ++k;
      }
      if (space) {
        if (!buf_.empty() && buf_.back() != ' ' && buf_.back() != '\n') buf_.push_back(' ');
      } else {
        buf_.push_back(text[k]);
      }
    }
  }

  void RawText(const Tag& tag, std::string_view content) {
    if (tag.name == "title") {
      if (title_.empty() && (skip_.empty() || skip_ == "head")) title_ = CollapseWhitespace(DecodeEntities(content));
    } else if (tag.name == "textarea" || tag.name == "xmp") {
      Text(content);
    }
    // script / style: dropped
  }

  void Flush() {
    std::string_view t = Trim(buf_);
    if (!t.empty()) {
      const Context* c = ctx_.empty() ? nullptr : &ctx_.back();
      BlockKind kind = c != nullptr ? c->kind : BlockKind::kParagraph;
      int level = c != nullptr ? c->level : 0;
      if (kind == BlockKind::kCode) {
        b_.Add(kind, t);
      } else {
        // Spaces around <br> newlines go.
        std::string clean;
        for (size_t k = 0; k < t.size(); ++k) {
          if (t[k] == ' ' && ((k + 1 < t.size() && t[k + 1] == '\n') ||
                              (!clean.empty() && clean.back() == '\n')))
            continue;
          clean.push_back(t[k]);
        }
        if (kind == BlockKind::kHeading && level == 1 && h1_.empty()) h1_ = CollapseWhitespace(clean);
        b_.Add(kind, clean, level);
      }
    }
    buf_.clear();
    row_cells_ = 0;
  }

  void Push(const std::string& name, BlockKind kind, int level) {
    Flush();
    ctx_.push_back({name, kind, level});
  }

  // Pops the innermost open `name`, if any, with everything opened inside it.
  void Pop(const std::string& name) {
    for (size_t k = ctx_.size(); k-- > 0;) {
      if (ctx_[k].name == name) {
        Flush();
        ctx_.resize(k);
        return;
      }
    }
  }

  static bool IsContainer(const std::string& n) {
    return n == "li" || n == "dt" || n == "dd" || n == "ul" || n == "ol" || n == "dl" ||
           n == "menu" || n == "tr" || n == "table" || n == "pre" || n == "blockquote";
  }

  bool InRow() const {
    for (const Context& c : ctx_)
      if (c.name == "tr") return true;
    return false;
  }

  void Element(const Tag& tag) {
    const std::string& name = tag.name;
    if (!tag.end && name == "html") {
      if (const std::string* lang = tag.Attr("lang")) lang_ = *lang;
    }
    if (!tag.end && name == "meta") {
      const std::string* key = tag.Attr("name");
      if (key == nullptr) key = tag.Attr("property");
      const std::string* content = tag.Attr("content");
      if (key != nullptr && content != nullptr) {
        std::string k = Lower(*key);
        if ((k == "description" || k == "og:description") && description_.empty())
          description_ = CollapseWhitespace(*content);
        if (k == "author" && author_.empty()) author_ = CollapseWhitespace(*content);
      }
      return;
    }
    // Hidden subtrees: count nesting of the element that started the skip.
    if (!skip_.empty()) {
      // A missing </head> ends at the first body content; a hidden <p> or <li>, whose end tag
      // is optional, at the next one of its kind.
      const bool ends = !tag.end && ((skip_ == "head" && (name == "body" || IsBlock(name))) ||
                                     (name == skip_ && (name == "p" || name == "li")));
      if (!ends) {
        if (name == skip_ && !IsVoid(name) && !tag.self_closing) skip_depth_ += tag.end ? -1 : 1;
        if (skip_depth_ == 0) skip_.clear();
        return;
      }
      skip_.clear();
    }
    if (!tag.end && !tag.self_closing && (IsHidden(name) || tag.Attr("hidden") != nullptr ||
                                          (tag.Attr("aria-hidden") != nullptr &&
                                           *tag.Attr("aria-hidden") == "true"))) {
      if (!IsVoid(name)) {
        skip_ = name;
        skip_depth_ = 1;
      }
      return;
    }
    if (name == "br") {
      buf_.push_back('\n');
      return;
    }
    if (name == "td" || name == "th") {
      if (!tag.end && InRow() && row_cells_++ > 0) buf_ += " | ";
      return;
    }
    if (!IsBlock(name)) {
      if (name == "img" && skip_.empty()) {
        // Alt text is the image's words; a space keeps it apart from its neighbours.
        if (const std::string* alt = tag.Attr("alt"); alt != nullptr && !alt->empty())
          AppendText(" " + *alt + " ", /*decode=*/false);
      }
      return;
    }
    // Inside a table row only the row itself and the table structure end the block.
    if (InRow() && name != "tr" && name != "table" && name != "tbody" && name != "thead" &&
        name != "tfoot") {
      if (!buf_.empty() && buf_.back() != ' ') buf_.push_back(' ');
      return;
    }
    if (tag.end) {
      if (name == "pre" && pre_depth_ > 0) --pre_depth_;
      if (IsHeading(name)) {
        // </h2> closes any open heading, like browsers do.
        for (size_t k = ctx_.size(); k-- > 0;)
          if (IsHeading(ctx_[k].name)) {
            Pop(ctx_[k].name);
            break;
          }
        return;
      }
      if (IsContainer(name)) {
        Pop(name);
      } else {
        Flush();
      }
      return;
    }
    if (IsHeading(name)) {
      Push(name, BlockKind::kHeading, name[1] - '0');
    } else if (name == "li" || name == "dt" || name == "dd") {
      // An open item of the same list closes (</li> is optional).
      for (size_t k = ctx_.size(); k-- > 0;) {
        const std::string& open = ctx_[k].name;
        if (open == "ul" || open == "ol" || open == "dl" || open == "menu") break;
        if (open == "li" || open == "dt" || open == "dd") {
          Pop(open);
          break;
        }
      }
      Push(name, BlockKind::kListItem, 0);
    } else if (name == "ul" || name == "ol" || name == "dl" || name == "menu" ||
               name == "blockquote") {
      // Text right inside keeps the enclosing kind (a nested list's tail is still the item).
      Push(name, ctx_.empty() ? BlockKind::kParagraph : ctx_.back().kind, 0);
    } else if (name == "tr") {
      Pop("tr");
      Push(name, BlockKind::kTableRow, 0);
    } else if (name == "table") {
      Push(name, BlockKind::kParagraph, 0);
    } else if (name == "pre") {
      Push(name, BlockKind::kCode, 0);
      ++pre_depth_;
    } else {
      Flush();
    }
  }

  DocBuilder b_{DocFormat::kHtml};
  std::string buf_;
  std::vector<Context> ctx_;
  std::string skip_;  // the element whose subtree is being skipped
  int skip_depth_ = 0;
  int pre_depth_ = 0;
  int row_cells_ = 0;
  std::string title_, h1_, lang_, description_, author_;
};

}  // namespace

Result<Document> ParseHtml(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  MOSAIC_ASSIGN_OR_RETURN(std::string text, DecodeTextBytes(bytes));
  return HtmlReader().Run(text);
}

}  // namespace mosaic::document
