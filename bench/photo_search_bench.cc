// photo_search_bench: text-to-image search quality on the Debian sample photos labelled by hand
// (tests/data/photo_labels.json), through `mosaic search --text`'s engine (query::QueryEngine over
// an ingested collection, offline default models): nDCG@10 and precision@5 per query and on
// average, for the dev and the test photos (the labels' fixed split) separately.
//
//   photo_search_bench [--split dev|test] [--grid] [--names] [--per-query]
//
// Each split is ingested into its own collection, twice: with the tag rule before the
// tag-quality work (`--object-tags legacy`, and tags ranked by BM25 alone) and with today's
// (both detectors agreeing, tags ranked by detector confidence). Photos are copied under neutral
// names (photo-07.jpg) so that file names, which give the sample photos away (dog.jpg), do not
// answer the queries; --names keeps them.
//
// Queries: every COCO class labelled in at least one photo of the split, plus "animal",
// "vehicle" and "fruit" (any photo with such a class). Gains: the label's grade (2 a main
// subject, 1 present); photos where the class is only arguably there ("ambiguous") are left out
// of that query's ranking. nDCG@10 uses linear gains; P@5 counts grade >= 1.
// --grid tries fusion settings on the split (tune on dev, then report the choice on test).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "mosaic/db.h"
#include "query/engine.h"
#include "query/input/media_input_encoder.h"

namespace {

namespace fs = std::filesystem;
using mosaic::Json;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "photo_search_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string DataDir() {
  const char* d = std::getenv("MOSAIC_DATA_DIR");
  return d && *d ? d : std::string(MOSAIC_SOURCE_DIR) + "/.cache/data";
}

struct Photo {
  std::string path;  // relative to the data dir
  std::map<std::string, int> objects;
  std::set<std::string> ambiguous;
};

const std::map<std::string, std::set<std::string>>& Hypernyms() {
  static const std::map<std::string, std::set<std::string>> h = {
      {"animal",
       {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}},
      {"vehicle", {"bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"}},
      {"fruit", {"banana", "apple", "orange"}}};
  return h;
}

// The judgments of `query` over `photos`: grade by photo index; -1 for a photo to leave out.
std::vector<int> Judge(const std::string& query, const std::vector<Photo>& photos) {
  std::vector<int> grade(photos.size(), 0);
  auto classes = Hypernyms().count(query) ? Hypernyms().at(query) : std::set<std::string>{query};
  for (size_t i = 0; i < photos.size(); ++i) {
    for (const auto& c : classes) {
      auto it = photos[i].objects.find(c);
      if (it != photos[i].objects.end()) grade[i] = std::max(grade[i], it->second);
      if (grade[i] == 0 && photos[i].ambiguous.count(c)) grade[i] = -1;
    }
  }
  return grade;
}

struct Scores {
  double ndcg = 0, p5 = 0;
};

Scores Score(const std::vector<size_t>& ranked, const std::vector<int>& grade) {
  std::vector<size_t> kept;
  for (size_t i : ranked)
    if (grade[i] >= 0) kept.push_back(i);
  double dcg = 0, idcg = 0;
  for (size_t r = 0; r < kept.size() && r < 10; ++r)
    dcg += grade[kept[r]] / std::log2(r + 2.0);
  std::vector<int> ideal;
  for (int g : grade)
    if (g > 0) ideal.push_back(g);
  std::sort(ideal.rbegin(), ideal.rend());
  for (size_t r = 0; r < ideal.size() && r < 10; ++r)
    idcg += ideal[r] / std::log2(r + 2.0);
  Scores s;
  s.ndcg = idcg > 0 ? dcg / idcg : 0;
  size_t rel5 = 0;
  for (size_t r = 0; r < kept.size() && r < 5; ++r)
    rel5 += grade[kept[r]] > 0;
  s.p5 = rel5 / 5.0;
  return s;
}

struct Setup {
  std::string name;
  std::string object_tags;  // ingest's rule ("legacy" or "" for the default)
  bool confidence = true;   // rank tags by detector confidence
};

struct Split {
  std::vector<Photo> photos;
  std::vector<std::string> queries;
};

class Collection {
 public:
  Collection(const std::string& root, const Split& split, const Setup& setup, bool names) {
    const std::string folder = root + "/photos";
    fs::create_directories(folder);
    for (size_t i = 0; i < split.photos.size(); ++i) {
      const fs::path from = DataDir() + "/" + split.photos[i].path;
      char name[64];
      std::snprintf(name, sizeof(name), "photo-%02zu%s", i, from.extension().c_str());
      const std::string to = folder + "/" + (names ? from.filename().string() : std::string(name));
      fs::copy_file(from, to, fs::copy_options::overwrite_existing);
      by_path_[fs::absolute(to).lexically_normal().string()] = i;
    }
    db_ = mosaic::Db::Open(root + "/db").value();
    mosaic::ingest::Options o;
    o.object_tags = setup.object_tags;
    o.models_dir = std::getenv("MOSAIC_MODELS") ? std::getenv("MOSAIC_MODELS") : "";
    auto ing = mosaic::ingest::Ingestor::Open(db_.get(), "photos", o);
    if (!ing.ok()) Die(ing.status().ToString());
    std::vector<std::string> paths = {folder};
    auto stats = (*ing)->Run(paths);
    if (!stats.ok()) Die(stats.status().ToString());
    if (stats->files_failed)
      Die("ingest failed on " + std::to_string(stats->files_failed) + " photos");
    c_ = db_->GetCollection("photos").value();
    encoder_ = mosaic::query::MediaInputEncoder::Open(*c_).value();
  }

