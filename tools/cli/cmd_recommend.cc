// mosaic recommend: points like the positive examples and unlike the negative ones, or for a
// history of interactions (a profile weighted by recency), leaving out what was seen.
#include <cstdio>

#include "cli.h"
#include "hit_format.h"
#include "mosaic/env.h"
#include "query/recommend.h"
#include "query_input.h"
#include "wire/query_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic recommend --collection NAME [--positive EX]... [--negative EX]...\n"
    "                        [--history FILE] [options]\n"
    "\n"
    "Examples (EX): a point id, an image/video/audio file, or text:WORDS (with a text model).\n"
    "  --positive EX           more like this (repeatable)\n"
    "  --negative EX           less like this (repeatable)\n"
    "  --history FILE          a user's interactions, JSON lines {\"id\": ID, \"time\": unix-s or\n"
    "                          \"2026-05-01\", \"weight\": w} (negative w: a dislike) or bare "
    "ids;\n"
    "                          recommends for their profile, never an id already seen\n"
    "  --half-life DAYS        an interaction this much older than the newest counts half (default "
    "14;\n"
    "                          0: no decay)\n"
    "  --show-seen             allow history ids in the results\n"
    "\n"
    "Options:\n"
    "  --strategy average_vector|best_score   (default average_vector; Qdrant's definitions)\n"
    "  --using NAME            the vector space (default: the first one the examples have)\n"
    "  --kind K1,K2            only points of these kinds (e.g. shot: photos recommend video "
    "shots)\n"
    "  --filter JSON           payload filter (docs/filters.md)\n"
    "  --limit N --offset N    the page (default 10, 0)\n"
    "  --explain, --json, --models DIR\n";

}  // namespace

int RunRecommend(Args& args) {
  if (auto rc = CheckFlags(
          args,
          {"collection", "positive", "negative", "history", "half-life", "show-seen", "strategy",
           "using", "kind", "filter", "limit", "offset", "explain", "json", "models"},
          kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("recommend: missing --collection", kHelp);
  query::RecommendRequest r;
  for (const char* flag : {"positive", "negative"})
    for (const std::string& word : args.GetAll(flag)) {
      auto in = ExampleInput(word);
      if (!in.ok()) return Fail(in.status());
      (std::string(flag) == "positive" ? r.positive : r.negative).push_back(std::move(*in));
    }
  if (auto file = args.Get("history")) {
    auto text = Env::Default()->ReadFile(*file);
    if (!text.ok()) return Fail(text.status());
    auto history = query::ParseHistory(*text);
    if (!history.ok()) return Fail(history.status().WithContext(*file));
    if (history->empty())
      return Fail(Status::InvalidArgument("--history " + *file + " has no interactions"));
    r.history = std::move(history).value();
  }
  if (r.positive.empty() && r.history.empty())
    return Usage("recommend: give --positive examples or a --history", kHelp);
  if (auto h = args.Get("half-life")) {
    char* end = nullptr;
    const double days = std::strtod(h->c_str(), &end);
    if (h->empty() || *end || !(days >= 0))
      return Usage("--half-life expects a number of days >= 0, got '" + *h + "'", kHelp);
    r.half_life_s = days * 86400;
  }
  r.exclude_seen = !args.Has("show-seen");
  if (auto s = args.Get("strategy")) {
    if (*s == "best_score") {
      r.strategy = query::RecommendStrategy::kBestScore;
    } else if (*s != "average_vector") {
      return Usage("--strategy expects average_vector or best_score, got '" + *s + "'", kHelp);
    }
  }
  r.using_vector = args.GetOr("using", "");
  Json must = Json::array();
  auto filter = FilterFlag(args);
  if (!filter.ok()) return Fail(filter.status());
  if (*filter) must.push_back((*filter)->json());
  if (auto kinds = args.GetList("kind"); !kinds.empty())
    must.push_back({{"key", "kind"}, {"match", {{"any", kinds}}}});
  if (!must.empty()) {
    auto all = Filter::FromJson({{"must", must}});
    if (!all.ok()) return Fail(all.status());
    r.filter = std::move(all).value();
  }
  auto limit = args.GetInt("limit", 10);
  auto offset = args.GetInt("offset", 0);
  if (!limit.ok()) return Usage(limit.status().message(), kHelp);
  if (!offset.ok()) return Usage(offset.status().message(), kHelp);
  if (*limit < 1 || *offset < 0) return Usage("--limit must be >= 1 and --offset >= 0", kHelp);
  r.limit = static_cast<size_t>(*limit);
  r.offset = static_cast<size_t>(*offset);
  r.explain = args.Has("explain");

  auto target = OpenQueryTarget(args, *name);
  if (!target.ok()) return Fail(target.status());
  auto resp = query::Recommend(target->collection(), target->encoder.get(), r);
  if (!resp.ok()) return Fail(resp.status());
  if (args.Has("json")) {
    std::printf("%s\n", wire::QueryResponseToJson(*resp).dump(2).c_str());
    return kExitOk;
  }
  const Json& info = resp->explain["recommend"];
  std::printf("recommended by vector '%s' (%s", info.value("using", "").c_str(),
              info.value("strategy", "").c_str());
  if (info.contains("history")) {
    const Json& h = info["history"];
    std::printf(", profile of %zu interactions",
                h.value("interactions", size_t{0}) - h["skipped"].size());
    if (!h["skipped"].empty())
      std::printf(", %zu skipped: gone or without the vector", h["skipped"].size());
  }
  std::printf(")\n");
  PrintHits(*resp, r.offset + 1, r.explain, stdout);
  return kExitOk;
}

}  // namespace mosaic::cli
