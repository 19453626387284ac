// snapshot_bench: snapshot and restore of an HNSW collection (docs/benchmarks.md, "Snapshots and
// restore"). Builds a collection of N clustered random vectors (HNSW, the schema's default M 16 and
// ef_construction 200), deletes a share of them (so the snapshot's renumbering repairs lists), then:
//   - writes snapshots while a writer thread upserts one point at a time: the snapshot's time, the
//     time until its view is taken (the writer lock is held for part of it: the collection's
//     files and log are mapped), and the writer's worst upsert latency during the snapshots
//     against the same writer's worst latency without one;
//   - restores the snapshot (an archive of the files: graphs loaded) and the same points as a
//     version-1 snapshot (one segment file, no graph: what the build before graph sections wrote,
//     rebuilt at open; made from the collection's segment after a compaction), alternating the
//     order per round; medians and the ratio.
// Usage: snapshot_bench [--n 200000] [--dim 128] [--rounds 3] [--restore-rounds 3]
//                       [--delete 0.05] [--dir DIR]
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "common/sync_point.h"
#include "mosaic/db.h"
#include "storage/segment.h"

namespace {

using namespace mosaic;
using bench::Clock;
using bench::Die;
using bench::Median;
using bench::Seconds;

constexpr char kBench[] = "snapshot_bench";

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(kBench, what + ": " + s.ToString());
}

struct Options {
  size_t n = 200000;
  uint32_t dim = 128;
  int rounds = 3;          // snapshots under the writer
  int restore_rounds = 3;  // of each restore kind
  double delete_share = 0.05;
  std::string dir = "/tmp/mosaic-snapshot-bench";
};

// Points around 1000 random centers.
class Generator {
 public:
  explicit Generator(uint32_t dim) : dim_(dim), rng_(42) {
    std::uniform_real_distribution<float> u(-10, 10);
    centers_.resize(1000 * size_t{dim});
    for (float& x : centers_) x = u(rng_);
  }
  Point Make(uint64_t id) {
    Point p;
    p.id = id;
    const float* c = centers_.data() + (rng_() % 1000) * size_t{dim_};
    auto& v = p.vectors["v"];
    v.resize(dim_);
    for (uint32_t i = 0; i < dim_; ++i) v[i] = c[i] + noise_(rng_);
    p.payload = {{"n", id}};
    return p;
  }

 private:
  uint32_t dim_;
  std::mt19937_64 rng_;
  std::normal_distribution<float> noise_{0, 1};
  std::vector<float> centers_;
};

// Upserts one point at a time until stopped, recording each call's latency in seconds.
class Writer {
 public:
  Writer(std::shared_ptr<Collection> c, Generator* gen, uint64_t first_id)
      : c_(std::move(c)), gen_(gen), next_(first_id) {}
  void Start() {
    stop_ = false;
    latencies_.clear();
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        Point p = gen_->Make(next_++);
        const auto t0 = Clock::now();
        Check(c_->Upsert(std::vector<Point>{p}), "writer upsert");
        latencies_.push_back(Seconds(t0, Clock::now()));
      }
    });
  }
  std::vector<double> Stop() {
    stop_ = true;
    thread_.join();
    return latencies_;
  }

 private:
  std::shared_ptr<Collection> c_;
  Generator* gen_;
  uint64_t next_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<double> latencies_;
};

