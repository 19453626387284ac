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
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <queue>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fcntl.h>

#include "ann/lance_runner.h"
#if MOSAIC_BENCH_USEARCH
#include "ann/usearch_engine.h"
#endif
#include "bench_util.h"
#include "mosaic/db.h"
#include "simd/distance.h"

namespace mosaic::bench {
namespace {

constexpr char kName[] = "storage_bench";
constexpr uint32_t kCentres = 1000;
constexpr uint32_t kTags = 100;
constexpr size_t kK = 10;
constexpr double kTargetRecall = 0.95;
constexpr size_t kMaxEfs = 16;
constexpr uint64_t kPointSeed = 1, kQuerySeed = 2, kCentreSeed = 42;

struct Args {
  size_t points = 1'000'000;
  uint32_t dim = 128;
  size_t batch = 1000;
  int rounds = 1;
  double wal_flush_mb = 64;
  size_t queries = 200;
  std::vector<size_t> efs = {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  std::string dir = std::filesystem::temp_directory_path().string();
  bool keep = false;
  size_t text_words = 0;  // > 0: each point also has a "note" of this many words, text-indexed
  double memory_limit_gb = 0;  // > 0: the ingest runs in a memory cgroup with this limit
  bool only_segments = false;
  bool only_peers = false;  // --only-peers: the --peers alone, no Mosaic configuration
  bool search_during_ingest = false;
  std::vector<std::string> peers;  // --peers usearch,lancedb
  size_t lance_chunk = 100'000;    // rows per LanceDB add call
  std::string open_only;  // a database kept by --keep: only time its opens
  std::string snapshot_restore;  // a database kept by --keep: snapshot and restore it
  std::string query_only;  // a database kept by --keep: only open and query it
  std::string switch_cost;  // a database kept by --keep: Upserts beside merge switches in it
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--keep") {
      a.keep = true;
      continue;
    }
    if (k == "--only-segments") {
      a.only_segments = true;
      continue;
    }
    if (k == "--only-peers") {
      a.only_peers = true;
      continue;
    }
    if (k == "--search-during-ingest") {
      a.search_during_ingest = true;
      continue;
    }
    if (i + 1 >= argc) Die(kName, "option " + k + " needs a value");
    const std::string v = argv[++i];
    if (k == "--points") a.points = std::stoul(v);
    else if (k == "--dim") a.dim = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--batch") a.batch = std::stoul(v);
    else if (k == "--rounds") a.rounds = std::stoi(v);
    else if (k == "--wal-flush-mb") a.wal_flush_mb = std::stod(v);
    else if (k == "--queries") a.queries = std::stoul(v);
    else if (k == "--dir") a.dir = v;
    else if (k == "--ef") a.efs = ParseList<size_t>(v);
    else if (k == "--text-words") a.text_words = std::stoul(v);
    else if (k == "--memory-limit-gb") a.memory_limit_gb = std::stod(v);
    else if (k == "--peers") {
      for (size_t pos = 0; pos <= v.size();) {
        const size_t end = std::min(v.find(',', pos), v.size());
        a.peers.push_back(v.substr(pos, end - pos));
        pos = end + 1;
      }
    }
    else if (k == "--lance-chunk") a.lance_chunk = std::stoul(v);
    else if (k == "--open-only") a.open_only = v;
    else if (k == "--snapshot-restore") a.snapshot_restore = v;
    else if (k == "--query-only") a.query_only = v;
    else if (k == "--switch-cost") a.switch_cost = v;
    else Die(kName, "unknown option " + k);
  }
  if (a.points == 0 || a.dim == 0 || a.batch == 0 || a.rounds < 1 || a.queries == 0)
    Die(kName, "--points, --dim, --batch, --rounds and --queries must be positive");
  for (const std::string& p : a.peers) {
    if (p != "usearch" && p != "lancedb") Die(kName, "--peers: unknown peer " + p);
#if !MOSAIC_BENCH_USEARCH
    if (p == "usearch") Die(kName, "--peers usearch: built without USearch (scripts/bench-peers)");
#endif
  }
  if (a.only_peers && a.peers.empty()) Die(kName, "--only-peers needs --peers");
  if (a.lance_chunk == 0) Die(kName, "--lance-chunk must be positive");
  if (a.efs.empty() || a.efs.size() > kMaxEfs)
    Die(kName, "--ef takes 1 to " + std::to_string(kMaxEfs) + " values");
  return a;
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(kName, what + ": " + s.ToString());
}

// The point stream: the same seed gives the same points in every process (the ground truth is
// computed from one stream, each configuration ingests another copy of it).
class Stream {
 public:
  Stream(uint32_t dim, uint64_t seed) : dim_(dim), rng_(seed) {
    std::mt19937_64 centre_rng(kCentreSeed);
    std::uniform_real_distribution<float> u(-10, 10);
    centres_.resize(size_t{kCentres} * dim);
    for (float& x : centres_) x = u(centre_rng);
  }
  // The next point's vector into v (dim floats), and its payload fields.
  void Next(float* v, uint32_t* tag, uint32_t* n) {
    const float* c = centres_.data() + (rng_() % kCentres) * size_t{dim_};
    for (uint32_t d = 0; d < dim_; ++d) v[d] = c[d] + noise_(rng_);
    *tag = static_cast<uint32_t>(rng_() % kTags);
    *n = static_cast<uint32_t>(rng_() % 1'000'000);
  }

