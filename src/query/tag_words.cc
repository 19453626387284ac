#include "query/tag_words.h"

#include <map>

#include "text/word_tokenizer.h"

namespace mosaic::query {
namespace {

std::string Singular(std::string w) {
  static const std::map<std::string, std::string> kIrregular = {
      {"people", "person"}, {"men", "man"},     {"women", "woman"}, {"children", "child"},
      {"mice", "mouse"},    {"geese", "goose"}, {"teeth", "tooth"}, {"feet", "foot"},
      {"knives", "knife"},  {"leaves", "leaf"}, {"wolves", "wolf"}, {"oxen", "ox"}};
  if (auto it = kIrregular.find(w); it != kIrregular.end()) return it->second;
  auto ends = [&](const char* s) { return w.ends_with(s); };
  if (w.size() > 4 && ends("ies")) return w.substr(0, w.size() - 3) + "y";
  if (w.size() > 4 &&
      (ends("ches") || ends("shes") || ends("sses") || ends("xes") || ends("zes") || ends("uses")))
    return w.substr(0, w.size() - 2);
  if (w.size() > 3 && ends("s") && !ends("ss") && !ends("us") && !ends("is"))
    return w.substr(0, w.size() - 1);
  return w;
}

}  // namespace

std::vector<std::string> TagWords(std::string_view text) {
  static const text::WordTokenizer* tokenizer = [] {
    text::WordTokenizerOptions o;
    o.stem_language = "";
    auto t = text::WordTokenizer::Create(o);
    return t.ok() ? new text::WordTokenizer(std::move(t).value()) : nullptr;
  }();
  std::vector<std::string> words;
  if (tokenizer == nullptr) return words;
  for (std::string& w : tokenizer->Terms(text))
    words.push_back(Singular(std::move(w)));
  return words;
}

}  // namespace mosaic::query
