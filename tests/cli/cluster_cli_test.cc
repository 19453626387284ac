// `mosaic cluster` end to end on Fashion-MNIST images stored as a collection: flags, the cluster
// ids written back (visible to `mosaic count --filter`), the centroids collection searched, a
// sweep, and bad input (exit 2 for a bad command line, 1 for a failed run, messages naming the
// value).
#include <gtest/gtest.h>

#include <fstream>

#include "io/vector_file.h"
#include "mosaic/db.h"
#include "mosaic/json.h"
#include "util/cli_run.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/test_scale.h"

namespace mosaic {
namespace {

using testing::CliRun;

// Collection "fm": Fashion-MNIST training images as vector "pixels" (l2), payload title and
// label; one extra point has only the 2-d vector "tag".
struct FashionDb {
  testing::TempDir dir;
  std::string db;
  size_t n = testing::Scaled(1200, 300);

  FashionDb() : db(dir / "db") {
    const std::string data = testing::DataDir() + "/fashion-mnist/";
    auto x = io::ReadVectorFile(data + "train-images-idx3-ubyte.gz", n);
    auto labels = io::ReadIdxLabels(data + "train-labels-idx1-ubyte.gz");
    EXPECT_TRUE(x.ok() && labels.ok()) << "Fashion-MNIST missing in " << data;
    if (!x.ok() || !labels.ok()) return;
    auto d = Db::Open(db);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    CollectionSchema schema;
    schema.vectors.push_back({"pixels", 784, Metric::kL2});
    schema.vectors.push_back({"tag", 2, Metric::kCosine});
    auto c = (*d)->CreateCollection("fm", schema);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    std::vector<Point> points(n + 1);
    for (size_t i = 0; i < n; ++i) {
      points[i].id = PointId(static_cast<uint64_t>(i));
      points[i].vectors["pixels"].assign(x->row(i), x->row(i) + 784);
      points[i].payload = {{"title", "image " + std::to_string(i)}, {"label", (*labels)[i]}};
    }
    points[n].id = PointId(static_cast<uint64_t>(n));
    points[n].vectors["tag"] = {1, 0};
    EXPECT_TRUE((*c)->Upsert(points).ok());
  }
  CliRun Run(const std::string& args) const {
    return testing::RunMosaic("--db '" + db + "' " + args);
  }
  Json RunJson(const std::string& args) const {
    CliRun r = Run(args);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.all();
    return r.code == 0 ? Json::parse(r.out) : Json();
  }
  uint64_t Count(const std::string& collection, const std::string& filter = "") const {
    CliRun r = Run("count --collection " + collection +
                   (filter.empty() ? "" : " --filter '" + filter + "'"));
    EXPECT_EQ(r.code, 0) << r.all();
    return r.code == 0 ? std::stoull(r.out) : 0;
  }
};

std::string ClusterIs(int j) {
  return R"({"must": [{"key": "cluster", "match": {"value": )" + std::to_string(j) + "}}]}";
}

TEST(ClusterCli, WritesClustersBackAndMakesCentroidsSearchable) {
  FashionDb f;
  Json j =
      f.RunJson("cluster --collection fm --using pixels --k 10 --write cluster --seed 3 --json");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["points"], f.n);
  EXPECT_EQ(j["without_vector"], 1);  // the point with only "tag"
  EXPECT_EQ(j["centroids_collection"], "fm-clusters");
  ASSERT_EQ(j["clusters"].size(), 10u);
  uint64_t total = 0;
  for (const auto& c : j["clusters"]) {
    total += c["size"].get<uint64_t>();
    ASSERT_LE(c["members"].size(), 3u);
    if (c["size"] > 0) EXPECT_FALSE(c["members"].empty());
  }
  EXPECT_EQ(total, f.n);
  // The written field holds each cluster's members (a few clusters: every call is a process).
  for (int id : {0, 9})
    EXPECT_EQ(f.Count("fm", ClusterIs(id)), j["clusters"][id]["size"].get<uint64_t>())
        << "cluster " << id;
  EXPECT_EQ(f.Count("fm-clusters"), 10u);

  // A point's nearest centroid, searched in fm-clusters, is the cluster written on the point.
  CliRun got = f.Run("get --collection fm --with-vectors 0 1");
  ASSERT_EQ(got.code, 0) << got.all();
  for (const Json& p : Json::parse(got.out)) {
    const std::string vec = p["vectors"]["pixels"].dump();
    Json hits = f.RunJson(
        "search --collection fm-clusters --using pixels --limit 1 --json --vector '" + vec + "'");
    ASSERT_EQ(hits["points"].size(), 1u);
    EXPECT_EQ(hits["points"][0]["payload"]["cluster"], p["payload"]["cluster"]) << p["id"];
    EXPECT_EQ(hits["points"][0]["payload"]["source"], "fm");
  }