  // The photos in the order `defaults` ranks them for `query`, each once.
  std::vector<size_t> Rank(const std::string& query,
                           const mosaic::query::EngineOptions& options) const {
    mosaic::query::QueryEngine engine(*c_, encoder_.get(), options);
    mosaic::query::QueryRequest r;
    r.query = mosaic::query::AutoQuery{{mosaic::query::Input::Text(query)}};
    r.limit = 50;
    auto resp = engine.Query(r);
    if (!resp.ok()) Die(query + ": " + resp.status().ToString());
    std::vector<size_t> ranked;
    std::set<size_t> seen;
    for (const auto& h : resp->hits) {
      auto it = by_path_.find(h.payload->at("file").at("path").get<std::string>());
      if (it != by_path_.end() && seen.insert(it->second).second) ranked.push_back(it->second);
    }
    return ranked;
  }

 private:
  std::unique_ptr<mosaic::Db> db_;
  std::shared_ptr<mosaic::Collection> c_;
  std::unique_ptr<mosaic::query::MediaInputEncoder> encoder_;
  std::map<std::string, size_t> by_path_;
};

Split LoadSplit(const std::string& which) {
  std::ifstream in(std::string(MOSAIC_SOURCE_DIR) + "/tests/data/photo_labels.json");
  if (!in) Die("cannot read tests/data/photo_labels.json");
  Json labels = Json::parse(in);
  Split s;
  std::set<std::string> classes;
  for (const Json& p : labels["photos"]) {
    if (p["split"] != which) continue;
    Photo ph;
    ph.path = p["path"];
    for (const auto& [c, g] : p["objects"].items()) {
      ph.objects[c] = g.get<int>();
      classes.insert(c);
    }
    for (const Json& a : p.value("ambiguous", Json::array()))
      ph.ambiguous.insert(a.get<std::string>());
    s.photos.push_back(std::move(ph));
  }
  s.queries.assign(classes.begin(), classes.end());
  for (const auto& [word, members] : Hypernyms()) {
    bool any = false;
    for (const auto& m : members)
      any = any || classes.count(m);
    if (any) s.queries.push_back(word);
  }
  return s;
}

mosaic::query::EngineOptions Options(const Setup& setup) {
  mosaic::query::EngineOptions o;
  if (!setup.confidence) o.signals.tag_scores_field = "";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> splits = {"dev", "test"};
  bool grid = false, names = false, per_query = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--split" && i + 1 < argc)
      splits = {argv[++i]};
    else if (a == "--grid")
      grid = true;
    else if (a == "--names")
      names = true;
    else if (a == "--per-query")
      per_query = true;
    else
      Die("usage: photo_search_bench [--split dev|test] [--grid] [--names] [--per-query]");
  }
  const std::vector<Setup> setups = {{"before (legacy tags, BM25 order)", "legacy", false},
                                     {"after (both detectors, by confidence)", "", true}};
  for (const std::string& which : splits) {
    Split split = LoadSplit(which);
    std::printf("== %s photos: %zu, queries: %zu%s\n", which.c_str(), split.photos.size(),
                split.queries.size(), names ? " (original file names)" : " (neutral file names)");
    std::vector<std::vector<Scores>> per(setups.size());
    for (size_t s = 0; s < setups.size(); ++s) {
      const std::string root =
          fs::temp_directory_path() / ("mosaic-photo-bench-" + which + "-" + std::to_string(s));
      fs::remove_all(root);
      Collection c(root, split, setups[s], names);
      Scores mean;
      for (const std::string& q : split.queries) {
        Scores sc = Score(c.Rank(q, Options(setups[s])), Judge(q, split.photos));
        per[s].push_back(sc);
        mean.ndcg += sc.ndcg / split.queries.size();
        mean.p5 += sc.p5 / split.queries.size();
      }
      std::printf("%-40s nDCG@10 %.3f  P@5 %.3f\n", setups[s].name.c_str(), mean.ndcg, mean.p5);
      if (grid && s + 1 == setups.size()) {
        std::printf("  fusion grid (tags weight x rrf k / dbsf), mean nDCG@10 / P@5:\n");
        for (float tags_w : {0.5f, 1.0f, 2.0f, 4.0f}) {
          std::printf("  tags %.1f:", tags_w);
          for (float k : {1.0f, 2.0f, 5.0f, 10.0f, 30.0f, 60.0f, -1.0f}) {
            mosaic::query::EngineOptions o = Options(setups[s]);
            o.signals.tags_weight = tags_w;
            if (k < 0)
              o.signals.fusion = mosaic::query::FusionMethod::kDbsf;
            else
              o.signals.rrf_k = k;
            double n = 0, p = 0;
            for (const std::string& q : split.queries) {
              Scores sc = Score(c.Rank(q, o), Judge(q, split.photos));
              n += sc.ndcg / split.queries.size();
              p += sc.p5 / split.queries.size();
            }
            std::printf("  %s %.3f/%.3f", k < 0 ? "dbsf" : ("k" + std::to_string(int(k))).c_str(),
                        n, p);
          }
          std::printf("\n");
        }
      }
      fs::remove_all(root);
    }
    if (per_query) {
      std::printf("  %-16s %-15s %-15s\n", "query", "before nDCG/P@5", "after nDCG/P@5");
      for (size_t q = 0; q < split.queries.size(); ++q)
        std::printf("  %-16s %.3f / %.2f    %.3f / %.2f\n", split.queries[q].c_str(),
                    per[0][q].ndcg, per[0][q].p5, per[1][q].ndcg, per[1][q].p5);
    }
  }
  return 0;
}
