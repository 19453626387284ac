// mosaic repair [DB] COLLECTION: salvages a collection that fails to open (Db::RepairCollection).
#include <cstdio>

#include "cli.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic repair [DB] COLLECTION\n"
    "\n"
    "Salvages a collection that fails to open (a damaged write-ahead log, segment or CURRENT\n"
    "file): its files are first copied as they are into <collection>/.damaged-<time>/, then what\n"
    "can be read is kept (the segment if it checks, the log's records before the first damaged\n"
    "one) and written as a new generation. Prints what was kept and what was lost. DB defaults to\n"
    "--db, $MOSAIC_DB or ./mosaic-data. The database must not be open elsewhere.\n";

}  // namespace

int RunRepair(Args& args) {
  if (auto rc = CheckFlags(args, {}, kHelp)) return *rc;
  auto first = args.Next();
  auto second = args.Next();
  if (!first) return Usage("repair: missing COLLECTION", kHelp);
  if (args.Next()) return Usage("repair: too many arguments", kHelp);
  const std::string path = second ? *first : DbPath(args);
  const std::string name = second ? *second : *first;
  DbOptions options;
  options.create_if_missing = false;
  auto db = Db::Open(path, options);
  if (!db.ok()) return Fail(db.status());
  auto report = (*db)->RepairCollection(name);
  if (!report.ok()) return Fail(report.status());
  std::printf("repaired collection '%s': %llu points\n", name.c_str(),
              static_cast<unsigned long long>(report->points));
  for (const auto& note : report->notes) std::printf("  %s\n", note.c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
