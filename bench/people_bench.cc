// people_bench: pairwise precision and recall of the person clustering (src/query/people.h) on
// the faces the offline pack's face test uses (tests/embed/faces_test.cc), made into a set with
// identities, since none of that data is labelled by person:
//
//   - skimage's lfw_subset: 100 LFW faces (25x25 grey) taken as 100 people, each shown five
//     times on a 256x256 canvas: as is, mirrored, brighter, darker, and larger at another place;
//   - the sample photos with one face (astronaut: Eileen Collins; camera: the cameraman;
//     messi5: Lionel Messi), each as eight edited copies (mirrored, two crops, half size,
//     blurred, brighter, darker, as is);
//   - Megamind.avi: the only real "same person in other shots" data there is: Roxanne (shots 1
//     and 3, faces at 2.8 s and 8.3 s) and Bernard (shots 2 and 4, at 5.0 s and 9.3 s),
//     labelled by looking at the keyframes (animated faces).
//
// Dev: LFW faces 0-49 and the astronaut. Test: LFW faces 50-99, the cameraman, Messi and the
// video. The threshold is swept on dev for average linkage (People's method) and for connected
// components (single linkage, its peer), each one's best dev F1 reported on test; then
// People::Cluster itself (nearest-neighbour graph from the collection's HNSW) runs on the test
// collection at the default threshold, in one pass and incrementally (half, then the rest).
//
// Caveats: LFW labels are unknown, so two of the 100 patches may show the same person (counted
// as different); edited copies of one picture are easier than other photos of a person, so
// recall on them is an upper bound; only the four video faces test true cross-shot recall.
//
//   people_bench [--data DIR] [--models DIR] [--rounds N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"
#include "mosaic/db.h"
#include "query/people.h"

namespace {

namespace fs = std::filesystem;
using mosaic::Json;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "people_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string Arg(int argc, char** argv, const std::string& flag, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return fallback;
}

void WritePng(const mosaic::media::Image& img, const std::string& path) {
  auto png = mosaic::media::EncodePng(img);
  if (!png.ok()) Die(png.status().ToString());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
}

mosaic::media::Image Gain(const mosaic::media::Image& img, float gain, int offset) {
  mosaic::media::Image out = img;
  for (auto& p : out.pixels)
    p = static_cast<uint8_t>(std::clamp(std::lround(p * gain + offset), 0L, 255L));
  return out;
}

// skimage's lfw_subset.npy: float64 [200, 25, 25] in 0..1, the first 100 faces.
std::vector<mosaic::media::Image> LfwFaces(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) Die(path + ": not a .npy file");
  const size_t header = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  const size_t side = 25, offset = 10 + header;
  if (bytes.size() != offset + 200 * side * side * 8) Die(path + ": unexpected size");
  std::vector<mosaic::media::Image> out;
  for (size_t k = 0; k < 100; ++k) {
    mosaic::media::Image img(side, side, 3);
    for (size_t i = 0; i < side * side; ++i) {
      double v;
      std::memcpy(&v, bytes.data() + offset + (k * side * side + i) * 8, 8);
      img.pixels[3 * i] = img.pixels[3 * i + 1] = img.pixels[3 * i + 2] =
          static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255));
    }
    out.push_back(std::move(img));
  }
  return out;
}

mosaic::media::Image OnCanvas(const mosaic::media::Image& patch, int size, int x, int y) {
  const auto big = mosaic::media::Resize(patch, size, size, mosaic::media::ResizeFilter::kBilinear);
  mosaic::media::Image canvas(256, 256, 3);
  std::fill(canvas.pixels.begin(), canvas.pixels.end(), uint8_t{128});
  for (int r = 0; r < size; ++r)
    std::memcpy(canvas.row(y + r) + 3 * x, big.row(r), big.row_bytes());
  return canvas;
}

// Five pictures per face; the last two go to `later` (for the incremental run).
void WriteLfw(const std::vector<mosaic::media::Image>& lfw, size_t from, size_t to,
              const std::string& dir, const std::string& later) {
  for (size_t k = from; k < to; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "/lfw%03zu", k);
    const auto face = OnCanvas(lfw[k], 128, 64, 64);
    WritePng(face, dir + name + "-a.png");
    WritePng(mosaic::media::FlipHorizontal(face), dir + name + "-flip.png");
    WritePng(Gain(face, 1.f, 40), dir + name + "-bright.png");
    WritePng(Gain(face, 0.7f, 0), later + name + "-dark.png");
    WritePng(OnCanvas(lfw[k], 160, 80, 40), later + name + "-big.png");
  }
}

