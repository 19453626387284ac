// Small helpers the benchmarks share: timing, medians, and stopping on an error.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds the calling thread has run. Unlike the wall clock it does not stretch while other
// processes hold the cores, so single-thread timings on a shared machine stay comparable.
inline double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU seconds every thread of the process has run (for builds on several threads).
inline double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The smallest value with at least share p (0 < p <= 1) of the values at or below it.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(std::max<size_t>(i, 1), v.size()) - 1];
}

// "1,2,4" as numbers (std::stoll throws on anything else).
template <typename T>
std::vector<T> ParseList(const std::string& s) {
  std::vector<T> out;
  for (size_t pos = 0; pos < s.size();) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(static_cast<T>(std::stoll(s.substr(pos, end - pos))));
    pos = end + 1;
  }
  return out;
}

// Prints "<bench>: <what>" and exits 1.
[[noreturn]] inline void Die(const char* bench, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", bench, what.c_str());
  std::exit(1);
}

}  // namespace mosaic::bench
