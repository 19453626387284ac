// storage_bench: the ingest of a Mosaic database, its reopen and queries.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage_bench/storage_bench.h"

namespace mosaic::bench {
namespace {

// --memory-limit-gb: the memory cgroup (v1: /sys/fs/cgroup/memory; needs root) the ingest of
// job `job` runs in. Its limit charges page cache as well as heap, as a machine or container of
// that size would: pages of mapped files count toward VmHWM but are given back under the limit.
const pid_t kBenchPid = ::getpid();  // the parent's, in the forked children too

void WriteSysFile(const std::string& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  if (!out) Die(kName, "--memory-limit-gb: cannot write " + value + " to " + file);
}

uint64_t ReadSysNumber(const std::string& file) {
  std::ifstream in(file);
  uint64_t v = 0;
  if (!(in >> v)) Die(kName, "--memory-limit-gb: cannot read " + file);
  return v;
}

// Moves the calling process into a new memory cgroup `dir` limited to `gb` GiB.
void JoinMemoryCgroup(const std::string& dir, double gb) {
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  if (ec)
    Die(kName, "--memory-limit-gb: cannot make the memory cgroup " + dir + ": " + ec.message() +
                   " (needs cgroup v1's memory controller mounted at /sys/fs/cgroup/memory, and "
                   "root)");
  WriteSysFile(dir + "/memory.limit_in_bytes",
               std::to_string(static_cast<uint64_t>(gb * static_cast<double>(1ull << 30))));
  WriteSysFile(dir + "/cgroup.procs", std::to_string(::getpid()));
}

}  // namespace

std::string MemoryCgroup(const std::string& job) {
  return "/sys/fs/cgroup/memory/mosaic-storage-bench-" + std::to_string(kBenchPid) + "-" + job;
}

DbOptions Options(const Args& a, const Config& c) {
  DbOptions o;
  o.wal_flush_bytes = static_cast<uint64_t>(a.wal_flush_mb * 1024 * 1024);
  o.compact_below_bytes = c.compact_below_bytes;
  return o;
}

IngestResult Ingest(const Args& a, const Config& c, const std::string& path, int round,
                    const std::vector<float>& queries) {
  IngestResult r;
  const std::string cgroup = MemoryCgroup(std::string(c.name) + "-r" + std::to_string(round));
  if (a.memory_limit_gb > 0) JoinMemoryCgroup(cgroup, a.memory_limit_gb);
  auto db = Db::Open(path, Options(a, c));
  Check(db.status(), "open " + path);
  CollectionSchema schema;
  schema.vectors = {{"v", a.dim, Metric::kL2, StorageType::kFloat32}};
  IndexSpec& index = schema.vectors[0].index;
  index.kind = IndexKind::kHnsw;  // m 16, ef_construction 200: the defaults
  index.sq8 = true;
  auto coll = (*db)->CreateCollection("c", schema);
  Check(coll.status(), "create collection");
  Collection& col = **coll;
  Check(col.CreatePayloadIndex("tag", PayloadIndexType::kKeyword), "index tag");
  Check(col.CreatePayloadIndex("n", PayloadIndexType::kInteger), "index n");
  if (a.text_words > 0) Check(col.CreatePayloadIndex("note", PayloadIndexType::kText), "index note");
  Words words(kPointSeed + 100);

  std::vector<std::string> tags(kTags, "t");
  for (uint32_t t = 0; t < kTags; ++t) tags[t] += std::to_string(t);
  Stream stream(a.dim, kPointSeed);
  std::vector<Point> batch;
  std::vector<double> latencies;
  // --search-during-ingest: one thread searching (ef 64, the fresh queries in turn) from half the
  // points on until the merges have drained, each latency filed by whether a merge was pending.
  std::atomic<bool> stop{false}, merging{false};
  std::vector<double> search_ms[2];
  std::thread reader;
  auto start_reader = [&] {
    reader = std::thread([&] {
      SearchRequest req;
      req.limit = kK;
      req.ef = 64;
      req.with_payload = false;
      for (size_t i = 0; !stop; i = (i + 1) % a.queries) {
        req.vector.assign(queries.begin() + i * a.dim, queries.begin() + (i + 1) * a.dim);
        const bool before = merging;
        const auto q0 = Clock::now();
        Check(col.Search(req).status(), "search during ingest");
        search_ms[before && merging ? 1 : 0].push_back(1e3 * Seconds(q0, Clock::now()));
      }
    });
  };
  const uint64_t write_before = ProcField("/proc/self/io", "write_bytes");
  const uint64_t wchar_before = ProcField("/proc/self/io", "wchar");
  uint64_t wal_before = 0, merges_before = 0;
  const auto start = Clock::now();
  auto last_report = start;
  size_t last_done = 0;
  for (size_t first = 0; first < a.points; first += a.batch) {
    batch.resize(std::min(a.batch, a.points - first));
    for (size_t j = 0; j < batch.size(); ++j) {
      Point& p = batch[j];
      p.id = uint64_t{first + j};
      std::vector<float>& v = p.vectors["v"];
      v.resize(a.dim);
      uint32_t tag, n;
      stream.Next(v.data(), &tag, &n);
      p.payload = Json{{"tag", tags[tag]}, {"n", n}};
      if (a.text_words > 0) p.payload["note"] = words.Note(a.text_words);
      r.ingested_bytes += a.dim * sizeof(float) + p.payload.dump().size();
    }
    const auto t0 = Clock::now();
    Check(col.Upsert(batch), "upsert at point " + std::to_string(first));
    const auto t1 = Clock::now();
    latencies.push_back(Seconds(t0, t1));
    r.peak_anon_kb = std::max(r.peak_anon_kb, ProcField("/proc/self/status", "RssAnon"));
    const CollectionInfo info = col.Info();
    if (!info.background_error.empty()) Die(kName, "flush failed: " + info.background_error);
    merging = info.merges_pending > 0;
    r.most_segments = std::max<uint64_t>(r.most_segments, info.segments);
    // From half-way: searches over a few thousand points would swamp the figures.
    if (a.search_during_ingest && !reader.joinable() && first + batch.size() >= a.points / 2)
      start_reader();
    const bool flushed = info.wal_bytes < wal_before;
    if (flushed) {
      ++r.flushes;
      if (info.segments == 1) ++r.compactions;
      std::fprintf(stderr, "  [%s r%d] %s at %zu points: %.2f s, %llu segments\n", c.name,
                   round, info.segments == 1 ? "compaction" : "flush", first + batch.size(),
                   latencies.back(), static_cast<unsigned long long>(info.segments));
    }
    wal_before = info.wal_bytes;
    // What a slow Upsert met: a merge switched in (under the writer lock) or a flush started.
    if (latencies.back() >= 0.5)
      std::fprintf(stderr, "  [%s r%d] slow Upsert at %zu points: %.3f s%s%s, %llu segments\n",
                   c.name, round, first + batch.size(), latencies.back(),
                   info.merges_done > merges_before ? ", a merge switched in" : "",
                   flushed ? ", a flush started" : "",
                   static_cast<unsigned long long>(info.segments));
    merges_before = info.merges_done;
    const size_t done = first + batch.size();
    if (Seconds(last_report, t1) >= 5 || done == a.points) {
      std::fprintf(stderr, "[%s r%d] %zu/%zu points, %.0f points/s (last %.0f s), %llu segments, "
                   "log %.1f MB, %llu writes slowed (%.1f s)\n",
                   c.name, round, done, a.points,
                   static_cast<double>(done - last_done) / Seconds(last_report, t1),
                   Seconds(last_report, t1), static_cast<unsigned long long>(info.segments),
                   static_cast<double>(info.wal_bytes) / 1e6,
                   static_cast<unsigned long long>(info.writes_slowed),
                   static_cast<double>(info.write_slowdown_ms) / 1e3);
      last_report = t1;
      last_done = done;
    }
  }
  r.loop_s = Seconds(start, Clock::now());
  const auto drain = Clock::now();
  while (col.Info().merges_pending > 0) {
    r.peak_anon_kb = std::max(r.peak_anon_kb, ProcField("/proc/self/status", "RssAnon"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.drain_s = Seconds(drain, Clock::now());
  stop = true;
  if (reader.joinable()) reader.join();
  for (int k = 0; k < 2; ++k) {
    r.searches[k] = search_ms[k].size();
    if (search_ms[k].empty()) continue;
    r.search_p50_ms[k] = Median(search_ms[k]);
    r.search_p99_ms[k] = Percentile(search_ms[k], 0.99);
    r.search_max_ms[k] = *std::max_element(search_ms[k].begin(), search_ms[k].end());
  }
  for (double l : latencies) r.upsert_s += l;
  r.max_upsert_s = *std::max_element(latencies.begin(), latencies.end());
  r.p99_upsert_s = Percentile(latencies, 0.99);
  r.median_upsert_s = Median(latencies);
  r.write_bytes = ProcField("/proc/self/io", "write_bytes") - write_before;
  r.wchar = ProcField("/proc/self/io", "wchar") - wchar_before;
  r.hwm_kb = ProcField("/proc/self/status", "VmHWM");
  const CollectionInfo info = col.Info();
  r.points = info.points;
  r.merges = info.merges_done;
  r.writes_slowed = info.writes_slowed;
  r.slowdown_s = static_cast<double>(info.write_slowdown_ms) / 1e3;
  r.segments = info.segments;
  r.segment_bytes = info.segment_bytes;
  r.wal_bytes = info.wal_bytes;
  r.vector_bytes = info.vector_bytes.at("v");
  r.index_bytes = info.index_bytes.at("v");
  coll->reset();
  db->reset();
  r.dir_bytes = DirBytes(path);
  if (a.memory_limit_gb > 0) {
    r.cgroup_max_bytes = ReadSysNumber(cgroup + "/memory.max_usage_in_bytes");
    r.cgroup_failcnt = ReadSysNumber(cgroup + "/memory.failcnt");
  }
  return r;
}

QueryResult OpenAndQuery(const Args& a, const Config& c, const std::string& path,
                         const std::vector<float>& queries,
                         const std::vector<std::vector<uint64_t>>& truth) {
  QueryResult r;
  const auto t0 = Clock::now();
  auto db = Db::Open(path, Options(a, c));
  Check(db.status(), "reopen " + path);
  auto coll = (*db)->GetCollection("c");
  Check(coll.status(), "get collection after reopen");
  r.open_s = Seconds(t0, Clock::now());
  r.anon_kb = ProcField("/proc/self/status", "RssAnon");
  r.graphs_rebuilt = !(*coll)->Info().graphs_rebuilt.empty();
  SearchRequest req;
  req.limit = kK;
  req.with_payload = false;
  auto search = [&](size_t i) {
    req.vector.assign(queries.begin() + i * a.dim, queries.begin() + (i + 1) * a.dim);
    auto hits = (*coll)->Search(req);
    Check(hits.status(), "search");
    return std::move(hits).value();
  };
  req.ef = a.efs[0];
  for (size_t i = 0; i < a.queries; ++i) search(i);  // warm-up: pages touched once
  for (size_t e = 0; e < a.efs.size(); ++e) {
    req.ef = a.efs[e];
    size_t found = 0;
    const double cpu0 = ThreadCpuSeconds();
    const auto w0 = Clock::now();
    for (size_t i = 0; i < a.queries; ++i) {
      const std::set<uint64_t> want(truth[i].begin(), truth[i].end());
      for (const ScoredPoint& h : search(i)) found += want.count(h.id.num());
    }
    const double wall = Seconds(w0, Clock::now()), cpu = ThreadCpuSeconds() - cpu0;
    r.recall[e] = static_cast<double>(found) / static_cast<double>(a.queries * kK);
    r.qps[e] = static_cast<double>(a.queries) / wall;
    r.cpu_qps[e] = static_cast<double>(a.queries) / cpu;
  }
  r.hwm_kb = ProcField("/proc/self/status", "VmHWM");
  if (a.text_words > 0) {
    coll->reset();
    db->reset();
    for (const auto& e : std::filesystem::directory_iterator(path + "/collections/c"))
      if (e.path().extension() == ".idx") std::filesystem::remove(e.path());
    const auto t1 = Clock::now();
    auto again = Db::Open(path, Options(a, c));
    Check(again.status(), "reopen " + path);
    Check((*again)->GetCollection("c").status(), "get collection after reopen");
    r.open_rebuild_s = Seconds(t1, Clock::now());
  }
  return r;
}

OpenResult TimeOpen(const std::string& path, const DbOptions& options) {
  return InChild<OpenResult>([&] {
    OpenResult r;
    const auto t0 = Clock::now();
    auto db = Db::Open(path, options);
    Check(db.status(), "reopen " + path);
    Check((*db)->GetCollection("c").status(), "get collection after reopen");
    r.open_s = Seconds(t0, Clock::now());
    r.anon_kb = ProcField("/proc/self/status", "RssAnon");
    r.file_kb = ProcField("/proc/self/status", "RssFile");
    return r;
  });
}

}  // namespace mosaic::bench
