// Markdown to blocks: a line-oriented reader for the CommonMark/GFM constructs that matter for
// search (headings, paragraphs, lists, code, tables, block quotes, front matter). It never fails
// on odd input; what it does not recognise is read as paragraph text.
#include <cctype>
#include <string>
#include <vector>

#include "document/document.h"
#include "document/text_decode.h"

namespace mosaic::document {
namespace {

bool IsPunct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || static_cast<unsigned char>(c) >= 0x80;
}

// Columns of leading indentation (a tab advances to the next multiple of 4).
size_t IndentOf(std::string_view line, size_t* bytes) {
  size_t col = 0, i = 0;
  for (; i < line.size() && (line[i] == ' ' || line[i] == '\t'); ++i)
    col = line[i] == '\t' ? (col / 4 + 1) * 4 : col + 1;
  if (bytes != nullptr) *bytes = i;
  return col;
}

// Drops up to `cols` columns of indentation.
std::string_view Unindent(std::string_view line, size_t cols) {
  size_t col = 0, i = 0;
  while (i < line.size() && col < cols && (line[i] == ' ' || line[i] == '\t')) {
    col = line[i] == '\t' ? (col / 4 + 1) * 4 : col + 1;
    ++i;
  }
  return line.substr(i);
}

// Block-quote markers ("> ") stripped, however deeply nested.
std::string_view StripQuote(std::string_view line) {
  for (;;) {
    size_t ind;
    if (IndentOf(line, &ind) > 3 || ind >= line.size() || line[ind] != '>') return line;
    line.remove_prefix(ind + 1);
    if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
  }
}

// A run of `c` (at least 3, with optional spaces between) and nothing else.
bool IsRule(std::string_view t, char c) {
  int n = 0;
  for (char x : t) {
    if (x == c) {
      ++n;
    } else if (x != ' ' && x != '\t') {
      return false;
    }
  }
  return n >= 3;
}

bool IsSetextUnderline(std::string_view t, char* c) {
  t = Trim(t);
  if (t.empty() || (t[0] != '=' && t[0] != '-')) return false;
  for (char x : t)
    if (x != t[0]) return false;
  *c = t[0];
  return true;
}

// "# Title ##" -> level 1, "Title".
bool ParseAtx(std::string_view t, int* level, std::string_view* text) {
  size_t n = 0;
  while (n < t.size() && t[n] == '#') ++n;
  if (n == 0 || n > 6 || (n < t.size() && t[n] != ' ' && t[n] != '\t')) return false;
  std::string_view rest = Trim(t.substr(n));
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0 || rest[end - 1] == ' ' || rest[end - 1] == '\t') rest = Trim(rest.substr(0, end));
  *level = static_cast<int>(n);
  *text = rest;
  return true;
}

// "- item", "* item", "+ item", "1. item", "2) item": the item text.
bool ParseListMarker(std::string_view t, std::string_view* text) {
  size_t i = 0;
  if (!t.empty() && (t[0] == '-' || t[0] == '*' || t[0] == '+')) {
    i = 1;
  } else {
    while (i < t.size() && i < 9 && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i == 0 || i >= t.size() || (t[i] != '.' && t[i] != ')')) return false;
    ++i;
  }
  if (i < t.size() && t[i] != ' ' && t[i] != '\t') return false;
  *text = Trim(t.substr(i));
  return true;
}

bool IsFence(std::string_view t, char* c, size_t* len) {
  if (t.size() < 3 || (t[0] != '`' && t[0] != '~')) return false;
  size_t n = 0;
  while (n < t.size() && t[n] == t[0]) ++n;
  if (n < 3) return false;
  if (t[0] == '`' && t.substr(n).find('`') != std::string_view::npos) return false;
  *c = t[0];
  *len = n;
  return true;
}

// GFM table delimiter row: "| --- | :-: |".
bool IsTableDelimiter(std::string_view t) {
  t = Trim(t);
  bool dash = false, pipe = false;
  for (char c : t) {
    if (c == '-') {
      dash = true;
    } else if (c == '|') {
      pipe = true;
    } else if (c != ':' && c != ' ' && c != '\t') {
      return false;
    }
  }
  return dash && (pipe || t.find(':') != std::string_view::npos);
}

