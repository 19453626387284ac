#include "text/clip_tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "text/html_entities.h"
#include "text/text_fixer.h"
#include "text/unicode_util.h"

namespace mosaic::text {
namespace {

// CLIP keeps the first 49152 - 256 - 2 merges (vocabulary 49408 = 2 * 256 + merges + 2 specials).
constexpr int kNumMerges = 49152 - 256 - 2;
constexpr std::u32string_view kStartOfText = U"<|startoftext|>";
constexpr std::u32string_view kEndOfText = U"<|endoftext|>";
constexpr std::string_view kEndOfWord = "</w>";

// GPT-2/CLIP bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, DEL, NBSP, soft hyphen) for U+0100.. in byte order. Vocabulary order is the
// printable bytes first, then the others.
bool IsPrintableByte(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

struct ByteUnicode {
  char32_t byte_to_cp[256];
  int byte_order[256];  // the vocabulary position of each byte's symbol
  int cp_to_byte[256 + 68];

  ByteUnicode() {
    int pos = 0;
    for (int b = 0; b < 256; ++b) {
      if (IsPrintableByte(b)) byte_order[b] = pos++;
    }
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      if (!IsPrintableByte(b)) {
        byte_order[b] = pos++;
        byte_to_cp[b] = static_cast<char32_t>(256 + extra++);
      } else {
        byte_to_cp[b] = static_cast<char32_t>(b);
      }
    }
    std::fill(std::begin(cp_to_byte), std::end(cp_to_byte), -1);
    for (int b = 0; b < 256; ++b) cp_to_byte[byte_to_cp[b]] = b;
  }
  // -1 when `cp` is not one of the 256 symbols.
  int ToByte(char32_t cp) const { return cp < std::size(cp_to_byte) ? cp_to_byte[cp] : -1; }
};

const ByteUnicode& Bytes() {
  static const ByteUnicode kBytes;
  return kBytes;
}

Result<std::string> ReadMaybeGzipped(const std::string& path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");  // reads uncompressed files transparently
  if (f == nullptr) {
    if (errno == ENOENT) return Status::NotFound("merges file not found: " + path);
    return Status::IOError("cannot open merges file " + path + ": " + std::strerror(errno));
  }
  std::string data;
  char buf[1 << 16];
  while (true) {
    const int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int errnum = 0;
      const std::string msg = gzerror(f, &errnum);
      gzclose(f);
      return Status::Corruption("cannot decompress merges file " + path + ": " + msg);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return data;
}

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::vector<std::string_view> SplitWhitespace(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsAsciiSpace(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !IsAsciiSpace(line[i])) ++i;
    if (i > start) parts.push_back(line.substr(start, i - start));
  }
  return parts;
}

// A merge symbol is spelled in byte-unicode characters; returns the bytes it stands for.
bool SymbolBytes(std::string_view symbol, std::string* bytes) {
  auto cps = DecodeUtf8(symbol);
  if (!cps.ok()) return false;
  bytes->clear();
  for (char32_t cp : *cps) {
    const int b = Bytes().ToByte(cp);
    if (b < 0) return false;
    bytes->push_back(static_cast<char>(b));
  }
  return true;
}

// ---- Text cleanup (basic_clean + whitespace_clean + lower) ----

std::u32string CleanCodePoints(std::u32string_view text) {
  std::u32string fixed = HtmlUnescape(HtmlUnescape(FixText(text)));
  std::u32string collapsed;
  collapsed.reserve(fixed.size());
  bool pending_space = false;
  for (char32_t c : fixed) {
    if (IsWhiteSpace(c)) {
      pending_space = !collapsed.empty();
      continue;
    }
    if (pending_space) collapsed.push_back(U' ');
    pending_space = false;
    collapsed.push_back(c);
  }
  return ToLower(collapsed);
}

// ---- Pre-tokenizer: CLIP's regex, case-insensitive, as a scanner ----
//
// <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// Alternatives are tried in order at each position; characters that match none (white space)
// are skipped.

// Case-insensitive match of one pattern character against already lower-cased text: under
// simple case folding U+017F LATIN SMALL LETTER LONG S equals 's'.
bool FoldEquals(char32_t c, char32_t pattern) {
  return c == pattern || (pattern == U's' && c == 0x017F) ||
         (pattern >= U'a' && pattern <= U'z' && c == pattern - 0x20);
}

size_t MatchLiteral(std::u32string_view text, size_t i, std::u32string_view literal) {
  if (text.size() - i < literal.size()) return 0;
  for (size_t k = 0; k < literal.size(); ++k) {
    if (!FoldEquals(text[i + k], literal[k])) return 0;
  }
  return literal.size();
}

// Python's `regex` with IGNORECASE matches a class if any case variant of the character does. The
// only character this changes for CLIP's classes is U+0345 COMBINING GREEK YPOGEGRAMMENI (Mn,
// folds to the letter ι): it is no longer "other" but not a letter either, so no alternative
// matches it and it is skipped like white space.
bool IsOtherSymbol(char32_t c) {
  return !IsWhiteSpace(c) && !IsLetter(c) && !IsNumber(c) && c != 0x0345;
}

template <typename Emit>
void PreTokenize(std::u32string_view text, Emit&& emit) {
  static constexpr std::u32string_view kContractions[] = {U"'s", U"'t", U"'re", U"'ve",
                                                          U"'m", U"'ll", U"'d"};
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char32_t c = text[i];
    size_t len = 0;
    if (c == U'<') {
      len = MatchLiteral(text, i, kStartOfText);
      if (len == 0) len = MatchLiteral(text, i, kEndOfText);
    } else if (c == U'\'') {
      for (std::u32string_view contraction : kContractions) {
        if ((len = MatchLiteral(text, i, contraction)) != 0) break;
      }
    }
    if (len == 0) {
      if (IsLetter(c)) {
        len = 1;
        while (i + len < n && IsLetter(text[i + len])) ++len;
      } else if (IsNumber(c)) {
        len = 1;
      } else if (IsOtherSymbol(c)) {
        len = 1;
        while (i + len < n && IsOtherSymbol(text[i + len])) ++len;
      } else {
        ++i;
        continue;
      }
    }
    emit(text.substr(i, len));
    i += len;
  }
}

}  // namespace

