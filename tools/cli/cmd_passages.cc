// mosaic passages: literature search over ingested documents; the best passages per document
// with the matching sentence highlighted, the title, page and heading path.
#include <cstdio>

#include "cli.h"
#include "hit_format.h"
#include "query/passages.h"
#include "query_input.h"
#include "wire/apps_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic passages --collection NAME 'QUESTION OR CLAIM' [options]\n"
    "\n"
    "Options:\n"
    "  --documents N           documents shown (default 5)\n"
    "  --per-document N        passages per document (default 2)\n"
    "  --filter JSON           payload filter (docs/filters.md)\n"
    "  --json, --models DIR\n";

}  // namespace

int RunPassages(Args& args) {
  if (auto rc = CheckFlags(
          args, {"collection", "documents", "per-document", "filter", "json", "models"}, kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("passages: missing --collection", kHelp);
  query::PassageRequest r;
  while (auto word = args.Next())
    r.query += (r.query.empty() ? "" : " ") + *word;
  if (r.query.empty()) return Usage("passages: missing the question or claim", kHelp);
  auto docs = args.GetInt("documents", 5);
  auto per = args.GetInt("per-document", 2);
  if (!docs.ok()) return Usage(docs.status().message(), kHelp);
  if (!per.ok()) return Usage(per.status().message(), kHelp);
  if (*docs < 1 || *per < 1) return Usage("--documents and --per-document must be >= 1", kHelp);
  r.documents = static_cast<size_t>(*docs);
  r.per_document = static_cast<size_t>(*per);
  auto filter = FilterFlag(args);
  if (!filter.ok()) return Fail(filter.status());
  r.filter = std::move(filter).value();
  auto target = OpenQueryTarget(args, *name);
  if (!target.ok()) return Fail(target.status());
  auto found = query::FindPassages(target->collection(), target->encoder.get(), r);
  if (!found.ok()) return Fail(found.status());
  if (args.Has("json")) {
    PrintJsonArray(*found, wire::DocumentPassagesToJson);
    return kExitOk;
  }
  if (found->empty()) std::printf("no passage matches\n");
  for (size_t i = 0; i < found->size(); ++i) {
    const query::DocumentPassages& d = (*found)[i];
    std::printf("%zu. %s  (%s)\n", i + 1, d.title.empty() ? "(untitled)" : d.title.c_str(),
                d.path.c_str());
    for (const query::Passage& p : d.passages) {
      std::string where = p.headings;
      if (p.page.is_number()) where += (where.empty() ? "page " : ", page ") + p.page.dump();
      std::printf("   %.4f  %s\n", p.score, where.empty() ? "-" : where.c_str());
      const std::string s = HighlightedSentence(p.sentence);
      std::printf("      %s\n", s.empty() ? p.text.substr(0, 160).c_str() : s.c_str());
    }
  }
  return kExitOk;
}

}  // namespace mosaic::cli
