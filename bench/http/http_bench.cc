// http_bench: the in-process side of bench/http, the HTTP overhead of vector search. The driver,
// bench/http/run.sh, runs it against a copy of the database the server serves, alternating with
// wrk against the server in the same run; results in docs/benchmarks.md ("HTTP overhead").
//
//   http_bench prepare --data DIR --out DIR [--queries N] [--vectors N] [--using NAME]
//       From Fashion-MNIST's test images (DIR/t10k-images-idx3-ubyte.gz): OUT/queries.jsonl, one
//       request body of POST /v1/collections/{c}/query per line (the first N images, default
//       1000: {"query": {"nearest": [...]}, "using": NAME, "limit": 10, "with_payload": false});
//       OUT/vectors.jsonl, one vector per line for the upserts of the mixed run (the last N
//       images, default 1000).
//
//   http_bench library --db DIR --collection C --bodies FILE [--threads 1,2]
//                      [--modes engine,json,search] [--seconds S] [--round R] [--ids FILE]
//       Runs the bodies through the library with T threads for S seconds per cell, each mode and
//       thread count once, in an order that alternates with R. Modes:
//         engine  query::QueryEngine::Query on the parsed request (what the query route runs)
//         json    the route's work without HTTP: Db::GetCollection, parse the body,
//                 wire::QueryRequestFromJson, QueryEngine::Query, wire::QueryResponseToJson, dump
//         search  Collection::Search (limit 10, no payload): the bare index
//       Prints one "LIB ..." line per cell: queries/s, p50/p99 latency, this process's CPU time per
//       query, its share of all cores, and the share of all cores busy machine-wide during the
//       cell (/proc/stat), so what other processes took shows. --ids writes the top-10 ids of the
//       first 20 bodies (engine), one line each, for run.sh to compare with the server's answers.
//
//   http_bench codec --db DIR --collection C --bodies FILE [--passes N]
//       One thread: the time per body of each step of the route's JSON work, to place the overhead:
//       Json::parse of the body, wire::QueryRequestFromJson, wire::QueryResponseToJson + dump of
//       the body's answer; and, as a floor for a request parser, reading the body's numbers with
//       std::from_chars alone. Median over N passes (default 5) of the mean over the bodies.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "io/vector_file.h"
#include "mosaic/db.h"
#include "query/engine.h"
#include "wire/json_parse.h"
#include "wire/query_codec.h"

