// mosaic cluster: k-means over one named vector of a collection (or of the points matching a
// filter), k given or chosen by a sweep; optionally writes each point's cluster id into a payload
// field, and stores the centroids as the searchable collection `<name>-clusters`
// (docs/clustering.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli.h"
#include "query/cluster.h"
#include "wire/apps_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic cluster --collection NAME --using VECTOR (--k N | --sweep FROM..TO) [options]\n"
    "\n"
    "k-means (k-means++ seeds, Lloyd steps on every core) over one named vector. Prints the\n"
    "cluster sizes and each cluster's members nearest its centroid; the centroids become the\n"
    "points of the collection NAME-clusters (replaced on each run), searchable with --using "
    "VECTOR.\n"
    "\n"
    "Options:\n"
    "  --k N                   the number of clusters\n"
    "  --sweep FROM..TO        try every k in the range and pick one (e.g. 2..40)\n"
    "  --by silhouette|elbow   how the sweep picks k (default silhouette)\n"
    "  --filter JSON           cluster only the points that match (docs/filters.md)\n"
    "  --write FIELD           write each point's cluster id into this payload field\n"
    "  --centroids yes|no      write NAME-clusters (default yes)\n"
    "  --seed S                seeding is deterministic for a seed (default 1)\n"
    "  --iterations N          at most N Lloyd steps (default 25)\n"
    "  --tolerance X           stop when a step improves the inertia by less than X of it "
    "(default 1e-4)\n"
    "  --threads N             default: every core\n"
    "  --show N                members listed per cluster (default 3)\n"
    "  --json                  print JSON\n";

// "2..40" or "2-40".
bool ParseRange(const std::string& s, size_t* from, size_t* to) {
  size_t sep = s.find("..");
  size_t skip = 2;
  if (sep == std::string::npos) {
    sep = s.find('-');
    skip = 1;
  }
  if (sep == std::string::npos || sep == 0 || sep + skip >= s.size()) return false;
  const std::string a = s.substr(0, sep), b = s.substr(sep + skip);
  auto digits = [](const std::string& t) {
    return !t.empty() && t.size() < 10 &&
           std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (!digits(a) || !digits(b)) return false;
  *from = std::stoul(a);
  *to = std::stoul(b);
  return true;
}

// A short label for a point: its title, else its file name, else nothing.
std::string Label(const Json& payload) {
  for (const char* key : {"title", "name", "path"}) {
    if (payload.is_object() && payload.contains(key) && payload[key].is_string())
      return payload[key].get<std::string>();
  }
  if (payload.is_object() && payload.contains("file") && payload["file"].is_object() &&
      payload["file"].contains("path") && payload["file"]["path"].is_string())
    return payload["file"]["path"].get<std::string>();
  return "";
}

}  // namespace

