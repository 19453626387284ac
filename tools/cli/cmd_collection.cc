// mosaic collection create|list|info|drop|index
#include <cstdio>
#include <sstream>

#include "cli.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage:\n"
    "  mosaic collection create NAME --vector NAME:DIM[:METRIC[:INDEX]] [--vector ...]\n"
    "  mosaic collection create NAME --dim DIM [--metric l2|cosine|ip] [--index flat|hnsw]\n"
    "                               (one vector, named 'default')\n"
    "  mosaic collection list\n"
    "  mosaic collection info NAME [--json]\n"
    "  mosaic collection drop NAME\n"
    "  mosaic collection index NAME --field KEY --type keyword|integer|float|datetime|text\n"
    "  mosaic collection index NAME --field KEY --drop\n"
    "  mosaic collection compact NAME\n"
    "\n"
    "METRIC is l2 (default), cosine or ip. INDEX is flat (default: exact search) or hnsw\n"
    "(approximate graph search), tuned with --m (links per node, default 16),\n"
    "--ef-construction (default 200), --ef (default search beam, 64) and --quantization sq8\n"
    "(walk the graph on 8-bit codes, re-score with f32; used once the graph is built over\n"
    "1000+ points, i.e. after the first flush past that size). Vectors are f32.\n";

Result<VectorSpec> ParseVectorSpec(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  if (parts.size() < 2 || parts.size() > 4)
    return Status::InvalidArgument("--vector expects NAME:DIM[:METRIC[:INDEX]], got '" + text + "'");
  VectorSpec spec;
  spec.name = parts[0];
  char* end = nullptr;
  long dim = std::strtol(parts[1].c_str(), &end, 10);
  if (parts[1].empty() || *end != '\0' || dim <= 0)
    return Status::InvalidArgument("--vector '" + text + "': dimension '" + parts[1] +
                                   "' is not a positive integer");
  spec.dim = static_cast<uint32_t>(dim);
  if (parts.size() >= 3) {
    MOSAIC_ASSIGN_OR_RETURN(spec.metric, ParseMetric(parts[2]));
  }
  if (parts.size() == 4) {
    MOSAIC_ASSIGN_OR_RETURN(spec.index, IndexSpecFromJson(Json{{"type", parts[3]}}));
  }
  return spec;
}

}  // namespace