namespace {

namespace b = mosaic::bench;
namespace q = mosaic::query;
using mosaic::Json;

constexpr const char* kName = "http_bench";

[[noreturn]] void Die(const std::string& what) {
  b::Die(kName, what);
}

double Percentile(std::vector<double>& v, double p) {  // v sorted
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

// Busy and total jiffies of all CPUs so far (/proc/stat, first line).
struct CpuTicks {
  unsigned long long busy = 0, total = 0;
};
CpuTicks MachineTicks() {
  CpuTicks t;
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  unsigned long long v[10] = {};
  for (int i = 0; i < 10 && in >> v[i]; ++i) {
  }
  // user nice system idle iowait irq softirq steal (guest time is inside user).
  t.total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  t.busy = t.total - v[3] - v[4];
  return t;
}

double ProcessCpuSeconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

int Prepare(const std::map<std::string, std::string>& flags) {
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  };
  const std::string data = get("data", "");
  const std::string out = get("out", "");
  if (data.empty() || out.empty()) Die("prepare needs --data DIR and --out DIR");
  const size_t nq = std::stoul(get("queries", "1000"));
  const size_t nv = std::stoul(get("vectors", "1000"));
  const std::string using_vector = get("using", "v");
  auto images = mosaic::io::ReadVectorFile(data + "/t10k-images-idx3-ubyte.gz");
  if (!images.ok()) Die(images.status().ToString());
  const mosaic::io::Matrix& m = images.value();
  if (nq + nv > m.rows)
    Die("--queries + --vectors exceed the " + std::to_string(m.rows) + " test images");
  auto row = [&](size_t i) { return Json(std::vector<float>(m.row(i), m.row(i) + m.dim)); };
  std::ofstream qf(out + "/queries.jsonl");
  for (size_t i = 0; i < nq; ++i) {
    Json body = {{"query", {{"nearest", row(i)}}},
                 {"using", using_vector},
                 {"limit", 10},
                 {"with_payload", false}};
    qf << body.dump() << '\n';
  }
  std::ofstream vf(out + "/vectors.jsonl");
  for (size_t i = m.rows - nv; i < m.rows; ++i)
    vf << row(i).dump() << '\n';
  if (!qf || !vf) Die("cannot write into " + out);
  std::printf("prepared %zu query bodies and %zu upsert vectors (%zu dims) in %s\n", nq, nv, m.dim,
              out.c_str());
  return 0;
}

struct Cell {
  std::string mode;
  int threads;
};

int Library(const std::map<std::string, std::string>& flags) {
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  };
  const std::string db_path = get("db", "");
  const std::string name = get("collection", "fashion");
  const std::string bodies_path = get("bodies", "");
  if (db_path.empty() || bodies_path.empty()) Die("library needs --db DIR and --bodies FILE");
  const double seconds = std::stod(get("seconds", "5"));
  const int round = std::stoi(get("round", "1"));
  std::vector<int> threads;
  for (const auto& t : Split(get("threads", "1,2"), ','))
    threads.push_back(std::stoi(t));
  std::vector<std::string> modes = Split(get("modes", "engine,json,search"), ',');

  // The bodies, as text (json mode parses them each time) and parsed once (engine, search).
  std::vector<std::string> bodies;
  {
    std::ifstream in(bodies_path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) bodies.push_back(line);
  }
  if (bodies.empty()) Die("no bodies in " + bodies_path);
  mosaic::wire::QueryCodecOptions codec;
  codec.allow_paths = false;  // as the server
  std::vector<q::QueryRequest> requests;
  std::vector<mosaic::SearchRequest> searches;
  for (const auto& body : bodies) {
    Json j = Json::parse(body);
    auto r = mosaic::wire::QueryRequestFromJson(j, codec);
    if (!r.ok()) Die("body: " + r.status().ToString());
    requests.push_back(std::move(r).value());
    mosaic::SearchRequest s;
    s.vector_name = j.value("using", "");
    s.vector = j["query"]["nearest"].get<std::vector<float>>();
    s.limit = j.value("limit", 10);
    s.with_payload = false;
    searches.push_back(std::move(s));
  }

  auto opened = mosaic::Db::Open(db_path);
  if (!opened.ok()) Die(opened.status().ToString());
  std::unique_ptr<mosaic::Db> db = std::move(opened).value();
  auto got = db->GetCollection(name);
  if (!got.ok()) Die(got.status().ToString());
  std::shared_ptr<mosaic::Collection> c = got.value();

  // One query of each mode; false on an error (reported once).
  std::atomic<bool> failed{false};
  auto report = [&](const mosaic::Status& s) {
    if (!failed.exchange(true))
      std::fprintf(stderr, "%s: query failed: %s\n", kName, s.ToString().c_str());
  };
  std::map<std::string, std::function<size_t(size_t)>> run = {
      {"engine",
       [&](size_t i) -> size_t {
         q::QueryEngine engine(*c);
         auto r = engine.Query(requests[i]);
         if (!r.ok()) return report(r.status()), 0;
         return r.value().hits.size();
       }},
      {"json",
       [&](size_t i) -> size_t {
         auto coll = db->GetCollection(name);
         if (!coll.ok()) return report(coll.status()), 0;
         auto parsed = mosaic::wire::ParseJson(bodies[i]);  // as Request::JsonBody
         if (!parsed.ok()) return report(parsed.status()), 0;
         auto r = mosaic::wire::QueryRequestFromJson(parsed.value(), codec);
         if (!r.ok()) return report(r.status()), 0;
         q::QueryEngine engine(*coll.value());
         auto res = engine.Query(r.value());
         if (!res.ok()) return report(res.status()), 0;
         std::string out = mosaic::wire::QueryResponseToJson(res.value()).dump();
         return out.size() > 2 ? res.value().hits.size() : 0;
       }},
      {"search",
       [&](size_t i) -> size_t {
         auto r = c->Search(searches[i]);
         if (!r.ok()) return report(r.status()), 0;
         return r.value().size();
       }},
  };
  for (const auto& m : modes)
    if (!run.count(m)) Die("unknown mode '" + m + "' (engine, json, search)");

