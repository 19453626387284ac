// ClipTokenizer: OpenAI CLIP's text tokenizer (clip.simple_tokenizer.SimpleTokenizer plus
// clip.tokenize), reimplemented so that it gives the same ids as the Python original.
//
// Pipeline: strict UTF-8 decoding; ftfy.fix_text (the subset in text_fixer.h: no mojibake repair);
// html.unescape twice; whitespace collapsed and stripped; Unicode lower-casing; CLIP's
// pre-tokenizer regex (a hand-written scanner); byte-level BPE over the 49408-entry vocabulary
// built from the merges file (256 byte symbols, the same with "</w>", 48894 merges,
// <|startoftext|>, <|endoftext|>).
//
// Thread-safety: a loaded tokenizer is immutable apart from an internal cache of BPE results,
// which is sharded and locked; every const method may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::text {

/// Rows of ids for CLIP's text tower: [n, context_length] row-major, zero-padded.
struct ClipTokenBatch {
  int context_length = 0;
  std::vector<int64_t> ids;
  /// Per row, the column holding <|endoftext|>: the text tower pools there (argmax of the ids).
  std::vector<int32_t> eot_index;

  size_t rows() const { return eot_index.size(); }
};

class ClipTokenizer {
 public:
  static constexpr int kDefaultContextLength = 77;

  /// Reads CLIP's merges file (bpe_simple_vocab_16e6.txt, plain or gzipped): a header line, then
  /// one "a b" merge per line, of which the first 48894 are used. A missing file is NotFound; a
  /// malformed line or too few merges is Corruption naming the line.
  static Result<ClipTokenizer> Load(const std::string& merges_path);

  ClipTokenizer(ClipTokenizer&&) noexcept;
  ClipTokenizer& operator=(ClipTokenizer&&) noexcept;
  ~ClipTokenizer();

  /// The text CLIP actually tokenizes: fixed, unescaped, whitespace-collapsed, lower-cased.
  /// InvalidArgument (naming the byte offset) when `text` is not valid UTF-8.
  static Result<std::string> Clean(std::string_view text);

  /// Token ids without <|startoftext|> / <|endoftext|> (SimpleTokenizer.encode).
  Result<std::vector<int32_t>> Encode(std::string_view text) const;

  /// SimpleTokenizer.decode: "</w>" becomes a space, invalid UTF-8 becomes U+FFFD. Ids outside the
  /// vocabulary are skipped.
  std::string Decode(std::span<const int32_t> ids) const;

  /// clip.tokenize for one text: [sot, ids..., eot] zero-padded to context_length. Too long with
  /// `truncate`: the first context_length tokens with the last one replaced by eot; without it,
  /// InvalidArgument. `eot_index`, when given, receives the column of eot.
  Result<std::vector<int64_t>> Tokenize(std::string_view text, int context_length = kDefaultContextLength,
                                        bool truncate = true, int32_t* eot_index = nullptr) const;

  /// clip.tokenize for a batch. The first failing text's error is returned, prefixed by its index.
  Result<ClipTokenBatch> TokenizeBatch(std::span<const std::string> texts,
                                       int context_length = kDefaultContextLength,
                                       bool truncate = true) const;

  int32_t sot_id() const { return sot_id_; }
  int32_t eot_id() const { return eot_id_; }
  int32_t vocab_size() const { return static_cast<int32_t>(vocab_bytes_.size()); }

 private:
  class MergeTable;
  class WordCache;

  ClipTokenizer();

  // Appends the BPE ids of one pre-token (raw UTF-8 bytes).
  void AppendBpe(std::string_view word, std::vector<int32_t>* ids) const;
  void Bpe(std::string_view word, std::vector<int32_t>* ids) const;
  Status FillRow(std::string_view text, int context_length, bool truncate, int64_t* row,
                 int32_t* eot_index) const;

  std::vector<std::string> vocab_bytes_;  // id -> bytes ("</w>" kept literally)
  int32_t byte_id_[256] = {};             // byte -> id of its symbol; +256 for the "</w>" form
  int32_t sot_id_ = 0;
  int32_t eot_id_ = 0;
  std::unique_ptr<MergeTable> merges_;
  std::unique_ptr<WordCache> cache_;
};

}  // namespace mosaic::text