// ---- Merge ranks: (left id, right id) -> (rank, merged id), open addressing ----

class ClipTokenizer::MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t merged = 0;
  };

  explicit MergeTable(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.resize(cap);
    mask_ = cap - 1;
  }

  // A later duplicate pair overrides an earlier one, as in CLIP's dict(zip(merges, ranks)).
  void Put(int32_t left, int32_t right, int32_t rank, int32_t merged) {
    Entry& e = Slot(Key(left, right));
    e = {Key(left, right), rank, merged};
  }

  const Entry* Find(int32_t left, int32_t right) const {
    const uint64_t key = Key(left, right);
    for (size_t i = Hash(key);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t Hash(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }
  Entry& Slot(uint64_t key) {
    for (size_t i = Hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key || slots_[i].key == kEmpty) return slots_[i];
    }
  }

  std::vector<Entry> slots_;
  size_t mask_ = 0;
};

// ---- Cache of BPE results per pre-token, sharded to keep lock contention low ----

class ClipTokenizer::WordCache {
 public:
  bool Get(std::string_view word, std::vector<int32_t>* ids) const {
    const size_t h = std::hash<std::string_view>{}(word);
    const Shard& shard = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(shard.mu);
    const auto it = shard.map.find(word);
    if (it == shard.map.end()) return false;
    ids->insert(ids->end(), it->second.begin(), it->second.end());
    return true;
  }

  void Put(std::string_view word, std::span<const int32_t> ids) {
    if (word.size() > kMaxWordBytes) return;
    const size_t h = std::hash<std::string_view>{}(word);
    Shard& shard = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(shard.mu);
    // Bounded memory: a full shard starts over rather than tracking recency.
    if (shard.map.size() >= kMaxEntriesPerShard) shard.map.clear();
    shard.map.try_emplace(std::string(word), ids.begin(), ids.end());
  }

 private:
  static constexpr size_t kShards = 32;
  static constexpr size_t kMaxEntriesPerShard = 8192;
  static constexpr size_t kMaxWordBytes = 64;

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  Shard shards_[kShards];
};

ClipTokenizer::ClipTokenizer() : cache_(std::make_unique<WordCache>()) {}
ClipTokenizer::ClipTokenizer(ClipTokenizer&&) noexcept = default;
ClipTokenizer& ClipTokenizer::operator=(ClipTokenizer&&) noexcept = default;
ClipTokenizer::~ClipTokenizer() = default;

