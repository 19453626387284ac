// LanceDB as an ANN peer of bench/ann_bench: drives bench/lancedb/ann.mjs (LanceDB for Node,
// installed by scripts/bench-peers) through `node` child processes, exchanging .fvecs/.ivecs
// files in a scratch directory. Build() ingests and indexes a matrix; Search() runs a query set
// at one parameter point and returns the ids and the seconds of the query loop as measured inside
// Node (process start, table open and one warm-up query excluded).
//
// Threads: the child gets LANCE_CPU_THREADS (the pool that runs each query's index search),
// RAYON_NUM_THREADS (index build) and TOKIO_WORKER_THREADS (the Node binding's runtime) set to the
// thread count; LanceDB would otherwise search on cores - 2 threads, at least 1 (so one on a
// 2-core machine). With a non-empty `pin_cpus` it runs under `taskset -c pin_cpus`, the only hard
// bound: file reads use tokio's blocking pool, which nothing sizes.
// Not thread-safe: one runner drives one child at a time.
#pragma once

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/vector_file.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::bench {

enum class LanceIndex { kIvfHnswSq, kIvfPq, kNone };

inline const char* LanceIndexName(LanceIndex index) {
  switch (index) {
    case LanceIndex::kIvfHnswSq:
      return "ivf_hnsw_sq";
    case LanceIndex::kIvfPq:
      return "ivf_pq";
    case LanceIndex::kNone:
      return "none";
  }
  return "?";
}

struct LanceBuildStats {
  size_t rows = 0;
  double ingest_seconds = 0;  // createTable from an in-memory Arrow batch
  double index_seconds = 0;   // createIndex
  uint64_t disk_bytes = 0;    // everything under the table's directory
  uint64_t index_bytes = 0;   // the _indices part of it
  // Ingest() only:
  double scalar_index_seconds = 0;  // bitmap index on tag, btree on n
  uint64_t max_rss_kb = 0;          // the Node process's peak RSS
};

struct LanceSearchResult {
  std::vector<int64_t> ids;  // k per query, -1 padded
  double seconds = 0;        // the query loop only
};

class LanceRunner {
 public:
  // `script`: bench/lancedb/ann.mjs; `work_dir`: scratch space for the table and the vector
  // files (created; left in place for inspection).
  LanceRunner(std::string script, std::string work_dir)
      : script_(std::move(script)), work_dir_(std::move(work_dir)) {}

  // Replaces any previous table with `base` indexed as `index`.
  Result<LanceBuildStats> Build(const io::Matrix& base, Metric metric, LanceIndex index,
                                int threads, const std::string& pin_cpus = "") {
    std::error_code ec;
    std::filesystem::create_directories(work_dir_, ec);
    if (ec) return Status::IOError("cannot create " + work_dir_ + ": " + ec.message());
    const std::string base_file = work_dir_ + "/base.fvecs";
    MOSAIC_RETURN_IF_ERROR(WriteFvecs(base, base_file));
    MOSAIC_ASSIGN_OR_RETURN(
        nlohmann::json j,
        Run({"build", db_dir(), base_file, MetricName(metric), LanceIndexName(index)}, threads, pin_cpus));
    std::filesystem::remove(base_file, ec);
    return ParseStats(j, "build", base.rows);
  }

  // bench/storage_bench's peer: the rows of `base_file` (.fvecs) with `payload_file`'s tag and n
  // (two uint32 per row), added `chunk` rows per call, then indexed as `index` (vector) and
  // tag/n (scalar). The files are left in place.
  Result<LanceBuildStats> Ingest(const std::string& base_file, const std::string& payload_file,
                                 size_t rows, Metric metric, LanceIndex index, size_t chunk,
                                 int threads) {
    std::error_code ec;
    std::filesystem::create_directories(work_dir_, ec);
    if (ec) return Status::IOError("cannot create " + work_dir_ + ": " + ec.message());
    MOSAIC_ASSIGN_OR_RETURN(nlohmann::json j,
                            Run({"ingest", db_dir(), base_file, payload_file, MetricName(metric),
                                 LanceIndexName(index), std::to_string(chunk)},
                                threads, ""));
    return ParseStats(j, "ingest", rows);
  }

  // `params_json`: {"nprobes": N, "ef": N, "refine": N, "warmup": N}, any subset (see ann.mjs);
  // `concurrency` queries in flight at a time on as many LanceDB compute threads.
  Result<LanceSearchResult> Search(const io::Matrix& queries, size_t k,
                                   const std::string& params_json, int concurrency,
                                   const std::string& pin_cpus = "") {
    const std::string query_file = work_dir_ + "/queries.fvecs";
    const std::string out_file = work_dir_ + "/result.ivecs";
    MOSAIC_RETURN_IF_ERROR(WriteFvecs(queries, query_file));
    MOSAIC_ASSIGN_OR_RETURN(nlohmann::json j,
                            Run({"search", db_dir(), query_file, std::to_string(k), params_json,
                                 std::to_string(concurrency), out_file},
                                concurrency, pin_cpus));
    LanceSearchResult r;
    if (!j.contains("seconds") || !j["seconds"].is_number())
      return Status::Internal("ann.mjs search printed " + j.dump());
    r.seconds = j["seconds"].get<double>();
    MOSAIC_ASSIGN_OR_RETURN(r.ids, ReadIvecs(out_file, queries.rows, k));
    return r;
  }

  // The one version string ann_bench prints for this peer.
  static std::string BuildInfo() { return "LanceDB 0.31.0 for Node (Lance 8.0.0)"; }

 private:
  std::string db_dir() const { return work_dir_ + "/db"; }

  // The stats ann.mjs `mode` printed (ingest's extra fields when present), checked to cover `rows`.
  static Result<LanceBuildStats> ParseStats(const nlohmann::json& j, const std::string& mode,
                                            size_t rows) {
    LanceBuildStats s;
    try {
      s.rows = j.at("rows").get<size_t>();
      s.ingest_seconds = j.at("ingest_seconds").get<double>();
      s.index_seconds = j.at("index_seconds").get<double>();
      s.disk_bytes = j.at("disk_bytes").get<uint64_t>();
      s.index_bytes = j.at("index_bytes").get<uint64_t>();
      s.scalar_index_seconds = j.value("scalar_index_seconds", 0.0);
      s.max_rss_kb = j.value("max_rss_kb", uint64_t{0});
    } catch (const nlohmann::json::exception& e) {
      return Status::Internal("ann.mjs " + mode + " printed " + j.dump() + ": " + e.what());
    }
    if (s.rows != rows)
      return Status::Internal("ann.mjs " + mode + " stored " + std::to_string(s.rows) +
                              " rows of " + std::to_string(rows));
    return s;
  }

  static const char* MetricName(Metric metric) {
    return metric == Metric::kL2 ? "l2" : metric == Metric::kCosine ? "cosine" : "dot";
  }

  static std::string Quote(const std::string& s) {
    std::string q = "'";
    for (char c : s)
      q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }

  static Status WriteFvecs(const io::Matrix& m, const std::string& path) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    const int32_t dim = static_cast<int32_t>(m.dim);
    for (size_t i = 0; i < m.rows && f; ++i) {
      f.write(reinterpret_cast<const char*>(&dim), sizeof dim);
      f.write(reinterpret_cast<const char*>(m.row(i)), static_cast<std::streamsize>(m.dim * 4));
    }
    f.close();
    if (!f) return Status::IOError("cannot write " + path);
    return Status::OK();
  }

  // Rows of exactly k ids each (what ann.mjs writes), widened to int64.
  static Result<std::vector<int64_t>> ReadIvecs(const std::string& path, size_t rows, size_t k) {
    std::ifstream f(path, std::ios::binary);
    std::vector<int32_t> row(k + 1);
    std::vector<int64_t> ids;
    ids.reserve(rows * k);
    for (size_t i = 0; i < rows; ++i) {
      if (!f.read(reinterpret_cast<char*>(row.data()), static_cast<std::streamsize>(4 * (k + 1))))
        return Status::Corruption(path + ": " + std::to_string(i) + " of " + std::to_string(rows) +
                                  " rows");
      if (row[0] != static_cast<int32_t>(k))
        return Status::Corruption(path + ": row " + std::to_string(i) + " has " +
                                  std::to_string(row[0]) + " ids, expected " + std::to_string(k));
      ids.insert(ids.end(), row.begin() + 1, row.end());
    }
    return ids;
  }

  // Runs ann.mjs with `args` and parses the JSON line it prints last; its stderr goes to
  // work_dir/ann.log and ends up in the error message on failure.
  Result<nlohmann::json> Run(const std::vector<std::string>& args, int threads,
                             const std::string& pin_cpus) const {
    const std::string n = std::to_string(threads < 1 ? 1 : threads);
    const std::string log = work_dir_ + "/ann.log";
    std::string cmd = "env LANCE_CPU_THREADS=" + n + " RAYON_NUM_THREADS=" + n +
                      " TOKIO_WORKER_THREADS=" + n + " ";
    if (!pin_cpus.empty()) cmd += "taskset -c " + Quote(pin_cpus) + " ";
    cmd += "node " + Quote(script_);
    for (const auto& a : args)
      cmd += " " + Quote(a);
    cmd += " 2>" + Quote(log);
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return Status::IOError("cannot run " + cmd);
    std::string out;
    char buf[4096];
    while (size_t got = fread(buf, 1, sizeof buf, p))
      out.append(buf, got);
    const int rc = pclose(p);
    if (rc != 0) {
      std::ifstream f(log);
      std::string err((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (err.size() > 2000) err = "..." + err.substr(err.size() - 2000);
      return Status::Internal(cmd + " exited with " +
                              std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) +
                              " (scripts/bench-peers installs LanceDB): " + err);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
      out.pop_back();
    const size_t nl = out.rfind('\n');
    const std::string line = nl == std::string::npos ? out : out.substr(nl + 1);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return Status::Internal(cmd + " printed no JSON line: " + out);
    return j;
  }

  std::string script_;
  std::string work_dir_;
};

}  // namespace mosaic::bench
