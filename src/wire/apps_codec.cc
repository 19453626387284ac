#include "wire/apps_codec.h"

#include "wire/json_reader.h"

namespace mosaic::wire {
namespace {

Result<std::vector<query::Input>> Inputs(const Json& j, const std::string& at,
                                         const QueryCodecOptions& o) {
  if (!j.is_array()) return Status::InvalidArgument(at + ": expected an array, got " + Shown(j));
  std::vector<query::Input> out;
  for (size_t i = 0; i < j.size(); ++i) {
    MOSAIC_ASSIGN_OR_RETURN(query::Input in,
                            InputFromJson(j[i], at + "[" + std::to_string(i) + "]", o));
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace

Result<query::RecommendRequest> RecommendRequestFromJson(const Json& j,
                                                         const QueryCodecOptions& o) {
  JsonReader r(j, "");
  MOSAIC_RETURN_IF_ERROR(
      r.Expect({"positive", "negative", "strategy", "history", "half_life", "exclude_seen", "using",
                "filter", "limit", "offset", "explain"}));
  query::RecommendRequest q;
  if (r.Has("positive")) {
    MOSAIC_ASSIGN_OR_RETURN(q.positive, Inputs(j["positive"], "positive", o));
  }
  if (r.Has("negative")) {
    MOSAIC_ASSIGN_OR_RETURN(q.negative, Inputs(j["negative"], "negative", o));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto strategy, r.String("strategy"));
  if (strategy && *strategy == "best_score") {
    q.strategy = query::RecommendStrategy::kBestScore;
  } else if (strategy && *strategy != "average_vector") {
    return Status::InvalidArgument(
        "strategy: expected \"average_vector\" or \"best_score\", got \"" + *strategy + "\"");
  }
  if (r.Has("history")) {
    const Json& h = j["history"];
    if (!h.is_array())
      return Status::InvalidArgument("history: expected an array, got " + Shown(h));
    std::string lines;  // the same grammar as a history file, one line per element
    for (const Json& e : h)
      lines += e.dump() + "\n";
    auto parsed = query::ParseHistory(lines);
    if (!parsed.ok()) return Status::InvalidArgument("history: " + parsed.status().message());
    q.history = std::move(parsed).value();
  }
  MOSAIC_ASSIGN_OR_RETURN(auto half_life, r.Number("half_life"));
  if (half_life) {
    if (!(*half_life >= 0))
      return Status::InvalidArgument("half_life: expected seconds >= 0, got " +
                                     Shown(j["half_life"]));
    q.half_life_s = *half_life;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto exclude, r.Bool("exclude_seen"));
  if (exclude) q.exclude_seen = *exclude;
  MOSAIC_ASSIGN_OR_RETURN(auto using_vector, r.String("using"));
  if (using_vector) q.using_vector = *using_vector;
  if (r.Has("filter")) {
    auto f = Filter::FromJson(j["filter"]);
    if (!f.ok()) return Status::InvalidArgument("filter: " + f.status().message());
    q.filter = std::move(f).value();
  }
  MOSAIC_ASSIGN_OR_RETURN(auto limit, r.Size("limit", 10000));
  if (limit) {
    if (*limit == 0) return Status::InvalidArgument("limit: expected at least 1, got 0");
    q.limit = *limit;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto offset, r.Size("offset", 1000000));
  if (offset) q.offset = *offset;
  MOSAIC_ASSIGN_OR_RETURN(auto explain, r.Bool("explain"));
  if (explain) q.explain = *explain;
  return q;
}

Json PredictionToJson(const query::Prediction& p) {
  Json scores = Json::array();
  for (const auto& [label, score] : p.scores)
    scores.push_back({{"label", label}, {"score", score}});
  return {{"id", p.id.ToJson()},
          {"label", p.label},
          {"confidence", p.confidence},
          {"scores", std::move(scores)}};
}

Json DocumentPassagesToJson(const query::DocumentPassages& d) {
  Json passages = Json::array();
  for (const query::Passage& p : d.passages)
    passages.push_back({{"id", p.id.ToJson()},
                        {"score", p.score},
                        {"text", p.text},
                        {"sentence", p.sentence},
                        {"page", p.page},
                        {"headings", p.headings}});
  return {{"document", d.document},
          {"title", d.title},
          {"path", d.path},
          {"passages", std::move(passages)}};
}

Json AnswerToJson(const query::Answer& a) {
  Json j = {{"id", a.id.ToJson()}, {"score", a.score}, {"source", a.source}, {"answer", a.answer}};
  if (a.source == "qa") {
    j["question"] = a.question;
  } else {
    j["sentence"] = a.sentence;
    j["title"] = a.title;
    j["page"] = a.page;
  }
  Json signals = Json::array();
  for (const query::SignalMatch& s : a.signals)
    if (s.rank > 0) signals.push_back({{"signal", s.signal}, {"rank", s.rank}, {"score", s.score}});
  if (!signals.empty()) j["signals"] = std::move(signals);
  return j;
}

}  // namespace mosaic::wire