 private:
  uint32_t dim_;
  std::mt19937_64 rng_;
  std::normal_distribution<float> noise_{0, 1};
  std::vector<float> centres_;
};

// Notes: made-up words ("w" + base-26 letters of a scrambled rank, so stems differ), drawn
// with probability ~ 1 / rank.
class Words {
 public:
  explicit Words(uint64_t seed) : rng_(seed) {
    constexpr size_t kVocabulary = 30'000;
    double total = 0;
    for (size_t r = 1; r <= kVocabulary; ++r) cumulative_.push_back(total += 1.0 / r);
    for (size_t r = 0; r < kVocabulary; ++r) {
      std::string w = "w";
      for (uint64_t x = (r * 7919 + 13) % 1'000'003; x > 0; x /= 26) w += static_cast<char>('a' + x % 26);
      words_.push_back(w);
    }
  }
  std::string Note(size_t n) {
    std::string out;
    std::uniform_real_distribution<double> u(0, cumulative_.back());
    for (size_t i = 0; i < n; ++i) {
      const size_t r = std::lower_bound(cumulative_.begin(), cumulative_.end(), u(rng_)) -
                       cumulative_.begin();
      if (i) out += ' ';
      out += words_[std::min(r, words_.size() - 1)];
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<double> cumulative_;
  std::vector<std::string> words_;
};

std::vector<float> Queries(const Args& a) {
  Stream s(a.dim, kQuerySeed);
  std::vector<float> q(a.queries * a.dim);
  uint32_t tag, n;
  for (size_t i = 0; i < a.queries; ++i) s.Next(q.data() + i * a.dim, &tag, &n);
  return q;
}

// The ids of each query's kK nearest points (squared L2), by brute force over the stream.
std::vector<std::vector<uint64_t>> GroundTruth(const Args& a, const std::vector<float>& queries) {
  constexpr size_t kBlock = 4096;
  Stream s(a.dim, kPointSeed);
  std::vector<float> rows(kBlock * a.dim), dist(a.queries * kBlock);
  // Per query a max-heap of (distance, id): its top is the worst of the best kK so far.
  std::vector<std::priority_queue<std::pair<float, uint64_t>>> best(a.queries);
  uint32_t tag, n;
  for (size_t first = 0; first < a.points; first += kBlock) {
    const size_t count = std::min(kBlock, a.points - first);
    for (size_t j = 0; j < count; ++j) s.Next(rows.data() + j * a.dim, &tag, &n);
    simd::L2SqrBlock(queries.data(), a.queries, rows.data(), count, a.dim, dist.data(), kBlock);
    for (size_t i = 0; i < a.queries; ++i)
      for (size_t j = 0; j < count; ++j) {
        const float d = dist[i * kBlock + j];
        if (best[i].size() < kK) best[i].emplace(d, first + j);
        else if (d < best[i].top().first) {
          best[i].pop();
          best[i].emplace(d, first + j);
        }
      }
  }
  std::vector<std::vector<uint64_t>> ids(a.queries);
  for (size_t i = 0; i < a.queries; ++i)
    for (; !best[i].empty(); best[i].pop()) ids[i].push_back(best[i].top().second);
  return ids;
}

// "name: value" fields of a /proc file (the first number after the colon).
uint64_t ProcField(const char* file, const std::string& name) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, name.size() + 1, name + ":") == 0)
      return std::stoull(line.substr(name.size() + 1));
  Die(kName, std::string("no ") + name + " in " + file);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double l1 = 0, l5 = 0, l15 = 0;
  in >> l1 >> l5 >> l15;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f, %.2f, %.2f", l1, l5, l15);
  return buf;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) bytes += e.file_size();
  return bytes;
}

