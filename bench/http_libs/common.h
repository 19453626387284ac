// Shared by beast_server.cc and httplib_server.cc so both serve byte-identical answers and do the
// same CPU work: the command line, the simulated ~50 us of work, and the JSON answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace httpbench {

inline constexpr std::size_t kBodyLimit = 1 << 20;  // 1 MiB; larger bodies get 413
inline constexpr int kReadTimeoutS = 10;             // a request must arrive within this
inline constexpr int kIdleTimeoutS = 5;              // idle keep-alive connection closed after
inline constexpr int kWriteTimeoutS = 10;
inline constexpr int kShutdownGraceS = 10;           // in-flight requests get this long on SIGTERM
inline constexpr int kMaxSleepMs = 10000;

struct Options {
  int port = 0;          // 0: any free port (printed on stdout as "listening on PORT")
  int threads = 2;       // Beast: io_context threads; httplib: thread-pool size
  int keep_alive_max = 100;  // httplib only: requests per connection before it is closed
  long work_iters = 0;   // iterations of Work(); 0 = calibrate at start for ~50 us
};

// The simulated request work: a dependent chain of multiply/xor-shift steps that the compiler
// cannot fold away; its result goes into the answer.
inline std::uint64_t Work(std::uint64_t seed, long iters) {
  std::uint64_t x = seed | 1;
  for (long i = 0; i < iters; ++i) {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
  }
  return x;
}

// Iterations of Work() that take ~target_us on this machine (best of several timings, so a busy
// machine does not inflate the count).
inline long CalibrateWork(double target_us = 50.0) {
  constexpr long kProbe = 200000;
  double best_ns = 1e18;
  for (int r = 0; r < 15; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    volatile std::uint64_t sink = Work(r + 12345, kProbe);
    (void)sink;
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (ns < best_ns) best_ns = ns;
  }
  return static_cast<long>(target_us * 1000.0 * kProbe / best_ns);
}

inline std::uint64_t Fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x80) {  // keep the answer ASCII whatever the body holds
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// POST /echo: {"bytes": N, "fnv1a": "...", "work": "...", "head": "first 32 bytes"}
inline std::string EchoJson(std::string_view body, long work_iters) {
  std::uint64_t h = Fnv1a(body);
  std::uint64_t w = Work(h, work_iters);
  char hex[64];
  std::string out = "{\"bytes\":" + std::to_string(body.size());
  std::snprintf(hex, sizeof hex, ",\"fnv1a\":\"%016llx\",\"work\":\"%016llx\",\"head\":",
                static_cast<unsigned long long>(h), static_cast<unsigned long long>(w));
  out += hex;
  AppendJsonString(out, body.substr(0, 32));
  out += "}\n";
  return out;
}

inline std::string HelloJson() { return "{\"hello\":\"world\"}\n"; }

inline std::string ErrorJson(int status, std::string_view message) {
  std::string out = "{\"error\":{\"status\":" + std::to_string(status) + ",\"message\":";
  AppendJsonString(out, message);
  out += "}}\n";
  return out;
}

// sleep_ms from a query string such as "sleep_ms=2000&x=1"; 0 when absent, capped.
inline int SleepMsFromQuery(std::string_view query) {
  constexpr std::string_view kKey = "sleep_ms=";
  std::size_t pos = 0;
  while (pos < query.size()) {
    std::size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (part.substr(0, kKey.size()) == kKey) {
      int ms = std::atoi(std::string(part.substr(kKey.size())).c_str());
      return ms < 0 ? 0 : (ms > kMaxSleepMs ? kMaxSleepMs : ms);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return 0;
}

// --port N --threads N --keep-alive-max N --work-iters N; --calibrate prints the iterations for
// ~50 us and exits.
inline Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") o.port = std::atoi(next());
    else if (a == "--threads") o.threads = std::atoi(next());
    else if (a == "--keep-alive-max") o.keep_alive_max = std::atoi(next());
    else if (a == "--work-iters") o.work_iters = std::atol(next());
    else if (a == "--calibrate") {
      std::printf("%ld\n", CalibrateWork());
      std::exit(0);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--port N] [--threads N] [--keep-alive-max N] [--work-iters N] | --calibrate\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (o.threads < 1) o.threads = 1;
  if (o.keep_alive_max < 1) o.keep_alive_max = 1;
  if (o.work_iters <= 0) o.work_iters = CalibrateWork();
  return o;
}

}  // namespace httpbench
