// storage_bench: ingest at scale through the public API (issue 16), multi-segment flushes against
// rewriting the whole collection at every flush, in the same run.
//
// Data: --points clustered vectors of --dim floats (1000 Gaussian centres uniform in [-10, 10],
// each point a random centre plus N(0, 1) noise per component; fixed seeds), each with a payload
// {"tag": one of 100 keywords, "n": an integer}, both indexed; HNSW (m 16, ef_construction 200)
// with SQ8, L2. One writer thread upserts --batch points per call into a fresh database under
// --dir, with default DbOptions (SyncPolicy::kAlways) but for wal_flush_bytes (--wal-flush-mb)
// and, per configuration:
//   segments      the defaults: a flush seals the points since the last one as a new segment;
//                 merges (tiered, merge_factor neighbours of about one size; max_segments) run
//                 in the background; the first merge gives the first segment its SQ8 codes;
//   rewrite-all   compact_below_bytes = max: every flush compacts, i.e. rewrites the whole
//                 collection under the writer lock (Mosaic before multi-segment collections).
//
// Per configuration: the time spent in Upsert (vector generation excluded) and vectors/s; bytes
// written to disk (/proc/self/io write_bytes, this process only, so the page cache's view: a file
// deleted before writeback still counts) over bytes ingested (vectors as f32 + payloads as compact
// JSON); the longest Upsert (the write stall: a flush or compaction runs inside the Upsert that
// passes the threshold), p99 and median Upsert; after the last Upsert, the wait until no merge
// is pending (counted in a second vectors/s figure); peak RSS (VmHWM); Info() at the end; the size of
// the files on disk; the time to reopen (Db::Open + GetCollection, which replays the log's tail)
// and the memory the process then owns (RssAnon), once with the default segment memory budget
// and once more, in a child of its own, with every segment memory-mapped (budget 0);
// then, single thread, recall@10 and queries/s of --queries fresh points from the same centres for
// each --ef, against ground truth by brute force over all points (computed once, before the runs),
// and the lowest ef reaching recall 0.95. The ingest and the reopen + queries each run in a forked
// child, so that peak RSS is per configuration and per phase. The configurations alternate which
// goes first per round; with --rounds > 1 every figure is the median over rounds.
//
//   storage_bench [--points 1000000] [--dim 128] [--batch 1000] [--rounds 1] [--wal-flush-mb 64]
//                 [--queries 200] [--ef 16,24,...,512] [--dir D] [--keep] [--text-words 0]
//                 [--only-segments] [--search-during-ingest] [--peers usearch,lancedb]
//                 [--only-peers] [--memory-limit-gb G]
//                 [--lance-chunk 100000]
//   storage_bench --open-only DB_DIR [--rounds 5]
//   storage_bench --snapshot-restore DB_DIR [--rounds 3]
//   storage_bench --query-only DB_DIR --points N [--rounds 2]
//   storage_bench --switch-cost DB_DIR [--wal-flush-mb 2] [--batch 1000] [--rounds 3]
//
// --peers runs the same points through USearch (UsearchPeer) and LanceDB (LancePeer) in the same
// run, each after the Mosaic configurations in round 1 (the jobs rotate by one each round), and
// ends with a table of the three: vectors/s from the first point to a durable, searchable index,
// peak RSS, bytes on disk, queries/s at recall@10 0.95 (1 thread). --only-segments skips the
// rewrite-all configuration, --only-peers both Mosaic configurations (for a peers' run of its
// own on the same points; its table's Mosaic column is then empty). --search-during-ingest runs one thread of
// searches (ef 64) beside the writer from half the points on until the merges have drained, and
// reports their latency with and without a merge pending (it takes a core from the ingest, so
// the write figures of such a run are not those of a run without it). --open-only times only the opens of a
// database kept by --keep (DB_DIR is e.g. storage_bench-<pid>/segments-r1), --rounds times each
// way, in memory and mapped, alternating which goes first, each in a child of its own.
// --snapshot-restore snapshots collection "c" of such a database into DB_DIR.snapshot, then
// restores it as a new collection --rounds times, each in a child of its own (which drops it
// after): the restore's time, whether it rebuilt a graph or a payload index, and whether 200 of
// the restored points find themselves first in a graph search (ef 64). A thread upserts one new
// point per millisecond for 10 s before the snapshot and during it, for the longest upsert in
// each: what the snapshot costs writers.
//
// --query-only DB_DIR opens such a database (of --points points, for the ground truth) and
// queries it as after a run's reopen, --rounds times, each in a child of its own.
// --switch-cost DB_DIR upserts --batch fresh points at a time into such a database, with
// --wal-flush-mb as wal_flush_bytes (small: flushes, then merges of the small segments they
// make, come often), until --rounds merges have switched in: how long the Upserts took that met
// a merge switching in (under the writer lock, renumbering the state of every point), against
// those that started a flush and the others; writes are not paced (slowdown_segments 0). The
// database keeps the points.
//
// --memory-limit-gb G runs each ingest in a memory cgroup of its own limited to G GiB (cgroup v1,
// root): the limit charges page cache as well as heap, so the run shows whether the ingest fits a
// machine of that size, where VmHWM also counts mapped file pages the kernel would give back.
// The summary adds the most the cgroup was charged and how often the limit was met.
//
// --text-words N gives each point a "note" of N words too, with a text (BM25) index on it: words
// drawn Zipf-like (s = 1) from 30,000 made-up words by a generator of their own (the vectors stay
// those of a run without text). The reopen is then also timed once more with the segments' index
// files removed, i.e. with the payload and text indexes rebuilt from the payloads, as every open
// did before index files.
//
// --dir is the parent directory (default: the system temp dir, which should be on the disk being
// measured); the databases go in a fresh storage_bench-<pid>/ under it, removed at the end unless
// --keep.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "simd/distance.h"
#include "storage_bench/storage_bench.h"

