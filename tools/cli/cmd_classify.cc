// mosaic classify: labels points from their labelled neighbours (kNN, k chosen by
// cross-validation) or from text labels (zero-shot, with a text-image model), written back to a
// payload field on request.
#include <cstdio>

#include "cli.h"
#include "query/classify.h"
#include "query_input.h"
#include "wire/apps_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic classify --collection NAME [--field LABEL] [options]          (kNN)\n"
    "       mosaic classify --collection NAME --labels 'cat,dog,car' [options]  (zero-shot)\n"
    "\n"
    "kNN learns from the points that have the payload field LABEL (default 'label') and labels\n"
    "those that do not; zero-shot compares each point with the text labels through the\n"
    "collection's text-image model (CLIP).\n"
    "\n"
    "Options:\n"
    "  --using NAME            the vector (default: the first; zero-shot: the text model's)\n"
    "  --k N                   neighbours (default: chosen by leave-one-out cross-validation)\n"
    "  --vote majority|weighted  (default: chosen with k)\n"
    "  --cv-points N           labelled points held out to choose k (default 2000)\n"
    "  --prompt 'a photo of a {}'  zero-shot: how a label becomes a text\n"
    "  --filter JSON           only these points are labelled (docs/filters.md)\n"
    "  --write FIELD           store each label in FIELD and its confidence in FIELD_confidence\n"
    "  --limit N               predictions printed (default 20; all are written)\n"
    "  --json, --models DIR\n";

}  // namespace

int RunClassify(Args& args) {
  if (auto rc = CheckFlags(args,
                           {"collection", "field", "labels", "using", "k", "vote", "cv-points",
                            "prompt", "filter", "write", "limit", "json", "models"},
                           kHelp))
    return *rc;
  auto name = args.Get("collection");
  if (!name) return Usage("classify: missing --collection", kHelp);
  const std::vector<std::string> labels = args.GetList("labels");
  const bool zero_shot = args.Has("labels");
  if (zero_shot && (args.Has("k") || args.Has("vote") || args.Has("field")))
    return Usage("--labels (zero-shot) does not take --k, --vote or --field", kHelp);
  auto k = args.GetInt("k", 0);
  auto cv = args.GetInt("cv-points", 2000);
  auto limit = args.GetInt("limit", 20);
  for (auto* r : {&k, &cv, &limit})
    if (!r->ok()) return Usage(r->status().message(), kHelp);
  if (*k < 0 || *cv < 1 || *limit < 0)
    return Usage("--k must be >= 0 (0: chosen), --cv-points >= 1, --limit >= 0", kHelp);
  std::optional<bool> weighted;
  if (auto v = args.Get("vote")) {
    if (*v != "majority" && *v != "weighted")
      return Usage("--vote expects majority or weighted, got '" + *v + "'", kHelp);
    weighted = *v == "weighted";
  }
  query::ClassifyRun run;
  auto filter = FilterFlag(args);
  if (!filter.ok()) return Fail(filter.status());
  run.filter = std::move(filter).value();
  run.write_field = args.GetOr("write", "");
  if (args.Has("write") && run.write_field.empty()) return Usage("--write needs a field", kHelp);

  auto opened = OpenCollection(args, *name);
  if (!opened.ok()) return Fail(opened.status());
  Collection& c = *opened->collection;

  Result<std::vector<query::Prediction>> predictions = std::vector<query::Prediction>();
  Json about = Json::object();
  if (zero_shot) {
    auto encoder = OpenEncoder(args, c);
    if (!encoder.ok()) return Fail(encoder.status());
    query::ZeroShotOptions zo;
    zo.labels = labels;
    zo.using_vector = args.GetOr("using", "");
    zo.prompt = args.GetOr("prompt", zo.prompt);
    auto z = query::ZeroShotClassifier::Create(c, **encoder, zo);
    if (!z.ok()) return Fail(z.status());
    about = {{"method", "zero-shot"}, {"using", z->using_vector()}};
    predictions = query::ClassifyPoints(c, z->using_vector(), run,
                                        [&](const std::vector<std::vector<float>>& vectors)
                                            -> Result<std::vector<query::Prediction>> {
                                          std::vector<query::Prediction> out;
                                          for (const auto& v : vectors)
                                            out.push_back(z->Predict(v));
                                          return out;
                                        });
  } else {
    query::KnnOptions ko;
    ko.using_vector = args.GetOr("using", "");
    ko.label_field = args.GetOr("field", "label");
    ko.k = static_cast<size_t>(*k);
    ko.weighted = weighted;
    ko.cv_points = static_cast<size_t>(*cv);
    auto knn = query::KnnClassifier::Fit(c, ko);
    if (!knn.ok()) return Fail(knn.status());
    about = {{"method", "knn"},
             {"k", knn->k()},
             {"vote", knn->weighted() ? "weighted" : "majority"},
             {"labelled", knn->labelled()}};
    if (!knn->cv().empty()) {
      Json rows = Json::array();
      double best = 0;
      for (const query::CvRow& row : knn->cv()) {
        rows.push_back({{"k", row.k},
                        {"vote", row.weighted ? "weighted" : "majority"},
                        {"accuracy", row.accuracy}});
        best = std::max(best, row.accuracy);
      }
      about["cross_validation"] = std::move(rows);
      about["cv_accuracy"] = best;
    }
    run.label_field = ko.label_field;
    predictions = query::ClassifyPoints(
        c, ko.using_vector, run,
        [&](const std::vector<std::vector<float>>& vectors) { return knn->PredictBatch(vectors); });
  }
  if (!predictions.ok()) return Fail(predictions.status());

  if (args.Has("json")) {
    Json out = about;
    out["predictions"] = Json::array();
    for (const query::Prediction& p : *predictions)
      out["predictions"].push_back(wire::PredictionToJson(p));
    if (!run.write_field.empty()) out["written"] = run.write_field;
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  if (about["method"] == "knn") {
    std::printf("kNN: k = %zu, %s vote, from %llu labelled points", about["k"].get<size_t>(),
                about["vote"].get<std::string>().c_str(),
                static_cast<unsigned long long>(about["labelled"].get<uint64_t>()));
    if (about.contains("cv_accuracy"))
      std::printf(" (chosen by leave-one-out: accuracy %.3f)", about["cv_accuracy"].get<double>());
    std::printf("\n");
  } else {
    std::printf("zero-shot over vector '%s'\n", about["using"].get<std::string>().c_str());
  }
  std::map<std::string, size_t> per_label;
  for (const query::Prediction& p : *predictions)
    ++per_label[p.label.is_string() ? p.label.get<std::string>() : p.label.dump()];
  std::printf("%zu points labelled", predictions->size());
  const char* sep = ": ";
  for (const auto& [label, n] : per_label) {
    std::printf("%s%s %zu", sep, label.c_str(), n);
    sep = ", ";
  }
  std::printf("\n");
  for (size_t i = 0; i < predictions->size() && i < static_cast<size_t>(*limit); ++i) {
    const query::Prediction& p = (*predictions)[i];
    std::printf("  %-24s %-16s %.2f\n", p.id.ToString().c_str(),
                p.label.is_string() ? p.label.get<std::string>().c_str() : p.label.dump().c_str(),
                p.confidence);
  }
  if (!run.write_field.empty())
    std::printf("written to '%s' and '%s_confidence'\n", run.write_field.c_str(),
                run.write_field.c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
