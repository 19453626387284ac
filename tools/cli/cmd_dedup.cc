// mosaic dedup: groups of near-duplicate points (resized, re-encoded, cropped, mirrored copies of
// an image) over one named vector, the best copy first (query/dedup.h, docs/dedup.md).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "query/dedup.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic dedup --collection NAME [--using VECTOR] [--threshold X] [--filter JSON]\n"
    "                    [--linkage complete|single] [--neighbours N] [--exact] [--json]\n"
    "\n"
    "Groups points whose vectors are near-duplicates (cosine similarity >= X), the best copy "
    "first\n"
    "(most pixels, then the largest file), each copy with its similarity to the best one.\n"
    "\n"
    "  --using VECTOR      a cosine vector of the collection (default visual)\n"
    "  --threshold X       similarity in (0, 1] (default 0.9, chosen for the visual descriptor on\n"
    "                      sample photos with generated copies; other vectors need their own)\n"
    "  --filter JSON       only points matching the filter (docs/filters.md), e.g. images only:\n"
    "                      '{\"must\": [{\"key\": \"kind\", \"match\": {\"value\": \"image\"}}]}'\n"
    "  --linkage L         complete (default: every pair in a group is above the threshold) or\n"
    "                      single (any chain of near-duplicates joins a group)\n"
    "  --neighbours N      neighbours searched per point (default 32)\n"
    "  --exact             exact search even over a large HNSW-indexed collection\n"
    "  --json              print the groups as JSON\n";

std::string Size(const query::DuplicateCopy& c) {
  if (c.width <= 0 || c.height <= 0) return "-";
  return std::to_string(c.width) + "x" + std::to_string(c.height);
}

Json ToJson(const query::DedupResult& r, const query::DedupOptions& o) {
  Json groups = Json::array();
  for (const auto& g : r.groups) {
    Json copies = Json::array();
    for (const auto& c : g.copies)
      copies.push_back({{"id", c.id.ToJson()},
                        {"path", c.path},
                        {"width", c.width},
                        {"height", c.height},
                        {"bytes", c.bytes},
                        {"similarity", std::round(c.similarity * 1e4) / 1e4}});
    groups.push_back(
        {{"min_similarity", std::round(g.min_similarity * 1e4) / 1e4}, {"copies", copies}});
  }
  return {{"vector", o.vector},
          {"threshold", o.threshold},
          {"linkage", query::DedupLinkageName(o.linkage)},
          {"points", r.points},
          {"pairs", r.pairs},
          {"groups", groups}};
}

}  // namespace

int RunDedup(Args& args) {
  if (auto rc = CheckFlags(args,
                           {"collection", "using", "threshold", "filter", "linkage", "neighbours",
                            "exact", "json", "db"},
                           kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("dedup: missing --collection", kHelp);
  if (auto extra = args.Next()) return Usage("dedup: unexpected argument '" + *extra + "'", kHelp);
  query::DedupOptions o;
  o.vector = args.GetOr("using", "visual");
  o.exact = args.Has("exact");
  if (auto t = args.Get("threshold")) {
    char* end = nullptr;
    const double v = std::strtod(t->c_str(), &end);
    if (t->empty() || *end != '\0')
      return Usage("--threshold expects a number, got '" + *t + "'", kHelp);
    if (!(v > 0 && v <= 1))
      return Usage("--threshold " + *t + " is out of range: a cosine similarity in (0, 1]", kHelp);
    o.threshold = static_cast<float>(v);
  }
  if (auto l = args.Get("linkage")) {
    auto parsed = query::ParseDedupLinkage(*l);
    if (!parsed.ok()) return Usage(parsed.status().message(), kHelp);
    o.linkage = *parsed;
  }
  auto k = args.GetInt("neighbours", static_cast<long long>(o.max_neighbours));
  if (!k.ok()) return Usage(k.status().message(), kHelp);
  if (*k < 1 || *k > 10000)
    return Usage("--neighbours must be between 1 and 10000, got " + std::to_string(*k), kHelp);
  o.max_neighbours = static_cast<size_t>(*k);
  if (auto f = args.Get("filter")) {
    auto parsed = Filter::Parse(*f);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("--filter"));
    o.filter = std::move(parsed).value();
  }

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  auto r = query::FindDuplicates(**c, o);
  if (!r.ok()) return Fail(r.status());

  if (args.Has("json")) {
    std::printf("%s\n", ToJson(*r, o).dump(2).c_str());
    return kExitOk;
  }
  std::printf(
      "%zu group%s of near-duplicates among %zu points (vector %s, threshold %.3f, %s "
      "linkage)\n",
      r->groups.size(), r->groups.size() == 1 ? "" : "s", r->points, o.vector.c_str(), o.threshold,
      query::DedupLinkageName(o.linkage));
  for (size_t i = 0; i < r->groups.size(); ++i) {
    const auto& g = r->groups[i];
    std::printf("\ngroup %zu: %zu copies (least similar pair %.3f)\n", i + 1, g.copies.size(),
                g.min_similarity);
    for (size_t j = 0; j < g.copies.size(); ++j) {
      const auto& cp = g.copies[j];
      std::printf("  %-4s %.3f  %11s  %10s  %s\n", j == 0 ? "best" : "", cp.similarity,
                  Size(cp).c_str(), cp.bytes ? HumanBytes(cp.bytes).c_str() : "-",
                  cp.path.empty() ? cp.id.ToString().c_str() : cp.path.c_str());
    }
  }
  return kExitOk;
}

}  // namespace mosaic::cli
