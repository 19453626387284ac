// HTML to blocks: gumbo parses the page as a browser would (the HTML5 tree construction, so
// unclosed and misnested tags end where a browser ends them, entities decoded), and the tree is
// walked in document order. Block-level elements end the current block; inline ones are
// transparent; invisible subtrees (scripts, styles, navigation, hidden elements) are skipped.
#include <gumbo.h>

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
         n == "math" || n == "nav" || n == "iframe" || n == "object" ||
         n == "canvas" || n == "select" || n == "button";
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

// An upper bound on how deep gumbo will nest the page's elements, from a scan of its tags, and
// the nesting summed over the start tags. gumbo has no depth limit of its own (browsers cap it),
// its tree construction checks scopes down the stack of open elements (time about the sum of the
// depths) and it frees the tree recursively, so pages nested absurdly deep are refused before
// parsing. Elements whose end tag is implied by a sibling (p, li, td...) and void ones are not
// counted; misnested or unclosed inline tags are, so the bound only errs high.
struct Nesting {
  size_t max_depth = 0;
  size_t at = 0;          // byte offset of the start tag that reached max_depth
  double depth_sum = 0;   // over the counted start tags
  size_t tags = 0;
};

bool IsVoidOrImplied(std::string_view n) {
  static const char* const kNames[] = {
      "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
      "track", "wbr", "param", "keygen", "frame", "basefont", "bgsound",  // void
      "p", "li", "dt", "dd", "option", "optgroup", "rb", "rp", "rt", "rtc", "tr", "td", "th",
      "tbody", "thead", "tfoot", "colgroup", "caption", "html", "head", "body"};  // implied end
  for (const char* k : kNames)
    if (n == k) return true;
  return false;
}

Nesting ScanNesting(std::string_view s) {
  Nesting r;
  size_t depth = 0, foreign = 0, i = 0;
  const size_t n = s.size();
  auto is_alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  while ((i = s.find('<', i)) != std::string_view::npos) {
    const size_t lt = i;
    if (s.compare(i, 4, "<!--") == 0) {
      size_t end = s.find("-->", i + 4);
      i = end == std::string_view::npos ? n : end + 3;
      continue;
    }
    const bool end_tag = i + 1 < n && s[i + 1] == '/';
    size_t name_at = i + (end_tag ? 2 : 1);
    if (name_at >= n || !is_alpha(s[name_at])) {
      i = name_at;
      continue;
    }
    size_t name_end = name_at;
    while (name_end < n && !IsSpace(s[name_end]) && s[name_end] != '>' && s[name_end] != '/')
      ++name_end;
    const std::string name = Lower(s.substr(name_at, name_end - name_at));
    size_t gt = s.find('>', name_end);
    if (gt == std::string_view::npos) break;
    i = gt + 1;
    if (end_tag) {
      if (!IsVoidOrImplied(name) && depth > 0) --depth;
      if ((name == "svg" || name == "math") && foreign > 0) --foreign;
      continue;
    }
    if (name == "script" || name == "style" || name == "textarea" || name == "title" ||
        name == "xmp" || name == "iframe" || name == "noembed" || name == "noframes") {
      // Raw text up to the matching end tag.
      const std::string close = "</" + name;
      size_t k = i;
      while ((k = s.find("</", k)) != std::string_view::npos &&
             Lower(s.substr(k, close.size())) != close)
        k += 2;
      i = k == std::string_view::npos ? n : k;
      continue;
    }
    if (name == "plaintext") break;  // the rest is text
    if (IsVoidOrImplied(name) || (foreign > 0 && s[gt - 1] == '/')) continue;
    ++depth;
    if (name == "svg" || name == "math") ++foreign;
    ++r.tags;
    r.depth_sum += static_cast<double>(depth);
    if (depth > r.max_depth) {
      r.max_depth = depth;
      r.at = lt;
    }
  }
  return r;
}

Status CheckNesting(std::string_view s, size_t max_depth) {
  const Nesting nesting = ScanNesting(s);
  if (nesting.max_depth > max_depth)
    return Status::ResourceExhausted("HTML nests elements " + std::to_string(nesting.max_depth) +
                                     " deep (at byte " + std::to_string(nesting.at) +
                                     "), over the limit of " + std::to_string(max_depth));
  // Many shallower towers cost as much: the average depth of a real page's start tags is tens.
  constexpr double kMaxAverage = 256, kFreeWork = 1e7;
  if (nesting.depth_sum > kFreeWork && nesting.depth_sum > kMaxAverage * static_cast<double>(nesting.tags))
    return Status::ResourceExhausted(
        "HTML start tags nest " + std::to_string(static_cast<size_t>(nesting.depth_sum / static_cast<double>(nesting.tags))) +
        " elements deep on average over " + std::to_string(nesting.tags) + " tags, over the limit of " +
        std::to_string(static_cast<size_t>(kMaxAverage)));
  return Status::OK();
}

std::string_view Attr(const GumboElement& e, const char* key) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, key);
  return a == nullptr ? std::string_view() : std::string_view(a->value);
}
bool HasAttr(const GumboElement& e, const char* key) {
  return gumbo_get_attribute(&e.attributes, key) != nullptr;
}

// Lower-case tag name; unknown tags by their source text.
std::string TagName(const GumboElement& e) {
  if (e.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(e.tag);
  GumboStringPiece piece = e.original_tag;
  gumbo_tag_from_original_text(&piece);
  return Lower(std::string_view(piece.data, piece.length));
}

const GumboVector& Children(const GumboNode* n) {
  return n->type == GUMBO_NODE_DOCUMENT ? n->v.document.children : n->v.element.children;
}

// The concatenated text of an element's text children (a <title>'s).
std::string ChildText(const GumboElement& e) {
  std::string out;
  for (unsigned i = 0; i < e.children.length; ++i) {
    const auto* c = static_cast<const GumboNode*>(e.children.data[i]);
    if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE) out += c->v.text.text;
  }
  return out;
}

