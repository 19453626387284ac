#include "document/chunker.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "document/text_decode.h"

namespace mosaic::document {
namespace {

// ICU iterators are costly to create and not thread-safe: one of each per thread.
icu::BreakIterator* ThreadIterator(bool sentences) {
  thread_local std::unique_ptr<icu::BreakIterator> word, sentence;
  std::unique_ptr<icu::BreakIterator>& it = sentences ? sentence : word;
  if (it == nullptr) {
    UErrorCode err = U_ZERO_ERROR;
    // "ss=standard" turns on ICU's abbreviation list ("Mr.", "e.g.", ...) for sentence breaks.
    it.reset(sentences ? icu::BreakIterator::createSentenceInstance(icu::Locale("en@ss=standard"), err)
                       : icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
    if (U_FAILURE(err)) it.reset();
  }
  return it.get();
}

// Runs `fn(begin, end)` over the segments between the iterator's boundaries in `text` (byte
// offsets: ICU iterates UTF-8 natively through UText). Returns false when ICU is unavailable.
template <typename Fn>
bool ForEachSegment(std::string_view text, bool sentences, Fn&& fn) {
  icu::BreakIterator* it = ThreadIterator(sentences);
  if (it == nullptr) return false;
  UErrorCode err = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &err);
  if (U_FAILURE(err)) return false;
  it->setText(ut, err);
  if (U_FAILURE(err)) {
    utext_close(ut);
    return false;
  }
  int32_t prev = it->first();
  for (int32_t b = it->next(); b != icu::BreakIterator::DONE; b = it->next()) {
    fn(static_cast<size_t>(prev), static_cast<size_t>(b), it->getRuleStatus());
    prev = b;
  }
  // Detach from the UText before it goes.
  it->setText(icu::UnicodeString());
  utext_close(ut);
  return true;
}

bool AllSpace(std::string_view s) {
  for (char c : s)
    if (!IsSpace(c)) return false;
  return true;
}

// Abbreviations that ICU's list lacks but scientific and technical text is full of; a sentence
// break right after one is dropped.
bool EndsWithAbbreviation(std::string_view s) {
  s = Trim(s);
  static const char* const kAbbrev[] = {"et al.", "e.g.", "i.e.", "cf.", "vs.", "Fig.", "Figs.",
                                        "Eq.",    "Eqs.", "Ref.", "Refs.", "approx.", "resp.",
                                        "ca.",    "No.",  "Nos.", "Vol.", "pp.", "Tab.", "Sect.",
                                        "Dr.",    "Prof.", "Mr.", "Mrs.", "Ms.", "St."};
  for (const char* a : kAbbrev) {
    std::string_view av(a);
    if (s.size() >= av.size() && s.substr(s.size() - av.size()) == av &&
        (s.size() == av.size() || !std::isalpha(static_cast<unsigned char>(s[s.size() - av.size() - 1]))))
      return true;
  }
  return false;
}

// A piece of Document::text that is never split further in packing (a sentence, or a word run
// of an over-long sentence).
struct Unit {
  size_t begin = 0, end = 0;
  size_t tokens = 0;
  int page = 0;
};

class Chunker {
 public:
  Chunker(const Document& doc, const ChunkOptions& options)
      : doc_(doc), opt_(options), budget_(std::max<size_t>(options.max_tokens, 1)) {
    overlap_ = std::min(options.overlap_tokens, budget_ / 2);
  }

  std::vector<Chunk> Run() {
    const std::vector<Block>& blocks = doc_.blocks;
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& b = blocks[i];
      if (b.kind != BlockKind::kHeading) {
        PlaceBlock(b);
        continue;
      }
      // A heading whose section is empty (the next heading is not deeper) would otherwise vanish:
      // it becomes body text of its parent section.
      const bool empty_section = i + 1 == blocks.size() ||
                                 (blocks[i + 1].kind == BlockKind::kHeading &&
                                  blocks[i + 1].level <= b.level);
      Emit();
      cur_.clear();
      while (!path_.empty() && path_.back().first >= b.level) path_.pop_back();
      if (empty_section) {
        PlaceBlock(b);
        Emit();
        cur_.clear();
        continue;
      }
      path_.emplace_back(b.level, std::string(doc_.block_text(b)));
    }
    Emit();
    return std::move(chunks_);
  }

 private:
  size_t Count(std::string_view s) const {
    return opt_.count_tokens ? opt_.count_tokens(s) : CountWordTokens(s);
  }

  std::string_view Text(size_t begin, size_t end) const {
    return std::string_view(doc_.text).substr(begin, end - begin);
  }

  // Trimmed [begin, end) added as a unit, if not blank.
  void AddUnit(size_t begin, size_t end, int page, std::vector<Unit>* out) const {
    while (begin < end && IsSpace(doc_.text[begin])) ++begin;
    while (end > begin && IsSpace(doc_.text[end - 1])) --end;
    if (begin == end) return;
    out->push_back({begin, end, Count(Text(begin, end)), page});
  }

