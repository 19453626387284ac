// write_bench: single-point upserts per second into one collection from 1, 2, 4 and 8 writer
// threads under SyncPolicy::kAlways (every write fsynced before it returns), with group commit
// (DbOptions::max_write_group_bytes at its default) and without (0: every write logged and synced
// alone, as before group commit), in the same run. Each cell runs for --seconds on a fresh
// collection; the two modes alternate which goes first per cell and round; medians over --rounds
// and their ratio are printed. The database lives under --dir (default: the system temp dir),
// which should be on the disk being measured (a tmpfs makes fsync free).
//
//   write_bench [--dir D] [--rounds 5] [--seconds 1] [--dims 128]
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mosaic/db.h"

namespace mosaic::bench {
namespace {

constexpr char kName[] = "write_bench";

struct Args {
  std::string dir = std::filesystem::temp_directory_path().string();
  int rounds = 5;
  double seconds = 1.0;
  uint32_t dims = 128;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") a.dir = v;
    else if (k == "--rounds") a.rounds = std::stoi(v);
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--dims") a.dims = static_cast<uint32_t>(std::stoul(v));
    else Die(kName, "unknown option " + k);
  }
  return a;
}

// Upserts/s of `threads` writers, each writing single points (distinct ids) for `seconds`.
double Run(const Args& a, int threads, bool grouped, int cell) {
  const std::string path = a.dir + "/write_bench-" + std::to_string(::getpid()) + "-" +
                           std::to_string(cell);
  std::filesystem::remove_all(path);
  DbOptions opt;
  opt.sync = SyncPolicy::kAlways;
  if (!grouped) opt.max_write_group_bytes = 0;
  double rate = 0;
  {
    auto db = Db::Open(path, opt);
    if (!db.ok()) Die(kName, db.status().ToString());
    CollectionSchema schema;
    schema.vectors = {{"v", a.dims, Metric::kCosine, StorageType::kFloat32}};
    schema.vectors[0].index.kind = IndexKind::kFlat;  // the log is measured, not a graph
    auto c = (*db)->CreateCollection("c", schema);
    if (!c.ok()) Die(kName, c.status().ToString());
    std::atomic<bool> stop{false};
    std::vector<uint64_t> written(threads, 0);
    std::vector<std::thread> pool;
    const auto start = Clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        std::mt19937 rng(t);
        std::uniform_real_distribution<float> u(-1, 1);
        Point p;
        p.payload = {{"writer", t}};
        std::vector<float>& v = p.vectors["v"];
        v.resize(a.dims);
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          p.id = static_cast<uint64_t>(t) << 32 | i;
          for (float& x : v) x = u(rng);
          Status s = (*c)->Upsert(std::span<const Point>(&p, 1));
          if (!s.ok()) Die(kName, s.ToString());
          ++written[t];
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
    stop = true;
    for (auto& th : pool) th.join();
    const double elapsed = Seconds(start, Clock::now());
    uint64_t total = 0;
    for (uint64_t n : written) total += n;
    rate = static_cast<double>(total) / elapsed;
  }
  std::filesystem::remove_all(path);
  return rate;
}

}  // namespace
}  // namespace mosaic::bench

int main(int argc, char** argv) {
  using namespace mosaic::bench;
  const Args a = Parse(argc, argv);
  std::printf("write_bench: single-point upserts/s, kAlways, %u-dim cosine flat, %.1f s per cell, "
              "%d rounds, dir %s\n", a.dims, a.seconds, a.rounds, a.dir.c_str());
  const std::vector<int> thread_counts = {1, 2, 4, 8};
  // [threads][grouped] -> rates over rounds
  std::vector<std::vector<std::vector<double>>> rates(thread_counts.size(),
                                                      std::vector<std::vector<double>>(2));
  int cell = 0;
  for (int r = 0; r < a.rounds; ++r) {
    for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
      const bool grouped_first = (r + static_cast<int>(ti)) % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        const bool grouped = grouped_first == (k == 0);
        rates[ti][grouped].push_back(Run(a, thread_counts[ti], grouped, cell++));
      }
    }
    std::fprintf(stderr, "round %d done\n", r + 1);
  }
  std::printf("%8s %14s %14s %8s\n", "threads", "alone (ups/s)", "grouped", "ratio");
  for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
    const double alone = Median(rates[ti][0]), grouped = Median(rates[ti][1]);
    std::printf("%8d %14.0f %14.0f %7.2fx\n", thread_counts[ti], alone, grouped,
                alone > 0 ? grouped / alone : 0);
  }
  return 0;
}
