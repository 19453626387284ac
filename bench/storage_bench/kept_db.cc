// storage_bench: the modes on a database kept by --keep (main.cc).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <filesystem>
#include <thread>
#include <tuple>

#include "storage_bench/storage_bench.h"

namespace mosaic::bench {
namespace {

// --snapshot-restore: see the top of the file.
struct SnapshotResult {
  double seconds = 0;
  uint64_t points = 0;
  uint64_t graphs_rebuilt = 0;
  uint64_t indexes_rebuilt = 0;  // payload index fields
  uint64_t self_found = 0;  // of kSelfChecks
  uint64_t hwm_kb = 0;
  // A writer of 1-point upserts beside the snapshot, and for as long before it: its longest
  // upsert and count in each.
  double longest_write_ms = 0, longest_write_before_ms = 0;
  uint64_t writes = 0, writes_before = 0;
  uint64_t merging = 0;  // merges pending when the snapshot returned
};
constexpr size_t kSelfChecks = 200;

// Upserts one new point at a time (ids above any the ingest made, new in every run: re-upserting
// ids would retire slots, which start merges of their own) until `stop`; the longest upsert in
// ms and the count. The kept database keeps them (some thousands per run).
std::pair<double, uint64_t> WriteUntil(const Args& a, Collection& c, uint64_t first,
                                       const std::atomic<bool>& stop) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  double longest = 0;
  uint64_t n = 0;
  while (!stop.load()) {
    Point p;
    p.id = PointId(uint64_t{first + n});
    auto& v = p.vectors["v"];
    for (size_t d = 0; d < a.dim; ++d) v.push_back(u(rng));
    const auto t0 = Clock::now();
    Check(c.Upsert(std::span<const Point>(&p, 1)), "upsert beside the snapshot");
    longest = std::max(longest, Seconds(t0, Clock::now()) * 1e3);
    ++n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return {longest, n};
}

// How many of kSelfChecks points spread over `c` (scroll pages from ids far apart) find
// themselves first in a graph search (ef 64).
uint64_t SelfFound(const Args& a, const Collection& c) {
  uint64_t found = 0;
  for (size_t i = 0; i < kSelfChecks; ++i) {
    ScrollRequest s;
    s.offset = PointId(uint64_t{i * (a.points / kSelfChecks)});
    s.limit = 1;
    s.with_payload = false;
    s.with_vectors = true;
    auto page = c.Scroll(s);
    Check(page.status(), "scroll");
    if (page->points.empty()) continue;
    const Point& p = page->points[0];
    SearchRequest q;
    q.vector = p.vectors.at("v");
    q.limit = 1;
    q.ef = 64;
    auto hits = c.Search(q);
    Check(hits.status(), "search");
    found += !hits->empty() && (*hits)[0].id == p.id;
  }
  return found;
}

}  // namespace

// --open-only: opens a kept database `rounds` times each way, segments in memory (the default
// budget) and mapped (budget 0), alternating which goes first.
int OpenOnly(const Args& a) {
  DbOptions heap, mapped;
  mapped.segment_memory_budget_bytes = 0;
  std::vector<OpenResult> runs[2];
  for (int round = 1; round <= a.rounds; ++round)
    for (int k = 0; k < 2; ++k) {
      const int which = (round + k) % 2;
      runs[which].push_back(TimeOpen(a.open_only, which == 0 ? heap : mapped));
    }
  const char* names[2] = {"in memory (default budget)", "mapped (budget 0)"};
  std::printf("open of %s, %d round(s), load average %s\n", a.open_only.c_str(), a.rounds,
              LoadAverage().c_str());
  for (int w = 0; w < 2; ++w) {
    std::vector<double> t, anon, file;
    for (const OpenResult& r : runs[w]) {
      t.push_back(r.open_s);
      anon.push_back(static_cast<double>(r.anon_kb) / 1024);
      file.push_back(static_cast<double>(r.file_kb) / 1024);
    }
    std::printf("%-28s open %.2f s (median; min %.2f), RssAnon %.0f MB, RssFile %.0f MB\n",
                names[w], Median(t), *std::min_element(t.begin(), t.end()), Median(anon),
                Median(file));
  }
  return 0;
}

// --query-only: see the top of the file.
int QueryOnly(const Args& a) {
  const std::vector<float> queries = Queries(a);
  const auto truth = GroundTruth(a, queries);
  const Config seg{"segments", DbOptions{}.compact_below_bytes};
  std::vector<QueryResult> runs;
  for (int round = 1; round <= a.rounds; ++round)
    runs.push_back(InChild<QueryResult>(
        [&] { return OpenAndQuery(a, seg, a.query_only, queries, truth); }));
  std::vector<double> open, anon, hwm;
  for (const QueryResult& r : runs) {
    open.push_back(r.open_s);
    anon.push_back(static_cast<double>(r.anon_kb) / 1024);
    hwm.push_back(static_cast<double>(r.hwm_kb) / 1024);
  }
  std::printf("queries on %s, %d round(s), load average %s\n", a.query_only.c_str(), a.rounds,
              LoadAverage().c_str());
  std::printf("open %.2f s, RssAnon after it %.0f MiB, VmHWM %.0f MiB (medians)\n", Median(open),
              Median(anon), Median(hwm));
  for (size_t e = 0; e < a.efs.size(); ++e) {
    std::vector<double> q, c;
    for (const QueryResult& r : runs) q.push_back(r.qps[e]), c.push_back(r.cpu_qps[e]);
    std::printf("ef %4zu recall@10 %.4f  %7.0f q/s (wall) %7.0f q/s (CPU time), 1 thread\n",
                a.efs[e], runs[0].recall[e], Median(q), Median(c));
  }
  return 0;
}

// --switch-cost: see the top of the file.
int SwitchCost(const Args& a) {
  DbOptions o;
  o.wal_flush_bytes = static_cast<uint64_t>(a.wal_flush_mb * 1024 * 1024);
  // Small flushes come faster than merges drain them: unpaced, so that the Upserts' times are
  // theirs and the switches', not the pacing's.
  o.slowdown_segments = 0;
  auto db = Db::Open(a.switch_cost, o);
  Check(db.status(), "open " + a.switch_cost);
  auto coll = (*db)->GetCollection("c");
  Check(coll.status(), "get collection");
  Collection& c = **coll;
  CollectionInfo info = c.Info();
  std::printf("Upserts of %zu points into %s (%" PRIu64 " points, %" PRIu64
              " segments), wal_flush_bytes %.0f MiB, until %d merge(s) switched in; load average "
              "%s\n",
              a.batch, a.switch_cost.c_str(), info.points, info.segments, a.wal_flush_mb,
              a.rounds, LoadAverage().c_str());
  std::vector<std::string> tags(kTags, "t");
  for (uint32_t t = 0; t < kTags; ++t) tags[t] += std::to_string(t);
  Stream stream(a.dim, kPointSeed + static_cast<uint64_t>(::getpid()));
  // Ids of this process's own: above the ingest's, apart from any earlier run's.
  uint64_t next_id = a.points + (static_cast<uint64_t>(::getpid()) << 32);
  std::vector<Point> batch(a.batch);
  std::vector<double> plain, flushing, switching;
  uint64_t merges = info.merges_done, wal = info.wal_bytes;
  while (switching.size() < static_cast<size_t>(a.rounds)) {
    for (Point& p : batch) {
      p.id = PointId(next_id++);
      std::vector<float>& v = p.vectors["v"];
      v.resize(a.dim);
      uint32_t tag, n;
      stream.Next(v.data(), &tag, &n);
      p.payload = Json{{"tag", tags[tag]}, {"n", n}};
    }
    const auto t0 = Clock::now();
    Check(c.Upsert(batch), "upsert");
    const double ms = Seconds(t0, Clock::now()) * 1e3;
    info = c.Info();
    if (!info.background_error.empty()) Die(kName, "flush failed: " + info.background_error);
    const bool switched = info.merges_done > merges, flushed = info.wal_bytes < wal;
    (switched ? switching : flushed ? flushing : plain).push_back(ms);
    if (switched || flushed)
      std::fprintf(stderr, "Upsert %zu: %.1f ms%s%s, %" PRIu64 " segments\n",
                   plain.size() + flushing.size() + switching.size(), ms,
                   switched ? ", a merge switched in" : "", flushed ? ", a flush started" : "",
                   info.segments);
    merges = info.merges_done;
    wal = info.wal_bytes;
  }
  auto show = [](const char* what, std::vector<double> v) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    std::printf("%-28s %4zu, median %7.1f ms, longest %7.1f ms\n", what, v.size(),
                v[v.size() / 2], v.back());
  };
  show("Upserts, plain", plain);
  show("  starting a flush", flushing);
  show("  meeting a merge switch", switching);
  return 0;
}