  // Top-10 ids of the first bodies, to compare with the server's answers.
  if (std::string ids = get("ids", ""); !ids.empty()) {
    std::ofstream out(ids);
    for (size_t i = 0; i < std::min<size_t>(20, requests.size()); ++i) {
      q::QueryEngine engine(*c);
      auto r = engine.Query(requests[i]);
      if (!r.ok()) Die(r.status().ToString());
      for (size_t h = 0; h < r.value().hits.size(); ++h)
        out << (h ? " " : "") << r.value().hits[h].id.ToString();
      out << '\n';
    }
  }

  // Warm-up: every body once through each mode.
  for (const auto& m : modes)
    for (size_t i = 0; i < bodies.size(); ++i)
      run[m](i);
  if (failed) return 1;

  std::vector<Cell> cells;
  for (const auto& m : modes)
    for (int t : threads)
      cells.push_back({m, t});
  if (round % 2 == 0) std::reverse(cells.begin(), cells.end());

  for (const Cell& cell : cells) {
    const auto& fn = run[cell.mode];
    std::vector<std::vector<double>> lat(cell.threads);
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    const CpuTicks m0 = MachineTicks();
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = b::Clock::now();
    for (int t = 0; t < cell.threads; ++t)
      pool.emplace_back([&, t] {
        auto& mine = lat[t];
        mine.reserve(1 << 16);
        // Threads start at different bodies, as wrk's connections do.
        size_t i = bodies.size() * static_cast<size_t>(t) / static_cast<size_t>(cell.threads);
        while (!stop.load(std::memory_order_relaxed)) {
          const auto a = b::Clock::now();
          fn(i);
          mine.push_back(std::chrono::duration<double, std::milli>(b::Clock::now() - a).count());
          if (++i == bodies.size()) i = 0;
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : pool)
      th.join();
    const double wall = b::Seconds(t0, b::Clock::now());
    const double cpu = ProcessCpuSeconds() - cpu0;
    const CpuTicks m1 = MachineTicks();
    std::vector<double> all;
    for (auto& v : lat)
      all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    const double n = static_cast<double>(all.size());
    const double machine_busy = m1.total > m0.total ? static_cast<double>(m1.busy - m0.busy) /
                                                          static_cast<double>(m1.total - m0.total)
                                                    : 0;
    const double ncpu = std::thread::hardware_concurrency();
    // Own share: this process's CPU seconds over all cores' seconds.
    const double own_share = cpu / (wall * ncpu);
    std::printf(
        "LIB mode=%s threads=%d queries=%zu seconds=%.3f qps=%.1f p50_ms=%.4f p99_ms=%.4f "
        "cpu_us_per_query=%.1f own_share=%.3f machine_busy=%.3f others_share=%.3f\n",
        cell.mode.c_str(), cell.threads, all.size(), wall, n / wall, Percentile(all, 0.5),
        Percentile(all, 0.99), cpu / n * 1e6, own_share, machine_busy,
        std::max(0.0, machine_busy - own_share));
    std::fflush(stdout);
    if (failed) return 1;
  }
  return 0;
}

int Codec(const std::map<std::string, std::string>& flags) {
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  };
  const std::string bodies_path = get("bodies", "");
  if (bodies_path.empty() || get("db", "").empty()) Die("codec needs --db DIR and --bodies FILE");
  const int passes = std::stoi(get("passes", "5"));
  std::vector<std::string> bodies;
  {
    std::ifstream in(bodies_path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) bodies.push_back(line);
  }
  auto opened = mosaic::Db::Open(get("db", ""));
  if (!opened.ok()) Die(opened.status().ToString());
  auto c = opened.value()->GetCollection(get("collection", "fashion"));
  if (!c.ok()) Die(c.status().ToString());
  mosaic::wire::QueryCodecOptions codec;
  codec.allow_paths = false;
  std::vector<Json> parsed;
  std::vector<q::QueryRequest> requests;
  std::vector<q::QueryResponse> responses;
  for (const auto& body : bodies) {
    parsed.push_back(Json::parse(body));
    auto r = mosaic::wire::QueryRequestFromJson(parsed.back(), codec);
    if (!r.ok()) Die(r.status().ToString());
    auto res = q::QueryEngine(*c.value()).Query(r.value());
    if (!res.ok()) Die(res.status().ToString());
    requests.push_back(std::move(r).value());
    responses.push_back(std::move(res).value());
  }
  size_t sink = 0;
  std::map<std::string, std::function<void(size_t)>> steps = {
      {"1 Json::parse(body) (nlohmann)", [&](size_t i) { sink += Json::parse(bodies[i]).size(); }},
      {"1b wire::ParseJson(body) (simdjson; the server's)",
       [&](size_t i) { sink += mosaic::wire::ParseJson(bodies[i]).value().size(); }},
      {"2 QueryRequestFromJson",
       [&](size_t i) {
         auto r = mosaic::wire::QueryRequestFromJson(parsed[i], codec);
         sink += r.ok();
       }},
      {"3 QueryResponseToJson + dump",
       [&](size_t i) { sink += mosaic::wire::QueryResponseToJson(responses[i]).dump().size(); }},
      {"4 engine.Query (for scale)",
       [&](size_t i) { sink += q::QueryEngine(*c.value()).Query(requests[i]).ok(); }},
      {"5 floor: std::from_chars over the body's numbers",
       [&](size_t i) {
         const std::string& b = bodies[i];
         const char* p = b.data() + b.find('[') + 1;
         const char* end = b.data() + b.size();
         std::vector<float> v;
         v.reserve(1024);
         while (p < end && *p != ']') {
           float x;
           auto r = std::from_chars(p, end, x);
           if (r.ec != std::errc()) Die("from_chars failed");
           v.push_back(x);
           p = r.ptr;
           if (*p == ',') ++p;
         }
         sink += v.size();
       }},
  };
  std::printf("step (one thread, %zu bodies of %zu bytes on average)        us/body\n",
              bodies.size(), [&] {
                size_t n = 0;
                for (const auto& b : bodies)
                  n += b.size();
                return n / bodies.size();
              }());
  for (auto& [name, fn] : steps) {
    std::vector<double> us;
    for (int pass = 0; pass < passes; ++pass) {
      const auto t0 = b::Clock::now();
      for (size_t i = 0; i < bodies.size(); ++i)
        fn(i);
      us.push_back(b::Seconds(t0, b::Clock::now()) / static_cast<double>(bodies.size()) * 1e6);
    }
    std::printf("CODEC %-52s %8.1f\n", name.c_str(), b::Median(us));
  }
  return sink == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    Die("usage: http_bench prepare|library|codec [--flag value]... (see the file's header)");
  const std::string cmd = argv[1];
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (!a.starts_with("--") || i + 1 >= argc) Die("expected --flag value, got '" + a + "'");
    flags[a.substr(2)] = argv[++i];
  }
  if (cmd == "prepare") return Prepare(flags);
  if (cmd == "library") return Library(flags);
  if (cmd == "codec") return Codec(flags);
  Die("unknown command '" + cmd + "' (prepare, library, codec)");
}