int RunCollection(Args& args) {
  if (auto rc = CheckFlags(args, {"vector", "dim", "metric", "index", "m", "ef-construction", "ef",
                                  "quantization", "json", "field", "type", "drop"},
                           kHelp))
    return *rc;
  auto verb = args.Next();
  if (!verb) return Usage("collection: missing subcommand", kHelp);
  if (*verb != "list" && *verb != "create" && *verb != "info" && *verb != "drop" &&
      *verb != "index" && *verb != "compact")
    return Usage("collection: unknown subcommand '" + *verb + "'", kHelp);
  auto name = args.Next();
  if (*verb != "list" && !name) return Usage("collection " + *verb + ": missing NAME", kHelp);

  CollectionSchema schema;
  if (*verb == "create") {
    for (const auto& v : args.GetAll("vector")) {
      auto spec = ParseVectorSpec(v);
      if (!spec.ok()) return Usage(spec.status().message(), kHelp);
      schema.vectors.push_back(*spec);
    }
    if (args.Has("dim")) {
      auto dim = args.GetInt("dim", 0);
      if (!dim.ok() || *dim <= 0)
        return Usage("--dim expects a positive integer, got '" + args.GetOr("dim", "") + "'", kHelp);
      VectorSpec spec;
      spec.name = "default";
      spec.dim = static_cast<uint32_t>(*dim);
      auto metric = ParseMetric(args.GetOr("metric", "l2"));
      if (!metric.ok()) return Usage(metric.status().message(), kHelp);
      spec.metric = *metric;
      auto index = IndexSpecFromJson(Json{{"type", args.GetOr("index", "flat")}});
      if (!index.ok()) return Usage(index.status().message(), kHelp);
      spec.index = *index;
      schema.vectors.push_back(spec);
    }
    if (schema.vectors.empty()) return Usage("collection create: give --vector or --dim", kHelp);
    for (auto& spec : schema.vectors) {
      if (spec.index.kind != IndexKind::kHnsw) continue;
      auto m = args.GetInt("m", spec.index.m);
      auto efc = args.GetInt("ef-construction", spec.index.ef_construction);
      auto ef = args.GetInt("ef", spec.index.ef_search);
      for (const auto* r : {&m, &efc, &ef})
        if (!r->ok()) return Usage(r->status().message(), kHelp);
      if (*m <= 0 || *efc <= 0 || *ef <= 0)
        return Usage("--m, --ef-construction and --ef must be positive", kHelp);
      spec.index.m = static_cast<uint32_t>(*m);
      spec.index.ef_construction = static_cast<uint32_t>(*efc);
      spec.index.ef_search = static_cast<uint32_t>(*ef);
      std::string quant = args.GetOr("quantization", "none");
      if (quant != "none" && quant != "sq8")
        return Usage("--quantization expects none or sq8, got '" + quant + "'", kHelp);
      spec.index.sq8 = quant == "sq8";
    }
  }

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  if (*verb == "list") {
    for (const auto& n : (*db)->ListCollections()) std::printf("%s\n", n.c_str());
    for (const auto& [n, why] : (*db)->DamagedCollections())
      std::printf("%s  damaged: %s\n", n.c_str(), why.ToString().c_str());
    return kExitOk;
  }
  if (*verb == "create") {
    auto c = (*db)->CreateCollection(*name, schema);
    if (!c.ok()) return Fail(c.status());
    std::printf("created collection '%s'\n", name->c_str());
    return kExitOk;
  }
  if (*verb == "drop") {
    Status s = (*db)->DropCollection(*name);
    if (!s.ok()) return Fail(s);
    std::printf("dropped collection '%s'\n", name->c_str());
    return kExitOk;
  }
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  if (*verb == "compact") {
    Status s = (*c)->Compact();
    if (!s.ok()) return Fail(s);
    std::printf("compacted '%s': %llu points\n", name->c_str(),
                static_cast<unsigned long long>((*c)->Info().points));
    return kExitOk;
  }
  if (*verb == "index") {
    auto field = args.Get("field");
    if (!field || field->empty()) return Usage("collection index: missing --field", kHelp);
    if (args.Has("drop")) {
      Status s = (*c)->DropPayloadIndex(*field);
      return s.ok() ? kExitOk : Fail(s);
    }
    auto type = ParsePayloadIndexType(args.GetOr("type", ""));
    if (!type.ok()) return Usage(type.status().message(), kHelp);
    Status s = (*c)->CreatePayloadIndex(*field, *type);
    if (!s.ok()) return Fail(s);
    std::printf("indexed '%s' as %s\n", field->c_str(), PayloadIndexTypeName(*type));
    return kExitOk;
  }
  CollectionInfo info = (*c)->Info();
  if (args.Has("json")) {
    std::printf("%s\n", info.ToJson().dump(2).c_str());
    return kExitOk;
  }
  std::printf("collection: %s\npoints: %llu\n", info.name.c_str(),
              static_cast<unsigned long long>(info.points));
  for (const auto& v : info.schema.vectors) {
    uint64_t bytes = info.vector_bytes[v.name];
    std::printf("vector %s: dim %u, metric %s, storage %s, %s (%.0f bytes/vector)\n",
                v.name.c_str(), v.dim, MetricName(v.metric), StorageTypeName(v.storage),
                HumanBytes(bytes).c_str(), info.points ? double(bytes) / info.points : 0.0);
    if (v.index.kind == IndexKind::kHnsw) {
      uint64_t ib = info.index_bytes[v.name];
      std::printf("  index hnsw: m %u, ef_construction %u, ef %u, quantization %s, %s "
                  "(%.0f bytes/vector)\n",
                  v.index.m, v.index.ef_construction, v.index.ef_search,
                  v.index.sq8 ? "sq8" : "none", HumanBytes(ib).c_str(),
                  info.points ? double(ib) / info.points : 0.0);
    } else {
      std::printf("  index flat (exact)\n");
    }
  }
  for (const auto& [f, t] : info.payload_indexes)
    std::printf("payload index: %s (%s)\n", f.c_str(), PayloadIndexTypeName(t));
  if (!info.payload_indexes.empty())
    std::printf("payload indexes in memory: %s (%.0f bytes/point)\n",
                HumanBytes(info.payload_index_bytes).c_str(),
                info.points ? double(info.payload_index_bytes) / info.points : 0.0);
  std::printf("segments: %llu (%s, of which mapped %s), wal: %s, deleted awaiting compaction: "
              "%llu\n",
              static_cast<unsigned long long>(info.segments),
              HumanBytes(info.segment_bytes).c_str(),
              HumanBytes(info.segment_mapped_bytes).c_str(), HumanBytes(info.wal_bytes).c_str(),
              static_cast<unsigned long long>(info.deleted_pending));
  const double points = info.points ? double(info.points) : 1.0;
  uint64_t memory = 0;
  for (const auto& [n, b] : info.vector_bytes) memory += b;
  for (const auto& [n, b] : info.index_bytes) memory += b;
  std::printf("disk: %s (%.0f bytes/point), vectors and graphs in memory: %s (%.0f bytes/point), "
              "process RSS: %s\n",
              HumanBytes(info.disk_bytes).c_str(), double(info.disk_bytes) / points,
              HumanBytes(memory).c_str(), double(memory) / points,
              HumanBytes(info.process_rss_bytes).c_str());
  std::printf("merges: %llu pending, %llu done since open%s\n",
              static_cast<unsigned long long>(info.merges_pending),
              static_cast<unsigned long long>(info.merges_done),
              info.flushing ? "; a flush is writing its segment" : "");
  return kExitOk;
}

}  // namespace mosaic::cli
