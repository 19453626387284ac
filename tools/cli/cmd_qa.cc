// mosaic qa import: question-answer pairs from a JSON-lines file into a collection, each with its
// question's text vector (CLIP's text tower, or fastText trained on the pairs) and BM25 on the
// question and the answer; a broken line is reported with its number and skipped.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "embed/text/fasttext_encoder.h"
#include "ingest/encoders.h"
#include "ingest/layout.h"
#include "mosaic/env.h"
#include "query/input/text_embedder.h"
#include "query/input/text_vectors.h"
#include "query/qa.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic qa import --collection NAME FILE.jsonl [--model NAME] [--models DIR]\n"
    "\n"
    "Each line: {\"question\": \"...\", \"answer\": \"...\"} with an optional \"id\" and any "
    "other\n"
    "fields (kept in the payload). The question's vector comes from --model (a text model of the\n"
    "registry), else the installed CLIP model, else a fastText model trained on the file's\n"
    "questions and answers (installed as fasttext-NAME). A new collection is made; an existing\n"
    "one keeps its model. Ask with: mosaic ask --collection NAME 'question'\n";

struct TextModel {
  std::string role;  // "clip" or "fasttext": the collection vector's name too
  std::string name;
  std::string dir;
  embed::ModelManifest manifest;
};

// The model of an existing QA collection, from its ingest record.
Result<TextModel> ModelOfCollection(const Collection& c, const embed::ModelRegistry& reg) {
  std::vector<PointId> record = {PointId(ingest::kIngestRecordId)};
  MOSAIC_ASSIGN_OR_RETURN(auto meta, c.Get(record, true, false));
  const Json enc = meta.empty() ? Json::object() : meta[0].payload.value("encoders", Json());
  for (const char* role : {"clip", query::kFastTextRole})
    if (enc.is_object() && enc.contains(role) && c.schema().Find(role) != nullptr) {
      TextModel m{role, enc[role].get<std::string>(), "", {}};
      MOSAIC_ASSIGN_OR_RETURN(m.manifest, reg.Get(m.name));
      m.dir = reg.ModelDir(m.name);
      return m;
    }
  return Status::InvalidArgument("collection '" + c.name() +
                                 "' was not made by 'mosaic qa import' (no text model recorded); "
                                 "import into a new collection");
}

// The model for a new collection: --model, else the installed CLIP model, else fastText
// trained on the pairs' texts.
Result<TextModel> ChooseModel(const Args& args, const embed::ModelRegistry& reg,
                              const std::string& collection, const std::string& file_text) {
  if (auto name = args.Get("model")) {
    MOSAIC_ASSIGN_OR_RETURN(embed::ModelManifest m, reg.Get(*name));
    const bool text = std::find(m.modalities.begin(), m.modalities.end(), embed::Modality::kText) !=
                      m.modalities.end();
    if (!text || (m.family != "clip" && m.family != "fasttext"))
      return Status::InvalidArgument("model '" + *name + "' (" + m.family +
                                     ") does not make text vectors; use a CLIP or fastText model");
    return TextModel{m.family == "clip" ? "clip" : query::kFastTextRole, *name, reg.ModelDir(*name),
                     m};
  }
  for (const embed::ModelManifest& m : reg.List())
    if (m.family == "clip") return TextModel{"clip", m.name, reg.ModelDir(m.name), m};
  // fastText on the pairs' own words.
  std::vector<std::string> texts;
  std::istringstream in(file_text);
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    for (const char* key : {"question", "answer"})
      if (j.contains(key) && j[key].is_string()) texts.push_back(j[key].get<std::string>());
  }
  embed::FastTextTrainOptions o;
  o.name = "fasttext-" + collection;
  o.min_count = 1;  // a small file: every word counts
  o.epochs = 25;
  o.bucket = 20000;  // n-gram rows: 8 MB at 100 dims, plenty for a FAQ's words
  const std::string dir = reg.DownloadDir(o.name);
  std::fprintf(stderr, "training fastText text vectors on %zu texts as model '%s'\n", texts.size(),
               o.name.c_str());
  MOSAIC_ASSIGN_OR_RETURN(embed::ModelManifest m, embed::TrainFastText(texts, dir, o));
  embed::ModelRegistry::AddOptions add;
  add.replace = true;
  auto added = reg.Add(m, dir, add);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  MOSAIC_RETURN_IF_ERROR(added.status());
  m = std::move(added).value();
  return TextModel{query::kFastTextRole, m.name, reg.ModelDir(m.name), m};
}

}  // namespace

