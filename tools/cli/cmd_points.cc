// mosaic get | delete | scroll | count
#include <cstdio>

#include "cli.h"
#include "wire/point_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage:\n"
    "  mosaic get --collection NAME ID... [--with-vectors]\n"
    "  mosaic delete --collection NAME (ID... | --filter JSON)\n"
    "  mosaic scroll --collection NAME [--limit N] [--offset ID] [--filter JSON] [--with-vectors]\n"
    "  mosaic count --collection NAME [--filter JSON]\n"
    "\n"
    "IDs made only of digits are integers; anything else is a string id.\n"
    "Output is JSON; scroll prints {\"points\": [...], \"next_offset\": ID or null}.\n";

}  // namespace

int RunPoints(const std::string& verb, Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "filter", "limit", "offset", "with-vectors"}, kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage(verb + ": missing --collection", kHelp);
  std::vector<PointId> ids;
  while (auto a = args.Next()) ids.push_back(wire::PointIdFromText(*a));
  std::optional<Filter> filter;
  if (auto f = args.Get("filter")) {
    auto parsed = Filter::Parse(*f);
    if (!parsed.ok()) return Fail(parsed.status());
    filter = std::move(parsed).value();
  }
  if ((verb == "get") && ids.empty()) return Usage("get: give at least one ID", kHelp);
  if (verb == "delete" && ids.empty() == !filter)
    return Usage("delete: give IDs or --filter (not both)", kHelp);

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());

  if (verb == "get") {
    auto pts = (*c)->Get(ids, true, args.Has("with-vectors"));
    if (!pts.ok()) return Fail(pts.status());
    Json out = Json::array();
    for (const auto& p : *pts) out.push_back(wire::PointToJson(p));
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  if (verb == "delete") {
    auto n = filter ? (*c)->DeleteByFilter(*filter) : (*c)->Delete(ids);
    if (!n.ok()) return Fail(n.status());
    std::printf("deleted %llu points\n", static_cast<unsigned long long>(*n));
    return kExitOk;
  }
  if (verb == "count") {
    auto n = (*c)->Count(filter ? &*filter : nullptr);
    if (!n.ok()) return Fail(n.status());
    std::printf("%llu\n", static_cast<unsigned long long>(*n));
    return kExitOk;
  }
  ScrollRequest r;
  auto limit = args.GetInt("limit", 10);
  if (!limit.ok() || *limit < 1) return Usage("--limit must be a positive integer", kHelp);
  r.limit = static_cast<size_t>(*limit);
  if (auto off = args.Get("offset")) r.offset = wire::PointIdFromText(*off);
  r.filter = filter;
  r.with_vectors = args.Has("with-vectors");
  auto page = (*c)->Scroll(r);
  if (!page.ok()) return Fail(page.status());
  Json out = {{"points", Json::array()},
              {"next_offset", page->next_offset ? page->next_offset->ToJson() : Json(nullptr)}};
  for (const auto& p : page->points) out["points"].push_back(wire::PointToJson(p));
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