// Edited copies of a photo whose face box centre is (cx, cy), side `side`; the last four go to
// `later`.
void WritePhoto(const std::string& file, const std::string& name, int cx, int cy, int side,
                const std::string& dir, const std::string& later) {
  auto img = mosaic::media::DecodeImageFile(file);
  if (!img.ok()) Die(img.status().ToString());
  namespace m = mosaic::media;
  const std::string base = dir + "/" + name;
  WritePng(*img, base + "-a.png");
  WritePng(m::FlipHorizontal(*img), base + "-flip.png");
  const int w1 = side * 22 / 10, w2 = side * 35 / 10;
  WritePng(m::Crop(*img, cx - w1 / 2 - side / 4, cy - w1 / 2, w1, w1), base + "-crop1.png");
  WritePng(m::Crop(*img, cx - w2 / 2 + side / 5, cy - w2 / 2 + side / 4, w2, w2),
           base + "-crop2.png");
  const std::string base2 = later + "/" + name;
  WritePng(m::Resize(*img, img->width / 2, img->height / 2, m::ResizeFilter::kBilinear),
           base2 + "-half.png");
  WritePng(m::Resize(m::Resize(*img, img->width / 4, img->height / 4, m::ResizeFilter::kBilinear),
                     img->width, img->height, m::ResizeFilter::kBilinear),
           base2 + "-blur.png");
  WritePng(Gain(*img, 1.f, 50), base2 + "-bright.png");
  WritePng(Gain(*img, 0.6f, 0), base2 + "-dark.png");
}

struct Faces {
  std::vector<mosaic::PointId> ids;
  std::vector<std::string> labels;
  std::vector<std::vector<float>> vectors;
};

// Identity of a face point from its file name ("lfw017-flip.png" -> "lfw017") or, in the
// video, from its time.
std::string Label(const Json& payload) {
  const std::string name = payload["file"]["name"].get<std::string>();
  if (name == "Megamind.avi") {
    const double t = payload["time"].get<double>();
    for (const auto& [at, who] : std::vector<std::pair<double, const char*>>{
             {2.79, "roxanne"}, {8.30, "roxanne"}, {5.05, "bernard"}, {9.30, "bernard"}}) {
      if (std::abs(t - at) < 0.3) return who;
    }
    return "megamind-unlabelled-" + std::to_string(t);
  }
  return name.substr(0, name.find('-'));
}

Faces ReadFaces(mosaic::Collection& c) {
  Faces f;
  mosaic::ScrollRequest req;
  req.filter =
      mosaic::Filter::Parse(R"({"must": [{"key": "kind", "match": {"value": "face"}}]})").value();
  req.limit = 100000;
  req.with_vectors = true;
  auto page = c.Scroll(req);
  if (!page.ok()) Die(page.status().ToString());
  for (auto& p : page->points) {
    f.ids.push_back(p.id);
    f.labels.push_back(Label(p.payload));
    f.vectors.push_back(p.vectors.at("face"));
  }
  return f;
}

struct Pairwise {
  double precision = 0, recall = 0, f1 = 0;
  size_t clusters = 0;
};

Pairwise Score(const std::vector<std::string>& labels, const std::vector<std::string>& groups) {
  size_t both = 0, same_group = 0, same_label = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    for (size_t j = i + 1; j < labels.size(); ++j) {
      const bool g = groups[i] == groups[j], l = labels[i] == labels[j];
      both += g && l;
      same_group += g;
      same_label += l;
    }
  }
  Pairwise s;
  s.precision = same_group ? static_cast<double>(both) / same_group : 1.0;
  s.recall = same_label ? static_cast<double>(both) / same_label : 1.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  s.clusters = std::set<std::string>(groups.begin(), groups.end()).size();
  return s;
}