int RunQa(Args& args) {
  auto verb = args.Next();
  if (args.help() || !verb) return Usage(verb ? "" : "qa: missing 'import'", kHelp);
  if (*verb != "import") return Usage("qa: unknown subcommand '" + *verb + "'", kHelp);
  if (auto rc = CheckFlags(args, {"collection", "model", "models"}, kHelp)) return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("qa import: missing --collection", kHelp);
  auto file = args.Next();
  if (!file) return Usage("qa import: missing the JSON-lines file", kHelp);
  auto text = Env::Default()->ReadFile(*file);
  if (!text.ok()) return Fail(text.status());

  auto reg = embed::ModelRegistry::Open(args.GetOr("models", embed::ModelRegistry::DefaultDir()));
  if (!reg.ok()) return Fail(reg.status());
  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  std::shared_ptr<Collection> c;
  Result<TextModel> model = Status::Internal("unset");
  if (auto existing = (*db)->GetCollection(*name); existing.ok()) {
    c = *existing;
    model = ModelOfCollection(*c, *reg);
    if (model.ok() && args.Has("model") && *args.Get("model") != model->name)
      return Fail(Status::InvalidArgument("collection '" + *name + "' holds vectors of model '" +
                                          model->name + "', not '" + *args.Get("model") + "'"));
  } else {
    model = ChooseModel(args, *reg, *name, *text);
  }
  if (!model.ok()) return Fail(model.status());
  std::shared_ptr<embed::Encoder> encoder;
  if (model->role == "clip") {
    auto e = embed::OpenEncoder(model->manifest, model->dir, embed::Modality::kText);
    if (!e.ok()) return Fail(e.status());
    encoder = std::move(e).value();
  } else {
    auto e = embed::FastTextEncoder::Open(model->manifest, model->dir);
    if (!e.ok()) return Fail(e.status());
    encoder = std::move(e).value();
  }
  if (c == nullptr) {
    CollectionSchema schema;
    schema.vectors = {
        VectorSpec{model->role, static_cast<uint32_t>(model->manifest.dim), Metric::kCosine}};
    auto created = (*db)->CreateCollection(*name, schema);
    if (!created.ok()) return Fail(created.status());
    c = *created;
    // The record MediaInputEncoder reads to encode questions with the same model.
    Point record;
    record.id = PointId(ingest::kIngestRecordId);
    record.payload = {{"kind", "meta"}, {"encoders", {{model->role, model->name}}}};
    if (Status s = c->Upsert(std::span<const Point>(&record, 1)); !s.ok()) return Fail(s);
  }

  query::QaImportOptions o;
  o.vector = model->role;
  o.source = std::filesystem::path(*file).filename().string();
  std::istringstream in(*text);
  Progress progress("lines read", std::count(text->begin(), text->end(), '\n'));
  auto report = query::ImportQa(*c, in, query::EncoderTextEmbedder(encoder), o,
                                [&](size_t lines) { progress.Update(lines); });
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  for (const std::string& p : report->problems)
    std::fprintf(stderr, "mosaic: skipped %s: %s\n", file->c_str(), p.c_str());
  std::printf(
      "imported %zu question-answer pairs into '%s' (vector '%s' of model %s), %zu lines "
      "skipped\n",
      report->imported, name->c_str(), model->role.c_str(), model->name.c_str(), report->skipped);
  return report->skipped > 0 ? kExitError : kExitOk;
}

}  // namespace mosaic::cli
