// mosaic search: nearest neighbours of one vector, or BM25 full-text hits of a query (--text),
// with filter, pagination and JSON output.
#include <cstdio>

#include "cli.h"
#include "io/vector_file.h"
#include "mosaic/env.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic search --collection NAME (--vector JSON | --vector-file FILE [--row N]) [options]\n"
    "       mosaic search --collection NAME --text QUERY --fields F1,F2 [options]\n"
    "\n"
    "  --text 'QUERY'               full-text search ranked by BM25 over --fields\n"
    "  --fields F1,F2               payload fields with a text index (mosaic collection index --type text)\n"
    "  --vector '[0.1, 0.2, ...]'   the query vector, inline\n"
    "  --vector-file FILE           a JSON array file, or a row of a vector file (fvecs, IDX, ...)\n"
    "  --row N                      which row of --vector-file (default 0)\n"
    "  --using NAME                 which named vector to search (default: the first)\n"
    "  --filter JSON                payload filter, e.g. '{\"must\":[{\"key\":\"label\",\"match\":{\"value\":3}}]}'\n"
    "  --limit N                    hits to return (default 10)\n"
    "  --offset N                   skip the N best hits (pagination)\n"
    "  --score-threshold X          drop hits worse than X\n"
    "  --ef N                       HNSW search beam width (default: the collection's)\n"
    "  --exact                      exact search even where an HNSW index exists\n"
    "  --with-vectors               include the hits' vectors\n"
    "  --no-payload                 omit payloads\n"
    "  --json                       print JSON instead of a table\n"
    "\n"
    "Scores: euclidean distance for l2 (smaller is closer); similarity for cosine and ip;\n"
    "BM25 (larger is better) for --text.\n";

Result<std::vector<float>> JsonVector(const Json& j, const std::string& where) {
  if (!j.is_array()) return Status::InvalidArgument(where + " is not a JSON array of numbers");
  std::vector<float> v;
  for (const auto& x : j) {
    if (!x.is_number())
      return Status::InvalidArgument(where + " holds a non-number " + x.dump());
    v.push_back(x.get<float>());
  }
  return v;
}

Result<std::vector<float>> LoadQuery(const Args& args) {
  if (auto inline_vec = args.Get("vector")) {
    Json j = Json::parse(*inline_vec, nullptr, false);
    if (j.is_discarded())
      return Status::InvalidArgument("--vector is not valid JSON: '" + inline_vec->substr(0, 80) + "'");
    return JsonVector(j, "--vector");
  }
  auto file = args.Get("vector-file");
  if (!file) return Status::InvalidArgument("give --vector or --vector-file");
  MOSAIC_ASSIGN_OR_RETURN(long long row, args.GetInt("row", 0));
  if (file->ends_with(".json")) {
    MOSAIC_ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(*file));
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) return Status::InvalidArgument(*file + " is not valid JSON");
    return JsonVector(j, *file);
  }
  if (row < 0) return Status::InvalidArgument("--row must be >= 0, got " + std::to_string(row));
  MOSAIC_ASSIGN_OR_RETURN(io::Matrix m, io::ReadVectorFile(*file, static_cast<size_t>(row) + 1));
  if (m.rows <= static_cast<size_t>(row))
    return Status::InvalidArgument(*file + " has only " + std::to_string(m.rows) + " rows, --row " +
                                   std::to_string(row) + " asked");
  return std::vector<float>(m.row(row), m.row(row) + m.dim);
}

}  // namespace

int RunSearch(Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "vector", "vector-file", "row", "using", "filter",
                                  "limit", "offset", "score-threshold", "with-vectors",
                                  "no-payload", "json", "ef", "exact", "text", "fields"},
                           kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("search: missing --collection", kHelp);
  SearchRequest req;
  TextSearchRequest text;
  const bool by_text = args.Has("text");
  if (by_text) {
    text.query = args.GetOr("text", "");
    text.fields = args.GetList("fields");
    if (text.fields.empty()) return Usage("--text needs --fields (text-indexed payload fields)", kHelp);
    if (args.Has("vector") || args.Has("vector-file")) return Usage("give --text or a vector, not both", kHelp);
  } else {
    auto query = LoadQuery(args);
    if (!query.ok()) return Fail(query.status());
    req.vector = std::move(query).value();
    req.vector_name = args.GetOr("using", "");
  }
  auto limit = args.GetInt("limit", 10);
  auto offset = args.GetInt("offset", 0);
  if (!limit.ok()) return Usage(limit.status().message(), kHelp);
  if (!offset.ok()) return Usage(offset.status().message(), kHelp);
  if (*limit < 1 || *offset < 0)
    return Usage("--limit must be >= 1 and --offset >= 0", kHelp);
  req.limit = static_cast<size_t>(*limit);
  req.offset = static_cast<size_t>(*offset);
  if (auto th = args.Get("score-threshold")) {
    char* end = nullptr;
    float t = std::strtof(th->c_str(), &end);
    if (th->empty() || *end) return Usage("--score-threshold expects a number, got '" + *th + "'", kHelp);
    req.score_threshold = t;
  }
  if (auto f = args.Get("filter")) {
    auto filter = Filter::Parse(*f);
    if (!filter.ok()) return Fail(filter.status());
    req.filter = std::move(filter).value();
  }
  auto ef = args.GetInt("ef", 0);
  if (!ef.ok() || *ef < 0) return Usage("--ef expects a positive integer", kHelp);
  req.ef = static_cast<size_t>(*ef);
  req.exact = args.Has("exact");
  req.with_vectors = args.Has("with-vectors");
  req.with_payload = !args.Has("no-payload");

  if (by_text && (req.score_threshold || req.ef || req.exact || args.Has("using")))
    return Usage("--using, --score-threshold, --ef and --exact apply to vector search only", kHelp);
  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  if (by_text) {
    text.limit = req.limit;
    text.offset = req.offset;
    text.filter = std::move(req.filter);
    text.with_payload = req.with_payload;
    text.with_vectors = req.with_vectors;
  }
  auto hits = by_text ? (*c)->SearchText(text) : (*c)->Search(req);
  if (!hits.ok()) return Fail(hits.status());

  if (args.Has("json")) {
    Json out = Json::array();
    for (const auto& h : *hits) {
      Json j = {{"id", h.id.ToJson()}, {"score", h.score}};
      if (h.payload) j["payload"] = *h.payload;
      if (!h.vectors.empty()) j["vectors"] = h.vectors;
      out.push_back(std::move(j));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-5s %-24s %-12s %s\n", "rank", "id", "score", req.with_payload ? "payload" : "");
  size_t rank = req.offset;
  for (const auto& h : *hits) {
    std::string payload = h.payload ? h.payload->dump() : "";
    if (payload.size() > 100) payload = payload.substr(0, 97) + "...";
    std::printf("%-5zu %-24s %-12.6g %s\n", ++rank, h.id.ToString().c_str(), h.score,
                payload.c_str());
  }
  return kExitOk;
}

}  // namespace mosaic::cli
