// tag_bench: image-level object-tag quality of the installed detectors (NanoDet, CenterNet) on
// photos labelled by hand (tests/data/photo_labels.json), and the choice of the rule ingest
// tags images with (embed/objects/tag_fusion.h).
//
//   tag_bench [--labels FILE] [--data DIR] [--models DIR] [--all] [--photos]
//
// --labels: the labels (default tests/data/photo_labels.json); paths in it are relative to
//   --data (default $MOSAIC_DATA_DIR, else .cache/data). --models: the model registry (default:
//   the user's, as `mosaic ingest` uses). --all: print the sweeps on the test photos too.
//   --photos: print every photo's tags under the legacy and the chosen rule.
//
// Each detector runs once per photo as ingest runs it (same decoder, images over 2048 px scaled
// down, the detector's NMS and limits) with candidates down to 0.2; a rule's tags are the
// classes it keeps (FuseTags). A tag is right when the photo's labels have the class (grade 1 or
// 2), wrong when they do not, and ignored when the labels call the class ambiguous. Precision:
// right / (right + wrong) over all tags of all photos; recall: labels found / labels, over
// grade-2 labels (R2) and over all labels (R). Rules tried: each detector alone at thresholds
// 0.2..0.8 (step 0.1), and "both" (a class both detectors report above their thresholds) and
// "either" (above its threshold in at least one) over the 7 x 7 threshold pairs.
//
// The choice is made on the dev photos only, by the best F0.5 (precision weighted twice
// recall: a wrong tag puts a painting among the dogs, a missed one only drops a photo from a tag
// query, which the CLIP vectors still find); ties go to the higher precision, then the simpler
// rule (one detector), then higher thresholds. Its figures on the test photos are then printed
// next to the legacy rule (NanoDet alone at 0.3). Asserts nothing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "embed/objects/object_detector.h"
#include "embed/objects/tag_fusion.h"
#include "embed/registry/registry.h"
#include "media/image_decode.h"
#include "media/image_ops.h"
#include "mosaic/json.h"

