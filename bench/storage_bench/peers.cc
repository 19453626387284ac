// storage_bench: USearch and LanceDB on the same points (--peers).
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "ann/lance_runner.h"
#if MOSAIC_BENCH_USEARCH
#include "ann/usearch_engine.h"
#endif

#include "storage_bench/storage_bench.h"

namespace mosaic::bench {
namespace {

double Recall(const std::vector<std::vector<uint64_t>>& truth, size_t i, const int64_t* ids) {
  size_t found = 0;
  for (size_t j = 0; j < kK; ++j)
    if (ids[j] >= 0 && std::find(truth[i].begin(), truth[i].end(), static_cast<uint64_t>(ids[j])) !=
                           truth[i].end())
      ++found;
  return static_cast<double>(found) / kK;
}

}  // namespace

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

}  // namespace mosaic::bench
