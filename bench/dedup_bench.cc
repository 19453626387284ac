// dedup_bench: near-duplicate detection (query::FindDuplicates, `mosaic dedup`) on the sample
// photos labelled by hand (tests/data/photo_labels.json: 53 distinct photos, fixed dev/test
// split) with generated copies of each, and the effect and cost of test-time augmentation (TTA)
// at ingest on it and on Fashion-MNIST kNN accuracy.
//
//   dedup_bench [--models DIR] [--rounds N] [--tta none,flip,crop,flip+crop]
//               [--knn-train N] [--knn-test N] [--no-knn]
//
// Copies of every photo (JPEG, quality 90 unless stated): resized to 50% and 25%, re-encoded at
// full size with quality 30 and 70, cropped by 10% (the top-left 90% x 90%) and 25% (the
// bottom-right 75% x 75%), mirrored, and two combinations (mirrored + 50% + quality 70; cropped
// 10% + 50% + quality 70): 10 images per photo. Each split's images go into their own collection
// (ingest::Ingestor, the visual descriptor alone), once per TTA setting.
//
// Quality is pairwise: the true pairs are the 45 pairs among a photo's 10 images; a group of n
// reports n(n-1)/2 pairs. Precision = true pairs reported / pairs reported, recall = true pairs
// reported / true pairs. For each TTA setting and linkage the threshold is chosen on the dev
// photos (best F1 over 0.50..0.995), then precision and recall are reported on the test photos at
// that threshold, with per transformation the share of copies grouped with their original.
//
// Cost: every round ingests both splits once per TTA setting into new collections (order
// alternating between rounds); medians of images/s and of the visual encoder's seconds per image.
//
// kNN: --knn-train training and --knn-test test images of Fashion-MNIST through the visual
// descriptor with each TTA setting (the same views and pooling as ingest: ingest::TtaViews,
// PoolVectors); k (majority vote, cosine) chosen by leave-one-out on the training images, accuracy
// on the test images. Asserts nothing.
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

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "ingest/ingest.h"
#include "ingest/layout.h"
#include "ingest/tta.h"
#include "io/vector_file.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"
#include "mosaic/db.h"
#include "query/dedup.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace mosaic;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "dedup_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Arg(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}
bool Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

std::string DataDir() {
  const char* d = std::getenv("MOSAIC_DATA_DIR");
  return d && *d ? d : std::string(MOSAIC_SOURCE_DIR) + "/.cache/data";
}

// The generated copies: name, and how to make one from the decoded original.
struct Transform {
  const char* name;
  media::Image (*make)(const media::Image&);
  int quality;
};

media::Image Half(const media::Image& s) {
  return media::Resize(s, std::max(1, s.width / 2), std::max(1, s.height / 2),
                       media::ResizeFilter::kBicubic);
}
media::Image Quarter(const media::Image& s) {
  return media::Resize(s, std::max(1, s.width / 4), std::max(1, s.height / 4),
                       media::ResizeFilter::kBicubic);
}
media::Image Same(const media::Image& s) {
  return s;
}
media::Image Crop10(const media::Image& s) {
  return media::Crop(s, 0, 0, s.width * 9 / 10, s.height * 9 / 10);
}
media::Image Crop25(const media::Image& s) {
  const int w = s.width * 3 / 4, h = s.height * 3 / 4;
  return media::Crop(s, s.width - w, s.height - h, w, h);
}
media::Image Flip(const media::Image& s) {
  return media::FlipHorizontal(s);
}
media::Image FlipHalf(const media::Image& s) {
  return Half(Flip(s));
}
media::Image CropHalf(const media::Image& s) {
  return Half(Crop10(s));
}

const std::vector<Transform>& Transforms() {
  static const std::vector<Transform> t = {
      {"resize50", Half, 90}, {"resize25", Quarter, 90},      {"jpeg30", Same, 30},
      {"jpeg70", Same, 70},   {"crop10", Crop10, 90},         {"crop25", Crop25, 90},
      {"flip", Flip, 90},     {"flip+50%+q70", FlipHalf, 70}, {"crop10+50%+q70", CropHalf, 70}};
  return t;
}