namespace mosaic::bench {
namespace {

struct Run {
  IngestResult ingest;
  QueryResult query;
  OpenResult mapped;  // a reopen with every segment mapped
};

// The index of the lowest ef whose recall reaches kTargetRecall, or -1.
int LowestEf(const std::vector<double>& recall) {
  for (size_t e = 0; e < recall.size(); ++e)
    if (recall[e] >= kTargetRecall) return static_cast<int>(e);
  return -1;
}

void Row(const char* what, double seg, double all, const char* fmt) {
  char a[32], b[32];
  std::snprintf(a, sizeof a, fmt, seg);
  std::snprintf(b, sizeof b, fmt, all);
  if (all != 0)
    std::printf("%-44s %14s %14s %9.2fx\n", what, a, b, seg / all);
  else
    std::printf("%-44s %14s %14s %10s\n", what, a, b, "-");
}

}  // namespace
}  // namespace mosaic::bench

int main(int argc, char** argv) {
  using namespace mosaic;
  using namespace mosaic::bench;
  const Args a = Parse(argc, argv);
  if (!a.open_only.empty()) return OpenOnly(a);
  if (!a.snapshot_restore.empty()) return SnapshotRestore(a);
  if (!a.query_only.empty()) return QueryOnly(a);
  if (!a.switch_cost.empty()) return SwitchCost(a);
  const Config configs[2] = {{"segments", DbOptions{}.compact_below_bytes},
                             {"rewrite-all", UINT64_MAX}};
  const std::string base = a.dir + "/storage_bench-" + std::to_string(::getpid());
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  std::printf("storage_bench: %zu points x %u dims (%u clusters), payload tag (keyword, %u values) "
              "+ n (integer)%s, all indexed; HNSW m 16 ef_construction 200 SQ8, L2; %zu points per "
              "Upsert, one writer; default DbOptions (sync kAlways) with wal_flush_bytes %.0f MiB; "
              "segments = merge_factor %zu, max_segments %zu, max_segment_bytes %.0f MiB, "
              "slowdown_segments %zu, merges in the background; "
              "rewrite-all = every flush compacts; %d round(s); dir %s; %zu queries, recall@%zu\n",
              a.points, a.dim, kCentres, kTags,
              a.text_words > 0 ? (" + note (text, " + std::to_string(a.text_words) + " words)").c_str() : "",
              a.batch, a.wal_flush_mb,
              DbOptions{}.merge_factor, DbOptions{}.max_segments,
              static_cast<double>(DbOptions{}.max_segment_bytes) / (1 << 20),
              DbOptions{}.slowdown_segments, a.rounds, base.c_str(),
              a.queries, kK);
  std::printf("load average at start (uptime): %s\n", LoadAverage().c_str());

  const std::vector<float> queries = Queries(a);
  const auto gt0 = Clock::now();
  const std::vector<std::vector<uint64_t>> truth = GroundTruth(a, queries);
  std::printf("ground truth: %zu queries by brute force over %zu points in %.1f s (%s)\n",
              a.queries, a.points, Seconds(gt0, Clock::now()),
              simd::LevelName(simd::ActiveLevel()));

  // Per round each job in turn, starting one later each round: segments, rewrite-all (unless
  // --only-segments), then the --peers.
  std::vector<std::string> jobs;
  if (!a.only_peers) jobs.push_back("segments");
  if (!a.only_segments && !a.only_peers) jobs.push_back("rewrite-all");
  jobs.insert(jobs.end(), a.peers.begin(), a.peers.end());
  std::vector<Run> runs[2];
  std::vector<PeerResult> peer_runs[2];  // usearch, lancedb
  auto print_peer = [&](int round, const char* name, const PeerResult& r) {
    const std::vector<double> recall(r.recall, r.recall + a.efs.size());
    const int e = LowestEf(recall);
    std::printf("round %d %-11s: %.1f s adding, %.1f s indexing, %.1f s saving (%.0f vectors/s "
                "to a durable index), peak RSS %.0f MB, %.0f MB on disk; recall@%zu %.3f at ef "
                "%zu, %.0f queries/s\n",
                round, name, r.ingest_s, r.index_s + r.scalar_index_s, r.save_s,
                static_cast<double>(a.points) / r.total_s(), static_cast<double>(r.hwm_kb) / 1024,
                static_cast<double>(r.disk_bytes) / 1e6, kK, recall[e >= 0 ? e : recall.size() - 1],
                a.efs[e >= 0 ? e : a.efs.size() - 1], r.qps[e >= 0 ? e : a.efs.size() - 1]);
  };
  for (int round = 1; round <= a.rounds; ++round) {
    for (size_t k = 0; k < jobs.size(); ++k) {
      const std::string& job = jobs[(k + static_cast<size_t>(round) - 1) % jobs.size()];
      const std::string dir = base + "/" + job + "-r" + std::to_string(round);
      if (job == "usearch") {
#if MOSAIC_BENCH_USEARCH
        peer_runs[0].push_back(
            InChild<PeerResult>([&] { return UsearchPeer(a, dir, queries, truth); }));
        print_peer(round, "usearch", peer_runs[0].back());
#endif
      } else if (job == "lancedb") {
        peer_runs[1].push_back(LancePeer(a, dir, queries, truth));
        print_peer(round, "lancedb", peer_runs[1].back());
      }
      if (job == "usearch" || job == "lancedb") {
        if (!a.keep) std::filesystem::remove_all(dir);
        continue;
      }
      const int ci = job == "segments" ? 0 : 1;
      const Config& c = configs[ci];
      const std::string& path = dir;
      Run run;
      run.ingest = InChild<IngestResult>([&] { return Ingest(a, c, path, round, queries); });
      if (a.memory_limit_gb > 0)
        ::rmdir(MemoryCgroup(std::string(c.name) + "-r" + std::to_string(round)).c_str());
      run.query = InChild<QueryResult>([&] { return OpenAndQuery(a, c, path, queries, truth); });
      DbOptions mapped = Options(a, c);
      mapped.segment_memory_budget_bytes = 0;
      run.mapped = TimeOpen(path, mapped);
      if (!a.keep) std::filesystem::remove_all(path);
      const IngestResult& in = run.ingest;
      const std::vector<double> recall(run.query.recall, run.query.recall + a.efs.size());
      const int e = LowestEf(recall);
      std::printf("round %d %-11s: %.1f s in Upsert (%.0f vectors/s), %llu flushes (%llu "
                  "compactions), longest Upsert %.2f s, written %.2f GB (%.2fx ingested), peak "
                  "RSS %.0f MB (anonymous %.0f MB); reopen %.2f s; recall@%zu %.3f at ef %zu (%s)\n",
                  round, c.name, in.upsert_s, static_cast<double>(a.points) / in.upsert_s,
                  static_cast<unsigned long long>(in.flushes),
                  static_cast<unsigned long long>(in.compactions), in.max_upsert_s,
                  static_cast<double>(in.write_bytes) / 1e9,
                  static_cast<double>(in.write_bytes) / static_cast<double>(in.ingested_bytes),
                  static_cast<double>(in.hwm_kb) / 1024,
                  static_cast<double>(in.peak_anon_kb) / 1024, run.query.open_s, kK,
                  e >= 0 ? recall[e] : recall.back(), a.efs[e >= 0 ? e : a.efs.size() - 1],
                  e >= 0 ? "lowest reaching 0.95" : "highest ef, 0.95 not reached");
      runs[ci].push_back(run);
    }
  }
  if (!a.keep) std::filesystem::remove_all(base);

  // Medians over rounds, per configuration.
  auto med = [&](int ci, const std::function<double(const Run&)>& f) {
    std::vector<double> v;
    for (const Run& r : runs[ci]) v.push_back(f(r));
    return v.empty() ? std::nan("") : Median(v);  // --only-segments: no rewrite-all runs
  };
  auto row = [&](const char* what, const std::function<double(const Run&)>& f, const char* fmt) {
    Row(what, med(0, f), med(1, f), fmt);
  };
  constexpr double kMB = 1e6;
  const double n = static_cast<double>(a.points);
  std::printf("\n%-44s %14s %14s %10s\n", a.rounds > 1 ? "median over rounds" : "", "segments",
              "rewrite-all", "seg/all");
  row("time in Upsert (s)", [](const Run& r) { return r.ingest.upsert_s; }, "%.1f");
  row("ingest loop incl. generating vectors (s)", [](const Run& r) { return r.ingest.loop_s; },
      "%.1f");
  row("vectors/s (time in Upsert)", [&](const Run& r) { return n / r.ingest.upsert_s; }, "%.0f");
  row("wait for merges after the last Upsert (s)", [](const Run& r) { return r.ingest.drain_s; },
      "%.1f");
  row("vectors/s (Upserts + that wait)",
      [&](const Run& r) { return n / (r.ingest.upsert_s + r.ingest.drain_s); }, "%.0f");
  row("bytes written to disk (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.write_bytes) / kMB; }, "%.0f");
  row("  / bytes ingested (vectors + JSON payloads)", [](const Run& r) {
    return static_cast<double>(r.ingest.write_bytes) / static_cast<double>(r.ingest.ingested_bytes);
  }, "%.2f");
  row("bytes through write() (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.wchar) / kMB; }, "%.0f");
  row("longest Upsert (s)", [](const Run& r) { return r.ingest.max_upsert_s; }, "%.3f");
  row("p99 Upsert (ms)", [](const Run& r) { return 1e3 * r.ingest.p99_upsert_s; }, "%.1f");
  row("median Upsert (ms)", [](const Run& r) { return 1e3 * r.ingest.median_upsert_s; }, "%.1f");
  if (a.search_during_ingest)
    for (int k = 0; k < 2; ++k) {
      const std::string when = k == 0 ? "no merge pending" : "a merge pending";
      row(("searches during ingest, " + when).c_str(),
          [k](const Run& r) { return static_cast<double>(r.ingest.searches[k]); }, "%.0f");
      row("  search latency p50 (ms)", [k](const Run& r) { return r.ingest.search_p50_ms[k]; },
          "%.2f");
      row("  search latency p99 (ms)", [k](const Run& r) { return r.ingest.search_p99_ms[k]; },
          "%.2f");
      row("  search latency max (ms)", [k](const Run& r) { return r.ingest.search_max_ms[k]; },
          "%.2f");
    }
  row("flushes", [](const Run& r) { return static_cast<double>(r.ingest.flushes); }, "%.0f");
  row("  of which compactions (left 1 segment)",
      [](const Run& r) { return static_cast<double>(r.ingest.compactions); }, "%.0f");
  row("merges (Info: merges_done)", [](const Run& r) { return static_cast<double>(r.ingest.merges); },
      "%.0f");
  row("most segments after an Upsert",
      [](const Run& r) { return static_cast<double>(r.ingest.most_segments); }, "%.0f");
  row("Upserts slowed while merges lagged",
      [](const Run& r) { return static_cast<double>(r.ingest.writes_slowed); }, "%.0f");
  row("  time they waited (s)", [](const Run& r) { return r.ingest.slowdown_s; }, "%.1f");
  row("peak RSS, ingest (MB)",
      [](const Run& r) { return static_cast<double>(r.ingest.hwm_kb) / 1024; }, "%.0f");
  row("  anonymous (heap), most seen (MB)",
      [](const Run& r) { return static_cast<double>(r.ingest.peak_anon_kb) / 1024; }, "%.0f");
  if (a.memory_limit_gb > 0) {
    row("cgroup: most charged, page cache too (MB)",
        [](const Run& r) { return static_cast<double>(r.ingest.cgroup_max_bytes) / 1e6; }, "%.0f");
    row("  times an allocation met the limit (failcnt)",
        [](const Run& r) { return static_cast<double>(r.ingest.cgroup_failcnt); }, "%.0f");
  }
  row("Info: segments", [](const Run& r) { return static_cast<double>(r.ingest.segments); },
      "%.0f");
  row("Info: segment_bytes (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.segment_bytes) / kMB; }, "%.1f");
  row("Info: wal_bytes (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.wal_bytes) / kMB; }, "%.1f");
  row("Info: vector_bytes (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.vector_bytes) / kMB; }, "%.1f");
  row("Info: index_bytes (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.index_bytes) / kMB; }, "%.1f");
  row("files on disk after close (MB)",
      [&](const Run& r) { return static_cast<double>(r.ingest.dir_bytes) / kMB; }, "%.1f");
  row("reopen: Db::Open + GetCollection (s)", [](const Run& r) { return r.query.open_s; }, "%.2f");
  row("  RssAnon after it (MB)",
      [](const Run& r) { return static_cast<double>(r.query.anon_kb) / 1024; }, "%.0f");
  row("  again, every segment mapped (s)", [](const Run& r) { return r.mapped.open_s; }, "%.2f");
  row("  RssAnon after it (MB)",
      [](const Run& r) { return static_cast<double>(r.mapped.anon_kb) / 1024; }, "%.0f");
  if (a.text_words > 0)
    row("  again without index files (rebuilt) (s)",
        [](const Run& r) { return r.query.open_rebuild_s; }, "%.2f");
  row("peak RSS, reopen + queries (MB)",
      [](const Run& r) { return static_cast<double>(r.query.hwm_kb) / 1024; }, "%.0f");

  std::vector<double> recall[2], qps[2], cpu_qps[2];
  for (int ci = 0; ci < 2; ++ci)
    for (size_t e = 0; e < a.efs.size(); ++e) {
      recall[ci].push_back(med(ci, [e](const Run& r) { return r.query.recall[e]; }));
      qps[ci].push_back(med(ci, [e](const Run& r) { return r.query.qps[e]; }));
      cpu_qps[ci].push_back(med(ci, [e](const Run& r) { return r.query.cpu_qps[e]; }));
    }
  const int lowest[2] = {LowestEf(recall[0]), LowestEf(recall[1])};
  if (lowest[0] >= 0 && (lowest[1] >= 0 || runs[1].empty())) {
    // At the lowest ef reaching 0.95 (NaN for a configuration that did not run).
    auto at = [&](int ci, const std::vector<double>& v) {
      return runs[ci].empty() ? std::nan("") : v[lowest[ci]];
    };
    const std::vector<double> efs(a.efs.begin(), a.efs.end());
    Row("lowest ef with recall@10 >= 0.95", at(0, efs), at(1, efs), "%.0f");
    Row("  queries/s there, 1 thread (wall)", at(0, qps[0]), at(1, qps[1]), "%.0f");
    Row("  queries/s there, 1 thread (CPU time)", at(0, cpu_qps[0]), at(1, cpu_qps[1]), "%.0f");
  } else {
    std::printf("recall@10 0.95 not reached by some configuration at ef <= %zu (sweep below)\n",
                a.efs.back());
  }
  std::printf("\nef sweep, 1 thread: recall@10, queries/s (wall), queries/s (CPU time)\n");
  std::printf("%6s %30s %30s\n", "ef", "segments", "rewrite-all");
  for (size_t e = 0; e < a.efs.size(); ++e)
    std::printf("%6zu %10.4f %9.0f %9.0f %10.4f %9.0f %9.0f\n", a.efs[e], recall[0][e], qps[0][e],
                cpu_qps[0][e], recall[1][e], qps[1][e], cpu_qps[1][e]);
  auto rebuilt = [&](int ci) {
    return std::any_of(runs[ci].begin(), runs[ci].end(),
                       [](const Run& r) { return r.query.graphs_rebuilt; }) ? "yes" : "no";
  };
  std::printf("graphs rebuilt at reopen (any round): segments %s, rewrite-all %s\n", rebuilt(0),
              rebuilt(1));
  if (!peer_runs[0].empty() || !peer_runs[1].empty()) {
    // Mosaic's segments configuration beside each peer that ran, medians over rounds.
    auto pmed = [&](int pi, const std::function<double(const PeerResult&)>& f) {
      std::vector<double> v;
      for (const PeerResult& r : peer_runs[pi]) v.push_back(f(r));
      return v.empty() ? std::nan("") : Median(v);
    };
    auto prow = [&](const char* what, const std::function<double(const Run&)>& mosaic,
                    const std::function<double(const PeerResult&)>& peer, const char* fmt) {
      char cell[3][32];
      std::snprintf(cell[0], sizeof cell[0], fmt, med(0, mosaic));
      for (int pi = 0; pi < 2; ++pi) std::snprintf(cell[pi + 1], sizeof cell[0], fmt, pmed(pi, peer));
      std::printf("%-44s %14s %14s %14s\n", what, cell[0], cell[1], cell[2]);
    };
    std::printf("\nthe same points, same run (%s)%s\n", a.rounds > 1 ? "medians over rounds" : "1 round",
                "; usearch: f32 HNSW in memory, saved to a file at the end; lancedb: IVF_HNSW_SQ");
    std::printf("%-44s %14s %14s %14s\n", "", "mosaic", "usearch", "lancedb");
    prow("adding: Upsert / add calls (s)", [](const Run& r) { return r.ingest.upsert_s; },
         [](const PeerResult& r) { return r.ingest_s; }, "%.1f");
    prow("after the adds: merges / save / indexes (s)", [](const Run& r) { return r.ingest.drain_s; },
         [](const PeerResult& r) { return r.total_s() - r.ingest_s; }, "%.1f");
    prow("vectors/s to a durable, searchable index",
         [&](const Run& r) { return n / (r.ingest.upsert_s + r.ingest.drain_s); },
         [&](const PeerResult& r) { return n / r.total_s(); }, "%.0f");
    prow("peak RSS while ingesting (MB)",
         [](const Run& r) { return static_cast<double>(r.ingest.hwm_kb) / 1024; },
         [](const PeerResult& r) { return static_cast<double>(r.hwm_kb) / 1024; }, "%.0f");
    prow("on disk (MB)", [&](const Run& r) { return static_cast<double>(r.ingest.dir_bytes) / kMB; },
         [&](const PeerResult& r) { return static_cast<double>(r.disk_bytes) / kMB; }, "%.0f");
    prow("  bytes per vector",
         [&](const Run& r) { return static_cast<double>(r.ingest.dir_bytes) / n; },
         [&](const PeerResult& r) { return static_cast<double>(r.disk_bytes) / n; }, "%.0f");
    std::vector<double> peer_recall[2], peer_qps[2];
    for (int pi = 0; pi < 2; ++pi)
      for (size_t e = 0; e < a.efs.size(); ++e) {
        peer_recall[pi].push_back(pmed(pi, [e](const PeerResult& r) { return r.recall[e]; }));
        peer_qps[pi].push_back(pmed(pi, [e](const PeerResult& r) { return r.qps[e]; }));
      }
    char cell[3][32];
    auto at_target = [&](int i, const std::vector<double>& rec, const std::vector<double>& q) {
      const int e = LowestEf(rec);
      if (e < 0) std::snprintf(cell[i], sizeof cell[i], "-");
      else std::snprintf(cell[i], sizeof cell[i], "%.0f (ef %zu)", q[e], a.efs[e]);
    };
    at_target(0, recall[0], qps[0]);
    at_target(1, peer_recall[0], peer_qps[0]);
    at_target(2, peer_recall[1], peer_qps[1]);
    std::printf("%-44s %14s %14s %14s\n", "queries/s at recall@10 >= 0.95, 1 thread", cell[0],
                cell[1], cell[2]);
    std::printf("\nef sweep, 1 thread: recall@10, queries/s (wall)\n%6s %20s %20s %20s\n", "ef",
                "mosaic", "usearch", "lancedb");
    for (size_t e = 0; e < a.efs.size(); ++e)
      std::printf("%6zu %10.4f %9.0f %10.4f %9.0f %10.4f %9.0f\n", a.efs[e], recall[0][e],
                  qps[0][e], peer_recall[0][e], peer_qps[0][e], peer_recall[1][e], peer_qps[1][e]);
  }
  std::printf("load average at end (uptime): %s\n", LoadAverage().c_str());
  return 0;
}