// WordNet: a reader of the noun half of Princeton WordNet 3.0's database files (Debian
// `wordnet-base`, /usr/share/wordnet), enough to widen a word into broader ones: a lemma's senses
// (synsets, most frequent first), each synset's synonyms, and its chain of hypernyms ("is a kind
// of" / "is an instance of") up to the root, e.g. dog -> canine -> carnivore -> ... -> animal.
//
// Files (format in WordNet's wndb(5) manual page):
//   index.noun  one line per lemma, sorted: "dog n 7 5 @ ~ #m #p %p 7 1 02084071 10114209 ...",
//               its synset offsets in sense order. Open() parses it into a compact sorted table
//               (~3 MB for the 117k lemmas).
//   data.noun   one line per synset, identified by the line's byte offset: "02084071 05 n 03 dog 0
//               domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 ... | gloss". It is never
//               loaded: Synset() reads the one line at its offset (15 MB stay on disk).
// Lines that begin with a space are the license header and are skipped.
//
// Thread-safety: immutable after Open(); every const method may be called from several threads
// at once (data.noun is read with pread, which has no shared file position).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::text {

/// One noun synset from data.noun.
struct WordNetSynset {
  uint32_t offset = 0;  // byte offset of its line in data.noun: the synset's id
  /// Its lemmas as WordNet spells them, underscores as spaces: "dog", "domestic dog", "Canis
  /// familiaris".
  std::vector<std::string> words;
  /// Offsets of its direct hypernyms: '@' (kind of) and '@i' (instance of) noun pointers.
  std::vector<uint32_t> hypernyms;
  std::string gloss;
};

class WordNet {
 public:
  /// Opens `dir`/index.noun and `dir`/data.noun. NotFound naming the path when a file is missing;
  /// Corruption naming the path and line number for an index line that does not parse.
  static Result<std::unique_ptr<WordNet>> Open(const std::string& dir);

  ~WordNet();
  WordNet(const WordNet&) = delete;
  WordNet& operator=(const WordNet&) = delete;

  const std::string& dir() const { return dir_; }
  size_t lemma_count() const { return entries_.size(); }

  /// The synset offsets of noun `lemma`, sense 1 first. The lemma is matched as WordNet stores
  /// it: ASCII lower case, spaces as underscores ("Traffic light" finds "traffic_light"). Empty
  /// when WordNet has no such noun.
  std::vector<uint32_t> Senses(std::string_view lemma) const;

  /// The synsets of the first `max_senses` senses of `lemma` (fewer if it has fewer; none if it
  /// is not a noun).
  Result<std::vector<WordNetSynset>> Lookup(std::string_view lemma, int max_senses = 1) const;

  /// Reads the synset whose line starts at byte `offset` of data.noun. Corruption naming the
  /// file and offset when there is no well-formed synset line there.
  Result<WordNetSynset> Synset(uint32_t offset) const;

  /// Every synset above `offset` through '@'/'@i' pointers, up to the root ("entity"), nearest
  /// first (breadth-first, so both parents of a synset with two come before their parents), each
  /// once; `offset` itself is not included.
  Result<std::vector<WordNetSynset>> Hypernyms(uint32_t offset) const;

 private:
  // One index.noun line: the lemma is lemmas_[lemma_begin, +lemma_size), its senses are
  // senses_[sense_begin, +sense_count).
  struct Entry {
    uint32_t lemma_begin;
    uint32_t sense_begin;
    uint16_t lemma_size;
    uint16_t sense_count;
  };

  WordNet() = default;
  Status LoadIndex(const std::string& path);
  std::string_view LemmaOf(const Entry& e) const {
    return {lemmas_.data() + e.lemma_begin, e.lemma_size};
  }

  std::string dir_;
  std::string data_path_;
  int data_fd_ = -1;
  std::string lemmas_;            // all index lemmas, concatenated
  std::vector<uint32_t> senses_;  // all index synset offsets, concatenated
  std::vector<Entry> entries_;    // sorted by lemma
};

}  // namespace mosaic::text
