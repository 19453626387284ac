// mosaic search: the query engine from the command line. Inputs (texts, images, video and audio
// clips, point ids, raw vectors; each with an optional WEIGHT: prefix, negative to move away) are
// combined into one multimodal query over every signal of the collection, or a JSON request
// (docs/query.md) is run as is.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli.h"
#include "hit_format.h"
#include "io/vector_file.h"
#include "mosaic/env.h"
#include "query/engine.h"
#include "query/input/media_input_encoder.h"
#include "query_input.h"
#include "wire/point_codec.h"
#include "wire/query_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic search --collection NAME [INPUT...] [options]\n"
    "       mosaic search --collection NAME --request FILE|-   (a JSON request, docs/query.md)\n"
    "\n"
    "Inputs (each repeatable; WEIGHT: in front weighs it, negative to move away, e.g. "
    "-0.3:night):\n"
    "  --text 'QUERY'          words: every signal of the collection (CLIP, BM25 over titles, "
    "passages,\n"
    "                          OCR, transcripts, file names, object tags), fused\n"
    "  --image FILE            an image        --video FILE   a video clip (keyframes pooled)\n"
    "  --audio FILE            a recording (transcribed)\n"
    "  --id ID                 a point of the collection (\"more like this\")\n"
    "  --vector JSON           a raw vector    --vector-file FILE [--row N]\n"
    "  --query 'EXPR'          e.g. '\"cat\" + ./img.jpg - 0.3 * \"day\"'\n"
    "Without inputs, the points matching --filter are listed (by id, or by --sort).\n"
    "\n"
    "Options:\n"
    "  --using NAME            search only this vector (no fusion)\n"
    "  --fields F1,F2          texts are BM25 over these text-indexed fields only ('title^0.5' "
    "weighs)\n"
    "  --fuse rrf|dbsf         how signals are fused (default rrf)   --rrf-k K (default 60)\n"
    "  --filter JSON           payload filter (docs/filters.md)\n"
    "  --limit N --offset N    the page (default 10, 0); pages never repeat or skip a hit\n"
    "  --after JSON            continue a sorted listing after its last page (printed as 'next "
    "page')\n"
    "  --score-threshold X     drop hits worse than X\n"
    "  --autocut               cut at the first large drop in score\n"
    "  --sort FIELD[:desc]     order by a payload field instead of by score\n"
    "  --group-by FIELD        best hits per value of FIELD (e.g. file_id)   --group-size N "
    "(default 1)\n"
    "  --mmr                   diversify (maximal marginal relevance)   --diversity X (default "
    "0.5)\n"
    "  --facet FIELD[:year|month|day]   counts per value over the filtered collection "
    "(repeatable)\n"
    "  --explain               per hit: the signals that matched and the evidence\n"
    "  --literal               no query understanding (dates, kinds, \"phrases\" stay words)\n"
    "  --ef N, --exact         HNSW beam width, or exact search\n"
    "  --with-vectors, --no-payload, --json\n"
    "  --models DIR            the model registry for text/image/video/audio inputs\n"
    "\n"
    "Scores: fused (RRF) by default; similarity or BM25 for a single signal; l2 distance for\n"
    "--using on an l2 vector.\n";

// Adds the inputs of flag `flag` (each "WEIGHT:VALUE" or "VALUE") made by `make`.
Status AddInputs(const Args& args, const char* flag,
                 const std::function<Result<query::Input>(const std::string&)>& make,
                 std::vector<query::Input>* out) {
  for (const std::string& v : args.GetAll(flag)) {
    auto [weight, value] = SplitWeight(v);
    if (value.empty()) return Status::InvalidArgument(std::string("--") + flag + " needs a value");
    if (weight == 0)
      return Status::InvalidArgument(std::string("--") + flag + " '" + v + "': weight 0");
    MOSAIC_ASSIGN_OR_RETURN(query::Input in, make(value));
    in.weight = weight;
    out->push_back(std::move(in));
  }
  return Status::OK();
}

