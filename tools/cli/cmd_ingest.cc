// mosaic ingest: folders and files of images, video, documents and audio into a collection.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli.h"
#include "embed/objects/tag_fusion.h"
#include "ingest/ingest.h"
#include "ingest/tta.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic ingest PATH... --collection NAME [options]    (PATH '-': one path per stdin line)\n"
    "\n"
    "Scans files and folders (recursively), recognizes images, videos, documents (txt, md, html, pdf)\n"
    "and audio by their content, runs every installed encoder (`mosaic models list`) and stores the\n"
    "points in the collection, creating it if needed. Running it again only processes what changed\n"
    "(size and mtime, then content hash); an interrupted run (Ctrl-C, kill) resumes without\n"
    "duplicates. Files that cannot be read or decoded are reported and skipped.\n"
    "\n"
    "  --collection NAME     the collection (created with one vector per installed vector model)\n"
    "  --include GLOB        only files matching (repeatable; GLOB with '/' matches the path below\n"
    "                        the given folder, else the file name), e.g. --include '*.jpg'\n"
    "  --exclude GLOB        skip files and folders matching (repeatable)\n"
    "  --hidden              also take dot-files and dot-folders\n"
    "  --sync                remove the points of files under PATH that no longer exist\n"
    "  --force               re-ingest files even when unchanged\n"
    "  --encoders LIST       use only these of the installed: clip,visual,objects,faces,ocr,speech\n"
    "  --models DIR          the model registry (default $MOSAIC_MODELS, else ~/.local/share/mosaic/models)\n"
    "  --object-tags RULE    how images get object tags: both[:TN,TC] (default: NanoDet >= 0.3 and\n"
    "                        CenterNet >= 0.4 agree), nanodet[:T], centernet[:T], either[:TN,TC], or\n"
    "                        legacy (NanoDet alone at 0.3, as before; for comparisons)\n"
    "  --tta VIEWS           test-time augmentation of image vectors: flip, crop or flip,crop also\n"
    "                        encode each image mirrored / its central 80% and average (none: off;\n"
    "                        default: none, or what the collection was made with; docs/dedup.md)\n"
    "  --threads N           prepare (read/decode) workers (default: one per core)\n"
    "  --model-threads N     ONNX Runtime threads per model run (default: one per core)\n"
    "  --batch N             images per model batch (default 16)\n"
    "  --max-pixels N        refuse larger images (default 178956970)\n"
    "  --thumbnail N         thumbnail size in pixels, longer side (default 256; 0: none)\n"
    "  --keyframe-interval S at most one keyframe per S seconds within a video shot (default 10)\n"
    "  --chunk-tokens N      document chunk size (default: what the text encoder reads, else 256)\n"
    "  --errors FILE         JSON-lines error log (default DB/logs/ingest-NAME.jsonl)\n"
    "  --json                print the summary as JSON\n"
    "  --quiet               no progress bar\n"
    "\n"
    "Exit status: 0 when every file was ingested, 1 when some failed (see the summary), 2 usage.\n";

std::atomic<int> g_signals{0};
void OnSignal(int) { g_signals.fetch_add(1); }

std::string Duration(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof(buf), "%dm%02ds", int(s / 60), int(s) % 60);
  else std::snprintf(buf, sizeof(buf), "%.0fs", s);
  return buf;
}

// One-line progress on a terminal: bar, files, bytes, rate, ETA, errors.
class Bar {
 public:
  explicit Bar(bool enabled) : tty_(enabled && isatty(STDERR_FILENO)), enabled_(enabled) {}
  void Draw(const ingest::Progress& p) {
    if (!enabled_) return;
    const double frac = p.bytes_total ? double(p.bytes_done) / p.bytes_total
                                      : (p.files_total ? double(p.files_done) / p.files_total : 0);
    const double rate = p.elapsed_s > 0 ? p.files_done / p.elapsed_s : 0;
    const double byte_rate = p.elapsed_s > 0 ? p.bytes_done / p.elapsed_s : 0;
    const double eta = byte_rate > 0 && p.bytes_total > p.bytes_done ? (p.bytes_total - p.bytes_done) / byte_rate : 0;
    // Files being worked on: a long video or recording shows up here before it is done.
    const uint64_t active = p.files_started > p.files_done ? p.files_started - p.files_done : 0;
    char files[64];
    std::snprintf(files, sizeof(files), "%llu/%llu files%s", (unsigned long long)p.files_done,
                  (unsigned long long)p.files_total, active ? (" (" + std::to_string(active) + " active)").c_str() : "");
    char line[320];
    if (tty_) {
      constexpr int kWidth = 24;
      std::string bar(static_cast<size_t>(kWidth * std::min(1.0, frac)), '#');
      bar.resize(kWidth, '.');
      std::snprintf(line, sizeof(line), "\r[%s] %s  %s/%s  %.1f files/s  ETA %s  %llu errors \033[K",
                    bar.c_str(), files, HumanBytes(p.bytes_done).c_str(), HumanBytes(p.bytes_total).c_str(), rate,
                    Duration(eta).c_str(), (unsigned long long)p.errors);
      std::fputs(line, stderr);
      drawn_ = true;
    } else if (p.elapsed_s - last_line_ >= 10) {  // logs: a line every 10 s
      last_line_ = p.elapsed_s;
      std::snprintf(line, sizeof(line), "ingest: %s, %s/%s, %.1f files/s, %llu errors\n", files, HumanBytes(p.bytes_done).c_str(), HumanBytes(p.bytes_total).c_str(), rate,
                    (unsigned long long)p.errors);
      std::fputs(line, stderr);
    }
  }
  void Clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool tty_, enabled_;
  bool drawn_ = false;
  double last_line_ = 0;
};

