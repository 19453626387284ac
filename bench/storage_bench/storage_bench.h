// storage_bench's parts (bench/storage_bench/main.cc says what it measures and how to run it): the
// point stream and its ground truth, the ingest and reopen of a Mosaic database (ingest.cc), the
// modes that work on a database kept by --keep (kept_db.cc), the peers on the same points
// (peers.cc), and the report (main.cc).
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_util.h"
#include "mosaic/db.h"

namespace mosaic::bench {

inline constexpr char kName[] = "storage_bench";
inline constexpr uint32_t kCentres = 1000;
inline constexpr uint32_t kTags = 100;
inline constexpr size_t kK = 10;
inline constexpr double kTargetRecall = 0.95;
inline constexpr size_t kMaxEfs = 16;
inline constexpr uint64_t kPointSeed = 1, kQuerySeed = 2, kCentreSeed = 42;

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

Args Parse(int argc, char** argv);
void Check(const Status& s, const std::string& what);

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

std::vector<float> Queries(const Args& a);
// The ids of each query's kK nearest points (squared L2), by brute force over the stream.
std::vector<std::vector<uint64_t>> GroundTruth(const Args& a, const std::vector<float>& queries);
// "name: value" fields of a /proc file (the first number after the colon).
uint64_t ProcField(const char* file, const std::string& name);
std::string LoadAverage();
uint64_t DirBytes(const std::string& dir);

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

// An open alone: its time and the memory it leaves resident.
struct OpenResult {
  double open_s = 0;
  uint64_t anon_kb = 0;  // RssAnon: memory the process owns
  uint64_t file_kb = 0;  // RssFile: mapped file pages resident (the page cache's)
};

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

// ingest.cc
// --memory-limit-gb: the memory cgroup (v1: /sys/fs/cgroup/memory; needs root) the ingest of
// job `job` runs in (the caller removes it after the ingest).
std::string MemoryCgroup(const std::string& job);
DbOptions Options(const Args& a, const Config& c);
IngestResult Ingest(const Args& a, const Config& c, const std::string& path, int round,
                    const std::vector<float>& queries);
QueryResult OpenAndQuery(const Args& a, const Config& c, const std::string& path,
                         const std::vector<float>& queries,
                         const std::vector<std::vector<uint64_t>>& truth);
// In a child of its own.
OpenResult TimeOpen(const std::string& path, const DbOptions& options);

// kept_db.cc: the modes on a database kept by --keep (main.cc says what each does).
int OpenOnly(const Args& a);
int QueryOnly(const Args& a);
int SwitchCost(const Args& a);
int SnapshotRestore(const Args& a);

// peers.cc
#if MOSAIC_BENCH_USEARCH
PeerResult UsearchPeer(const Args& a, const std::string& dir, const std::vector<float>& queries,
                       const std::vector<std::vector<uint64_t>>& truth);
#endif
PeerResult LancePeer(const Args& a, const std::string& dir, const std::vector<float>& queries,
                     const std::vector<std::vector<uint64_t>>& truth);

}  // namespace mosaic::bench