  // Text output; a new run replaces the centroids.
  CliRun text = f.Run("cluster --collection fm --using pixels --k 4 --iterations 5");
  ASSERT_EQ(text.code, 0) << text.all();
  EXPECT_NE(text.out.find("into 4 clusters"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\"image "), std::string::npos) << text.out;  // member titles
  EXPECT_NE(text.out.find("skipped 1 matching points without vector 'pixels'"), std::string::npos);
  EXPECT_EQ(f.Count("fm-clusters"), 4u);
}

TEST(ClusterCli, FilterAndSweep) {
  FashionDb f;
  // Trousers (1) and bags (8): two very different shapes.
  const std::string filter = R"({"must": [{"key": "label", "match": {"any": [1, 8]}}]})";
  const uint64_t matching = f.Count("fm", filter);
  ASSERT_GT(matching, 20u);
  Json j = f.RunJson("cluster --collection fm --using pixels --filter '" + filter +
                     "' --sweep 2..5 --centroids no --show 0 --json");
  EXPECT_EQ(j["points"], matching);
  EXPECT_TRUE(j["centroids_collection"].is_null());
  ASSERT_EQ(j["sweep"]["curve"].size(), 4u);
  EXPECT_EQ(j["sweep"]["by"], "silhouette");
  double best = -2;
  size_t best_k = 0;
  for (const auto& p : j["sweep"]["curve"])
    if (p["silhouette"].get<double>() > best) {
      best = p["silhouette"].get<double>();
      best_k = p["k"].get<size_t>();
    }
  EXPECT_EQ(j["sweep"]["best_k"], best_k);
  EXPECT_EQ(j["k"], best_k);
  EXPECT_GT(best, 0.1);
  CliRun elbow = f.Run("cluster --collection fm --using pixels --filter '" + filter +
                       "' --sweep 2..5 --by elbow --centroids no --show 1");
  ASSERT_EQ(elbow.code, 0) << elbow.all();
  EXPECT_NE(elbow.out.find("silhouette"), std::string::npos) << elbow.out;  // the curve
  EXPECT_NE(elbow.out.find("  <-"), std::string::npos) << elbow.out;
  EXPECT_NE(elbow.out.find(" by elbow"), std::string::npos) << elbow.out;
}

TEST(ClusterCli, BadInputNamesTheValue) {
  FashionDb f;
  CliRun r = f.Run("cluster --collection fm --using nope --k 3");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no vector 'nope' (its vectors: pixels, tag)"), std::string::npos) << r.err;
  r = f.Run("cluster --collection missing --using pixels --k 3");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no collection 'missing'"), std::string::npos) << r.err;
  r = f.Run("cluster --collection fm --using pixels --k 100000");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("k = 100000 is larger than the " + std::to_string(f.n) + " points"),
            std::string::npos)
      << r.err;
  r = f.Run(
      R"(cluster --collection fm --using pixels --k 2 --filter '{"must": [{"key": "label", "match": {"value": 42}}]}')");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no points of 'fm' matching the filter"), std::string::npos) << r.err;
  r = f.Run("cluster --collection fm --using pixels --k 0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("got 0"), std::string::npos) << r.err;
  r = f.Run("cluster --collection fm --using pixels");
  EXPECT_EQ(r.code, 2);
  r = f.Run("cluster --collection fm --using pixels --sweep 2..4 --by median");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'median'"), std::string::npos) << r.err;
  // A collection of the user's named like the companion is never replaced.
  ASSERT_EQ(f.Run("collection create fm-clusters --vector pixels:784:l2").code, 0);
  {
    Json p = {{"id", 1},
              {"vectors", {{"pixels", std::vector<float>(784, 1.0f)}}},
              {"payload", {{"mine", true}}}};
    std::ofstream(f.dir / "mine.jsonl") << p.dump() << "\n";
  }
  ASSERT_EQ(f.Run("upsert --collection fm-clusters '" + (f.dir / "mine.jsonl") + "'").code, 0);
  r = f.Run("cluster --collection fm --using pixels --k 2");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("collection 'fm-clusters' exists and does not hold the centroids of 'fm'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(f.Count("fm-clusters"), 1u);
}

}  // namespace
}  // namespace mosaic