// Writes each photo of `split` and its copies into `folder` as pNN-original.EXT, pNN-NAME.jpg.
size_t MakeCopies(const Json& labels, const std::string& split, const std::string& folder) {
  fs::create_directories(folder);
  size_t n = 0;
  for (const Json& p : labels["photos"]) {
    if (p["split"] != split) continue;
    const fs::path from = DataDir() + "/" + p["path"].get<std::string>();
    char prefix[16];
    std::snprintf(prefix, sizeof(prefix), "p%02zu-", n++);
    fs::copy_file(from, folder + "/" + prefix + "original" + from.extension().string(),
                  fs::copy_options::overwrite_existing);
    const media::Image img = Must(media::DecodeImageFile(from.string()), from.string());
    for (const Transform& t : Transforms()) {
      auto jpeg = Must(media::EncodeJpeg(t.make(img), t.quality), t.name);
      std::ofstream(folder + "/" + prefix + t.name + ".jpg", std::ios::binary)
          .write(reinterpret_cast<const char*>(jpeg.data()),
                 static_cast<std::streamsize>(jpeg.size()));
    }
  }
  return n;
}

// "pNN-NAME.ext" → (NN, NAME).
std::pair<int, std::string> Parse(const std::string& path) {
  const std::string name = fs::path(path).stem().string();
  return {std::atoi(name.c_str() + 1), name.substr(name.find('-') + 1)};
}

struct Quality {
  double precision = 0, recall = 0, f1 = 0;
  size_t reported = 0, true_reported = 0, true_total = 0;
  std::map<std::string, double> recall_by;     // copy grouped with its original
  std::map<std::string, double> precision_by;  // reported pairs with such a copy that are true
};

Quality Evaluate(const Collection& c, float threshold, query::DedupLinkage linkage) {
  query::DedupOptions o;
  o.threshold = threshold;
  o.linkage = linkage;
  query::DedupResult r = Must(query::FindDuplicates(c, o), "dedup");
  Quality q;
  std::map<int, size_t> per_source;
  std::map<std::pair<int, std::string>, int> group_of;
  std::map<std::string, std::pair<size_t, size_t>> pairs_by;  // transform → (true, all)
  for (size_t g = 0; g < r.groups.size(); ++g) {
    const auto& copies = r.groups[g].copies;
    for (const auto& cp : copies)
      group_of[Parse(cp.path)] = static_cast<int>(g);
    for (size_t i = 0; i < copies.size(); ++i)
      for (size_t j = i + 1; j < copies.size(); ++j) {
        auto a = Parse(copies[i].path), b = Parse(copies[j].path);
        const bool ok = a.first == b.first;
        q.reported++;
        q.true_reported += ok;
        for (const auto& t : std::set<std::string>{a.second, b.second}) {
          pairs_by[t].first += ok;
          pairs_by[t].second++;
        }
      }
  }
  const size_t sources = r.points / (Transforms().size() + 1);
  const size_t per = Transforms().size() + 1;
  q.true_total = sources * per * (per - 1) / 2;
  q.precision = q.reported ? double(q.true_reported) / q.reported : 1.0;
  q.recall = q.true_total ? double(q.true_reported) / q.true_total : 0;
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0;
  for (const Transform& t : Transforms()) {
    size_t hit = 0;
    for (size_t s = 0; s < sources; ++s) {
      auto a = group_of.find({int(s), "original"}), b = group_of.find({int(s), t.name});
      hit += a != group_of.end() && b != group_of.end() && a->second == b->second;
    }
    q.recall_by[t.name] = sources ? double(hit) / sources : 0;
    auto p = pairs_by[t.name];
    q.precision_by[t.name] = p.second ? double(p.first) / p.second : 1.0;
  }
  return q;
}

// The originals alone (distinct photos, no copies): their most similar pair, and how many pairs
// reach `threshold` (each would be a false group if the photos had no copies).
struct Distinct {
  float max_similarity = 0;
  std::string max_pair;
  size_t pairs_at = 0;
};

Distinct DistinctOriginals(const Collection& c, float threshold) {
  ScrollRequest r;
  r.limit = 100000;
  r.with_vectors = true;
  ScrollPage page = Must(c.Scroll(r), "scroll");
  std::vector<std::pair<std::string, std::vector<float>>> originals;
  for (const Point& p : page.points) {
    const std::string name = p.payload.value("file", Json::object()).value("name", std::string());
    if (name.find("-original") != std::string::npos && p.vectors.count("visual"))
      originals.emplace_back(name, p.vectors.at("visual"));
  }
  Distinct d;
  for (size_t i = 0; i < originals.size(); ++i)
    for (size_t j = i + 1; j < originals.size(); ++j) {
      float s = 0;
      for (size_t k = 0; k < originals[i].second.size(); ++k)
        s += originals[i].second[k] * originals[j].second[k];
      d.pairs_at += s >= threshold;
      if (s > d.max_similarity)
        d.max_similarity = s, d.max_pair = originals[i].first + " ~ " + originals[j].first;
    }
  return d;
}

