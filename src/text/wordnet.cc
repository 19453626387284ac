#include "text/wordnet.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <unordered_set>
#include <utility>

namespace mosaic::text {

namespace {

// Splits `line` at spaces (runs count as one), the way the database files separate fields.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ')
      ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out, int base = 10) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

bool ParseOffset(std::string_view s, uint32_t* out) {
  return s.size() == 8 && ParseNumber(s, out);
}

std::string ToIndexForm(std::string_view lemma) {
  std::string s(lemma);
  for (char& c : s) {
    if (c == ' ') c = '_';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string OffsetString(uint32_t offset) {
  std::string s = std::to_string(offset);
  return std::string(s.size() < 8 ? 8 - s.size() : 0, '0') + s;
}

}  // namespace

WordNet::~WordNet() {
  if (data_fd_ >= 0) ::close(data_fd_);
}

Result<std::unique_ptr<WordNet>> WordNet::Open(const std::string& dir) {
  std::unique_ptr<WordNet> wn(new WordNet());
  wn->dir_ = dir;
  wn->data_path_ = dir + "/data.noun";
  wn->data_fd_ = ::open(wn->data_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (wn->data_fd_ < 0) {
    const std::string why = std::strerror(errno);
    if (errno == ENOENT)
      return Status::NotFound("WordNet data file " + wn->data_path_ + " is missing");
    return Status::IOError("cannot open WordNet data file " + wn->data_path_ + ": " + why);
  }
  MOSAIC_RETURN_IF_ERROR(wn->LoadIndex(dir + "/index.noun"));
  return wn;
}

Status WordNet::LoadIndex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0)
      return Status::NotFound("WordNet index file " + path + " is missing");
    return Status::IOError("cannot open WordNet index file " + path);
  }
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == ' ') continue;  // license header
    const auto bad = [&](const std::string& why) {
      return Status::Corruption(path + ":" + std::to_string(line_no) + ": " + why +
                                " in index line '" + line.substr(0, 80) + "'");
    };
    // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
    const auto f = Fields(line);
    if (f.size() < 6) return bad("too few fields");
    if (f[1] != "n") return bad("part of speech '" + std::string(f[1]) + "' is not 'n'");
    uint32_t synsets = 0, pointers = 0;
    if (!ParseNumber(f[2], &synsets) || synsets == 0)
      return bad("bad synset count '" + std::string(f[2]) + "'");
    if (!ParseNumber(f[3], &pointers)) return bad("bad pointer count '" + std::string(f[3]) + "'");
    const size_t first_offset = 4 + size_t{pointers} + 2;
    if (f.size() != first_offset + synsets) {
      return bad("expected " + std::to_string(first_offset + synsets) + " fields, found " +
                 std::to_string(f.size()));
    }
    if (f[0].size() > std::numeric_limits<uint16_t>::max() ||
        synsets > std::numeric_limits<uint16_t>::max() ||
        lemmas_.size() + f[0].size() > std::numeric_limits<uint32_t>::max()) {
      return bad("entry too large");
    }
    Entry e{static_cast<uint32_t>(lemmas_.size()), static_cast<uint32_t>(senses_.size()),
            static_cast<uint16_t>(f[0].size()), static_cast<uint16_t>(synsets)};
    for (size_t i = first_offset; i < f.size(); ++i) {
      uint32_t offset = 0;
      if (!ParseOffset(f[i], &offset)) return bad("bad synset offset '" + std::string(f[i]) + "'");
      senses_.push_back(offset);
    }
    lemmas_.append(f[0]);
    entries_.push_back(e);
  }
  if (in.bad()) return Status::IOError("error reading WordNet index file " + path);
  if (entries_.empty()) return Status::Corruption(path + ": no lemmas");
  // The file is sorted already; sorting here keeps lookups right even if a copy is not.
  std::sort(entries_.begin(), entries_.end(),
            [&](const Entry& a, const Entry& b) { return LemmaOf(a) < LemmaOf(b); });
  lemmas_.shrink_to_fit();
  senses_.shrink_to_fit();
  entries_.shrink_to_fit();
  return Status::OK();
}

std::vector<uint32_t> WordNet::Senses(std::string_view lemma) const {
  const std::string key = ToIndexForm(lemma);
  const auto it =
      std::lower_bound(entries_.begin(), entries_.end(), key,
                       [&](const Entry& e, const std::string& k) { return LemmaOf(e) < k; });
  if (it == entries_.end() || LemmaOf(*it) != key) return {};
  return {senses_.begin() + it->sense_begin, senses_.begin() + it->sense_begin + it->sense_count};
}

