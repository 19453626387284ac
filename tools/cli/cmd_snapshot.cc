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
    "A snapshot is one checksummed file (docs/segment_format.md); restore verifies it first.\n";
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