Result<std::vector<float>> VectorFromFile(const Args& args) {
  const std::string file = *args.Get("vector-file");
  MOSAIC_ASSIGN_OR_RETURN(long long row, args.GetInt("row", 0));
  if (file.ends_with(".json")) {
    MOSAIC_ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(file));
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) return Status::InvalidArgument(file + " is not valid JSON");
    return wire::VectorFromJson(j, file);
  }
  if (row < 0) return Status::InvalidArgument("--row must be >= 0, got " + std::to_string(row));
  MOSAIC_ASSIGN_OR_RETURN(io::Matrix m, io::ReadVectorFile(file, static_cast<size_t>(row) + 1));
  if (m.rows <= static_cast<size_t>(row))
    return Status::InvalidArgument(file + " has only " + std::to_string(m.rows) + " rows, --row " +
                                   std::to_string(row) + " asked");
  return std::vector<float>(m.row(row), m.row(row) + m.dim);
}

// The request the flags describe; a usage problem comes back as InvalidArgument with `usage` set.
Result<query::QueryRequest> RequestFromFlags(const Args& args, bool* usage) {
  *usage = true;
  query::QueryRequest q;
  std::vector<query::Input> inputs;
  MOSAIC_RETURN_IF_ERROR(AddInputs(
      args, "text",
      [](const std::string& s) -> Result<query::Input> { return query::Input::Text(s); }, &inputs));
  auto file_of = [](query::InputKind kind) {
    return [kind](const std::string& path) -> Result<query::Input> {
      std::ifstream probe(path);
      if (!probe) return Status::NotFound("cannot open query file '" + path + "'");
      return query::Input::File(kind, path);
    };
  };
  MOSAIC_RETURN_IF_ERROR(AddInputs(args, "image", file_of(query::InputKind::kImage), &inputs));
  MOSAIC_RETURN_IF_ERROR(AddInputs(args, "video", file_of(query::InputKind::kVideo), &inputs));
  MOSAIC_RETURN_IF_ERROR(AddInputs(args, "audio", file_of(query::InputKind::kAudio), &inputs));
  MOSAIC_RETURN_IF_ERROR(AddInputs(
      args, "id",
      [](const std::string& s) -> Result<query::Input> {
        return query::Input::Point(wire::PointIdFromText(s));
      },
      &inputs));
  MOSAIC_RETURN_IF_ERROR(AddInputs(
      args, "vector",
      [](const std::string& s) -> Result<query::Input> {
        Json j = Json::parse(s, nullptr, false);
        if (j.is_discarded())
          return Status::InvalidArgument("--vector is not valid JSON: '" + s.substr(0, 80) + "'");
        MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, wire::VectorFromJson(j, "--vector"));
        return query::Input::Vector(std::move(v));
      },
      &inputs));
  if (args.Has("vector-file")) {
    *usage = false;
    MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorFromFile(args));
    *usage = true;
    inputs.push_back(query::Input::Vector(std::move(v)));
  }
  if (auto expr = args.Get("query")) {
    MOSAIC_ASSIGN_OR_RETURN(auto parsed, ParseQueryExpression(*expr));
    for (auto& in : parsed)
      inputs.push_back(std::move(in));
  }

  const std::vector<std::string> fields = args.GetList("fields");
  const std::string using_vector = args.GetOr("using", "");
  if (!fields.empty() && !using_vector.empty())
    return Status::InvalidArgument("give --fields (BM25) or --using (a vector), not both");
  if (!fields.empty()) {
    if (inputs.size() != 1 || inputs[0].kind != query::InputKind::kText)
      return Status::InvalidArgument("--fields makes a BM25 search of one --text");
    q.query = query::TextQuery{inputs[0].text, fields};
  } else if (!using_vector.empty() && !inputs.empty()) {
    q.query = query::NearestQuery{inputs};
    q.using_vector = using_vector;
  } else if (!inputs.empty()) {
    q.query = query::AutoQuery{inputs};
  } else if (args.Has("using")) {
    return Status::InvalidArgument("--using needs an input to search with");
  }
  if ((args.Has("ef") || args.Has("exact") || args.Has("score-threshold")) && !fields.empty())
    return Status::InvalidArgument(
        "--ef, --exact and --score-threshold apply to vector search only, not to --fields");

  if (auto fuse = args.Get("fuse")) {
    if (*fuse != "rrf" && *fuse != "dbsf")
      return Status::InvalidArgument("--fuse expects rrf or dbsf, got '" + *fuse + "'");
    if (!std::holds_alternative<query::AutoQuery>(q.query))
      return Status::InvalidArgument("--fuse applies to queries over several signals");
  }
  MOSAIC_ASSIGN_OR_RETURN(long long limit, args.GetInt("limit", 10));
  MOSAIC_ASSIGN_OR_RETURN(long long offset, args.GetInt("offset", 0));
  if (limit < 1 || offset < 0)
    return Status::InvalidArgument("--limit must be >= 1 and --offset >= 0");
  q.limit = static_cast<size_t>(limit);
  q.offset = static_cast<size_t>(offset);
  if (auto th = args.Get("score-threshold")) {
    char* end = nullptr;
    float t = std::strtof(th->c_str(), &end);
    if (th->empty() || *end)
      return Status::InvalidArgument("--score-threshold expects a number, got '" + *th + "'");
    q.score_threshold = t;
  }
  if (auto f = args.Get("filter")) {
    *usage = false;
    MOSAIC_ASSIGN_OR_RETURN(Filter filter, Filter::Parse(*f));
    q.filter = std::move(filter);
    *usage = true;
  }
  MOSAIC_ASSIGN_OR_RETURN(long long ef, args.GetInt("ef", 0));
  if (ef < 0) return Status::InvalidArgument("--ef expects a positive integer");
  q.params.ef = static_cast<size_t>(ef);
  q.params.exact = args.Has("exact");
  q.with_vectors = args.Has("with-vectors");
  q.with_payload = !args.Has("no-payload");
  q.explain = args.Has("explain");
  q.understand = !args.Has("literal");
  if (args.Has("autocut")) q.autocut = query::Autocut{1};
  if (auto g = args.Get("group-by")) {
    MOSAIC_ASSIGN_OR_RETURN(long long size, args.GetInt("group-size", 1));
    if (g->empty() || size < 1)
      return Status::InvalidArgument("--group-by needs a field and --group-size >= 1");
    q.group_by = query::GroupBy{*g, static_cast<size_t>(size)};
  } else if (args.Has("group-size")) {
    return Status::InvalidArgument("--group-size needs --group-by");
  }
  if (args.Has("mmr")) {
    query::Mmr m;
    if (auto d = args.Get("diversity")) {
      char* end = nullptr;
      m.diversity = std::strtof(d->c_str(), &end);
      if (d->empty() || *end || !(m.diversity >= 0 && m.diversity <= 1))
        return Status::InvalidArgument("--diversity expects a number from 0 to 1, got '" + *d +
                                       "'");
    }
    m.using_vector = using_vector;
    q.mmr = m;
  } else if (args.Has("diversity")) {
    return Status::InvalidArgument("--diversity needs --mmr");
  }
  for (const std::string& f : args.GetAll("facet")) {
    query::FacetSpec spec;
    spec.key = f;
    for (auto [suffix, bucket] :
         {std::pair{":year", FacetBucket::kYear}, std::pair{":month", FacetBucket::kMonth},
          std::pair{":day", FacetBucket::kDay}})
      if (f.ends_with(suffix)) {
        spec.key = f.substr(0, f.size() - std::string(suffix).size());
        spec.bucket = bucket;
      }
    if (spec.key.empty()) return Status::InvalidArgument("--facet needs a field");
    q.facets.push_back(std::move(spec));
  }
  if (auto s = args.Get("sort")) {
    OrderBy ob;
    ob.key = *s;
    for (const char* dir : {":desc", ":asc"})
      if (s->ends_with(dir)) {
        ob.key = s->substr(0, s->size() - std::string(dir).size());
        ob.descending = std::string(dir) == ":desc";
      }
    if (ob.key.empty()) return Status::InvalidArgument("--sort needs a field");
    if (!std::holds_alternative<std::monostate>(q.query)) {
      // The query's hits, then ordered by the field.
      query::Prefetch p;
      p.query = std::move(q.query);
      p.using_vector = std::move(q.using_vector);
      q.using_vector.clear();
      q.prefetch.push_back(std::move(p));
    }
    q.query = query::OrderByQuery{ob};
  }
  if (auto after = args.Get("after")) {
    Json j = Json::parse(*after, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id"))
      return Status::InvalidArgument("--after expects the JSON printed as 'next page', got '" +
                                     *after + "'");
    query::Cursor c;
    MOSAIC_ASSIGN_OR_RETURN(c.id, PointId::FromJson(j["id"]));
    c.order_value = j.value("order_value", Json());
    q.cursor = std::move(c);
  }
  return q;
}

}  // namespace