Result<std::vector<WordNetSynset>> WordNet::Lookup(std::string_view lemma, int max_senses) const {
  const std::vector<uint32_t> offsets = Senses(lemma);
  std::vector<WordNetSynset> out;
  for (size_t i = 0; i < offsets.size() && static_cast<int>(i) < max_senses; ++i) {
    MOSAIC_ASSIGN_OR_RETURN(auto synset, Synset(offsets[i]));
    out.push_back(std::move(synset));
  }
  return out;
}

Result<WordNetSynset> WordNet::Synset(uint32_t offset) const {
  const std::string where = data_path_ + " at offset " + OffsetString(offset);
  // Read until the line's end: most synset lines are short, a few run to tens of kilobytes.
  std::string line;
  size_t chunk = 1024;
  for (;;) {
    const size_t have = line.size();
    line.resize(have + chunk);
    const ssize_t n = ::pread(data_fd_, line.data() + have, chunk,
                              static_cast<off_t>(offset) + static_cast<off_t>(have));
    if (n < 0) return Status::IOError("cannot read " + where + ": " + std::strerror(errno));
    line.resize(have + static_cast<size_t>(n));
    const size_t nl = line.find('\n', have);
    if (nl != std::string::npos) {
      line.resize(nl);
      break;
    }
    if (n == 0) break;  // the last line may lack its newline
    chunk *= 2;
  }
  const auto bad = [&](const std::string& why) {
    return Status::Corruption(where + ": " + why + " in synset line '" + line.substr(0, 80) + "'");
  };
  if (line.empty()) return bad("no line");
  // synset_offset lex_filenum ss_type w_cnt [word lex_id]... p_cnt [ptr]... | gloss
  const size_t bar = line.find(" | ");
  const auto f = Fields(std::string_view(line).substr(0, bar));
  WordNetSynset s;
  if (f.size() < 4 || !ParseOffset(f[0], &s.offset) || s.offset != offset)
    return bad("not a synset start");
  if (f[2] != "n") return bad("synset type '" + std::string(f[2]) + "' is not 'n'");
  uint32_t words = 0;
  if (!ParseNumber(f[3], &words, 16) || words == 0)
    return bad("bad word count '" + std::string(f[3]) + "'");
  size_t i = 4;
  if (f.size() < i + 2 * size_t{words} + 1) return bad("truncated word list");
  for (uint32_t w = 0; w < words; ++w, i += 2) {
    std::string word(f[i]);
    std::replace(word.begin(), word.end(), '_', ' ');
    s.words.push_back(std::move(word));
  }
  uint32_t pointers = 0;
  if (!ParseNumber(f[i], &pointers)) return bad("bad pointer count '" + std::string(f[i]) + "'");
  ++i;
  if (f.size() < i + 4 * size_t{pointers}) return bad("truncated pointer list");
  for (uint32_t p = 0; p < pointers; ++p, i += 4) {
    const std::string_view symbol = f[i];
    uint32_t target = 0;
    if (!ParseOffset(f[i + 1], &target))
      return bad("bad pointer offset '" + std::string(f[i + 1]) + "'");
    if ((symbol == "@" || symbol == "@i") && f[i + 2] == "n") s.hypernyms.push_back(target);
  }
  if (bar != std::string::npos) s.gloss = line.substr(bar + 3);
  while (!s.gloss.empty() && s.gloss.back() == ' ')
    s.gloss.pop_back();
  return s;
}

Result<std::vector<WordNetSynset>> WordNet::Hypernyms(uint32_t offset) const {
  MOSAIC_ASSIGN_OR_RETURN(const WordNetSynset start, Synset(offset));
  std::vector<WordNetSynset> out;
  std::unordered_set<uint32_t> seen = {offset};
  std::vector<uint32_t> frontier = start.hypernyms;
  // Breadth-first; `seen` also stops a cycle that a damaged file might contain.
  while (!frontier.empty()) {
    std::vector<uint32_t> next;
    for (uint32_t h : frontier) {
      if (!seen.insert(h).second) continue;
      MOSAIC_ASSIGN_OR_RETURN(auto synset, Synset(h));
      next.insert(next.end(), synset.hypernyms.begin(), synset.hypernyms.end());
      out.push_back(std::move(synset));
    }
    frontier = std::move(next);
  }
  return out;
}

}  // namespace mosaic::text