// "[label]: http://..." (not part of the visible text).
bool IsLinkDefinition(std::string_view t) {
  if (t.empty() || t[0] != '[') return false;
  size_t close = t.find("]:");
  return close != std::string_view::npos && close > 1 && t.substr(1, close - 1).find(']') == std::string_view::npos;
}

// Index of the bracket matching t[open] ('[' / '(' ), or npos.
size_t MatchBracket(std::string_view t, size_t open, char o, char c) {
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '`' && o == '[') {
      size_t end = t.find('`', i + 1);
      if (end != std::string_view::npos) i = end;
    } else if (t[i] == o) {
      ++depth;
    } else if (t[i] == c && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Inline markup removed: emphasis markers, code ticks, links and images (text / alt kept), HTML
// tags, backslash escapes; entities decoded.
std::string StripInline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (c == '\\' && i + 1 < n && IsPunct(s[i + 1])) {
      out.push_back(s[i + 1]);
      i += 2;
    } else if (c == '`') {
      size_t k = 0;
      while (i + k < n && s[i + k] == '`') ++k;
      size_t close = i + k;
      for (;;) {
        close = s.find(std::string(k, '`'), close);
        if (close == std::string_view::npos) break;
        size_t run = 0;
        while (close + run < n && s[close + run] == '`') ++run;
        if (run == k) break;
        close += run;
      }
      if (close == std::string_view::npos) {
        out.append(s.substr(i, k));
        i += k;
      } else {
        out.append(Trim(s.substr(i + k, close - i - k)));
        i = close + k;
      }
    } else if (c == '[' || (c == '!' && i + 1 < n && s[i + 1] == '[')) {
      const size_t open = c == '!' ? i + 1 : i;
      const size_t close = MatchBracket(s, open, '[', ']');
      if (close == std::string_view::npos) {
        out.push_back(c);
        ++i;
        continue;
      }
      std::string_view label = s.substr(open + 1, close - open - 1);
      size_t next = close + 1;
      if (next < n && s[next] == '(') {
        size_t end = MatchBracket(s, next, '(', ')');
        if (end != std::string_view::npos) next = end + 1;
      } else if (next < n && s[next] == '[') {
        size_t end = s.find(']', next);
        if (end != std::string_view::npos) next = end + 1;
      } else if (c == '[' && (label == " " || label == "x" || label == "X") && Trim(out).empty()) {
        i = next;  // a task-list checkbox
        continue;
      }
      out.append(StripInline(label));
      i = next;
    } else if (c == '<') {
      const size_t close = s.find('>', i);
      const bool tag = close != std::string_view::npos && i + 1 < n &&
                       (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/' ||
                        s[i + 1] == '!' || s[i + 1] == '?');
      if (!tag) {
        out.push_back(c);
        ++i;
        continue;
      }
      std::string_view inner = s.substr(i + 1, close - i - 1);
      // An autolink keeps its address; a tag goes (with a space, as it may separate words).
      if (inner.find("://") != std::string_view::npos && inner.find(' ') == std::string_view::npos) {
        out.append(inner);
      } else if (inner.starts_with("!--")) {
        size_t end = s.find("-->", i);
        i = end == std::string_view::npos ? n : end + 3;
        continue;
      } else if (inner.find('@') != std::string_view::npos &&
                 inner.find(' ') == std::string_view::npos && inner.find('=') == std::string_view::npos) {
        out.append(inner);
      } else {
        out.push_back(' ');
      }
      i = close + 1;
    } else if (c == '*' || c == '_' || c == '~') {
      size_t k = 0;
      while (i + k < n && s[i + k] == c) ++k;
      const char prev = i > 0 ? s[i - 1] : ' ';
      const char next = i + k < n ? s[i + k] : ' ';
      const bool left = !IsSpace(next);   // may open emphasis
      const bool right = !IsSpace(prev);  // may close emphasis
      bool markup;
      if (c == '_') {
        markup = (left && !IsAlnum(prev)) || (right && !IsAlnum(next));
      } else if (c == '~') {
        markup = k >= 2 && (left || right);
      } else {
        markup = left || right;
      }
      if (!markup) out.append(s.substr(i, k));
      i += k;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return DecodeEntities(out);
}

// Table cells split on unescaped pipes outside code spans; outer pipes dropped.
std::string TableRow(std::string_view line) {
  line = Trim(line);
  if (line.starts_with("|")) line.remove_prefix(1);
  if (line.ends_with("|") && !line.ends_with("\\|")) line.remove_suffix(1);
  std::vector<std::string_view> cells;
  size_t start = 0;
  bool in_code = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '`') {
      in_code = !in_code;
    } else if (line[i] == '|' && !in_code) {
      cells.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  cells.push_back(line.substr(start));
  std::string row;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row += " | ";
    row += CollapseWhitespace(StripInline(cells[i]));
  }
  return row;
}

