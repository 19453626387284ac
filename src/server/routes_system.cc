// Health, readiness, Prometheus metrics, the model registry.
#include <cstdio>
#include <tuple>
#include <vector>

#include "embed/registry/registry.h"
#include "server/errors.h"
#include "server/routes.h"

namespace mosaic::server {

namespace {

constexpr char kVersion[] = "0.13.0";

// The database's gauges: points and bytes per collection, ingest jobs' progress.
std::string Gauges(ServerContext& ctx) {
  std::string out;
  auto line = [&out](const std::string& name, const std::string& labels, double v) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + buf + "\n";
  };
  out += "# TYPE mosaic_collection_damaged gauge\n";
  for (const auto& [name, why] : ctx.db().DamagedCollections())
    line("mosaic_collection_damaged", "collection=\"" + PromLabel(name) + "\"", 1);
  std::vector<CollectionInfo> infos;
  for (const std::string& name : ctx.db().ListCollections())
    if (auto c = ctx.db().GetCollection(name); c.ok()) infos.push_back(c.value()->Info());
  // One line per collection for each: name, type, value.
  const std::vector<std::tuple<const char*, const char*, double (*)(const CollectionInfo&)>> per = {
      {"mosaic_collection_points", "gauge", [](const CollectionInfo& i) { return double(i.points); }},
      {"mosaic_collection_segment_bytes", "gauge",
       [](const CollectionInfo& i) { return double(i.segment_bytes); }},
      {"mosaic_collection_segment_mapped_bytes", "gauge",
       [](const CollectionInfo& i) { return double(i.segment_mapped_bytes); }},
      {"mosaic_collection_segments", "gauge", [](const CollectionInfo& i) { return double(i.segments); }},
      {"mosaic_collection_wal_bytes", "gauge", [](const CollectionInfo& i) { return double(i.wal_bytes); }},
      // Every file of the collection; retired slots a merge will drop; 1 while a merge runs or
      // is due; merges since the collection was opened.
      {"mosaic_collection_disk_bytes", "gauge", [](const CollectionInfo& i) { return double(i.disk_bytes); }},
      {"mosaic_collection_deleted_pending", "gauge",
       [](const CollectionInfo& i) { return double(i.deleted_pending); }},
      {"mosaic_collection_merges_pending", "gauge",
       [](const CollectionInfo& i) { return double(i.merges_pending); }},
      {"mosaic_collection_merges_total", "counter",
       [](const CollectionInfo& i) { return double(i.merges_done); }},
      // Writes slowed down while merges lagged, and the seconds they waited.
      {"mosaic_collection_writes_slowed_total", "counter",
       [](const CollectionInfo& i) { return double(i.writes_slowed); }},
      {"mosaic_collection_write_slowdown_seconds_total", "counter",
       [](const CollectionInfo& i) { return double(i.write_slowdown_ms) / 1000; }},
      // Heap of the payload and text indexes (lists read in place from files not counted).
      {"mosaic_collection_payload_index_bytes", "gauge",
       [](const CollectionInfo& i) { return double(i.payload_index_bytes); }},
      // 1: the flushes writes trigger are failing.
      {"mosaic_collection_background_error", "gauge",
       [](const CollectionInfo& i) { return i.background_error.empty() ? 0.0 : 1.0; }},
  };
  for (const auto& [name, type, value] : per) {
    out += std::string("# TYPE ") + name + " " + type + "\n";
    for (const auto& i : infos) line(name, "collection=\"" + PromLabel(i.name) + "\"", value(i));
  }
  out += "# TYPE mosaic_vector_index_bytes gauge\n";
  for (const auto& i : infos)
    for (const auto& [vec, bytes] : i.index_bytes)
      line("mosaic_vector_index_bytes",
           "collection=\"" + PromLabel(i.name) + "\",vector=\"" + PromLabel(vec) + "\"",
           static_cast<double>(bytes));
  out += "# TYPE mosaic_ingest_files_done gauge\n";
  std::string totals = "# TYPE mosaic_ingest_files_total gauge\n";
  for (const auto& job : ctx.Jobs()) {
    std::lock_guard l(job->mu);
    std::string labels = "job=\"" + job->id + "\",collection=\"" + PromLabel(job->collection) + "\"";
    line("mosaic_ingest_files_done", labels, static_cast<double>(job->progress.files_done));
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%llu",
                  static_cast<unsigned long long>(job->progress.files_total));
    totals += "mosaic_ingest_files_total{" + labels + "} " + buf + "\n";
  }
  if (!infos.empty()) {
    out += "# TYPE mosaic_process_resident_bytes gauge\n";
    line("mosaic_process_resident_bytes", "", static_cast<double>(infos[0].process_rss_bytes));
  }
  return out + totals;
}

}  // namespace

void AddSystemRoutes(Router& r, ServerContext& ctx) {
  r.Add("GET", "/v1/health", Access::kPublic, [](Request&) {
    return Response::Json({{"status", "ok"}, {"version", kVersion}});
  }, Cost::kQuick);
  r.Add("GET", "/v1/ready", Access::kPublic, [&ctx](Request&) {
    // Open means ready: the database was opened (and its logs replayed) before we listened.
    return Response::Json({{"status", "ready"}, {"collections", ctx.db().ListCollections().size()}});
  }, Cost::kQuick);
  r.Add("GET", "/metrics", Access::kRead, [&ctx](Request&) {
    return Response::Bytes("text/plain; version=0.0.4", ctx.metrics().Render() + Gauges(ctx));
  });
  r.Add("GET", "/v1/models", Access::kRead, [&ctx](Request&) {
    std::string dir = ctx.options().models_dir.empty() ? embed::ModelRegistry::DefaultDir()
                                                       : ctx.options().models_dir;
    auto reg = embed::ModelRegistry::Open(dir);
    if (!reg.ok()) return ErrorResponse(reg.status());
    std::vector<Status> problems;
    Json models = Json::array();
    for (const auto& m : reg.value().List(&problems)) models.push_back(m.ToJson());
    Json probs = Json::array();
    for (const auto& p : problems) probs.push_back(p.message());
    return Response::Json({{"dir", reg.value().dir()}, {"models", models}, {"problems", probs}});
  });
}

}  // namespace mosaic::server
