// storage_bench: the arguments, the point stream's queries and ground truth, /proc figures.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <queue>
#include <utility>

#include "simd/distance.h"

#include "storage_bench/storage_bench.h"

namespace mosaic::bench {

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    // The flags that take no value.
    const std::pair<const char*, bool Args::*> flags[] = {
        {"--keep", &Args::keep},
        {"--only-segments", &Args::only_segments},
        {"--only-peers", &Args::only_peers},
        {"--search-during-ingest", &Args::search_during_ingest}};
    const auto flag = std::find_if(std::begin(flags), std::end(flags),
                                   [&](const auto& f) { return k == f.first; });
    if (flag != std::end(flags)) {
      a.*(flag->second) = true;
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

std::vector<float> Queries(const Args& a) {
  Stream s(a.dim, kQuerySeed);
  std::vector<float> q(a.queries * a.dim);
  uint32_t tag, n;
  for (size_t i = 0; i < a.queries; ++i) s.Next(q.data() + i * a.dim, &tag, &n);
  return q;
}

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

}  // namespace mosaic::bench