struct Setting {
  std::string label;  // "none", "flip", "crop", "flip+crop"
  std::string tta;    // ingest::Options::tta
};

struct Ingested {
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> dev, test;
};

// Ingests both splits into new collections; returns (seconds, images, visual encoder seconds).
std::tuple<double, double, double> Ingest(const std::string& root, const std::string& models,
                                          const Setting& s, Ingested* keep) {
  fs::remove_all(root);
  auto db = Must(Db::Open(root), "open " + root);
  double secs = 0, images = 0, visual = 0;
  for (const char* split : {"dev", "test"}) {
    ingest::Options o;
    o.models_dir = models;
    o.encoders = {"visual"};
    o.tta = s.tta;
    o.thumbnail_size = 0;
    auto ing = Must(ingest::Ingestor::Open(db.get(), split, o), "ingest");
    std::vector<std::string> paths = {fs::path(root).parent_path().string() + "/photos/" + split};
    ingest::Stats st = Must(ing->Run(paths), "ingest run");
    if (st.files_failed) Die("ingest failed on " + std::to_string(st.files_failed) + " files");
    secs += st.seconds;
    images += st.images_encoded;
    for (const auto& [role, t] : st.encoder_s)
      if (role == "visual") visual += t;
  }
  if (keep) {
    keep->dev = Must(db->GetCollection("dev"), "dev");
    keep->test = Must(db->GetCollection("test"), "test");
    keep->db = std::move(db);
  }
  return {secs, images, visual};
}

// Fashion-MNIST kNN accuracy of the visual descriptor with the views of `tta`.
struct Knn {
  double loo = 0, accuracy = 0, seconds = 0;
  int k = 0;
};

std::vector<std::vector<float>> Describe(embed::Encoder& enc, const io::Matrix& m, size_t n,
                                         const std::vector<ingest::TtaView>& views) {
  std::vector<std::vector<float>> out;
  const size_t per = 1 + views.size();
  const size_t step = std::max<size_t>(1, enc.max_batch() / per);
  for (size_t b = 0; b < n; b += step) {
    std::vector<media::Image> imgs;
    for (size_t i = b; i < std::min(n, b + step); ++i) {
      media::Image img(28, 28, 3);
      for (size_t p = 0; p < 28 * 28; ++p)
        for (int c = 0; c < 3; ++c)
          img.pixels[p * 3 + c] = static_cast<uint8_t>(m.row(i)[p]);
      imgs.push_back(img);
      for (auto& v : ingest::TtaViews(img, views))
        imgs.push_back(std::move(v));
    }
    std::vector<embed::EncoderInput> in(imgs.size());
    for (size_t i = 0; i < imgs.size(); ++i)
      in[i].image = &imgs[i];
    auto outs = Must(enc.Encode(in), "encode");
    for (size_t i = 0; i < outs.size(); i += per) {
      std::vector<const std::vector<float>*> vs;
      for (size_t k = 0; k < per; ++k)
        vs.push_back(&outs[i + k].vectors[0]);
      out.push_back(ingest::PoolVectors(vs, std::vector<double>(per, 1.0)));
    }
  }
  return out;
}

int Vote(const std::vector<std::pair<float, int>>& nn, int k) {
  std::map<int, std::pair<int, float>> votes;  // label → (count, best similarity)
  for (int i = 0; i < k && i < int(nn.size()); ++i) {
    auto& v = votes[nn[i].second];
    v.first++;
    v.second = std::max(v.second, nn[i].first);
  }
  int best = -1;
  std::pair<int, float> bv{-1, 0};
  for (const auto& [label, v] : votes)
    if (v > bv) bv = v, best = label;
  return best;
}

