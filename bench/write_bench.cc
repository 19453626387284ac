// write_bench: single-point upserts per second into one collection from 1, 2, 4 and 8 writer
// threads under SyncPolicy::kAlways (every write fsynced before it returns), with group commit
// (DbOptions::max_write_group_bytes at its default) and without (0: every write logged and synced
// alone, as before group commit), in the same run. Each cell runs for --seconds on a fresh
// collection; the two modes alternate which goes first per cell and round; medians over --rounds
// and their ratio are printed. The database lives under --dir (default: the system temp dir),
// which should be on the disk being measured (a tmpfs makes fsync free). Also printed: the
// median writes per log sync with grouping (1 without) and the mean latency of a log sync.
//
//   write_bench [--dir D] [--rounds 5] [--seconds 1] [--dims 128] [--threads 1,2,4,8]
#include <unistd.h>

#include <algorithm>
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
#include "mosaic/env.h"
#include "mosaic/env_wrapper.h"

namespace mosaic::bench {
namespace {

constexpr char kName[] = "write_bench";

struct Args {
  std::string dir = std::filesystem::temp_directory_path().string();
  int rounds = 5;
  double seconds = 1.0;
  uint32_t dims = 128;
  std::vector<int> threads = {1, 2, 4, 8};
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") a.dir = v;
    else if (k == "--rounds") a.rounds = std::stoi(v);
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--dims") a.dims = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--threads") a.threads = ParseList<int>(v);  // comma-separated
    else Die(kName, "unknown option " + k);
  }
  return a;
}

// The default Env, counting the syncs of log files and the time they take (to print writes per
// sync and the mean sync latency).
class SyncCountingEnv final : public EnvWrapper {
 public:
  SyncCountingEnv() : EnvWrapper(Env::Default()) {}
  std::atomic<uint64_t> wal_syncs{0};
  std::atomic<uint64_t> wal_sync_ns{0};

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return Wrap(p, target()->NewWritableFile(p));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return Wrap(p, target()->NewAppendableFile(p));
  }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> f, SyncCountingEnv* env) : f_(std::move(f)), env_(env) {}
    Status Append(std::string_view d) override { return f_->Append(d); }
    Status Sync() override {
      if (env_ == nullptr) return f_->Sync();
      const auto start = Clock::now();
      Status s = f_->Sync();
      env_->wal_sync_ns += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
      ++env_->wal_syncs;
      return s;
    }
    Status Close() override { return f_->Close(); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    std::unique_ptr<WritableFile> f_;
    SyncCountingEnv* env_;  // null: not a log
  };
  Result<std::unique_ptr<WritableFile>> Wrap(const std::string& p,
                                             Result<std::unique_ptr<WritableFile>> f) {
    if (!f.ok()) return f.status();
    const bool wal = p.find("/wal-") != std::string::npos;
    return std::unique_ptr<WritableFile>(
        std::make_unique<File>(std::move(f).value(), wal ? this : nullptr));
  }
};

struct CellResult {
  double rate = 0;             // upserts/s
  double writes_per_sync = 0;  // of the log
  double sync_ms = 0;          // mean log sync latency
};

// Upserts/s of `threads` writers, each writing single points (distinct ids) for `seconds`.
CellResult Run(const Args& a, int threads, bool grouped, int cell) {
  const std::string path = a.dir + "/write_bench-" + std::to_string(::getpid()) + "-" +
                           std::to_string(cell);
  std::filesystem::remove_all(path);
  SyncCountingEnv env;
  DbOptions opt;
  opt.env = &env;
  opt.sync = SyncPolicy::kAlways;
  if (!grouped) opt.max_write_group_bytes = 0;
  CellResult result;
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
    const uint64_t syncs_before = env.wal_syncs, sync_ns_before = env.wal_sync_ns;
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
    result.rate = static_cast<double>(total) / elapsed;
    const double syncs = static_cast<double>(std::max<uint64_t>(1, env.wal_syncs - syncs_before));
    result.writes_per_sync = static_cast<double>(total) / syncs;
    result.sync_ms = static_cast<double>(env.wal_sync_ns - sync_ns_before) / syncs * 1e-6;
  }
  std::filesystem::remove_all(path);
  return result;
}

}  // namespace
}  // namespace mosaic::bench

int main(int argc, char** argv) {
  using namespace mosaic::bench;
  const Args a = Parse(argc, argv);
  std::printf("write_bench: single-point upserts/s, kAlways, %u-dim cosine flat, %.1f s per cell, "
              "%d rounds, dir %s\n", a.dims, a.seconds, a.rounds, a.dir.c_str());
  const std::vector<int>& thread_counts = a.threads;
  // [threads][grouped] -> rates, writes per sync over rounds
  std::vector<std::vector<std::vector<double>>> rates(thread_counts.size(),
                                                      std::vector<std::vector<double>>(2));
  auto per_sync = rates, sync_ms = rates;
  int cell = 0;
  for (int r = 0; r < a.rounds; ++r) {
    for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
      const bool grouped_first = (r + static_cast<int>(ti)) % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        const bool grouped = grouped_first == (k == 0);
        const CellResult r = Run(a, thread_counts[ti], grouped, cell++);
        rates[ti][grouped].push_back(r.rate);
        per_sync[ti][grouped].push_back(r.writes_per_sync);
        sync_ms[ti][grouped].push_back(r.sync_ms);
      }
    }
    std::fprintf(stderr, "round %d done\n", r + 1);
  }
  std::printf("%8s %14s %14s %8s %16s %14s %14s\n", "threads", "alone (ups/s)", "grouped",
              "ratio", "grouped writes/sync", "alone sync ms", "grouped sync ms");
  for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
    const double alone = Median(rates[ti][0]), grouped = Median(rates[ti][1]);
    std::printf("%8d %14.0f %14.0f %7.2fx %16.2f %14.2f %14.2f\n", thread_counts[ti], alone,
                grouped, alone > 0 ? grouped / alone : 0, Median(per_sync[ti][1]),
                Median(sync_ms[ti][0]), Median(sync_ms[ti][1]));
  }
  return 0;
}
