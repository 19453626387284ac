// Prometheus metrics: requests by route and status, latency histograms by route; the gauges
// (points, bytes, ingest progress) are read from the database when scraped.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>

namespace mosaic::server {

class Metrics {
 public:
  // `route` is the matched pattern ("/v1/collections/{c}/query"), never the raw path.
  void Observe(const std::string& method, const std::string& route, int status, double seconds);
  // The counters and histograms in Prometheus text format (the caller appends gauges).
  std::string Render() const;

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,     5};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
};

// Escapes a label value ("\\", "\"", "\n").
std::string PromLabel(const std::string& v);

}  // namespace mosaic::server
