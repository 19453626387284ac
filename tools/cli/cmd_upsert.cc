// mosaic upsert: points from JSONL, or vectors from fvecs/ivecs/bvecs/IDX files.
#include <cstdio>
#include <fstream>

#include "cli.h"
#include "io/vector_file.h"
#include "wire/point_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic upsert --collection NAME FILE... [options]\n"
    "\n"
    "FILE is JSONL (one point per line) or a vector file (.fvecs .ivecs .bvecs, IDX such as\n"
    "train-images-idx3-ubyte[.gz]). A JSONL line looks like\n"
    "  {\"id\": 7, \"vector\": [0.1, ...], \"payload\": {\"color\": \"red\"}}\n"
    "  {\"id\": \"a-uuid\", \"vectors\": {\"image\": [...], \"text\": [...]}}\n"
    "Lines that are not valid points are reported with their line number and skipped.\n"
    "\n"
    "options:\n"
    "  --vector NAME     the named vector that \"vector\" / vector-file rows fill (default: the first)\n"
    "  --id-start N      ids of vector-file rows start here (default 0)\n"
    "  --labels FILE     IDX label file: row i gets payload {\"label\": labels[i]}\n"
    "  --limit N         read at most N points per file\n"
    "  --batch N         points per write (default 1000)\n"
    "  --flush           write everything into the segment at the end\n";

struct Loader {
  std::shared_ptr<Collection> c;
  std::string vector_name;
  size_t batch = 1000;
  std::vector<Point> pending;
  uint64_t written = 0;
  uint64_t skipped = 0;

  Status Add(Point p) {
    pending.push_back(std::move(p));
    if (pending.size() >= batch) return Drain();
    return Status::OK();
  }
  Status Drain() {
    if (pending.empty()) return Status::OK();
    MOSAIC_RETURN_IF_ERROR(c->Upsert(pending));
    written += pending.size();
    pending.clear();
    return Status::OK();
  }
};

Result<Point> ParseLine(const std::string& line, const std::string& vector_name) {
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return wire::PointFromJson(j, vector_name);
}

bool IsJsonl(const std::string& path) {
  for (const char* ext : {".jsonl", ".ndjson", ".json"})
    if (path.ends_with(ext)) return true;
  return false;
}

}  // namespace

int RunUpsert(Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "vector", "id-start", "labels", "limit", "batch",
                                  "flush"},
                           kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("upsert: missing --collection", kHelp);
  std::vector<std::string> files;
  while (auto f = args.Next()) files.push_back(*f);
  if (files.empty()) return Usage("upsert: no input FILE", kHelp);
  auto id_start = args.GetInt("id-start", 0);
  auto limit = args.GetInt("limit", -1);
  auto batch = args.GetInt("batch", 1000);
  for (const auto* r : {&id_start, &limit, &batch})
    if (!r->ok()) return Usage(r->status().message(), kHelp);
  if (*batch <= 0) return Usage("--batch must be positive", kHelp);

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  const CollectionSchema& schema = (*c)->schema();
  Loader loader;
  loader.c = *c;
  loader.vector_name = args.GetOr("vector", schema.vectors[0].name);
  loader.batch = static_cast<size_t>(*batch);
  if (!schema.Find(loader.vector_name))
    return Fail(Status::InvalidArgument("collection '" + *name + "' has no vector named '" +
                                        loader.vector_name + "'"));
  const size_t max_rows = *limit < 0 ? SIZE_MAX : static_cast<size_t>(*limit);

  std::vector<int32_t> labels;
  if (auto lf = args.Get("labels")) {
    auto l = io::ReadIdxLabels(*lf);
    if (!l.ok()) return Fail(l.status());
    labels = std::move(l).value();
  }

  for (const auto& file : files) {
    if (IsJsonl(file)) {
      std::ifstream in(file);
      if (!in) return Fail(Status::NotFound("cannot open '" + file + "'"));
      std::string line;
      size_t lineno = 0, taken = 0;
      Progress progress("points from " + file, 0);
      while (taken < max_rows && std::getline(in, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto p = ParseLine(line, loader.vector_name);
        // Checked here too, so that one bad line is skipped rather than failing its batch.
        Status s = p.ok() ? schema.CheckPoint(*p) : p.status();
        if (!s.ok()) {
          std::fprintf(stderr, "mosaic: %s:%zu: skipped: %s\n", file.c_str(), lineno,
                       s.message().c_str());
          ++loader.skipped;
          continue;
        }
        ++taken;
        if (Status w = loader.Add(std::move(p).value()); !w.ok()) return Fail(w);
        progress.Update(loader.written);
      }
      if (Status w = loader.Drain(); !w.ok()) return Fail(w);
      progress.Update(loader.written);
      progress.Finish();
      continue;
    }
    auto m = io::ReadVectorFile(file, max_rows);
    if (!m.ok()) return Fail(m.status());
    const VectorSpec* spec = schema.Find(loader.vector_name);
    if (m->dim != spec->dim)
      return Fail(Status::InvalidArgument(file + " has " + std::to_string(m->dim) +
                                          "-dim vectors, vector '" + spec->name + "' of '" +
                                          *name + "' expects " + std::to_string(spec->dim)));
    if (!labels.empty() && labels.size() < m->rows)
      return Fail(Status::InvalidArgument("--labels has " + std::to_string(labels.size()) +
                                          " labels for " + std::to_string(m->rows) + " rows"));
    Progress progress("points from " + file, m->rows);
    for (size_t i = 0; i < m->rows; ++i) {
      Point p;
      p.id = static_cast<uint64_t>(*id_start) + i;
      p.vectors[loader.vector_name].assign(m->row(i), m->row(i) + m->dim);
      if (!labels.empty()) p.payload = {{"label", labels[i]}};
      if (Status w = loader.Add(std::move(p)); !w.ok()) return Fail(w);
      progress.Update(loader.written);
    }
    if (Status w = loader.Drain(); !w.ok()) return Fail(w);
    progress.Update(loader.written);
    progress.Finish();
  }
  if (args.Has("flush")) {
    if (Status s = (*c)->Flush(); !s.ok()) return Fail(s);
  }
  std::printf("upserted %llu points into '%s'", static_cast<unsigned long long>(loader.written),
              name->c_str());
  if (loader.skipped) std::printf(", skipped %llu bad lines", (unsigned long long)loader.skipped);
  std::printf("\n");
  return loader.skipped ? kExitError : kExitOk;
}

}  // namespace mosaic::cli