// Runs fn in a forked child and returns what it returned (a plain struct, through a pipe), so
// that the child's peak RSS is its own. The caller must have no threads of its own.
template <typename T>
T InChild(const std::function<T()>& fn) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  if (::pipe(fds) != 0) Die(kName, std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) Die(kName, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    const T r = fn();
    const char* p = reinterpret_cast<const char*>(&r);
    for (size_t done = 0; done < sizeof r;) {
      const ssize_t w = ::write(fds[1], p + done, sizeof r - done);
      if (w <= 0) ::_exit(2);
      done += static_cast<size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  T r{};
  char* p = reinterpret_cast<char*>(&r);
  size_t got = 0;
  while (got < sizeof r) {
    const ssize_t n = ::read(fds[0], p + got, sizeof r - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof r)
    Die(kName, "a child process failed (see above)");
  return r;
}

struct Config {
  const char* name;
  uint64_t compact_below_bytes;
};

struct IngestResult {
  double upsert_s = 0;  // time inside Upsert
  double loop_s = 0;    // the whole loop, vector generation included
  double max_upsert_s = 0;
  double p99_upsert_s = 0;
  double median_upsert_s = 0;
  uint64_t flushes = 0;      // Upserts after which the log had started afresh
  uint64_t compactions = 0;  // of those, the ones that left one segment
  double drain_s = 0;        // after the last Upsert, until no merge was pending
  uint64_t merges = 0;
  uint64_t most_segments = 0;  // the most Info reported after an Upsert
  uint64_t writes_slowed = 0;  // Info: Upserts slowed while merges lagged, and how long in all
  double slowdown_s = 0;
  uint64_t ingested_bytes = 0;
  uint64_t write_bytes = 0;  // /proc/self/io
  uint64_t wchar = 0;        // bytes passed to write() and the like, files or not
  uint64_t hwm_kb = 0;
  // The most RssAnon seen after an Upsert or while the last merges ran: the heap, without the
  // page cache of mapped files (which VmHWM counts and the kernel can drop).
  uint64_t peak_anon_kb = 0;
  uint64_t segments = 0, segment_bytes = 0, wal_bytes = 0, vector_bytes = 0, index_bytes = 0;
  uint64_t points = 0;
  uint64_t dir_bytes = 0;  // every file of the database after it is closed
  // --search-during-ingest, [0] with no merge pending, [1] with one pending at the query's start
  // and end: searches made, and their latency.
  uint64_t searches[2] = {};
  double search_p50_ms[2] = {}, search_p99_ms[2] = {}, search_max_ms[2] = {};
  // --memory-limit-gb: the cgroup's most memory charged (heap and page cache) and how often
  // an allocation met the limit (the kernel then reclaimed page cache).
  uint64_t cgroup_max_bytes = 0, cgroup_failcnt = 0;
};

// --memory-limit-gb: the memory cgroup (v1: /sys/fs/cgroup/memory; needs root) the ingest of
// job `job` runs in. Its limit charges page cache as well as heap, as a machine or container of
// that size would: pages of mapped files count toward VmHWM but are given back under the limit.
const pid_t kBenchPid = ::getpid();  // the parent's, in the forked children too

std::string MemoryCgroup(const std::string& job) {
  return "/sys/fs/cgroup/memory/mosaic-storage-bench-" + std::to_string(kBenchPid) + "-" + job;
}

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

struct QueryResult {
  double open_s = 0;
  uint64_t anon_kb = 0;  // RssAnon right after the open
  double open_rebuild_s = 0;  // --text-words: with the index files removed
  uint64_t hwm_kb = 0;
  bool graphs_rebuilt = false;
  double recall[kMaxEfs] = {};
  double qps[kMaxEfs] = {};      // wall clock
  double cpu_qps[kMaxEfs] = {};  // thread CPU time
};

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

// An open alone, in a child of its own: its time and the memory it leaves resident.
struct OpenResult {
  double open_s = 0;
  uint64_t anon_kb = 0;  // RssAnon: memory the process owns
  uint64_t file_kb = 0;  // RssFile: mapped file pages resident (the page cache's)
};

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

// A peer's ingest of the same points (--peers), and its recall and queries/s over --ef.
struct PeerResult {
  double ingest_s = 0;        // USearch: its add calls; LanceDB: its createTable / add calls
  double index_s = 0;         // LanceDB: the vector index, built after the adds
  double scalar_index_s = 0;  // LanceDB: bitmap on tag, btree on n
  double save_s = 0;          // USearch: save to a file and fsync it
  uint64_t disk_bytes = 0;
  uint64_t memory_bytes = 0;  // USearch: graph + vectors as it counts them
  uint64_t hwm_kb = 0;        // peak RSS of the process that ingested
  double recall[kMaxEfs] = {};
  double qps[kMaxEfs] = {};
  // Seconds from the first point to a durable, searchable index: USearch adds + save; LanceDB
  // adds + indexes (its adds are durable, its index is needed to search at these rates).
  double total_s() const { return ingest_s + index_s + scalar_index_s + save_s; }
};

double Recall(const std::vector<std::vector<uint64_t>>& truth, size_t i, const int64_t* ids) {
  size_t found = 0;
  for (size_t j = 0; j < kK; ++j)
    if (ids[j] >= 0 && std::find(truth[i].begin(), truth[i].end(), static_cast<uint64_t>(ids[j])) !=
                           truth[i].end())
      ++found;
  return static_cast<double>(found) / kK;
}

#if MOSAIC_BENCH_USEARCH
// USearch 2.26.2 (f32, its HNSW with the graph parameters Mosaic uses): the points added from
// every core in chunks of 100,000 as the stream makes them (so that the process holds only
// USearch's copy), then saved to DIR/usearch.index and fsynced; searched in the same process,
// single-threaded. Runs in a child of its own.
PeerResult UsearchPeer(const Args& a, const std::string& dir, const std::vector<float>& queries,
                       const std::vector<std::vector<uint64_t>>& truth) {
  PeerResult r;
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  UsearchEngine engine(UsearchScalar::kF32);
  engine.Init(a.dim, Metric::kL2, GraphParams{}, a.points, threads, 0);
  Stream stream(a.dim, kPointSeed);
  constexpr size_t kChunk = 100'000;
  io::Matrix chunk;
  chunk.dim = a.dim;
  uint32_t tag, n;
  for (size_t first = 0; first < a.points; first += kChunk) {
    chunk.rows = std::min(kChunk, a.points - first);
    chunk.data.resize(chunk.rows * a.dim);
    for (size_t j = 0; j < chunk.rows; ++j) stream.Next(chunk.data.data() + j * a.dim, &tag, &n);
    const auto t0 = Clock::now();
    engine.Add(chunk, first, threads);
    r.ingest_s += Seconds(t0, Clock::now());
    std::fprintf(stderr, "[usearch] %zu/%zu points, %.1f s adding, %.0f points/s\n",
                 first + chunk.rows, a.points, r.ingest_s,
                 static_cast<double>(first + chunk.rows) / r.ingest_s);
  }
  chunk = io::Matrix{};
  r.memory_bytes = engine.MemoryBytes();
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/usearch.index";
  const auto s0 = Clock::now();
  if (auto saved = engine.index().save(file.c_str()); !saved)
    Die(kName, "usearch save " + file + ": " + saved.error.what());
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) Die(kName, "fsync " + file + ": " + std::strerror(errno));
  ::close(fd);
  r.save_s = Seconds(s0, Clock::now());
  r.disk_bytes = std::filesystem::file_size(file);
  r.hwm_kb = ProcField("/proc/self/status", "VmHWM");
  engine.PrepareSearch(1);
  std::vector<int64_t> ids(kK);
  engine.SetEf(a.efs[0]);
  for (size_t i = 0; i < a.queries; ++i) engine.Search(queries.data() + i * a.dim, kK, 0, ids.data());
  for (size_t e = 0; e < a.efs.size(); ++e) {
    engine.SetEf(a.efs[e]);
    double recall = 0;
    const auto w0 = Clock::now();
    for (size_t i = 0; i < a.queries; ++i) {
      engine.Search(queries.data() + i * a.dim, kK, 0, ids.data());
      recall += Recall(truth, i, ids.data());
    }
    r.qps[e] = static_cast<double>(a.queries) / Seconds(w0, Clock::now());
    r.recall[e] = recall / static_cast<double>(a.queries);
  }
  return r;
}
#endif

// LanceDB 0.31.0 for Node (bench/lancedb/ann.mjs ingest): the points written to a .fvecs file and
// their tag and n to a second file (not timed), then added --lance-chunk rows per call with the
// payload as columns, indexed (IVF_HNSW_SQ by LanceDB's partition rule, m 16, ef_construction
// 200; bitmap on tag, btree on n) with every core, and searched single-threaded over --ef (one
// Node process per ef, table open and 20 warm-up queries untimed).
PeerResult LancePeer(const Args& a, const std::string& dir, const std::vector<float>& queries,
                     const std::vector<std::vector<uint64_t>>& truth) {
  PeerResult r;
  std::filesystem::create_directories(dir);
  const std::string base_file = dir + "/base.fvecs", payload_file = dir + "/payload.bin";
  {
    std::FILE* base = std::fopen(base_file.c_str(), "wb");
    std::FILE* payload = std::fopen(payload_file.c_str(), "wb");
    if (base == nullptr || payload == nullptr) Die(kName, "cannot write in " + dir);
    Stream stream(a.dim, kPointSeed);
    std::vector<float> v(a.dim);
    const int32_t dim = static_cast<int32_t>(a.dim);
    bool ok = true;
    for (size_t i = 0; i < a.points && ok; ++i) {
      uint32_t fields[2];
      stream.Next(v.data(), &fields[0], &fields[1]);
      ok = std::fwrite(&dim, sizeof dim, 1, base) == 1 &&
           std::fwrite(v.data(), sizeof(float), a.dim, base) == a.dim &&
           std::fwrite(fields, sizeof fields, 1, payload) == 1;
    }
    ok = std::fclose(base) == 0 && ok;
    ok = std::fclose(payload) == 0 && ok;
    if (!ok) Die(kName, "cannot write the points for LanceDB in " + dir);
  }
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  LanceRunner runner(std::string(MOSAIC_SOURCE_DIR) + "/bench/lancedb/ann.mjs", dir + "/lance");
  auto built = runner.Ingest(base_file, payload_file, a.points, Metric::kL2, LanceIndex::kIvfHnswSq,
                             a.lance_chunk, threads);
  Check(built.status(), "LanceDB ingest");
  std::filesystem::remove(base_file);
  std::filesystem::remove(payload_file);
  r.ingest_s = built->ingest_seconds;
  r.index_s = built->index_seconds;
  r.scalar_index_s = built->scalar_index_seconds;
  r.disk_bytes = built->disk_bytes;
  r.hwm_kb = built->max_rss_kb;
  const io::Matrix q{queries, a.queries, a.dim};
  for (size_t e = 0; e < a.efs.size(); ++e) {
    auto found = runner.Search(q, kK, "{\"ef\": " + std::to_string(a.efs[e]) + ", \"warmup\": 20}", 1);
    Check(found.status(), "LanceDB search");
    double recall = 0;
    for (size_t i = 0; i < a.queries; ++i) recall += Recall(truth, i, found->ids.data() + i * kK);
    r.recall[e] = recall / static_cast<double>(a.queries);
    r.qps[e] = static_cast<double>(a.queries) / found->seconds;
  }
  return r;
}

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
