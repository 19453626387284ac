// Health, readiness, Prometheus metrics, the model registry.
#include <cstdio>

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
  out += "# TYPE mosaic_collection_points gauge\n";
  std::vector<CollectionInfo> infos;
  for (const std::string& name : ctx.db().ListCollections())
    if (auto c = ctx.db().GetCollection(name); c.ok()) infos.push_back(c.value()->Info());
  for (const auto& i : infos)
    line("mosaic_collection_points", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.points));
  out += "# TYPE mosaic_collection_segment_bytes gauge\n";
  for (const auto& i : infos)
    line("mosaic_collection_segment_bytes", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.segment_bytes));
  out += "# TYPE mosaic_collection_segments gauge\n";
  for (const auto& i : infos)
    line("mosaic_collection_segments", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.segments));
  out += "# TYPE mosaic_collection_wal_bytes gauge\n";
  for (const auto& i : infos)
    line("mosaic_collection_wal_bytes", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.wal_bytes));
  out += "# TYPE mosaic_collection_disk_bytes gauge\n";  // every file of the collection
  for (const auto& i : infos)
    line("mosaic_collection_disk_bytes", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.disk_bytes));
  out += "# TYPE mosaic_collection_deleted_pending gauge\n";  // retired slots a merge will drop
  for (const auto& i : infos)
    line("mosaic_collection_deleted_pending", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.deleted_pending));
  out += "# TYPE mosaic_collection_merges_pending gauge\n";  // 1: one runs or is due
  for (const auto& i : infos)
    line("mosaic_collection_merges_pending", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.merges_pending));
  out += "# TYPE mosaic_collection_merges_total counter\n";  // since the collection was opened
  for (const auto& i : infos)
    line("mosaic_collection_merges_total", "collection=\"" + PromLabel(i.name) + "\"",
         static_cast<double>(i.merges_done));
  out += "# TYPE mosaic_collection_background_error gauge\n";  // 1: flushing is failing
  for (const auto& i : infos)
    line("mosaic_collection_background_error", "collection=\"" + PromLabel(i.name) + "\"",
         i.background_error.empty() ? 0.0 : 1.0);
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