std::string Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

class MarkdownReader {
 public:
  explicit MarkdownReader(std::string_view text) {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      lines_.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }

  Document Run() {
    size_t i = FrontMatter();
    while (i < lines_.size()) i = Line(i);
    Flush();
    Document doc = b_.Finish();
    if (!fm_title_.empty()) doc.title = fm_title_;
    else doc.title = h1_;
    for (auto& [k, v] : meta_) doc.metadata[k] = v;
    return doc;
  }

 private:
  // YAML front matter between "---" lines: title and a few well-known scalar keys.
  size_t FrontMatter() {
    if (lines_.empty() || Trim(lines_[0]) != "---") return 0;
    for (size_t i = 1; i < lines_.size(); ++i) {
      std::string_view t = Trim(lines_[i]);
      if (t == "---" || t == "...") {
        for (size_t j = 1; j < i; ++j) {
          std::string_view l = lines_[j];
          size_t colon = l.find(':');
          if (colon == std::string_view::npos || IsSpace(l[0])) continue;
          std::string key(Trim(l.substr(0, colon)));
          std::string value = Unquote(l.substr(colon + 1));
          if (value.empty()) continue;
          if (key == "title") fm_title_ = value;
          else if (key == "author" || key == "description") meta_.emplace_back(key, value);
          else if (key == "date") meta_.emplace_back("created", value);
          else if (key == "lang" || key == "language") meta_.emplace_back("language", value);
        }
        return i + 1;
      }
    }
    return 0;  // no closing line: not front matter
  }

  void Flush() {
    if (para_.empty()) return;
    std::string text = CollapseWhitespace(StripInline(para_));
    b_.Add(para_kind_, text);
    para_.clear();
  }

  void AddHeading(int level, std::string_view raw) {
    std::string text = CollapseWhitespace(StripInline(raw));
    if (level == 1 && h1_.empty()) h1_ = text;
    b_.Add(BlockKind::kHeading, text, level);
    in_list_ = false;
  }

  void AppendPara(std::string_view t) {
    // A hard line break ("  " or "\" at the end) reads as a space.
    if (t.ends_with("\\")) t.remove_suffix(1);
    if (!para_.empty()) para_.push_back(' ');
    para_.append(Trim(t));
  }