Result<ClipTokenizer> ClipTokenizer::Load(const std::string& merges_path) {
  MOSAIC_ASSIGN_OR_RETURN(const std::string data, ReadMaybeGzipped(merges_path));

  // Line 1 is the version header; merges are lines 2 .. kNumMerges + 1.
  std::vector<std::pair<std::string, std::string>> merges;  // as bytes
  merges.reserve(kNumMerges);
  size_t pos = data.find('\n');
  for (int line_no = 2; pos != std::string::npos && line_no <= kNumMerges + 1; ++line_no) {
    const size_t start = pos + 1;
    pos = data.find('\n', start);
    const std::string_view line =
        std::string_view(data).substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    if (pos == std::string::npos && line.empty()) break;  // trailing newline
    const std::vector<std::string_view> parts = SplitWhitespace(line);
    std::string left;
    std::string right;
    if (parts.size() != 2 || !SymbolBytes(parts[0], &left) || !SymbolBytes(parts[1], &right)) {
      return Status::Corruption("merges file " + merges_path + " line " + std::to_string(line_no) +
                                ": expected two byte-level BPE symbols, got '" +
                                std::string(line.substr(0, 80)) + "'");
    }
    merges.emplace_back(std::move(left), std::move(right));
  }
  if (merges.size() != static_cast<size_t>(kNumMerges)) {
    return Status::Corruption("merges file " + merges_path + " ends at line " +
                              std::to_string(merges.size() + 1) + " with " + std::to_string(merges.size()) +
                              " merges, CLIP needs " + std::to_string(kNumMerges));
  }

  ClipTokenizer tok;
  const ByteUnicode& bu = Bytes();
  tok.vocab_bytes_.resize(2 * 256);
  for (int b = 0; b < 256; ++b) {
    const int id = bu.byte_order[b];
    tok.byte_id_[b] = id;
    tok.vocab_bytes_[id] = std::string(1, static_cast<char>(b));
    tok.vocab_bytes_[256 + id] = std::string(1, static_cast<char>(b)) + std::string(kEndOfWord);
  }
  for (const auto& [left, right] : merges) tok.vocab_bytes_.push_back(left + right);
  tok.vocab_bytes_.push_back(EncodeUtf8(kStartOfText));
  tok.vocab_bytes_.push_back(EncodeUtf8(kEndOfText));
  tok.sot_id_ = static_cast<int32_t>(tok.vocab_bytes_.size()) - 2;
  tok.eot_id_ = static_cast<int32_t>(tok.vocab_bytes_.size()) - 1;

  // CLIP's encoder is a dict: for a repeated spelling the last id wins. Byte-unicode spelling and
  // raw bytes correspond one to one, so bytes serve as the key.
  std::unordered_map<std::string_view, int32_t> encoder;
  encoder.reserve(tok.vocab_bytes_.size());
  for (size_t id = 0; id < tok.vocab_bytes_.size(); ++id) {
    encoder[tok.vocab_bytes_[id]] = static_cast<int32_t>(id);
  }
  tok.merges_ = std::make_unique<MergeTable>(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = encoder.find(left);
    const auto r = encoder.find(right);
    // A merge whose halves are not vocabulary symbols can never apply.
    if (l == encoder.end() || r == encoder.end()) continue;
    tok.merges_->Put(l->second, r->second, static_cast<int32_t>(rank), encoder.at(left + right));
  }
  return tok;
}

Result<std::string> ClipTokenizer::Clean(std::string_view text) {
  MOSAIC_ASSIGN_OR_RETURN(const std::u32string cps, DecodeUtf8(text));
  return EncodeUtf8(CleanCodePoints(cps));
}

void ClipTokenizer::Bpe(std::string_view word, std::vector<int32_t>* ids) const {
  std::vector<int32_t> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) symbols[i] = byte_id_[static_cast<uint8_t>(word[i])];
  symbols.back() += 256;  // the "</w>" form of the last byte
  std::vector<int32_t> next;
  while (symbols.size() > 1) {
    int32_t best_rank = INT32_MAX;
    const MergeTable::Entry* best = nullptr;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const MergeTable::Entry* e = merges_->Find(symbols[i], symbols[i + 1]);
      if (e != nullptr && e->rank < best_rank) {
        best_rank = e->rank;
        best = e;
      }
    }
    if (best == nullptr) break;
    const auto left = static_cast<int32_t>(best->key >> 32);
    const auto right = static_cast<int32_t>(best->key & 0xFFFFFFFFu);
    next.clear();
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
        next.push_back(best->merged);
        i += 2;
      } else {
        next.push_back(symbols[i++]);
      }
    }
    symbols.swap(next);
  }
  ids->insert(ids->end(), symbols.begin(), symbols.end());
}