namespace {

using namespace mosaic;
using namespace mosaic::embed;
using objects::ClassScores;
using objects::kCocoClasses;
using objects::kCocoLabels;
using objects::TagMode;
using objects::TagRule;
using Clock = std::chrono::steady_clock;

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "tag_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Arg(int argc, char** argv, const char* name, const std::string& dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}
bool Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

int ClassId(const std::string& label) {
  for (int c = 0; c < kCocoClasses; ++c)
    if (kCocoLabels[c] == label) return c;
  return -1;
}

struct Photo {
  std::string path;  // relative to the data folder
  bool dev = false;
  std::array<int, kCocoClasses> grade{};  // 0 absent, 1, 2
  std::array<bool, kCocoClasses> ambiguous{};
  ClassScores nanodet{}, centernet{};
  ClassScores nanodet_legacy{};  // NanoDet fed as before the measurement (LegacyTagRule)
};

ClassScores Tags(const Photo& p, const TagRule& rule) {
  return objects::FuseTags(rule.legacy_nanodet_input ? p.nanodet_legacy : p.nanodet, p.centernet,
                           rule);
}

struct Metrics {
  int right = 0, wrong = 0;
  int found2 = 0, labels2 = 0, found = 0, labels = 0;
  int photos_with_wrong = 0;
  double precision() const { return right + wrong == 0 ? 1.0 : double(right) / (right + wrong); }
  double recall2() const { return labels2 == 0 ? 0.0 : double(found2) / labels2; }
  double recall() const { return labels == 0 ? 0.0 : double(found) / labels; }
  double F(double beta) const {
    const double p = precision(), r = recall(), b2 = beta * beta;
    return p + r == 0 ? 0.0 : (1 + b2) * p * r / (b2 * p + r);
  }
};

Metrics Evaluate(const std::vector<Photo>& photos, bool dev, const TagRule& rule) {
  Metrics m;
  for (const Photo& p : photos) {
    if (p.dev != dev) continue;
    const ClassScores tags = Tags(p, rule);
    bool any_wrong = false;
    for (int c = 0; c < kCocoClasses; ++c) {
      const bool tagged = tags[c] > 0;
      if (p.grade[c] > 0) {
        m.labels++;
        m.found += tagged;
        if (p.grade[c] == 2) {
          m.labels2++;
          m.found2 += tagged;
        }
      }
      if (!tagged || p.ambiguous[c]) continue;
      if (p.grade[c] > 0) {
        m.right++;
      } else {
        m.wrong++;
        any_wrong = true;
      }
    }
    m.photos_with_wrong += any_wrong;
  }
  return m;
}

void PrintHeader() {
  std::printf("   %-20s %5s %5s %6s %6s %6s %6s %6s %9s\n", "rule", "right", "wrong", "P", "R2",
              "R", "F1", "F0.5", "bad phot");
}
void PrintRow(const TagRule& rule, const Metrics& m) {
  std::printf("   %-20s %5d %5d %6.3f %6.3f %6.3f %6.3f %6.3f %4d\n", rule.ToString().c_str(),
              m.right, m.wrong, m.precision(), m.recall2(), m.recall(), m.F(1), m.F(0.5),
              m.photos_with_wrong);
}

// Area under the ROC curve of `score` separating right tags from wrong ones (ties count half).
double Auc(const std::vector<std::pair<double, bool>>& scored) {
  double pos = 0, neg = 0, wins = 0;
  for (const auto& [s, ok] : scored)
    (ok ? pos : neg) += 1;
  for (const auto& [s1, ok1] : scored) {
    if (!ok1) continue;
    for (const auto& [s0, ok0] : scored) {
      if (ok0) continue;
      wins += s1 > s0 ? 1.0 : (s1 == s0 ? 0.5 : 0.0);
    }
  }
  return pos == 0 || neg == 0 ? 0.0 : wins / (pos * neg);
}

std::string Cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Better by the stated criterion (see the file comment).
bool Better(const TagRule& a, const Metrics& ma, const TagRule& b, const Metrics& mb) {
  constexpr double kEps = 1e-9;
  if (std::abs(ma.F(0.5) - mb.F(0.5)) > kEps) return ma.F(0.5) > mb.F(0.5);
  if (std::abs(ma.precision() - mb.precision()) > kEps) return ma.precision() > mb.precision();
  const bool single_a = a.mode == TagMode::kNanoDet || a.mode == TagMode::kCenterNet;
  const bool single_b = b.mode == TagMode::kNanoDet || b.mode == TagMode::kCenterNet;
  if (single_a != single_b) return single_a;
  return a.nanodet_threshold + a.centernet_threshold > b.nanodet_threshold + b.centernet_threshold;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = MOSAIC_SOURCE_DIR;
  const char* env_data = std::getenv("MOSAIC_DATA_DIR");
  const std::string data =
      Arg(argc, argv, "--data", env_data && *env_data ? env_data : root + "/.cache/data");
  const std::string labels_path =
      Arg(argc, argv, "--labels", root + "/tests/data/photo_labels.json");
  const std::string models_dir = Arg(argc, argv, "--models", ModelRegistry::DefaultDir());
  const bool show_all = Flag(argc, argv, "--all");
  const bool show_photos = Flag(argc, argv, "--photos");

  std::ifstream in(labels_path);
  if (!in) Check(Status::NotFound("cannot read the labels " + labels_path), "labels");
  Json labels = Json::parse(in, nullptr, false);
  if (labels.is_discarded() || !labels.contains("photos"))
    Check(Status::InvalidArgument(labels_path + " is not a labels file (no \"photos\")"), "labels");

  auto reg = ModelRegistry::Open(models_dir);
  Check(reg.status(), "model registry");
  std::map<std::string, std::unique_ptr<ObjectDetector>> detectors;
  for (std::string name : {"nanodet", "centernet", "nanodet-legacy"}) {
    const bool legacy = name == "nanodet-legacy";
    auto m = reg->Get(legacy ? "nanodet" : name);
    Check(m.status(), name.c_str());
    auto path = reg->ModelPath(*m, "model");
    Check(path.status(), name.c_str());
    // Candidates down to the lowest threshold tried; a rule's higher threshold then keeps exactly
    // what a detector opened with it would (NMS is per class; the cross-class duplicate check
    // and the object limit favour better boxes).
    auto det = ObjectDetector::Open(*path, {.score_threshold = 0.2f,
                                            .nanodet_unit_rgb_input = legacy,
                                            .model_name = name,
                                            .wordnet_dir = ""});
    Check(det.status(), name.c_str());
    detectors[name] = std::move(*det);
  }

  std::vector<Photo> photos;
  std::map<std::string, double> seconds;
  for (const Json& j : labels["photos"]) {
    Photo p;
    p.path = j.at("path").get<std::string>();
    p.dev = j.at("split").get<std::string>() == "dev";
    for (const auto& [label, grade] : j.at("objects").items()) {
      const int c = ClassId(label);
      if (c < 0)
        Check(Status::InvalidArgument(p.path + ": '" + label + "' is not a COCO label"), "labels");
      p.grade[c] = grade.get<int>();
    }
    for (const auto& label : j.value("ambiguous", Json::array())) {
      const int c = ClassId(label.get<std::string>());
      if (c < 0)
        Check(Status::InvalidArgument(p.path + ": '" + label.dump() + "' is not a COCO label"),
              "labels");
      p.ambiguous[c] = true;
    }
    auto image = media::DecodeImageFile(data + "/" + p.path);
    Check(image.status(), p.path.c_str());
    const int side = std::max(image->width, image->height);
    if (side > 2048) {  // as ingest's prepare stage does (Options::max_model_side)
      const double f = 2048.0 / side;
      *image = media::Resize(*image, std::max(1, int(std::lround(image->width * f))),
                             std::max(1, int(std::lround(image->height * f))),
                             media::ResizeFilter::kBilinear);
    }
    for (auto& [name, det] : detectors) {
      const auto t0 = Clock::now();
      auto found = det->Detect(*image);
      seconds[name] += std::chrono::duration<double>(Clock::now() - t0).count();
      Check(found.status(), p.path.c_str());
      (name == "nanodet"     ? p.nanodet
       : name == "centernet" ? p.centernet
                             : p.nanodet_legacy) = objects::BestPerClass(*found);
    }
    photos.push_back(std::move(p));
  }

  int n_dev = 0, labels_dev = 0, labels_test = 0;
  for (const Photo& p : photos) {
    n_dev += p.dev;
    for (int g : p.grade)
      (p.dev ? labels_dev : labels_test) += g > 0;
  }
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  std::printf("tag_bench %s, %s\n", date, Cpu().c_str());
  std::printf("labels: %s (%zu photos: %d dev with %d labels, %zu test with %d labels)\n",
              labels_path.c_str(), photos.size(), n_dev, labels_dev, photos.size() - n_dev,
              labels_test);
  for (const auto& [name, s] : seconds)
    std::printf("%s: %.1f ms per photo\n", name.c_str(),
                1000 * s / std::max<size_t>(1, photos.size()));

  std::vector<float> thresholds;
  for (int t = 2; t <= 8; ++t)
    thresholds.push_back(t / 10.0f);
  std::vector<TagRule> rules;
  for (float t : thresholds)
    rules.push_back({TagMode::kNanoDet, t, t});
  for (float t : thresholds)
    rules.push_back({TagMode::kCenterNet, t, t});
  for (TagMode mode : {TagMode::kBoth, TagMode::kEither})
    for (float tn : thresholds)
      for (float tc : thresholds)
        rules.push_back({mode, tn, tc});

  auto sweep = [&](bool dev) {
    std::printf("\n%s photos, each detector alone:\n", dev ? "DEV" : "TEST");
    PrintHeader();
    for (const TagRule& r : rules)
      if (r.mode == TagMode::kNanoDet || r.mode == TagMode::kCenterNet)
        PrintRow(r, Evaluate(photos, dev, r));
    for (TagMode mode : {TagMode::kBoth, TagMode::kEither}) {
      std::printf("%s photos, %s, equal thresholds, then the 5 best pairs by F0.5:\n",
                  dev ? "DEV" : "TEST", objects::TagModeName(mode));
      PrintHeader();
      std::vector<std::pair<TagRule, Metrics>> all;
      for (const TagRule& r : rules) {
        if (r.mode != mode) continue;
        Metrics m = Evaluate(photos, dev, r);
        if (r.nanodet_threshold == r.centernet_threshold) PrintRow(r, m);
        all.emplace_back(r, m);
      }
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return Better(a.first, a.second, b.first, b.second);
      });
      std::printf("   --\n");
      for (size_t i = 0; i < std::min<size_t>(5, all.size()); ++i)
        PrintRow(all[i].first, all[i].second);
    }
  };
  sweep(true);
  if (show_all) sweep(false);

  // The choice, on dev only: the best rule overall, and the best thresholds of each mode (the
  // defaults of `mosaic ingest --object-tags MODE`).
  auto best_of = [&](std::optional<TagMode> mode) {
    std::optional<TagRule> best;
    Metrics best_m;
    for (const TagRule& r : rules) {
      if (mode && r.mode != *mode) continue;
      Metrics m = Evaluate(photos, true, r);
      if (!best || Better(r, m, *best, best_m)) {
        best = r;
        best_m = m;
      }
    }
    return *best;
  };
  const TagRule best = best_of(std::nullopt);
  const TagRule legacy = objects::LegacyTagRule();
  std::printf(
      "\nbest on DEV by F0.5, per mode (ingest's defaults, embed/objects/tag_fusion.cc):\n");
  bool stale = false;
  for (TagMode mode : {TagMode::kNanoDet, TagMode::kCenterNet, TagMode::kBoth, TagMode::kEither}) {
    const std::string measured = best_of(mode).ToString(),
                      coded = objects::DefaultTagRule(mode).ToString();
    stale = stale || measured != coded;
    std::printf("   %-8s %-22s default %s%s\n", objects::TagModeName(mode), measured.c_str(),
                coded.c_str(), measured == coded ? "" : "  DIFFERS");
  }
  const std::string coded_default = objects::DefaultTagRule().ToString();
  stale = stale || coded_default != best.ToString();
  std::printf("chosen: %s (ingest's default: %s)%s\n", best.ToString().c_str(),
              coded_default.c_str(),
              stale ? "\nTHE DEFAULTS DIFFER FROM THIS MEASUREMENT: update tag_fusion.cc" : "");
  for (bool dev : {true, false}) {
    std::printf("%s photos:\n", dev ? "DEV" : "TEST (held out)");
    PrintHeader();
    PrintRow(legacy, Evaluate(photos, dev, legacy));
    PrintRow(objects::DefaultTagRule(TagMode::kNanoDet),
             Evaluate(photos, dev, objects::DefaultTagRule(TagMode::kNanoDet)));
    PrintRow(objects::DefaultTagRule(TagMode::kCenterNet),
             Evaluate(photos, dev, objects::DefaultTagRule(TagMode::kCenterNet)));
    PrintRow(best, Evaluate(photos, dev, best));
  }

  // How well each confidence ranks right tags above wrong ones, on dev: for single detectors over
  // all their tags >= 0.2, for the agreed confidence over the tags both report >= 0.2.
  std::vector<std::pair<double, bool>> nano, center, g_min, g_geo, g_mean, g_max, g_n, g_c;
  for (const Photo& p : photos) {
    if (!p.dev) continue;
    for (int c = 0; c < kCocoClasses; ++c) {
      if (p.ambiguous[c]) continue;
      const bool ok = p.grade[c] > 0;
      const float n = p.nanodet[c], k = p.centernet[c];
      if (n >= 0.2f) nano.emplace_back(n, ok);
      if (k >= 0.2f) center.emplace_back(k, ok);
      if (n >= 0.2f && k >= 0.2f) {
        g_min.emplace_back(std::min(n, k), ok);
        g_geo.emplace_back(std::sqrt(n * k), ok);
        g_mean.emplace_back((n + k) / 2, ok);
        g_max.emplace_back(std::max(n, k), ok);
        g_n.emplace_back(n, ok);
        g_c.emplace_back(k, ok);
      }
    }
  }
  auto count = [](const std::vector<std::pair<double, bool>>& v) {
    int ok = 0;
    for (const auto& [s, r] : v)
      ok += r;
    return std::to_string(ok) + " right, " + std::to_string(v.size() - ok) + " wrong";
  };
  std::printf("\nranking AUC of tag confidences on DEV (right tags above wrong ones):\n");
  std::printf("   nanodet alone, tags >= 0.2 (%s): %.3f\n", count(nano).c_str(), Auc(nano));
  std::printf("   centernet alone, tags >= 0.2 (%s): %.3f\n", count(center).c_str(), Auc(center));
  std::printf(
      "   tags both report >= 0.2 (%s): nanodet %.3f, centernet %.3f, min %.3f, geometric mean "
      "%.3f, "
      "mean %.3f, max %.3f\n",
      count(g_min).c_str(), Auc(g_n), Auc(g_c), Auc(g_min), Auc(g_geo), Auc(g_mean), Auc(g_max));

  // The failures the issue names (the labels file lists them), and every photo's tags when asked.
  auto tags_of = [](const Photo& p, const TagRule& r) {
    const ClassScores t = Tags(p, r);
    std::string s;
    for (int c = 0; c < kCocoClasses; ++c) {
      if (t[c] <= 0) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%s %.2f%s", s.empty() ? "" : ", ",
                    std::string(kCocoLabels[c]).c_str(), t[c],
                    p.grade[c] > 0 ? "" : (p.ambiguous[c] ? " (?)" : " (WRONG)"));
      s += buf;
    }
    return s.empty() ? std::string("-") : s;
  };
  std::printf("\nknown failures (%s | %s):\n", legacy.ToString().c_str(), best.ToString().c_str());
  for (const Json& k : labels.value("known_failures", Json::array())) {
    const std::string path = k.value("path", ""), label = k.value("label", "");
    const int c = ClassId(label);
    for (const Photo& p : photos) {
      if (p.path != path || c < 0) continue;
      const auto state = [](float score) {
        char buf[32];
        std::snprintf(buf, sizeof buf, score > 0 ? "TAGGED %.2f" : "not tagged", score);
        return std::string(buf);
      };
      std::printf("   %-4s %-32s %-7s %s | %s\n", p.dev ? "dev" : "test", path.c_str(),
                  label.c_str(), state(Tags(p, legacy)[c]).c_str(),
                  state(Tags(p, best)[c]).c_str());
      std::printf("        all tags: [%s] | [%s]\n", tags_of(p, legacy).c_str(),
                  tags_of(p, best).c_str());
    }
  }
  if (show_photos) {
    std::printf("\nevery photo (%s | %s):\n", legacy.ToString().c_str(), best.ToString().c_str());
    for (const Photo& p : photos)
      std::printf("   %-4s %-38s %s | %s\n", p.dev ? "dev" : "test", p.path.c_str(),
                  tags_of(p, legacy).c_str(), tags_of(p, best).c_str());
  }
  return 0;
}