  // Handles lines_[i] (and any lines its construct spans); returns the next line to read.
  size_t Line(size_t i) {
    std::string_view line = StripQuote(lines_[i]);
    size_t ind_bytes;
    const size_t indent = IndentOf(line, &ind_bytes);
    std::string_view t = line.substr(ind_bytes);

    if (t.empty()) {
      Flush();
      after_blank_ = true;
      return i + 1;
    }
    const bool blank_before = after_blank_;
    after_blank_ = false;

    if (indent >= 4 && para_.empty() && !(in_list_ && indent < 8)) return IndentedCode(i);
    char fc;
    size_t flen;
    if (indent < 4 && IsFence(t, &fc, &flen)) return FencedCode(i, fc, flen, indent);
    int level;
    std::string_view htext;
    if (indent < 4 && ParseAtx(t, &level, &htext)) {
      Flush();
      AddHeading(level, htext);
      return i + 1;
    }
    char uc;
    if (indent < 4 && !para_.empty() && para_kind_ == BlockKind::kParagraph &&
        IsSetextUnderline(t, &uc)) {
      std::string heading = std::move(para_);
      para_.clear();
      AddHeading(uc == '=' ? 1 : 2, heading);
      return i + 1;
    }
    if (indent < 4 && (IsRule(t, '-') || IsRule(t, '*') || IsRule(t, '_'))) {
      Flush();
      in_list_ = false;
      return i + 1;
    }
    if (para_.empty() && t.find('|') != std::string_view::npos && i + 1 < lines_.size() &&
        IsTableDelimiter(StripQuote(lines_[i + 1]))) {
      return Table(i);
    }
    std::string_view item;
    if ((indent < 4 || in_list_) && ParseListMarker(t, &item)) {
      Flush();
      para_kind_ = BlockKind::kListItem;
      in_list_ = true;
      AppendPara(item);
      return i + 1;
    }
    if (t.starts_with("<!--")) {
      Flush();
      for (size_t j = i; j < lines_.size(); ++j)
        if (lines_[j].find("-->") != std::string_view::npos) return j + 1;
      return lines_.size();
    }
    if (IsLinkDefinition(t)) {
      Flush();  // unlike CommonMark, also after paragraph text: never visible
      return i + 1;
    }
    if (para_.empty()) {
      // A new paragraph; one indented under a list item after a blank line stays in the list.
      para_kind_ = in_list_ && indent >= 2 && blank_before ? BlockKind::kListItem
                                                           : BlockKind::kParagraph;
      if (indent < 2 && blank_before) in_list_ = false;
      if (para_kind_ == BlockKind::kParagraph && indent < 2) in_list_ = false;
    }
    AppendPara(t);
    return i + 1;
  }

  size_t IndentedCode(size_t i) {
    std::string code;
    size_t end = i;
    for (size_t j = i; j < lines_.size(); ++j) {
      std::string_view l = StripQuote(lines_[j]);
      if (Trim(l).empty()) {
        code += '\n';
        continue;
      }
      if (IndentOf(l, nullptr) < 4) break;
      code.append(Unindent(l, 4)).push_back('\n');
      end = j + 1;
    }
    b_.Add(BlockKind::kCode, code);
    return end;
  }

  size_t FencedCode(size_t i, char fc, size_t flen, size_t indent) {
    Flush();
    std::string code;
    size_t j = i + 1;
    for (; j < lines_.size(); ++j) {
      std::string_view l = StripQuote(lines_[j]);
      size_t ib;
      size_t ind = IndentOf(l, &ib);
      std::string_view t = Trim(l);
      size_t n = 0;
      while (n < t.size() && t[n] == fc) ++n;
      if (ind < 4 && n >= flen && n == t.size()) break;
      code.append(Unindent(l, indent)).push_back('\n');
    }
    b_.Add(BlockKind::kCode, code);
    in_list_ = false;
    return j < lines_.size() ? j + 1 : j;
  }

  size_t Table(size_t i) {
    Flush();
    b_.Add(BlockKind::kTableRow, TableRow(StripQuote(lines_[i])));
    size_t j = i + 2;
    for (; j < lines_.size(); ++j) {
      std::string_view l = StripQuote(lines_[j]);
      if (Trim(l).empty() || l.find('|') == std::string_view::npos) break;
      b_.Add(BlockKind::kTableRow, TableRow(l));
    }
    in_list_ = false;
    return j;
  }

  std::vector<std::string_view> lines_;
  DocBuilder b_{DocFormat::kMarkdown};
  std::string para_;
  BlockKind para_kind_ = BlockKind::kParagraph;
  bool in_list_ = false;
  bool after_blank_ = false;
  std::string fm_title_;
  std::string h1_;
  std::vector<std::pair<std::string, std::string>> meta_;
};

}  // namespace

Result<Document> ParseMarkdown(std::string_view bytes, const DocumentOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckInput(bytes, options));
  MOSAIC_ASSIGN_OR_RETURN(std::string text, DecodeTextBytes(bytes));
  return MarkdownReader(text).Run();
}

}  // namespace mosaic::document