Json StatsJson(const std::string& collection, const ingest::Stats& s, const std::string& log) {
  Json errors = Json::array();
  for (const auto& e : s.errors)
    errors.push_back({{"path", e.path}, {"stage", e.stage}, {"code", StatusCodeName(e.status.code())},
                      {"error", e.status.message()}});
  Json enc = Json::object();
  for (const auto& [role, sec] : s.encoder_s) enc[role] = sec;
  return {{"collection", collection}, {"files_seen", s.files_seen}, {"files_unsupported", s.files_unsupported},
          {"files_new", s.files_new}, {"files_changed", s.files_changed}, {"files_touched", s.files_touched},
          {"files_unchanged", s.files_unchanged}, {"files_deleted", s.files_deleted},
          {"files_failed", s.files_failed}, {"files_interrupted", s.files_interrupted},
          {"points_written", s.points_written},
          {"points_deleted", s.points_deleted}, {"bytes_read", s.bytes_read}, {"seconds", s.seconds},
          {"prepare_s", s.prepare_s}, {"encode_s", s.encode_s}, {"write_s", s.write_s},
          {"encoder_s", enc}, {"images_encoded", s.images_encoded}, {"cancelled", s.cancelled},
          {"errors", errors}, {"error_log", log}};
}

void PrintSummary(const std::string& collection, const ingest::Stats& s, const std::string& log) {
  std::printf("%s '%s': %llu new, %llu changed, %llu touched, %llu unchanged, %llu deleted, %llu failed",
              s.cancelled ? "interrupted; run again to resume. ingested into" : "ingested into", collection.c_str(),
              (unsigned long long)s.files_new, (unsigned long long)s.files_changed,
              (unsigned long long)s.files_touched, (unsigned long long)s.files_unchanged,
              (unsigned long long)s.files_deleted, (unsigned long long)s.files_failed);
  if (s.files_interrupted) std::printf(", %llu stopped mid-file", (unsigned long long)s.files_interrupted);
  if (s.files_unsupported) std::printf(" (%llu unsupported files skipped)", (unsigned long long)s.files_unsupported);
  const uint64_t done = s.files_new + s.files_changed;
  std::printf("\npoints: %llu written, %llu deleted; %s read in %.1f s (%.2f files/s, %s/s)\n",
              (unsigned long long)s.points_written, (unsigned long long)s.points_deleted,
              HumanBytes(s.bytes_read).c_str(), s.seconds, done / std::max(1e-9, s.seconds),
              HumanBytes(static_cast<uint64_t>(s.bytes_read / std::max(1e-9, s.seconds))).c_str());
  std::string enc;
  for (const auto& [role, sec] : s.encoder_s) {
    char b[64];
    std::snprintf(b, sizeof(b), "%s%s %.1f", enc.empty() ? "" : ", ", role.c_str(), sec);
    enc += b;
  }
  if (!enc.empty()) enc = " (" + enc + ")";
  std::printf("busy time: prepare %.1f s (all workers), encode %.1f s%s, write %.1f s; %llu images encoded\n",
              s.prepare_s, s.encode_s, enc.c_str(), s.write_s, (unsigned long long)s.images_encoded);
  if (!s.errors.empty()) {
    std::printf("errors (%zu)%s:\n", s.errors.size(), log.empty() ? "" : (", also in " + log).c_str());
    for (const auto& e : s.errors) std::printf("  %-7s %s\n", e.stage.c_str(), e.status.ToString().c_str());
  }
}

}  // namespace

