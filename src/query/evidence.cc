#include "query/evidence.h"

#include <algorithm>
#include <set>

#include "query/tag_words.h"
#include "text/sentences.h"
#include "text/word_tokenizer.h"

namespace mosaic::query {
namespace {

const text::WordTokenizer* Tokenizer() {
  static const text::WordTokenizer* t = [] {
    auto created = text::WordTokenizer::Create();
    return created.ok() ? new text::WordTokenizer(std::move(created).value()) : nullptr;
  }();
  return t;
}

// The highlighted ranges of `s` (terms in `terms`) and how many distinct terms matched.
std::pair<Json, size_t> Match(const std::string& s, const std::set<std::string>& terms) {
  Json ranges = Json::array();
  std::set<std::string> found;
  if (Tokenizer() == nullptr) return {ranges, 0};
  // Stems keep a word's first letter: only words starting like a query term are stemmed.
  auto may_match = [&](std::string_view word) {
    for (const std::string& t : terms)
      if (!t.empty() && !word.empty() && t[0] == word[0]) return true;
    return false;
  };
  for (const text::TermSpan& span : Tokenizer()->Spans(s, may_match)) {
    if (!terms.count(span.term)) continue;
    ranges.push_back({span.begin, span.end});
    found.insert(span.term);
  }
  return {ranges, found.size()};
}

// The sentence of `s` matching the most distinct terms (the first such), as {"field", "text",
// "highlights"} with ranges relative to the sentence; null when none matches.
Json BestSentence(const std::string& field, const std::string& s,
                  const std::set<std::string>& terms) {
  Json best;
  size_t best_found = 0;
  for (auto [b, e] : text::SentenceSpans(s)) {
    std::string sentence = s.substr(b, e - b);
    auto [ranges, found] = Match(sentence, terms);
    if (found > best_found) {
      best_found = found;
      best = {{"field", field}, {"text", std::move(sentence)}, {"highlights", std::move(ranges)}};
    }
  }
  return best;
}

const Json* Field(const Json& payload, const char* key) {
  auto it = payload.find(key);
  return it == payload.end() ? nullptr : &*it;
}

std::string StringField(const Json& payload, const char* key) {
  const Json* v = Field(payload, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

Json Evidence(const Json& payload, const std::vector<std::string>& query_terms,
              const std::vector<std::string>& query_tag_words, bool full) {
  Json ev = Json::object();
  if (!payload.is_object()) return ev;
  const std::set<std::string> terms(query_terms.begin(), query_terms.end());
  const std::set<std::string> tag_words(query_tag_words.begin(), query_tag_words.end());
  const std::string kind = StringField(payload, "kind");
  if (!kind.empty()) ev["kind"] = kind;
  const Json* start = Field(payload, "start");
  const Json* end = Field(payload, "end");
  if (start && end && start->is_number() && end->is_number())
    ev["time"] = {{"start", *start}, {"end", *end}};
  if (const Json* t = Field(payload, "time"); t && t->is_number()) ev["time"] = {{"at", *t}};
  if (const Json* page = Field(payload, "page"); page && page->is_number()) ev["page"] = *page;
  if (const Json* h = Field(payload, "headings"); h && (h->is_string() || h->is_array()))
    ev["headings"] = *h;
  if (terms.empty()) return ev;

  if (std::string s = StringField(payload, "text"); !s.empty())
    if (Json best = BestSentence("text", s, terms); !best.is_null())
      ev["sentence"] = std::move(best);
  if (std::string s = StringField(payload, "transcript");
      !s.empty() && (full || !ev.contains("sentence")))
    if (Json best = BestSentence("transcript", s, terms); !best.is_null())
      ev["transcript"] = std::move(best);
  if (!full) return ev;

  if (const Json* words = Field(payload, "words"); words && words->is_array() && Tokenizer()) {
    Json said = Json::array();
    for (const Json& w : *words) {
      if (!w.is_object() || !w.contains("text") || !w["text"].is_string()) continue;
      for (const std::string& t : Tokenizer()->Terms(w["text"].get<std::string>()))
        if (terms.count(t)) {
          said.push_back({{"text", w["text"]},
                          {"start", w.value("start", Json())},
                          {"end", w.value("end", Json())}});
          break;
        }
    }
    if (!said.empty()) ev["words"] = std::move(said);
  }

  Json ocr = Json::array();
  if (const Json* lines = Field(payload, "ocr_lines"); lines && lines->is_array()) {
    for (const Json& line : *lines) {
      if (!line.is_object() || !line.contains("text") || !line["text"].is_string()) continue;
      auto [ranges, found] = Match(line["text"].get<std::string>(), terms);
      if (found == 0) continue;
      Json hit = {{"text", line["text"]}, {"highlights", std::move(ranges)}};
      if (line.contains("box")) hit["box"] = line["box"];
      ocr.push_back(std::move(hit));
    }
  } else if (std::string s = StringField(payload, "ocr_text"); !s.empty()) {
    if (Json best = BestSentence("ocr_text", s, terms); !best.is_null()) {
      best.erase("field");
      ocr.push_back(std::move(best));
    }
  }
  if (!ocr.empty()) ev["ocr"] = std::move(ocr);

  if (const Json* scores = Field(payload, "tag_scores");
      scores && scores->is_object() && !tag_words.empty()) {
    std::vector<std::pair<double, std::string>> tags;
    for (const auto& [tag, conf] : scores->items()) {
      if (!conf.is_number()) continue;
      for (const std::string& t : TagWords(tag))
        if (tag_words.count(t)) {
          tags.emplace_back(conf.get<double>(), tag);
          break;
        }
    }
    std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (tags.size() > 5) tags.resize(5);
    Json list = Json::array();
    for (const auto& [conf, tag] : tags)
      list.push_back({{"tag", tag}, {"confidence", conf}});
    if (!list.empty()) ev["tags"] = std::move(list);
  }

  if (std::string s = StringField(payload, "title"); !s.empty()) {
    auto [ranges, found] = Match(s, terms);
    if (found) ev["title"] = {{"text", s}, {"highlights", std::move(ranges)}};
  }
  if (std::string s = StringField(payload, "names"); !s.empty()) {
    auto [ranges, found] = Match(s, terms);
    if (found) ev["names"] = {{"text", s}, {"highlights", std::move(ranges)}};
  }
  return ev;
}

std::string Highlight(const std::string& text, const Json& highlights, const std::string& open,
                      const std::string& close) {
  std::string out;
  size_t at = 0;
  if (highlights.is_array()) {
    for (const Json& r : highlights) {
      if (!r.is_array() || r.size() != 2) continue;
      const size_t b = r[0].get<size_t>(), e = r[1].get<size_t>();
      if (b < at || e > text.size() || b >= e) continue;
      out += text.substr(at, b - at) + open + text.substr(b, e - b) + close;
      at = e;
    }
  }
  return out + text.substr(at);
}

std::string Snippet(const Json& payload, const Json& evidence, size_t max_bytes) {
  std::string s;
  for (const char* key : {"sentence", "transcript"})
    if (evidence.contains(key)) {
      s = evidence[key].value("text", std::string());
      break;
    }
  if (s.empty() && evidence.contains("ocr") && !evidence["ocr"].empty())
    s = evidence["ocr"][0].value("text", std::string());
  if (s.empty() && payload.is_object())
    for (const char* key : {"text", "transcript", "ocr_text"}) {
      s = StringField(payload, key);
      if (!s.empty()) break;
    }
  if (s.empty() && payload.is_object() && payload.contains("tags") && payload["tags"].is_array()) {
    for (const Json& t : payload["tags"])
      if (t.is_string()) s += (s.empty() ? "tags: " : ", ") + t.get<std::string>();
  }
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max_bytes) {
    size_t cut = max_bytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
      --cut;  // a character's start
    s = s.substr(0, cut) + "...";
  }
  return s;
}

}  // namespace mosaic::query