std::vector<std::string> AsStrings(const std::vector<int>& v) {
  std::vector<std::string> out;
  for (int x : v)
    out.push_back(std::to_string(x));
  return out;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Load() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::unique_ptr<mosaic::Db> g_db;

std::shared_ptr<mosaic::Collection> Ingest(const std::string& name, const std::string& dir,
                                           const std::string& models) {
  // Faces only: the other models would only cost time here.
  mosaic::ingest::Options o;
  o.models_dir = models;
  o.encoders = {"faces"};
  auto ing = mosaic::ingest::Ingestor::Open(g_db.get(), name, o);
  if (!ing.ok()) Die(ing.status().ToString());
  std::vector<std::string> paths = {dir};
  auto stats = (*ing)->Run(paths);
  if (!stats.ok()) Die(stats.status().ToString());
  if (stats->files_failed) Die(std::to_string(stats->files_failed) + " files failed in " + dir);
  return g_db->GetCollection(name).value();
}

std::vector<std::string> PersonIds(mosaic::Collection& c, const Faces& f) {
  auto pts = c.Get(f.ids, true, false);
  if (!pts.ok()) Die(pts.status().ToString());
  std::vector<std::string> out;
  for (const auto& p : *pts)
    out.push_back(p.payload.value("person_id", std::string("none")));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_data = std::getenv("MOSAIC_DATA_DIR");
  const std::string data = Arg(
      argc, argv, "--data", env_data ? env_data : std::string(MOSAIC_SOURCE_DIR) + "/.cache/data");
  const char* env_models = std::getenv("MOSAIC_MODELS");
  const std::string models = Arg(argc, argv, "--models", env_models ? env_models : "");
  const int rounds = std::atoi(Arg(argc, argv, "--rounds", "5").c_str());

  const fs::path tmp = fs::temp_directory_path() / ("people_bench." + std::to_string(getpid()));
  fs::create_directories(tmp / "dev");
  fs::create_directories(tmp / "test");
  const auto lfw = LfwFaces(data + "/skimage/lfw_subset.npy");
  const std::string dev_dir = tmp / "dev", first = tmp / "test" / "1", rest = tmp / "test" / "2";
  WriteLfw(lfw, 0, 50, dev_dir, dev_dir);
  // The test pictures in two parts, for the incremental run: the second part holds other
  // pictures of the people in the first.
  fs::create_directories(tmp / "test" / "1");
  fs::create_directories(tmp / "test" / "2");
  WriteLfw(lfw, 50, 100, first, rest);
  // Face boxes as BlazeFace finds them (tests/embed/faces_test.cc checks the astronaut's).
  WritePhoto(data + "/skimage/astronaut.png", "astronaut", 225, 125, 105, dev_dir, dev_dir);
  WritePhoto(data + "/skimage/camera.png", "cameraman", 219, 163, 74, first, rest);
  WritePhoto(data + "/photos/opencv/messi5.jpg", "messi", 240, 114, 36, first, rest);
  fs::copy_file(data + "/video/Megamind.avi", tmp / "test" / "1" / "Megamind.avi");

  g_db = mosaic::Db::Open((tmp / "db").string()).value();
  auto dev_c = Ingest("dev", tmp / "dev", models);
  auto test_c = Ingest("test", tmp / "test", models);  // both halves
  const Faces dev = ReadFaces(*dev_c), test = ReadFaces(*test_c);
  std::printf(
      "faces found: dev %zu (of %d pictures, %zu people), test %zu (of %d pictures and 4 "
      "video faces expected, %zu people)\n",
      dev.ids.size(), 50 * 5 + 8,
      std::set<std::string>(dev.labels.begin(), dev.labels.end()).size(), test.ids.size(),
      50 * 5 + 16, std::set<std::string>(test.labels.begin(), test.labels.end()).size());

  // Sweep on dev.
  std::printf("\nthreshold sweep on dev (pairwise precision / recall / F1, clusters)\n");
  std::printf("%6s  %-32s  %-32s\n", "thr", "average linkage", "connected components");
  std::map<mosaic::query::Linkage, std::pair<float, double>> best;  // threshold, F1
  for (int k = 20; k <= 80; k += 5) {
    const float t = k / 100.f;
    std::printf("%6.2f", t);
    for (auto linkage : {mosaic::query::Linkage::kAverage, mosaic::query::Linkage::kSingle}) {
      const Pairwise s =
          Score(dev.labels, AsStrings(mosaic::query::ClusterVectors(dev.vectors, t, linkage)));
      std::printf("  %.3f / %.3f / %.3f, %4zu     ", s.precision, s.recall, s.f1, s.clusters);
      auto& b = best[linkage];
      if (s.f1 > b.second) b = {t, s.f1};
    }
    std::printf("\n");
  }

  std::printf("\non test, at each method's best dev threshold:\n");
  for (auto [linkage, name] :
       {std::pair{mosaic::query::Linkage::kAverage, "average linkage"},
        std::pair{mosaic::query::Linkage::kSingle, "connected components"}}) {
    const float t = best[linkage].first;
    const Pairwise s =
        Score(test.labels, AsStrings(mosaic::query::ClusterVectors(test.vectors, t, linkage)));
    std::printf(
        "  %-22s threshold %.2f (dev F1 %.3f): precision %.3f recall %.3f F1 %.3f, %zu "
        "clusters for %zu people\n",
        name, t, best[linkage].second, s.precision, s.recall, s.f1, s.clusters,
        std::set<std::string>(test.labels.begin(), test.labels.end()).size());
  }

  // People::Cluster on the test collection at the default threshold, the way the CLI runs it.
  const float t = mosaic::query::kDefaultPersonThreshold;
  auto people = mosaic::query::People::Open(*test_c).value();
  auto start = std::chrono::steady_clock::now();
  auto report = people.Cluster({.threshold = t});
  const double cluster_s = Seconds(start);
  if (!report.ok()) Die(report.status().ToString());
  const auto one_pass = PersonIds(*test_c, test);
  const Pairwise s1 = Score(test.labels, one_pass);
  std::printf(
      "\nPeople::Cluster on test at the default %.2f: precision %.3f recall %.3f F1 %.3f, %zu "
      "persons; %.2f s for %zu faces (load %s)\n",
      t, s1.precision, s1.recall, s1.f1, s1.clusters, cluster_s, test.ids.size(), Load().c_str());

  std::map<std::string, std::set<std::string>> split;
  for (size_t i = 0; i < test.ids.size(); ++i)
    split[test.labels[i]].insert(one_pass[i]);
  std::string split_names;
  for (const auto& [who, persons] : split) {
    if (persons.size() > 1) split_names += " " + who + " (" + std::to_string(persons.size()) + ")";
  }
  std::printf("people in more than one person:%s\n",
              split_names.empty() ? " none" : split_names.c_str());

  // Incrementally: the first half clustered, then the second half ingested and clustered.
  auto inc_c = Ingest("incremental", tmp / "test" / "1", models);
  auto inc = mosaic::query::People::Open(*inc_c).value();
  if (auto r = inc.Cluster({.threshold = t}); !r.ok()) Die(r.status().ToString());
  const Faces half = ReadFaces(*inc_c);
  const auto half_ids = PersonIds(*inc_c, half);
  Ingest("incremental", tmp / "test" / "2", models);
  auto r2 = inc.Cluster({.threshold = t});
  if (!r2.ok()) Die(r2.status().ToString());
  const auto inc_ids = PersonIds(*inc_c, test);
  const auto half_after = PersonIds(*inc_c, half);
  const Pairwise s2 = Score(test.labels, inc_ids);
  std::printf(
      "incremental (3 of 5 pictures per face, then the rest): precision %.3f recall %.3f F1 %.3f, "
      "%zu persons; "
      "second run: %zu new faces, %zu joined existing persons; first-half ids kept: %s\n",
      s2.precision, s2.recall, s2.f1, s2.clusters, r2->clustered, r2->joined,
      half_ids == half_after ? "yes" : "NO");

  // The video: other shots of the same person.
  std::printf("\nMegamind.avi faces (real cross-shot pairs):\n");
  for (size_t i = 0; i < test.ids.size(); ++i) {
    for (size_t j = i + 1; j < test.ids.size(); ++j) {
      const bool vi = test.labels[i] == "roxanne" || test.labels[i] == "bernard";
      const bool vj = test.labels[j] == "roxanne" || test.labels[j] == "bernard";
      if (!vi || !vj) continue;
      float dot = 0;
      for (size_t d = 0; d < test.vectors[i].size(); ++d)
        dot += test.vectors[i][d] * test.vectors[j][d];
      std::printf("  %-8s %-8s cosine %.3f  same person: %-5s clustered together: %s\n",
                  test.labels[i].c_str(), test.labels[j].c_str(), dot,
                  test.labels[i] == test.labels[j] ? "yes" : "no",
                  one_pass[i] == one_pass[j] ? "yes" : "no");
    }
  }

  // Cost against the peer, same run, alternating order, median of the rounds.
  std::vector<double> avg_s, single_s;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const bool average = (r + k) % 2 == 0;
      const auto s = std::chrono::steady_clock::now();
      mosaic::query::ClusterVectors(
          test.vectors, t,
          average ? mosaic::query::Linkage::kAverage : mosaic::query::Linkage::kSingle);
      (average ? avg_s : single_s).push_back(Seconds(s));
    }
  }
  std::sort(avg_s.begin(), avg_s.end());
  std::sort(single_s.begin(), single_s.end());
  const double a = avg_s[avg_s.size() / 2], b = single_s[single_s.size() / 2];
  std::printf(
      "\nClusterVectors on the %zu test faces (all pairs), median of %d: average linkage %.1f ms, "
      "connected components %.1f ms, ratio %.2fx (load %s)\n",
      test.ids.size(), rounds, a * 1e3, b * 1e3, a / b, Load().c_str());
  g_db.reset();
  fs::remove_all(tmp);
  return 0;
}
