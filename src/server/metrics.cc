#include "server/metrics.h"

#include <cstdio>
#include <tuple>

namespace mosaic::server {

std::string PromLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Metrics::Observe(const std::string& method, const std::string& route, int status,
                      double seconds) {
  std::lock_guard l(mu_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[{method, route}];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.counts[i];
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::lock_guard l(mu_);
  std::string out;
  char buf[64];
  out += "# HELP mosaic_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE mosaic_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    out += "mosaic_http_requests_total{method=\"" + method + "\",route=\"" + PromLabel(route) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP mosaic_http_request_duration_seconds Time from a request's last byte to its answer.\n";
  out += "# TYPE mosaic_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = "method=\"" + key.first + "\",route=\"" + PromLabel(key.second) + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(buf, sizeof(buf), "%g", kBuckets[i]);
      out += "mosaic_http_request_duration_seconds_bucket{" + labels + ",le=\"" + buf + "\"} " +
             std::to_string(h.counts[i]) + "\n";
    }
    out += "mosaic_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    std::snprintf(buf, sizeof(buf), "%.6f", h.sum);
    out += "mosaic_http_request_duration_seconds_sum{" + labels + "} " + buf + "\n";
    out += "mosaic_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace mosaic::server
