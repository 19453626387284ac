// mosaic snapshot create|restore
#include <cstdio>

#include "cli.h"

namespace mosaic::cli {
namespace {
constexpr char kHelp[] =
    "usage:\n"
    "  mosaic snapshot create COLLECTION FILE   write a consistent copy of COLLECTION to FILE\n"
    "  mosaic snapshot restore FILE NAME        create collection NAME from FILE\n"
    "\n"
    "A snapshot is a tar archive of the collection's files with a checksummed list of them\n"
    "(docs/snapshot_format.md); restore checks each file as it copies it and rebuilds nothing.\n";
}  // namespace

int RunSnapshot(Args& args) {
  if (auto rc = CheckFlags(args, {}, kHelp)) return *rc;
  auto verb = args.Next();
  auto a = args.Next();
  auto b = args.Next();
  if (!verb || (*verb != "create" && *verb != "restore"))
    return Usage("snapshot: expected 'create' or 'restore'", kHelp);
  if (!a || !b) return Usage("snapshot " + *verb + ": missing arguments", kHelp);
  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  if (*verb == "create") {
    Status s = (*db)->CreateSnapshot(*a, *b);
    if (!s.ok()) return Fail(s);
    std::printf("snapshot of '%s' written to %s\n", a->c_str(), b->c_str());
    return kExitOk;
  }
  auto c = (*db)->RestoreSnapshot(*a, *b);
  if (!c.ok()) return Fail(c.status());
  std::printf("restored '%s' from %s: %llu points\n", b->c_str(), a->c_str(),
              static_cast<unsigned long long>((*c)->Info().points));
  return kExitOk;
}

}  // namespace mosaic::cli