int RunSearch(Args& args) {
  if (auto rc = CheckFlags(
          args, {"collection", "text",         "image",       "video",      "audio",
                 "id",         "vector",       "vector-file", "row",        "query",
                 "request",    "using",        "fields",      "fuse",       "rrf-k",
                 "filter",     "limit",        "offset",      "after",      "score-threshold",
                 "autocut",    "sort",         "group-by",    "group-size", "mmr",
                 "diversity",  "facet",        "explain",     "literal",    "ef",
                 "exact",      "with-vectors", "no-payload",  "json",       "models"},
          kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("search: missing --collection", kHelp);

  query::QueryRequest request;
  if (auto file = args.Get("request")) {
    std::string text;
    if (*file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto read = Env::Default()->ReadFile(*file);
      if (!read.ok()) return Fail(read.status());
      text = std::move(read).value();
    }
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded())
      return Fail(Status::InvalidArgument("--request " + *file + " is not valid JSON"));
    wire::QueryCodecOptions o;
    o.resolver = ResolveInput;
    auto parsed = wire::QueryRequestFromJson(j, o);
    if (!parsed.ok()) return Fail(parsed.status());
    request = std::move(parsed).value();
  } else {
    bool usage = false;
    auto parsed = RequestFromFlags(args, &usage);
    if (!parsed.ok())
      return usage ? Usage(parsed.status().message(), kHelp) : Fail(parsed.status());
    request = std::move(parsed).value();
  }

  auto target = OpenQueryTarget(args, *name);
  if (!target.ok()) return Fail(target.status());
  query::EngineOptions eo;
  if (auto fuse = args.Get("fuse"))
    eo.signals.fusion = *fuse == "dbsf" ? query::FusionMethod::kDbsf : query::FusionMethod::kRrf;
  if (auto k = args.Get("rrf-k")) {
    char* end = nullptr;
    eo.signals.rrf_k = std::strtof(k->c_str(), &end);
    if (k->empty() || *end || !(eo.signals.rrf_k >= 0))
      return Usage("--rrf-k expects a number >= 0, got '" + *k + "'", kHelp);
  }
  query::QueryEngine engine(target->collection(), target->encoder.get(), eo);
  auto resp = engine.Query(request);
  if (!resp.ok()) return Fail(resp.status());
  if (args.Has("json")) {
    std::printf("%s\n", wire::QueryResponseToJson(*resp).dump(2).c_str());
    return kExitOk;
  }
  PrintHits(*resp, request.offset + 1, request.explain, stdout);
  return kExitOk;
}

}  // namespace mosaic::cli