// Neighbours of `q` among `train` (skipping index `self`), most similar first, top 32.
std::vector<std::pair<float, int>> Neighbours(const std::vector<float>& q,
                                              const std::vector<std::vector<float>>& train,
                                              const std::vector<int32_t>& labels, size_t self) {
  std::vector<std::pair<float, int>> all;
  for (size_t i = 0; i < train.size(); ++i) {
    if (i == self) continue;
    float s = 0;
    for (size_t d = 0; d < q.size(); ++d)
      s += q[d] * train[i][d];
    all.push_back({s, labels[i]});
  }
  const size_t top = std::min<size_t>(32, all.size());
  std::partial_sort(all.begin(), all.begin() + top, all.end(),
                    [](auto& a, auto& b) { return a.first > b.first; });
  all.resize(top);
  return all;
}

Knn RunKnn(embed::Encoder& enc, const std::vector<ingest::TtaView>& views, size_t n_train,
           size_t n_test) {
  const std::string dir = DataDir() + "/fashion-mnist/";
  static const io::Matrix train =
      Must(io::ReadVectorFile(dir + "train-images-idx3-ubyte.gz", n_train), "train");
  static const io::Matrix test =
      Must(io::ReadVectorFile(dir + "t10k-images-idx3-ubyte.gz", n_test), "test");
  static const auto train_labels =
      Must(io::ReadIdxLabels(dir + "train-labels-idx1-ubyte.gz"), "labels");
  static const auto test_labels =
      Must(io::ReadIdxLabels(dir + "t10k-labels-idx1-ubyte.gz"), "labels");
  Knn r;
  auto t0 = Clock::now();
  auto tr = Describe(enc, train, n_train, views);
  auto te = Describe(enc, test, n_test, views);
  r.seconds = Seconds(t0, Clock::now());
  for (int k : {1, 3, 5, 10, 20}) {
    size_t ok = 0;
    for (size_t i = 0; i < tr.size(); ++i)
      ok += Vote(Neighbours(tr[i], tr, train_labels, i), k) == train_labels[i];
    const double loo = double(ok) / tr.size();
    if (loo > r.loo) r.loo = loo, r.k = k;
  }
  size_t ok = 0;
  for (size_t i = 0; i < te.size(); ++i)
    ok += Vote(Neighbours(te[i], tr, train_labels, SIZE_MAX), r.k) == test_labels[i];
  r.accuracy = double(ok) / te.size();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string models = Arg(argc, argv, "--models", embed::ModelRegistry::DefaultDir());
  const int rounds = std::max(1, std::atoi(Arg(argc, argv, "--rounds", "3").c_str()));
  const size_t knn_train = std::stoul(Arg(argc, argv, "--knn-train", "1000"));
  const size_t knn_test = std::stoul(Arg(argc, argv, "--knn-test", "500"));
  std::vector<Setting> settings;
  {
    std::string list = Arg(argc, argv, "--tta", "none,flip,crop,flip+crop") + ",";
    for (size_t p = 0, c; (c = list.find(',', p)) != std::string::npos; p = c + 1) {
      std::string label = list.substr(p, c - p), tta = label;
      std::replace(tta.begin(), tta.end(), '+', ',');
      settings.push_back({label, tta});
    }
  }

  std::ifstream in(std::string(MOSAIC_SOURCE_DIR) + "/tests/data/photo_labels.json");
  if (!in) Die("cannot read tests/data/photo_labels.json");
  const Json labels = Json::parse(in);
  const fs::path root = fs::temp_directory_path() / ("dedup_bench-" + std::to_string(::getpid()));
  const size_t n_dev = MakeCopies(labels, "dev", (root / "photos/dev").string());
  const size_t n_test = MakeCopies(labels, "test", (root / "photos/test").string());
  std::printf(
      "dedup_bench: %zu dev + %zu test photos, %zu images each (original + copies), "
      "visual descriptor, %d rounds\n\n",
      n_dev, n_test, Transforms().size() + 1, rounds);

  // Ingest cost, and the collections of the first round for the quality figures.
  std::map<std::string, Ingested> kept;
  std::map<std::string, std::vector<double>> ips, visual_ms;
  for (int r = 0; r < rounds; ++r) {
    std::vector<Setting> order = settings;
    if (r % 2) std::reverse(order.begin(), order.end());
    for (const Setting& s : order) {
      auto [secs, images, visual] =
          Ingest((root / ("db-" + s.label + "-" + std::to_string(r))).string(), models, s,
                 r == 0 ? &kept[s.label] : nullptr);
      ips[s.label].push_back(images / secs);
      visual_ms[s.label].push_back(1000 * visual / images);
    }
  }
  std::printf("Ingest cost (medians of %d rounds; images/s end to end, visual encoder ms/image):\n",
              rounds);
  const double base = Median(ips[settings[0].label]);
  for (const Setting& s : settings)
    std::printf("  tta %-10s %7.1f images/s  (x%.2f of %s)  visual %6.1f ms/image\n",
                s.label.c_str(), Median(ips[s.label]), Median(ips[s.label]) / base,
                settings[0].label.c_str(), Median(visual_ms[s.label]));

  std::printf("\nDedup: threshold chosen on dev (best F1), reported on test\n");
  std::printf("  %-10s %-8s %6s | %-24s | %-24s\n", "tta", "linkage", "thr", "dev P / R / F1",
              "test P / R / F1");
  std::map<std::string, Quality> test_quality;
  for (const Setting& s : settings) {
    for (auto linkage : {query::DedupLinkage::kComplete, query::DedupLinkage::kSingle}) {
      float best_t = 0.9f;
      Quality best;
      best.f1 = -1;
      for (int i = 0; i < 100; ++i) {
        const float t = 0.5f + 0.005f * i;
        Quality q = Evaluate(*kept[s.label].dev, t, linkage);
        if (q.f1 > best.f1) best = q, best_t = t;
      }
      Quality q = Evaluate(*kept[s.label].test, best_t, linkage);
      std::printf("  %-10s %-8s %6.3f | %.3f / %.3f / %.3f    | %.3f / %.3f / %.3f\n",
                  s.label.c_str(), query::DedupLinkageName(linkage), best_t, best.precision,
                  best.recall, best.f1, q.precision, q.recall, q.f1);
      if (linkage == query::DedupLinkage::kComplete) test_quality[s.label] = q;
    }
    const Quality at_default = Evaluate(*kept[s.label].test, query::kDefaultDedupThreshold,
                                        query::DedupLinkage::kComplete);
    std::printf(
        "  %-10s %-8s %6.3f |                          | %.3f / %.3f / %.3f  (the default)\n",
        s.label.c_str(), "complete", query::kDefaultDedupThreshold, at_default.precision,
        at_default.recall, at_default.f1);
  }
  std::printf("\nDistinct photos alone (the originals without their copies), complete linkage:\n");
  for (const Setting& s : settings)
    for (const char* split : {"dev", "test"}) {
      const Collection& c = std::string(split) == "dev" ? *kept[s.label].dev : *kept[s.label].test;
      Distinct d = DistinctOriginals(c, query::kDefaultDedupThreshold);
      std::printf("  tta %-10s %-4s  pairs >= %.2f: %zu   most similar pair %.3f (%s)\n",
                  s.label.c_str(), split, query::kDefaultDedupThreshold, d.pairs_at,
                  d.max_similarity, d.max_pair.c_str());
    }
  std::printf(
      "\nPer transformation on test (complete linkage, dev threshold): copies grouped with "
      "their original (recall) / true share of reported pairs with such a copy\n");
  std::printf("  %-16s", "copy");
  for (const Setting& s : settings)
    std::printf(" %15s", s.label.c_str());
  std::printf("\n");
  for (const Transform& t : Transforms()) {
    std::printf("  %-16s", t.name);
    for (const Setting& s : settings)
      std::printf("     %.2f / %.2f", test_quality[s.label].recall_by[t.name],
                  test_quality[s.label].precision_by[t.name]);
    std::printf("\n");
  }

  if (!Flag(argc, argv, "--no-knn")) {
    auto reg = Must(embed::ModelRegistry::Open(models), "registry");
    auto manifest = Must(reg.Get("visual-descriptor"), "visual-descriptor");
    auto enc = Must(
        embed::OpenEncoder(manifest, reg.ModelDir("visual-descriptor"), embed::Modality::kImage),
        "open visual-descriptor");
    std::printf(
        "\nFashion-MNIST kNN (visual descriptor, cosine, majority; k by leave-one-out on "
        "%zu training images, accuracy on %zu test images)\n",
        knn_train, knn_test);
    for (const Setting& s : settings) {
      auto views = Must(ingest::ParseTta(s.tta), s.tta);
      Knn k = RunKnn(*enc, views, knn_train, knn_test);
      std::printf("  tta %-10s k=%-2d  train LOO %.3f  test accuracy %.3f  (%.1f s to encode)\n",
                  s.label.c_str(), k.k, k.loo, k.accuracy, k.seconds);
    }
  }
  fs::remove_all(root);
  return 0;
}
