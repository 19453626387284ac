#include "query/feedback.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "text/word_tokenizer.h"

namespace mosaic::query {

namespace {

const text::WordTokenizer& Tokenizer() {
  // The full-text index's own tokenizer, so a feedback term is an indexed term.
  static const text::WordTokenizer t = std::move(text::WordTokenizer::Create()).value();
  return t;
}

struct FieldSpec {
  std::string path;
  float weight = 1;
};

// "title^0.3" -> {"title", 0.3}; SearchText has checked the syntax by the time this runs.
FieldSpec ParseField(const std::string& spec) {
  FieldSpec f{spec, 1};
  if (size_t caret = spec.rfind('^'); caret != std::string::npos) {
    f.path = spec.substr(0, caret);
    f.weight = std::strtof(spec.c_str() + caret + 1, nullptr);
  }
  return f;
}

// Appends the strings at dotted `path` of `payload` (a string, or an array's strings).
void CollectText(const Json& payload, const std::string& path, std::vector<std::string>* out) {
  const Json* v = &payload;
  size_t start = 0;
  while (v->is_object()) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    auto it = v->find(key);
    if (it == v->end()) return;
    v = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (v->is_string()) {
    out->push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const Json& e : *v)
      if (e.is_string()) out->push_back(e.get<std::string>());
  }
}

// Term counts of a text, and the first word seen for each term (the word a query uses for it).
void CountTerms(const std::string& text, float weight, std::map<std::string, double>* counts,
                std::map<std::string, std::string>* words) {
  for (const text::TermSpan& s : Tokenizer().Spans(text)) {
    (*counts)[s.term] += weight;
    words->emplace(s.term, text.substr(s.begin, s.end - s.begin));
  }
}

}  // namespace

Result<std::vector<WeightedTerm>> ExpandQuery(const Collection& collection,
                                              const TextSearchRequest& request,
                                              const FeedbackOptions& options) {
  if (options.docs == 0 || options.terms == 0)
    return Status::InvalidArgument("feedback needs at least one document and one term (docs " +
                                   std::to_string(options.docs) + ", terms " +
                                   std::to_string(options.terms) + ")");
  if (!(options.original_weight >= 0 && options.original_weight <= 1))
    return Status::InvalidArgument("feedback original_weight " +
                                   std::to_string(options.original_weight) + " is outside 0..1");
  std::map<std::string, std::string> words;
  std::map<std::string, double> query_counts;
  CountTerms(request.query, 1, &query_counts, &words);
  double query_total = 0;
  for (const auto& [t, c] : query_counts)
    query_total += c;

  TextSearchRequest first = request;
  first.limit = options.docs;
  first.offset = 0;
  first.with_payload = true;
  first.with_vectors = false;
  MOSAIC_ASSIGN_OR_RETURN(auto top, collection.SearchText(first));

  std::vector<FieldSpec> fields;
  for (const std::string& f : request.fields)
    fields.push_back(ParseField(f));
  double score_total = 0;
  for (const ScoredPoint& p : top)
    score_total += p.score;
  // RM1: P(t | R) = sum over feedback documents of P(t | d) P(q | d), the query likelihood
  // taken as the document's share of the BM25 scores.
  std::map<std::string, double> relevance;
  for (const ScoredPoint& p : top) {
    if (!p.payload || score_total <= 0) continue;
    std::map<std::string, double> counts;
    for (const FieldSpec& f : fields) {
      std::vector<std::string> texts;
      CollectText(*p.payload, f.path, &texts);
      for (const std::string& t : texts)
        CountTerms(t, f.weight, &counts, &words);
    }
    double length = 0;
    for (const auto& [t, c] : counts)
      length += c;
    if (length <= 0) continue;
    for (const auto& [t, c] : counts)
      relevance[t] += (c / length) * (p.score / score_total);
  }
  std::vector<std::pair<std::string, double>> ranked(relevance.begin(), relevance.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > options.terms) ranked.resize(options.terms);
  double fb_total = 0;
  for (const auto& [t, w] : ranked)
    fb_total += w;

  // RM3: lambda x the query's terms + (1 - lambda) x the feedback terms.
  const double lambda = fb_total > 0 ? options.original_weight : 1.0;
  std::map<std::string, double> weight;
  for (const auto& [t, c] : query_counts)
    weight[t] += lambda * c / query_total;
  for (const auto& [t, w] : ranked)
    weight[t] += (1 - lambda) * w / fb_total;
  std::vector<WeightedTerm> out;
  for (const auto& [term, w] : weight) {
    const std::string& word = words[term];
    // A word must index as its term again (it does unless case folding splits it).
    const auto again = Tokenizer().Terms(word);
    if (again.size() != 1 || again[0] != term) continue;
    out.push_back({word, static_cast<float>(w)});
  }
  std::sort(out.begin(), out.end(), [](const WeightedTerm& a, const WeightedTerm& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.word < b.word;
  });
  return out;
}

Result<std::vector<ScoredPoint>> SearchTextWithFeedback(const Collection& collection,
                                                        const TextSearchRequest& request,
                                                        const FeedbackOptions& options) {
  MOSAIC_ASSIGN_OR_RETURN(auto terms, ExpandQuery(collection, request, options));
  std::map<PointId, double> scores;
  for (const WeightedTerm& t : terms) {
    TextSearchRequest one = request;
    one.query = t.word;
    one.limit = std::max(options.term_limit, request.offset + request.limit);
    one.offset = 0;
    one.with_payload = false;
    one.with_vectors = false;
    MOSAIC_ASSIGN_OR_RETURN(auto hits, collection.SearchText(one));
    for (const ScoredPoint& h : hits)
      scores[h.id] += double(t.weight) * h.score;
  }
  std::vector<std::pair<PointId, double>> ranked(scores.begin(), scores.end());
  // Best first; ties by id, as SearchText orders them.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<ScoredPoint> out;
  std::vector<PointId> ids;
  for (size_t i = request.offset; i < ranked.size() && out.size() < request.limit; ++i) {
    ScoredPoint sp;
    sp.id = ranked[i].first;
    sp.score = static_cast<float>(ranked[i].second);
    ids.push_back(sp.id);
    out.push_back(std::move(sp));
  }
  if (request.with_payload || request.with_vectors) {
    MOSAIC_ASSIGN_OR_RETURN(auto points,
                            collection.Get(ids, request.with_payload, request.with_vectors));
    std::map<PointId, Point*> by_id;
    for (Point& p : points)
      by_id[p.id] = &p;
    for (ScoredPoint& sp : out) {
      auto it = by_id.find(sp.id);
      if (it == by_id.end()) continue;
      if (request.with_payload) sp.payload = std::move(it->second->payload);
      if (request.with_vectors) sp.vectors = std::move(it->second->vectors);
    }
  }
  return out;
}

}  // namespace mosaic::query