class HtmlReader {
 public:
  // Walks the tree with an explicit stack: a page may nest elements deeper than the thread's
  // stack would allow recursion.
  Document Run(const GumboNode* root) {
    struct Frame {
      const GumboNode* node;
      unsigned next = 0;
      bool block = false;    // flushes when left
      bool context = false;  // pushed a Context
      bool pre = false;
    };
    std::vector<Frame> stack;
    stack.push_back({root});
    while (!stack.empty()) {
      Frame& f = stack.back();
      const GumboVector& children = Children(f.node);
      if (f.next == children.length) {
        if (f.pre) --pre_depth_;
        if (f.block) Flush();
        if (f.context) ctx_.pop_back();
        stack.pop_back();
        continue;
      }
      const auto* c = static_cast<const GumboNode*>(children.data[f.next++]);
      if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE) {
        AppendText(c->v.text.text);
      } else if (c->type == GUMBO_NODE_ELEMENT) {
        Frame child{c};
        if (Enter(c->v.element, &child.block, &child.context, &child.pre)) stack.push_back(child);
      }
      // Comments are dropped; <template> contents are never rendered; CDATA occurs only in
      // SVG and MathML, which are skipped.
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

  void AppendText(std::string_view text) {
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
    ctx_.push_back({name, kind, level});
  }

  bool InRow() const {
    for (const Context& c : ctx_)
      if (c.name == "tr") return true;
    return false;
  }

  // Handles an element's start; returns whether to walk its children. *block: the element ends
  // the current block when left; *context: it pushed a Context; *pre: it is a <pre>.
  bool Enter(const GumboElement& e, bool* block, bool* context, bool* pre) {
    const std::string name = TagName(e);
    if (e.tag_namespace == GUMBO_NAMESPACE_HTML) {
      if (name == "html" && lang_.empty()) lang_ = std::string(Attr(e, "lang"));
      if (name == "title") {
        if (title_.empty()) title_ = CollapseWhitespace(ChildText(e));
        return false;
      }
      if (name == "meta") {
        std::string_view key = HasAttr(e, "name") ? Attr(e, "name") : Attr(e, "property");
        const std::string k = Lower(key);
        if ((k == "description" || k == "og:description") && description_.empty())
          description_ = CollapseWhitespace(Attr(e, "content"));
        if (k == "author" && author_.empty()) author_ = CollapseWhitespace(Attr(e, "content"));
        return false;
      }
    }
    if (IsHidden(name) || HasAttr(e, "hidden") || Attr(e, "aria-hidden") == "true") return false;
    if (name == "br") {
      buf_.push_back('\n');
      return false;
    }
    if (name == "img") {
      // Alt text is the image's words; a space keeps it apart from its neighbours.
      if (std::string_view alt = Attr(e, "alt"); !alt.empty()) AppendText(" " + std::string(alt) + " ");
      return false;
    }
    if (name == "td" || name == "th") {
      if (InRow() && row_cells_++ > 0) buf_ += " | ";
      return true;
    }
    if (!IsBlock(name)) return true;
    // Inside a table row only the row itself and the table structure end the block.
    if (InRow() && name != "tr" && name != "table" && name != "tbody" && name != "thead" &&
        name != "tfoot") {
      if (!buf_.empty() && buf_.back() != ' ') buf_.push_back(' ');
      return true;
    }
    Flush();
    *block = true;
    *context = true;
    if (IsHeading(name)) {
      Push(name, BlockKind::kHeading, name[1] - '0');
    } else if (name == "li" || name == "dt" || name == "dd") {
      Push(name, BlockKind::kListItem, 0);
    } else if (name == "ul" || name == "ol" || name == "dl" || name == "menu" ||
               name == "blockquote") {
      // Text right inside keeps the enclosing kind (a nested list's tail is still the item).
      Push(name, ctx_.empty() ? BlockKind::kParagraph : ctx_.back().kind, 0);
    } else if (name == "tr") {
      Push(name, BlockKind::kTableRow, 0);
    } else if (name == "table") {
      Push(name, BlockKind::kParagraph, 0);
    } else if (name == "pre") {
      Push(name, BlockKind::kCode, 0);
      ++pre_depth_;
      *pre = true;
    } else {
      *context = false;  // p, div, section...: the enclosing kind
    }
    return true;
  }

  DocBuilder b_{DocFormat::kHtml};
  std::string buf_;
  std::vector<Context> ctx_;
  int pre_depth_ = 0;
  int row_cells_ = 0;
  std::string title_, h1_, lang_, description_, author_;
};

}  // namespace

Result<Document> ParseHtml(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  MOSAIC_ASSIGN_OR_RETURN(std::string text, DecodeTextBytes(bytes));
  MOSAIC_RETURN_IF_ERROR(CheckNesting(text, options.max_html_depth));
  GumboOptions options_gumbo = kGumboDefaultOptions;
  options_gumbo.max_errors = 0;  // parse errors are not reported: any page is read as it renders
  GumboOutput* out = gumbo_parse_with_options(&options_gumbo, text.data(), text.size());
  if (out == nullptr) return Status::ResourceExhausted("the HTML parser ran out of memory");
  Document doc = HtmlReader().Run(out->document);
  gumbo_destroy_output(&options_gumbo, out);
  return doc;
}

}  // namespace mosaic::document
