// The `mosaic` command: a thin front end over the library, one file per subcommand.
#include <cstdio>
#include <string>

#include "cli.h"

namespace {

constexpr char kHelp[] =
    "usage: mosaic [--db DIR] COMMAND [ARGS]\n"
    "\n"
    "Mosaic: a multimodal retrieval engine with an embedded vector database.\n"
    "The database directory is --db, else $MOSAIC_DB, else ./mosaic-data.\n"
    "\n"
    "commands:\n"
    "  collection create|list|info|drop|index   manage collections and payload indexes\n"
    "  upsert      insert or replace points from JSONL, fvecs/ivecs/bvecs or IDX files\n"
    "  search      multimodal search: texts, images, clips, ids, vectors; fused, explained, shaped\n"
    "  get         points by id\n"
    "  delete      points by id or by filter\n"
    "  scroll      page through all points in id order\n"
    "  count       number of points (matching a filter)\n"
    "  snapshot create|restore   a consistent copy of a collection in one file\n"
    "  eval recall   recall@k of search against exact ground truth computed here\n"
    "  models list|info|add|pull|remove|verify   installed models and the catalog\n"
    "  embed image|text   run a model on images or texts: vectors or OCR lines as JSON\n"
    "  ingest      folders of images, video, documents and audio into a collection\n"
    "  recommend   points like some examples and unlike others, or for a history of interactions\n"
    "  classify    label points from labelled neighbours (kNN) or text labels (zero-shot)\n"
    "  cluster     k-means over a named vector; writes each point's cluster, centroids searchable\n"
    "  dedup       groups of near-duplicate images, the best copy first\n"
    "  people      faces grouped into persons: list, name, merge, split\n"
    "  passages    literature search: the best passages per document, the sentence highlighted\n"
    "  qa import   question-answer pairs from JSON lines into a collection\n"
    "  ask         the best answers to a question (from QA pairs or document passages)\n"
    "  serve       the HTTP server: REST API, Qdrant-compatible API, web UI\n"
    "  repair      salvage a damaged collection (its files are copied aside first)\n"
    "\n"
    "Run 'mosaic COMMAND --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace mosaic::cli;
  Args args(argc - 1, argv + 1,
            {"json", "with-vectors", "no-payload", "flush", "exact", "help", "replace", "pretty", "sync",
             "force", "hidden", "quiet", "explain", "autocut", "mmr", "literal"});
  auto cmd = args.Next();
  if (!cmd) {
    if (args.help()) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    return Usage("missing command", kHelp);
  }
  if (*cmd == "help") {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (*cmd == "collection") return RunCollection(args);
  if (*cmd == "upsert") return RunUpsert(args);
  if (*cmd == "search") return RunSearch(args);
  if (*cmd == "snapshot") return RunSnapshot(args);
  if (*cmd == "get" || *cmd == "delete" || *cmd == "scroll" || *cmd == "count")
    return RunPoints(*cmd, args);
  if (*cmd == "eval") return RunEval(args);
  if (*cmd == "models") return RunModels(args);
  if (*cmd == "embed") return RunEmbed(args);
  if (*cmd == "ingest") return RunIngest(args);
  if (*cmd == "recommend") return RunRecommend(args);
  if (*cmd == "classify") return RunClassify(args);
  if (*cmd == "cluster") return RunCluster(args);
  if (*cmd == "dedup") return RunDedup(args);
  if (*cmd == "people") return RunPeople(args);
  if (*cmd == "qa") return RunQa(args);
  if (*cmd == "ask") return RunAsk(args);
  if (*cmd == "passages") return RunPassages(args);
  if (*cmd == "serve") return RunServe(args);
  if (*cmd == "repair") return RunRepair(args);
  return Usage("unknown command '" + *cmd + "'", kHelp);
}
