// mosaic ask: the best answers to a question, from imported question-answer pairs (with the
// question each answers) or from ingested documents (the passage, its answering sentence
// highlighted).
#include <cstdio>

#include "cli.h"
#include "hit_format.h"
#include "query/qa.h"
#include "query_input.h"
#include "wire/apps_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic ask --collection NAME 'QUESTION' [options]\n"
    "\n"
    "Answers from the collection's question-answer pairs (mosaic qa import), else from its\n"
    "document passages.\n"
    "\n"
    "Options:\n"
    "  --limit N               answers (default 3)\n"
    "  --filter JSON           payload filter (docs/filters.md)\n"
    "  --json, --models DIR\n";

}  // namespace

int RunAsk(Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "limit", "filter", "json", "models"}, kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("ask: missing --collection", kHelp);
  query::AskRequest r;
  while (auto word = args.Next())
    r.question += (r.question.empty() ? "" : " ") + *word;
  if (r.question.empty()) return Usage("ask: missing the question", kHelp);
  auto limit = args.GetInt("limit", 3);
  if (!limit.ok()) return Usage(limit.status().message(), kHelp);
  if (*limit < 1) return Usage("--limit must be >= 1", kHelp);
  r.limit = static_cast<size_t>(*limit);
  auto filter = FilterFlag(args);
  if (!filter.ok()) return Fail(filter.status());
  r.filter = std::move(filter).value();
  auto target = OpenQueryTarget(args, *name);
  if (!target.ok()) return Fail(target.status());
  auto answers = query::Ask(target->collection(), target->encoder.get(), r);
  if (!answers.ok()) return Fail(answers.status());
  if (args.Has("json")) {
    PrintJsonArray(*answers, wire::AnswerToJson);
    return kExitOk;
  }
  if (answers->empty()) std::printf("no answer found\n");
  for (size_t i = 0; i < answers->size(); ++i) {
    const query::Answer& a = (*answers)[i];
    if (a.source == "qa") {
      std::printf("%zu. %s\n   (answers: %s)  score %.4f\n", i + 1, a.answer.c_str(),
                  a.question.c_str(), a.score);
    } else {
      const std::string s = HighlightedSentence(a.sentence);
      std::string where = a.title;
      if (a.page.is_number()) where += ", page " + a.page.dump();
      std::printf("%zu. %s\n   (from %s)  score %.4f\n", i + 1,
                  s.empty() ? a.answer.substr(0, 200).c_str() : s.c_str(), where.c_str(), a.score);
    }
  }
  return kExitOk;
}

}  // namespace mosaic::cli