int RunCluster(Args& args) {
  if (auto rc =
          CheckFlags(args,
                     {"collection", "using", "k", "sweep", "by", "filter", "write", "centroids",
                      "seed", "iterations", "tolerance", "threads", "show", "json"},
                     kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("cluster: missing --collection", kHelp);
  if (args.Next()) return Usage("cluster: unexpected argument", kHelp);
  query::ClusterOptions o;
  o.using_vector = args.GetOr("using", "");
  if (args.Has("k") == args.Has("sweep"))
    return Usage("cluster: give --k N or --sweep FROM..TO", kHelp);
  if (args.Has("k")) {
    auto k = args.GetInt("k", 0);
    if (!k.ok()) return Usage(k.status().message(), kHelp);
    if (*k < 1) return Usage("cluster: --k must be at least 1, got " + std::to_string(*k), kHelp);
    o.kmeans.k = static_cast<size_t>(*k);
  } else {
    const std::string range = *args.Get("sweep");
    if (!ParseRange(range, &o.sweep_from, &o.sweep_to) || o.sweep_from < 2 ||
        o.sweep_from > o.sweep_to)
      return Usage("cluster: --sweep wants FROM..TO with 2 <= FROM <= TO, got '" + range + "'",
                   kHelp);
    const std::string by = args.GetOr("by", "silhouette");
    if (by == "silhouette") {
      o.sweep_by = query::SweepCriterion::kSilhouette;
    } else if (by == "elbow") {
      o.sweep_by = query::SweepCriterion::kElbow;
    } else {
      return Usage("cluster: --by is silhouette or elbow, got '" + by + "'", kHelp);
    }
  }
  if (args.Has("by") && !args.Has("sweep")) return Usage("cluster: --by needs --sweep", kHelp);
  if (auto f = args.Get("filter")) {
    auto parsed = Filter::Parse(*f);
    if (!parsed.ok()) return Fail(parsed.status());
    o.filter = std::move(parsed).value();
  }
  o.write_field = args.GetOr("write", "");
  if (args.Has("write") && o.write_field.empty())
    return Usage("cluster: --write needs a field name", kHelp);
  const std::string centroids = args.GetOr("centroids", "yes");
  if (centroids != "yes" && centroids != "no")
    return Usage("cluster: --centroids is yes or no, got '" + centroids + "'", kHelp);
  o.write_centroids = centroids == "yes";
  auto seed = args.GetInt("seed", 1);
  auto iterations = args.GetInt("iterations", 25);
  auto threads = args.GetInt("threads", 0);
  auto show = args.GetInt("show", 3);
  for (const auto* v : {&seed, &iterations, &threads, &show})
    if (!v->ok()) return Usage(v->status().message(), kHelp);
  if (*seed < 0 || *iterations < 1 || *threads < 0 || *show < 0)
    return Usage(
        "cluster: --seed, --threads and --show must not be negative, --iterations "
        "at least 1",
        kHelp);
  o.kmeans.seed = static_cast<uint64_t>(*seed);
  o.kmeans.max_iterations = static_cast<size_t>(*iterations);
  o.kmeans.threads = static_cast<int>(*threads);
  if (auto t = args.Get("tolerance")) {
    char* end = nullptr;
    o.kmeans.tolerance = std::strtod(t->c_str(), &end);
    if (end == t->c_str() || *end != '\0' || o.kmeans.tolerance < 0)
      return Usage("cluster: --tolerance must be a number >= 0, got '" + *t + "'", kHelp);
  }

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto result = query::ClusterCollection(**db, *name, o);
  if (!result.ok()) return Fail(result.status());
  const query::ClusterResult& r = *result;
  const query::KMeansResult& km = r.kmeans;

  // Per cluster, the members nearest its centroid (ties by scroll order).
  const size_t per = static_cast<size_t>(*show);
  std::vector<std::vector<PointId>> members(km.k);
  if (per > 0) {
    std::vector<std::vector<std::pair<float, size_t>>> best(km.k);
    for (size_t i = 0; i < r.ids.size(); ++i)
      best[km.labels[i]].emplace_back(km.distances[i], i);
    for (size_t j = 0; j < km.k; ++j) {
      const size_t take = std::min(per, best[j].size());
      std::partial_sort(best[j].begin(), best[j].begin() + take, best[j].end());
      for (size_t t = 0; t < take; ++t)
        members[j].push_back(r.ids[best[j][t].second]);
    }
  }
  std::vector<PointId> shown;
  for (const auto& m : members)
    shown.insert(shown.end(), m.begin(), m.end());
  std::map<PointId, std::string> labels;
  if (!shown.empty()) {
    auto c = (*db)->GetCollection(*name);
    if (!c.ok()) return Fail(c.status());
    auto pts = (*c)->Get(shown, true, false);
    if (!pts.ok()) return Fail(pts.status());
    for (const auto& p : *pts)
      labels[p.id] = Label(p.payload);
  }

  if (args.Has("json")) {
    // The codec's summary (and sweep); the CLI lists the shown members with their titles.
    Json out = wire::ClusterResultToJson(r, o, 0);
    out["clusters"] = Json::array();
    for (size_t j = 0; j < km.k; ++j) {
      Json m = Json::array();
      for (const auto& id : members[j])
        m.push_back({{"id", id.ToJson()}, {"title", labels[id]}});
      out["clusters"].push_back({{"cluster", j}, {"size", km.sizes[j]}, {"members", m}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }

  if (r.sweep) {
    std::printf("%4s  %14s  %10s\n", "k", "inertia", "silhouette");
    for (const auto& p : r.sweep->curve)
      std::printf("%4zu  %14.6g  %10.4f%s\n", p.k, p.inertia, p.silhouette,
                  p.k == r.sweep->best_k ? "  <-" : "");
    std::printf("chosen k = %zu by %s\n\n", r.sweep->best_k,
                query::SweepCriterionName(r.sweep->by));
  }
  std::printf(
      "clustered %zu points of '%s' on vector '%s' into %zu clusters: inertia %.6g, "
      "%zu iterations",
      r.ids.size(), r.collection.c_str(), r.using_vector.c_str(), km.k, km.inertia, km.iterations);
  if (km.splits > 0) std::printf(", %zu empty clusters split", km.splits);
  std::printf("\n");
  if (r.without_vector > 0)
    std::printf("skipped %llu matching points without vector '%s'\n",
                static_cast<unsigned long long>(r.without_vector), r.using_vector.c_str());
  for (size_t j = 0; j < km.k; ++j) {
    std::printf("cluster %zu  size %llu", j, static_cast<unsigned long long>(km.sizes[j]));
    for (size_t t = 0; t < members[j].size(); ++t) {
      const PointId& id = members[j][t];
      std::printf("%s %s", t == 0 ? ":" : ",", id.ToString().c_str());
      if (!labels[id].empty()) std::printf(" \"%s\"", labels[id].c_str());
    }
    std::printf("\n");
  }
  if (!o.write_field.empty())
    std::printf("wrote payload field '%s' on %zu points\n", o.write_field.c_str(), r.ids.size());
  if (!r.centroids_collection.empty())
    std::printf("centroids: collection '%s' (search it with --using %s)\n",
                r.centroids_collection.c_str(), r.using_vector.c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