double Max(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") o.n = std::stoul(argv[i + 1]);
    else if (a == "--dim") o.dim = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--rounds") o.rounds = std::stoi(argv[i + 1]);
    else if (a == "--restore-rounds") o.restore_rounds = std::stoi(argv[i + 1]);
    else if (a == "--delete") o.delete_share = std::stod(argv[i + 1]);
    else if (a == "--dir") o.dir = argv[i + 1];
    else Die(kBench, "unknown option " + a);
  }
  std::filesystem::remove_all(o.dir);
  std::filesystem::create_directories(o.dir);
  DbOptions options;
  options.sync = SyncPolicy::kNever;  // the bench measures locks and CPU, not fsync
  auto db = Db::Open(o.dir + "/db", options);
  Check(db.status(), "open");
  CollectionSchema schema;
  schema.vectors = {{"v", o.dim, Metric::kL2, StorageType::kFloat32}};
  schema.vectors[0].index.kind = IndexKind::kHnsw;  // m 16, ef_construction 200 (the defaults)
  auto c = (*db)->CreateCollection("c", schema);
  Check(c.status(), "create");
  Generator gen(o.dim);

  auto t0 = Clock::now();
  for (size_t first = 0; first < o.n; first += 10000) {
    std::vector<Point> batch;
    for (size_t id = first; id < std::min(o.n, first + 10000); ++id) batch.push_back(gen.Make(id));
    Check((*c)->Upsert(batch), "upsert");
  }
  Check((*c)->Flush(), "flush");
  const double build = Seconds(t0, Clock::now());
  std::vector<PointId> gone;
  for (size_t id = 0; id < o.n; ++id)
    if (static_cast<double>(id % 1000) < o.delete_share * 1000) gone.emplace_back(uint64_t{id});
  Check((*c)->Delete(gone).status(), "delete");
  std::printf("snapshot_bench: %zu points x %u dims, HNSW m 16 ef_construction 200, %zu deleted "
              "(not compacted); built and flushed in %.1f s\n",
              o.n, o.dim, gone.size(), build);

  // --- snapshots under a writer ---
  const std::string snap = o.dir + "/c.snapshot";
  Writer writer(*c, &gen, 1'000'000'000);
  writer.Start();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::vector<double> quiet = writer.Stop();
  std::vector<double> totals, views, during;
  Clock::time_point view_at;
  sync_point::SetCallback([&](std::string_view point) {
    if (point == "CollectionImpl::WriteSnapshot:ViewTaken") view_at = Clock::now();
  });
  for (int r = 0; r < o.rounds; ++r) {
    writer.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto s0 = Clock::now();
    Check((*db)->CreateSnapshot("c", snap), "snapshot");
    const auto s1 = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<double> l = writer.Stop();
    during.push_back(Max(l));
    totals.push_back(Seconds(s0, s1));
    views.push_back(Seconds(s0, view_at));
  }
  sync_point::SetCallback(nullptr);
  std::printf("snapshot write (archive): median %.3f s; view taken after median %.1f ms "
              "(writer lock held for part of it)\n",
              Median(totals), 1e3 * Median(views));
  std::printf("writer, 1-point upserts: worst latency without a snapshot %.1f ms (%zu upserts in "
              "2 s), worst during each snapshot: median %.1f ms, max %.1f ms\n",
              1e3 * Max(quiet), quiet.size(), 1e3 * Median(during),
              1e3 * *std::max_element(during.begin(), during.end()));

  if (o.restore_rounds == 0) return 0;
  // --- restore: graphs loaded vs rebuilt ---
  const std::string old = o.dir + "/c-v1.snapshot";
  {
    // A collection segment's metadata is its config, as a snapshot's was: after a compaction,
    // its one segment holds the live points, and its points alone are a version-1 snapshot.
    Check((*c)->Compact(), "compact");
    const Json current =
        Json::parse(*Env::Default()->ReadFile(o.dir + "/db/collections/c/CURRENT"));
    char name[32];
    std::snprintf(name, sizeof(name), "seg-%06llu.seg",
                  static_cast<unsigned long long>(current["segments"][0]["gen"].get<uint64_t>()));
    auto seg = storage::Segment::Open(Env::Default(), o.dir + "/db/collections/c/" + name);
    Check(seg.status(), "open snapshot");
    Check((*seg)->WritePoints(Env::Default(), old), "write version-1 snapshot");
    std::printf("snapshot archive %.1f MB, version 1 %.1f MB (points only)\n",
                static_cast<double>(std::filesystem::file_size(snap)) / 1e6,
                static_cast<double>(std::filesystem::file_size(old)) / 1e6);
  }
  std::vector<double> with_graph, rebuilt;
  int n = 0;
  auto restore = [&](const std::string& path, std::vector<double>* out) {
    const std::string name = "r" + std::to_string(n++);
    const auto r0 = Clock::now();
    auto r = (*db)->RestoreSnapshot(path, name);
    const double secs = Seconds(r0, Clock::now());
    Check(r.status(), "restore " + path);
    const CollectionInfo info = (*r)->Info();
    std::printf("  restore %-14s %7.2f s, %zu points, graphs rebuilt: %s, payload indexes "
                "rebuilt: %zu\n",
                std::filesystem::path(path).filename().c_str(), secs,
                static_cast<size_t>(info.points),
                info.graphs_rebuilt.empty() ? "none" : info.graphs_rebuilt[0].c_str(),
                info.payload_indexes_rebuilt.size());
    out->push_back(secs);
    r->reset();
    Check((*db)->DropCollection(name), "drop");
  };
  for (int r = 0; r < o.restore_rounds; ++r) {
    if (r % 2 == 0) {
      restore(snap, &with_graph);
      restore(old, &rebuilt);
    } else {
      restore(old, &rebuilt);
      restore(snap, &with_graph);
    }
  }
  std::printf("restore: with graph median %.2f s, version 1 (graph rebuilt) median %.2f s: "
              "%.1fx faster\n",
              Median(with_graph), Median(rebuilt), Median(rebuilt) / Median(with_graph));
  return 0;
}