void ClipTokenizer::AppendBpe(std::string_view word, std::vector<int32_t>* ids) const {
  if (cache_->Get(word, ids)) return;
  const size_t before = ids->size();
  Bpe(word, ids);
  cache_->Put(word, std::span<const int32_t>(ids->data() + before, ids->size() - before));
}

Result<std::vector<int32_t>> ClipTokenizer::Encode(std::string_view text) const {
  MOSAIC_ASSIGN_OR_RETURN(const std::u32string cps, DecodeUtf8(text));
  const std::u32string cleaned = CleanCodePoints(cps);
  std::vector<int32_t> ids;
  ids.reserve(cleaned.size() / 3 + 4);
  std::string word;
  PreTokenize(cleaned, [&](std::u32string_view token) {
    // Only the exact spellings are special: CLIP looks them up in its BPE cache, which a variant
    // such as "<|ſtartoftext|>" (matched by the case-insensitive regex) misses.
    if (token == kStartOfText) {
      ids.push_back(sot_id_);
    } else if (token == kEndOfText) {
      ids.push_back(eot_id_);
    } else {
      word.clear();
      for (char32_t c : token) AppendUtf8(c, &word);
      AppendBpe(word, &ids);
    }
  });
  return ids;
}

std::string ClipTokenizer::Decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id >= 0 && id < vocab_size()) bytes += vocab_bytes_[static_cast<size_t>(id)];
  }
  // CLIP replaces "</w>" in the joined text, so a marker spelled across tokens counts too.
  std::string spaced;
  spaced.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    if (bytes.compare(i, kEndOfWord.size(), kEndOfWord) == 0) {
      spaced.push_back(' ');
      i += kEndOfWord.size();
    } else {
      spaced.push_back(bytes[i++]);
    }
  }
  return ReplaceInvalidUtf8(spaced);
}

Status ClipTokenizer::FillRow(std::string_view text, int context_length, bool truncate, int64_t* row,
                              int32_t* eot_index) const {
  MOSAIC_ASSIGN_OR_RETURN(const std::vector<int32_t> ids, Encode(text));
  const size_t total = ids.size() + 2;
  const auto len = static_cast<size_t>(context_length);
  if (total > len && !truncate) {
    return Status::InvalidArgument("text has " + std::to_string(total) +
                                   " tokens, over the context length " + std::to_string(context_length));
  }
  const size_t kept = std::min(ids.size(), len - 2);
  std::fill(row, row + len, int64_t{0});
  row[0] = sot_id_;
  std::copy(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kept), row + 1);
  row[kept + 1] = eot_id_;
  if (eot_index != nullptr) *eot_index = static_cast<int32_t>(kept + 1);
  return Status::OK();
}

Result<std::vector<int64_t>> ClipTokenizer::Tokenize(std::string_view text, int context_length,
                                                     bool truncate, int32_t* eot_index) const {
  if (context_length < 2) {
    return Status::InvalidArgument("context length " + std::to_string(context_length) +
                                   " cannot hold <|startoftext|> and <|endoftext|>");
  }
  std::vector<int64_t> row(static_cast<size_t>(context_length));
  MOSAIC_RETURN_IF_ERROR(FillRow(text, context_length, truncate, row.data(), eot_index));
  return row;
}

Result<ClipTokenBatch> ClipTokenizer::TokenizeBatch(std::span<const std::string> texts,
                                                    int context_length, bool truncate) const {
  if (context_length < 2) {
    return Status::InvalidArgument("context length " + std::to_string(context_length) +
                                   " cannot hold <|startoftext|> and <|endoftext|>");
  }
  ClipTokenBatch batch;
  batch.context_length = context_length;
  batch.ids.resize(texts.size() * static_cast<size_t>(context_length));
  batch.eot_index.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const Status st = FillRow(texts[i], context_length, truncate,
                              batch.ids.data() + i * static_cast<size_t>(context_length),
                              &batch.eot_index[i]);
    if (!st.ok()) return st.WithContext("text " + std::to_string(i));
  }
  return batch;
}

}  // namespace mosaic::text