  // Sentences of a block (absolute offsets), abbreviation breaks merged.
  std::vector<std::pair<size_t, size_t>> Sentences(const Block& b) const {
    std::vector<std::pair<size_t, size_t>> out;
    std::string_view text = doc_.block_text(b);
    bool ok = ForEachSegment(text, /*sentences=*/true, [&](size_t s, size_t e, int32_t) {
      if (!out.empty() && EndsWithAbbreviation(Text(out.back().first, out.back().second))) {
        out.back().second = b.offset + e;
      } else {
        out.emplace_back(b.offset + s, b.offset + e);
      }
    });
    if (!ok) out = {{b.offset, b.offset + b.length}};
    return out;
  }

  // A sentence over the budget, cut at word boundaries into runs that fit.
  void SplitWords(size_t begin, size_t end, int page, std::vector<Unit>* out) const {
    std::vector<std::pair<size_t, size_t>> words;
    if (!ForEachSegment(Text(begin, end), /*sentences=*/false, [&](size_t s, size_t e, int32_t) {
          if (!AllSpace(Text(begin + s, begin + e))) words.emplace_back(begin + s, begin + e);
        })) {
      AddUnit(begin, end, page, out);
      return;
    }
    // Counted after the walk: the default counter uses the same thread's word iterator.
    std::vector<size_t> counts;
    size_t total = 0;
    for (auto [s, e] : words) total += counts.emplace_back(Count(Text(s, e)));
    // Even pieces, so the sentence does not end in a stub such as a lone ".".
    const size_t pieces = (total + budget_ - 1) / budget_;
    const size_t target = pieces > 0 ? (total + pieces - 1) / pieces : budget_;
    size_t run_begin = begin, run_tokens = 0, last = begin;
    for (size_t k = 0; k < words.size(); ++k) {
      auto [s, e] = words[k];
      size_t t = counts[k];
      if (run_tokens > 0 && run_tokens + t > target) {
        AddUnit(run_begin, last, page, out);
        run_begin = s;
        run_tokens = 0;
      }
      run_tokens += t;
      last = e;
    }
    AddUnit(run_begin, end, page, out);
  }

  void PlaceBlock(const Block& b) {
    std::vector<Unit> units;
    for (auto [s, e] : Sentences(b)) AddUnit(s, e, b.page, &units);
    size_t total = 0;
    for (const Unit& u : units) total += u.tokens;
    if (total <= budget_) {
      // Blocks stay whole when they fit a chunk.
      if (CurTokens() + total > budget_) NextChunk(total);
      for (const Unit& u : units) cur_.push_back(u);
      own_ += units.size();
      return;
    }
    for (const Unit& sentence : units) {
      std::vector<Unit> pieces;
      if (sentence.tokens > budget_) {
        SplitWords(sentence.begin, sentence.end, sentence.page, &pieces);
      } else {
        pieces.push_back(sentence);
      }
      for (const Unit& u : pieces) {
        if (CurTokens() + u.tokens > budget_) NextChunk(u.tokens);
        cur_.push_back(u);
        ++own_;
      }
    }
  }

  size_t CurTokens() const {
    size_t t = 0;
    for (const Unit& u : cur_) t += u.tokens;
    return t;
  }

  // Emits the current chunk and starts the next with trailing sentences of it as overlap: the
  // fewest that reach overlap_tokens, at most half the budget, and leaving room for `need`.
  void NextChunk(size_t need) {
    Emit();
    std::vector<Unit> tail;
    size_t t = 0;
    for (size_t k = cur_.size(); k-- > 0 && t < overlap_;) {
      if (t + cur_[k].tokens > budget_ / 2) break;
      t += cur_[k].tokens;
      tail.insert(tail.begin(), cur_[k]);
    }
    while (!tail.empty() && t + need > budget_) {
      t -= tail.front().tokens;
      tail.erase(tail.begin());
    }
    cur_ = std::move(tail);
    own_ = 0;
  }

  void Emit() {
    if (own_ == 0 || cur_.empty()) return;
    Chunk c;
    c.begin = cur_.front().begin;
    c.end = cur_.back().end;
    c.text = std::string(Text(c.begin, c.end));
    for (size_t k = 0; k < path_.size(); ++k) {
      if (k > 0) c.headings += " > ";
      c.headings += path_[k].second;
    }
    c.page_first = cur_.front().page;
    c.page_last = cur_.back().page;
    chunks_.push_back(std::move(c));
    own_ = 0;
  }

  const Document& doc_;
  const ChunkOptions& opt_;
  size_t budget_;
  size_t overlap_;
  std::vector<std::pair<int, std::string>> path_;  // (level, heading text)
  std::vector<Unit> cur_;  // the chunk being filled: overlap units, then its own
  size_t own_ = 0;         // units of cur_ not carried over from the previous chunk
  std::vector<Chunk> chunks_;
};

}  // namespace

std::vector<Chunk> ChunkDocument(const Document& doc, const ChunkOptions& options) {
  return Chunker(doc, options).Run();
}

size_t CountWordTokens(std::string_view text) {
  size_t n = 0;
  bool ok = ForEachSegment(text, /*sentences=*/false, [&](size_t s, size_t e, int32_t) {
    if (!AllSpace(text.substr(s, e - s))) ++n;
  });
  if (ok) return n;
  // Without ICU: whitespace-separated words.
  bool in_word = false;
  for (char c : text) {
    if (!IsSpace(c) && !in_word) ++n;
    in_word = !IsSpace(c);
  }
  return n;
}

}  // namespace mosaic::document
