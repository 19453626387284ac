// ingest_bench: end-to-end ingest throughput (files/s, MB/s, images/s) of a photo folder and of
// sample videos, where the run spends its time (prepare vs encoders vs writes), and whether the
// pipeline keeps the models busy: end-to-end images/s against the same encoders run alone over
// the same pre-decoded images, in the same process (goal: ratio ≥ 0.9).
//
//   ingest_bench [--models DIR] [--encoders clip,visual,...] [--clip DIR|none] [--copies N]
//                [--rounds N] [--videos a.avi,b.mp4|none] [--prepare-threads N] [--model-threads N]
//
// --models: the model registry (default: the user's, ModelRegistry::DefaultDir()). It is read,
//   never modified.
// --clip: a CLIP model folder (default: the random-weight ViT-B/32-shaped model made by
//   scripts/models/make-bench-models). When present, the photo measurement is repeated with it
//   added to the installed models, in a temporary registry.
// --encoders: roles to use (default: all installed).
// --copies: how many times the sample photos are copied into the folder (default: ~100 files).
// --prepare-threads, --model-threads: ingest::Options of the same names (default 0: one per core);
//   --model-threads applies to "encoders alone" too.
// --rounds: rounds of "encoders alone" and "end to end", alternating which goes first (default 2);
//   medians are reported. Asserts nothing.
#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "ingest/encoders.h"
#include "ingest/ingest.h"
#include "media/image_decode.h"
#include "mosaic/db.h"
#include "mosaic/filter.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace mosaic;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) {
    std::fprintf(stderr, "ingest_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
    std::exit(1);
  }
}