int SnapshotRestore(const Args& a) {
  const std::string db_dir = a.snapshot_restore, snap = db_dir + ".snapshot";
  std::printf("snapshot and restore of %s, %d restore round(s), load average %s\n",
              db_dir.c_str(), a.rounds, LoadAverage().c_str());
  const SnapshotResult made = InChild<SnapshotResult>([&] {
    SnapshotResult r;
    auto db = Db::Open(db_dir, DbOptions{});
    Check(db.status(), "open " + db_dir);
    auto coll = (*db)->GetCollection("c");
    Check(coll.status(), "get collection");
    std::atomic<bool> stop{false};
    std::pair<double, uint64_t> before, during;
    // Ids of this process's own: above the ingest's, apart from any earlier run's.
    const uint64_t first = a.points + (static_cast<uint64_t>(::getpid()) << 32);
    std::thread writer([&] { before = WriteUntil(a, **coll, first, stop); });
    std::this_thread::sleep_for(std::chrono::seconds(10));
    stop = true;
    writer.join();
    stop = false;
    writer = std::thread([&] { during = WriteUntil(a, **coll, first + before.second, stop); });
    const auto t0 = Clock::now();
    Check((*db)->CreateSnapshot("c", snap), "snapshot");
    r.seconds = Seconds(t0, Clock::now());
    r.merging = (*coll)->Info().merges_pending;
    stop = true;
    writer.join();
    std::tie(r.longest_write_before_ms, r.writes_before) = before;
    std::tie(r.longest_write_ms, r.writes) = during;
    r.points = (*coll)->Info().points;
    r.self_found = SelfFound(a, **coll);
    r.hwm_kb = ProcField("/proc/self/status", "VmHWM");
    return r;
  });
  std::printf("snapshot: %.2f s, %" PRIu64 " points (%" PRIu64
              "/%zu find themselves first before it), %.1f MB file, peak RSS %.0f MB\n",
              made.seconds, made.points, made.self_found, kSelfChecks,
              static_cast<double>(std::filesystem::file_size(snap)) / 1e6,
              static_cast<double>(made.hwm_kb) / 1024);
  std::printf("1-point upserts beside it: longest %.1f ms of %" PRIu64
              " (10 s before it: longest %.1f ms of %" PRIu64 "); %s\n",
              made.longest_write_ms, made.writes, made.longest_write_before_ms, made.writes_before,
              made.merging ? "a merge was running when it returned" : "no merge running after it");
  std::vector<double> times;
  for (int round = 1; round <= a.rounds; ++round) {
    const SnapshotResult r = InChild<SnapshotResult>([&] {
      SnapshotResult r;
      auto db = Db::Open(db_dir, DbOptions{});
      Check(db.status(), "open " + db_dir);
      const auto t0 = Clock::now();
      auto restored = (*db)->RestoreSnapshot(snap, "restored");
      Check(restored.status(), "restore");
      r.seconds = Seconds(t0, Clock::now());
      Collection& c = **restored;
      const CollectionInfo info = c.Info();
      r.points = info.points;
      r.graphs_rebuilt = info.graphs_rebuilt.size();
      r.indexes_rebuilt = info.payload_indexes_rebuilt.size();
      r.self_found = SelfFound(a, c);
      r.hwm_kb = ProcField("/proc/self/status", "VmHWM");
      restored->reset();
      Check((*db)->DropCollection("restored"), "drop the restored collection");
      return r;
    });
    std::printf("restore round %d: %.2f s, %" PRIu64 " points, %" PRIu64 " graphs and %" PRIu64
                " payload indexes rebuilt, %" PRIu64
                "/%zu points find themselves first, peak RSS %.0f MB\n",
                round, r.seconds, r.points, r.graphs_rebuilt, r.indexes_rebuilt, r.self_found,
                kSelfChecks,
                static_cast<double>(r.hwm_kb) / 1024);
    times.push_back(r.seconds);
  }
  std::printf("restore: %.2f s median (min %.2f)\n", Median(times),
              *std::min_element(times.begin(), times.end()));
  if (!a.keep) std::filesystem::remove(snap);
  return 0;
}

}  // namespace mosaic::bench