int RunIngest(Args& args) {
  if (auto stop = CheckFlags(args, {"collection", "include", "exclude", "hidden", "sync", "force", "encoders",
                                    "models", "object-tags", "tta", "threads", "model-threads", "batch", "max-pixels", "thumbnail",
                                    "keyframe-interval", "chunk-tokens", "errors", "json", "quiet", "help", "db"},
                             kHelp))
    return *stop;
  auto collection = args.Get("collection");
  if (!collection) return Usage("--collection is required", kHelp);
  std::vector<std::string> paths;
  while (auto p = args.Next()) paths.push_back(*p);
  if (paths.size() == 1 && paths[0] == "-") {
    paths.clear();
    for (std::string line; std::getline(std::cin, line);)
      if (!line.empty()) paths.push_back(line);
  }
  if (paths.empty()) return Usage("no paths given", kHelp);

  ingest::Options o;
  o.include = args.GetAll("include");
  o.exclude = args.GetAll("exclude");
  o.hidden = args.Has("hidden");
  o.sync = args.Has("sync");
  o.force = args.Has("force");
  o.models_dir = args.GetOr("models", "");
  o.encoders = args.GetList("encoders");
  if (auto rule = args.Get("object-tags")) {
    if (auto parsed = embed::objects::ParseTagRule(*rule); !parsed.ok()) return Usage(parsed.status().message(), kHelp);
    o.object_tags = *rule;
  }
  if (auto tta = args.Get("tta")) {
    if (auto parsed = ingest::ParseTta(*tta); !parsed.ok()) return Usage(parsed.status().message(), kHelp);
    o.tta = *tta;
  }
  struct IntFlag {
    const char* name;
    long long fallback, min;
  };
  auto get = [&](IntFlag f) -> Result<long long> {
    auto v = args.GetInt(f.name, f.fallback);
    if (v.ok() && *v < f.min)
      return Status::InvalidArgument(std::string("--") + f.name + " must be at least " + std::to_string(f.min) +
                                     ", got " + std::to_string(*v));
    return v;
  };
  auto threads = get({"threads", 0, 0});
  auto model_threads = get({"model-threads", 0, 0});
  auto batch = get({"batch", 16, 1});
  auto max_pixels = get({"max-pixels", static_cast<long long>(o.max_pixels), 1});
  auto thumb = get({"thumbnail", 256, 0});
  auto chunk = get({"chunk-tokens", 0, 0});
  for (const auto* r : {&threads, &model_threads, &batch, &max_pixels, &thumb, &chunk})
    if (!r->ok()) return Usage(r->status().message(), kHelp);
  o.prepare_threads = static_cast<int>(*threads);
  o.model_threads = static_cast<int>(*model_threads);
  o.batch = static_cast<int>(*batch);
  o.max_pixels = static_cast<uint64_t>(*max_pixels);
  o.thumbnail_size = static_cast<int>(*thumb);
  o.chunk_tokens = static_cast<size_t>(*chunk);
  if (auto k = args.Get("keyframe-interval")) {
    char* end = nullptr;
    double v = std::strtod(k->c_str(), &end);
    if (end == k->c_str() || *end != '\0' || !(v > 0))
      return Usage("--keyframe-interval must be a positive number of seconds, got '" + *k + "'", kHelp);
    o.video_keyframe_interval_s = v;
  }
  const std::string db_path = DbPath(args);
  o.error_log = args.GetOr("errors", db_path + "/logs/ingest-" + *collection + ".jsonl");

  // Ctrl-C / SIGTERM: finish the files in flight, write them, stop; a second signal kills. Set
  // before the database is opened, so a signal during set-up also ends in a clean stop.
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  if (!args.Has("errors")) ::mkdir((db_path + "/logs").c_str(), 0755);
  auto ing = ingest::Ingestor::Open(db->get(), *collection, o);
  if (!ing.ok()) return Fail(ing.status());

  std::atomic<bool> done{false};
  ingest::Ingestor* ingestor = ing->get();
  std::thread watcher([&] {
    while (!done) {
      if (g_signals.load() > 0) {
        ingestor->Cancel();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  Bar bar(!args.Has("quiet") && !args.Has("json"));
  auto stats = (*ing)->Run(paths, [&](const ingest::Progress& p) { bar.Draw(p); });
  done = true;
  watcher.join();
  bar.Clear();
  if (!stats.ok()) return Fail(stats.status());
  if (args.Has("json")) {
    std::printf("%s\n", StatsJson(*collection, *stats, o.error_log).dump(2).c_str());
  } else {
    PrintSummary(*collection, *stats, stats->errors.empty() ? "" : o.error_log);
  }
  return stats->files_failed > 0 ? kExitError : (stats->cancelled ? 130 : kExitOk);
}

}  // namespace mosaic::cli