std::string Arg(int argc, char** argv, const char* flag, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return fallback;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// Sample photos (not drawings, textures, charts or calibration targets) from the fetched data.
std::vector<std::string> SamplePhotos(const std::string& root) {
  const std::string data = root + "/.cache/data";
  const std::string opencv = root + "/.cache/debs/opencv-doc/usr/share/doc/opencv-doc/examples/data";
  std::vector<std::string> candidates;
  for (const char* n : {"astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "motorcycle_right.png",
                        "rocket.jpg", "camera.png", "coins.png", "moon.png", "hubble_deep_field.jpg"})
    candidates.push_back(data + "/skimage/" + n);
  for (const char* n : {"dog.jpg", "eagle.jpg", "giraffe.jpg", "horses.jpg", "kite.jpg", "person.jpg"})
    candidates.push_back(data + "/darknet/" + n);
  for (const char* n : {"HappyFish.jpg", "aero1.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg",
                        "fruits.jpg", "home.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "stuff.jpg"})
    candidates.push_back(opencv + "/" + n);
  std::vector<std::string> out;
  for (auto& c : candidates)
    if (fs::exists(c)) out.push_back(std::move(c));
  return out;
}

std::string RolesLine(const ingest::EncoderSet& enc) {
  std::string s;
  for (const auto& m : enc.models) s += (s.empty() ? "" : ", ") + m.role + "=" + m.model;
  return s;
}

// The image encoders in the order the ingest runs them (ingestor.cc, EncodeImages).
std::vector<std::pair<const char*, embed::Encoder*>> ImageEncoders(const ingest::EncoderSet& enc) {
  std::vector<std::pair<const char*, embed::Encoder*>> out;
  for (auto [role, e] : {std::pair<const char*, embed::Encoder*>{"clip", enc.clip_image.get()},
                         {"visual", enc.visual.get()},
                         {"objects", enc.objects.get()},
                         {"faces", enc.faces.get()},
                         {"ocr", enc.ocr.get()}})
    if (e != nullptr) out.emplace_back(role, e);
  return out;
}

// "Encoders alone": the ingest's model work without the pipeline. Groups of `batch` images, each
// encoder over the group in chunks of its max_batch, as EncodeImages does. Returns seconds;
// adds per-encoder seconds to `per`.
double EncodersAlone(const ingest::EncoderSet& enc, const std::vector<media::Image>& images, int batch,
                     std::map<std::string, double>& per) {
  auto start = Clock::now();
  for (size_t g = 0; g < images.size(); g += batch) {
    const size_t n = std::min<size_t>(batch, images.size() - g);
    for (auto [role, e] : ImageEncoders(enc)) {
      auto t0 = Clock::now();
      const size_t step = std::max(1, e->max_batch());
      for (size_t b = 0; b < n; b += step) {
        std::vector<embed::EncoderInput> in(std::min(step, n - b));
        for (size_t i = 0; i < in.size(); ++i) in[i].image = &images[g + b + i];
        Check(e->Encode(in).status(), std::string("encoder ") + role);
      }
      per[role] += Seconds(t0, Clock::now());
    }
  }
  return Seconds(start, Clock::now());
}

struct IngestRun {
  ingest::Stats stats;
  double wall = 0;                    // Run() only, not opening the models
  std::vector<Json> primary_payloads;  // of kind `kind`, when asked for
};

// Ingests `paths` into a fresh database under `work`.
IngestRun Ingest(const std::string& work, const ingest::Options& o, const std::vector<std::string>& paths,
                 const char* kind = nullptr) {
  static int n = 0;
  const std::string dir = work + "/db-" + std::to_string(n++);
  IngestRun r;
  {
    auto db = Db::Open(dir);
    Check(db.status(), "opening " + dir);
    auto ing = ingest::Ingestor::Open(db->get(), "bench", o);
    Check(ing.status(), "opening the ingest");
    auto t0 = Clock::now();
    auto stats = (*ing)->Run(paths);
    r.wall = Seconds(t0, Clock::now());
    Check(stats.status(), "ingest");
    r.stats = std::move(*stats);
    if (!r.stats.errors.empty())
      std::fprintf(stderr, "  (%zu files failed, first: %s: %s)\n", r.stats.errors.size(),
                   r.stats.errors[0].path.c_str(), r.stats.errors[0].status.ToString().c_str());
    if (kind != nullptr) {
      auto coll = (*db)->GetCollection("bench");
      Check(coll.status(), "collection");
      auto f = Filter::FromJson({{"must", {{{"key", "kind"}, {"match", {{"value", kind}}}}}}});
      Check(f.status(), "filter");
      ScrollRequest req;
      req.filter = *f;
      req.limit = 1000;
      auto page = (*coll)->Scroll(req);
      Check(page.status(), "scroll");
      for (const auto& p : page->points) r.primary_payloads.push_back(p.payload);
    }
  }
  fs::remove_all(dir);
  return r;
}

double EncoderSeconds(const ingest::Stats& s, const std::string& role) {
  for (const auto& [r, sec] : s.encoder_s)
    if (r == role) return sec;
  return 0;
}

// "prepare 12.1 s (48% of wall), encode ..., write ..." and the busy shares.
void PrintShares(const ingest::Stats& s, double wall) {
  const double busy = s.prepare_s + s.encode_s + s.write_s;
  std::printf("    busy time (summed over threads; %% of all busy time | %% of wall):\n");
  std::printf("      prepare (read, hash, decode, thumbnail, shots) %7.2f s  %5.1f%% | %5.1f%%\n", s.prepare_s,
              100 * s.prepare_s / busy, 100 * s.prepare_s / wall);
  std::printf("      encode  (all models, one thread)             %7.2f s  %5.1f%% | %5.1f%%\n", s.encode_s,
              100 * s.encode_s / busy, 100 * s.encode_s / wall);
  std::printf("      write   (Collection::Replace)                 %7.2f s  %5.1f%% | %5.1f%%\n", s.write_s,
              100 * s.write_s / busy, 100 * s.write_s / wall);
  std::string per;
  for (const auto& [role, sec] : s.encoder_s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.2f s", per.empty() ? "" : ", ", role.c_str(), sec);
    per += buf;
  }
  std::printf("      per encoder: %s\n", per.c_str());
}

// Copies `photos` `copies` times into `dir` under distinct names.
uint64_t MakeFolder(const std::vector<std::string>& photos, int copies, const std::string& dir) {
  fs::create_directories(dir);
  uint64_t bytes = 0;
  for (int c = 0; c < copies; ++c)
    for (const auto& p : photos) {
      const std::string to = dir + "/c" + std::to_string(c) + "_" + fs::path(p).filename().string();
      fs::copy_file(p, to, fs::copy_options::overwrite_existing);
      bytes += fs::file_size(to);
    }
  return bytes;
}

// The photo measurement with the models of registry `models_dir`.
void BenchPhotos(const std::string& label, ingest::Options o, const std::string& folder, uint64_t folder_bytes,
                 const std::vector<media::Image>& images, int rounds, const std::string& work) {
  const std::string models_dir = o.models_dir;
  const std::vector<std::string> encoders = o.encoders;
  // The same choice and session options as Ingestor::Open.
  auto models = ingest::ChooseModels(models_dir, encoders, Json::object());
  Check(models.status(), "choosing models");
  embed::SessionOptions so;
  so.intra_op_threads = o.model_threads;
  so.allow_spinning = false;
  auto enc = ingest::OpenEncoders(std::move(*models), so);
  Check(enc.status(), "opening the encoders");
  std::printf("\n== photos, %s: %s\n", label.c_str(), RolesLine(*enc).c_str());
  if (ImageEncoders(*enc).empty()) {
    std::printf("   no image encoder installed: skipped\n");
    return;
  }
  {  // warm-up: first runs allocate ORT arenas
    std::map<std::string, double> ignore;
    std::vector<media::Image> few(images.begin(), images.begin() + std::min<size_t>(4, images.size()));
    EncodersAlone(*enc, few, o.batch, ignore);
  }

  std::vector<double> alone_ips, e2e_ips, e2e_fps, e2e_mbps;
  std::vector<std::map<std::string, double>> alone_per;
  std::vector<IngestRun> runs;
  std::printf("   %-6s %20s %20s\n", "round", "encoders alone img/s", "end to end img/s");
  for (int r = 0; r < rounds; ++r) {
    double a = 0, e = 0;
    auto alone = [&] {
      std::map<std::string, double> per;
      const double s = EncodersAlone(*enc, images, o.batch, per);
      a = images.size() / s;
      alone_ips.push_back(a);
      alone_per.push_back(std::move(per));
    };
    auto end_to_end = [&] {
      IngestRun run = Ingest(work, o, {folder});
      e = run.stats.images_encoded / run.wall;
      e2e_ips.push_back(e);
      e2e_fps.push_back((run.stats.files_new + run.stats.files_changed) / run.wall);
      e2e_mbps.push_back(run.stats.bytes_read / 1e6 / run.wall);
      runs.push_back(std::move(run));
    };
    // Alternate which goes first: the machine is shared and the first of a pair may run cooler.
    if (r % 2) {
      end_to_end();
      alone();
    } else {
      alone();
      end_to_end();
    }
    std::printf("   %-6d %20.2f %20.2f\n", r + 1, a, e);
  }
  const double a = Median(alone_ips), e = Median(e2e_ips);
  std::printf("   %-6s %20.2f %20.2f   ratio %.3f (goal >= 0.90: %s)\n", "median", a, e, e / a,
              e / a >= 0.9 ? "met" : "NOT met");
  std::printf("   end to end: %.2f files/s, %.2f MB/s (%zu files, %.1f MB)\n", Median(e2e_fps), Median(e2e_mbps),
              images.size(), folder_bytes / 1e6);

  // The run closest to the median, for the shares.
  size_t mid = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    if (std::abs(e2e_ips[i] - e) < std::abs(e2e_ips[mid] - e)) mid = i;
  const IngestRun& run = runs[mid];
  std::printf("   stage shares of end-to-end round %zu (wall %.2f s):\n", mid + 1, run.wall);
  PrintShares(run.stats, run.wall);
  std::printf("   per-encoder seconds, alone (median) vs in the pipeline (that round):\n");
  for (auto [role, unused] : ImageEncoders(*enc)) {
    std::vector<double> v;
    for (const auto& m : alone_per) v.push_back(m.at(role));
    const double al = Median(v), in = EncoderSeconds(run.stats, role);
    std::printf("      %-8s %7.2f s  %7.2f s  (x%.2f)\n", role, al, in, in / al);
  }
}

void BenchVideos(const ingest::Options& o, const std::vector<std::string>& videos, int rounds,
                 const std::string& work) {
  std::printf("\n== videos (registry %s; keyframe interval %.0f s)\n", o.models_dir.c_str(),
              o.video_keyframe_interval_s);
  std::printf("   %-16s %7s %6s %7s %9s %7s %5s %9s %8s %8s %8s\n", "video", "video s", "MB", "wall s", "video s/s",
              "MB/s", "shots", "keyframes", "prepare", "encode", "write");
  auto one = [&](const std::string& name, const std::vector<std::string>& paths) {
    std::vector<double> walls;
    std::vector<IngestRun> runs;
    for (int r = 0; r < rounds; ++r) {
      runs.push_back(Ingest(work, o, paths, "video"));
      walls.push_back(runs.back().wall);
    }
    const double wall = Median(walls);
    size_t mid = 0;
    for (size_t i = 0; i < runs.size(); ++i)
      if (std::abs(walls[i] - wall) < std::abs(walls[mid] - wall)) mid = i;
    const IngestRun& run = runs[mid];
    double duration = 0;
    uint64_t shots = 0;
    for (const auto& p : run.primary_payloads) {
      duration += p.value("duration", 0.0);
      shots += p.value("shots", uint64_t{0});
    }
    const auto& s = run.stats;
    const double busy = s.prepare_s + s.encode_s + s.write_s;
    std::printf("   %-16s %7.1f %6.2f %7.2f %9.2f %7.2f %5llu %9llu %7.1f%% %7.1f%% %7.1f%%\n", name.c_str(), duration,
                s.bytes_read / 1e6, wall, duration / wall, s.bytes_read / 1e6 / wall,
                static_cast<unsigned long long>(shots), static_cast<unsigned long long>(s.images_encoded),
                100 * s.prepare_s / busy, 100 * s.encode_s / busy, 100 * s.write_s / busy);
    return run;
  };
  std::vector<IngestRun> last;
  for (const auto& v : videos) last.push_back(one(fs::path(v).filename().string(), {v}));
  if (videos.size() > 1) last.push_back(one("all in one run", videos));
  std::printf("   stage busy seconds (prepare / encode / write; per encoder):\n");
  for (size_t i = 0; i < last.size(); ++i) {
    const auto& s = last[i].stats;
    std::string per;
    for (const auto& [role, sec] : s.encoder_s) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s %.2f", role.c_str(), sec);
      per += buf;
    }
    std::printf("   %-16s %.2f / %.2f / %.2f;%s\n",
                i < videos.size() ? fs::path(videos[i]).filename().c_str() : "all in one run", s.prepare_s,
                s.encode_s, s.write_s, per.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = MOSAIC_SOURCE_DIR;
  const std::string models_dir = Arg(argc, argv, "--models", embed::ModelRegistry::DefaultDir());
  const std::string clip_dir = Arg(argc, argv, "--clip", root + "/.cache/models-bench/clip-random-b32-openai");
  const std::vector<std::string> encoders = SplitComma(Arg(argc, argv, "--encoders", ""));
  const int rounds = std::max(1, std::stoi(Arg(argc, argv, "--rounds", "2")));
  std::vector<std::string> videos;
  for (const auto& v : SplitComma(Arg(argc, argv, "--videos", "vtest.avi,Megamind.avi,cockatoo.mp4"))) {
    if (v == "none") break;
    const std::string p = v.find('/') == std::string::npos ? root + "/.cache/data/video/" + v : v;
    if (fs::exists(p)) videos.push_back(fs::canonical(p).string());
    else std::printf("(video %s not found: skipped)\n", p.c_str());
  }

  char tmpl[] = "/tmp/ingest_bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Check(Status::IOError("mkdtemp failed"), "temp dir");
  const std::string work = tmpl;

  const auto photos = SamplePhotos(root);
  if (photos.empty()) Check(Status::NotFound("no sample photos under .cache (run scripts/fetch-data)"), "photos");
  const int copies = std::max(1, std::stoi(Arg(argc, argv, "--copies",
                                               std::to_string(std::max<size_t>(1, (100 + photos.size() / 2) / photos.size())))));
  const std::string folder = work + "/photos";
  const uint64_t folder_bytes = MakeFolder(photos, copies, folder);

  // Pre-decode the folder as the prepare stage does (same decoder and limits).
  std::vector<media::Image> images;
  uint64_t pixels = 0;
  ingest::Options defaults;
  for (const auto& e : fs::directory_iterator(folder)) {
    auto bytes = media::ReadFileBytes(e.path().string());
    Check(bytes.status(), e.path().string());
    media::DecodeOptions d;
    d.max_pixels = defaults.max_pixels;
    auto img = media::DecodeImage(*bytes, d);
    Check(img.status(), e.path().string());
    pixels += static_cast<uint64_t>(img->width) * img->height;
    images.push_back(std::move(*img));
  }
  std::printf("ingest_bench: %u hardware threads, %d rounds per measurement (medians), batch %d\n",
              std::thread::hardware_concurrency(), rounds, defaults.batch);
  std::printf("photo folder: %zu files (%zu photos x %d copies), %.1f MB, mean %.2f MP\n", images.size(),
              photos.size(), copies, folder_bytes / 1e6, pixels / 1e6 / images.size());

  ingest::Options base;
  base.models_dir = models_dir;
  base.encoders = encoders;
  base.prepare_threads = std::stoi(Arg(argc, argv, "--prepare-threads", "0"));
  base.model_threads = std::stoi(Arg(argc, argv, "--model-threads", "0"));
  std::printf("prepare threads %d, model threads %d (0: one per core)\n", base.prepare_threads, base.model_threads);
  BenchPhotos("installed models (" + models_dir + ")", base, folder, folder_bytes, images, rounds, work);

  // With the CLIP-shaped model, in a temporary registry: the installed models plus it.
  const bool clip_wanted = encoders.empty() || std::find(encoders.begin(), encoders.end(), "clip") != encoders.end();
  auto clip_manifest = clip_dir == "none" ? Result<embed::ModelManifest>(Status::NotFound("--clip none"))
                                          : embed::ReadManifest(clip_dir);
  if (clip_wanted && !clip_manifest.ok()) {
    std::printf("\n(no CLIP model at %s: %s; scripts/models/make-bench-models makes one. Skipped.)\n",
                clip_dir.c_str(), clip_manifest.status().ToString().c_str());
  } else if (clip_wanted) {
    const std::string reg_dir = work + "/models";
    auto reg = embed::ModelRegistry::Open(reg_dir);
    Check(reg.status(), "temporary registry");
    auto user = embed::ModelRegistry::Open(models_dir);
    Check(user.status(), "registry " + models_dir);
    for (const auto& m : user->List())
      if (m.family != "clip") Check(reg->Add(m, user->ModelDir(m.name)).status(), "copying model " + m.name);
    Check(reg->Add(*clip_manifest, clip_dir).status(), "adding " + clip_dir);
    ingest::Options with_clip = base;
    with_clip.models_dir = reg_dir;
    BenchPhotos("installed models + " + clip_manifest->name, with_clip, folder, folder_bytes, images, rounds, work);
  }

  if (!videos.empty()) BenchVideos(base, videos, rounds, work);
  fs::remove_all(work);
  return 0;
}
