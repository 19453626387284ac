#include "query/qa.h"

#include <algorithm>

#include "query/filters.h"
#include "query/passages.h"

namespace mosaic::query {
namespace {

Result<Filter> KindIs(const char* kind) {
  return Filter::FromJson(
      {{"must", Json::array({{{"key", "kind"}, {"match", {{"value", kind}}}}})}});
}

}  // namespace

Status PrepareQaCollection(Collection& collection) {
  auto have = collection.PayloadIndexes();
  for (auto [field, type] : {std::pair{"question", PayloadIndexType::kText},
                             std::pair{"answer", PayloadIndexType::kText},
                             std::pair{"kind", PayloadIndexType::kKeyword}}) {
    auto it = have.find(field);
    if (it != have.end() && it->second == type) continue;
    MOSAIC_RETURN_IF_ERROR(collection.CreatePayloadIndex(field, type));
  }
  return Status::OK();
}

Result<QaImportReport> ImportQa(Collection& collection, std::istream& in, const TextEmbedder& embed,
                                const QaImportOptions& options,
                                const std::function<void(size_t)>& progress) {
  if (!options.vector.empty() && collection.schema().Find(options.vector) == nullptr)
    return Status::InvalidArgument("collection '" + collection.name() + "' has no vector named '" +
                                   options.vector + "'");
  if (!options.vector.empty() && !embed)
    return Status::InvalidArgument("a question vector needs a text model to make it");
  MOSAIC_RETURN_IF_ERROR(PrepareQaCollection(collection));
  QaImportReport report;
  std::vector<Point> batch;
  std::vector<std::string> questions;
  size_t number = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    if (!options.vector.empty()) {
      MOSAIC_ASSIGN_OR_RETURN(auto vectors, embed(questions));
      if (vectors.size() != batch.size())
        return Status::Internal("the text model gave " + std::to_string(vectors.size()) +
                                " vectors for " + std::to_string(batch.size()) + " questions");
      for (size_t i = 0; i < batch.size(); ++i)
        if (!vectors[i].empty()) batch[i].vectors[options.vector] = std::move(vectors[i]);
    }
    MOSAIC_RETURN_IF_ERROR(collection.Upsert(batch));
    report.imported += batch.size();
    batch.clear();
    questions.clear();
    if (progress) progress(number);
    return Status::OK();
  };
  std::string line;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto skip = [&](const std::string& why) {
      ++report.skipped;
      report.problems.push_back("line " + std::to_string(number) + ": " + why);
    };
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      skip("not a JSON object: '" + line.substr(0, 60) + (line.size() > 60 ? "...'" : "'"));
      continue;
    }
    auto text_of = [&](const char* key) -> std::string {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string question = text_of("question"), answer = text_of("answer");
    if (question.find_first_not_of(" \t\r\n") == std::string::npos) {
      skip("no \"question\" text");
      continue;
    }
    if (answer.find_first_not_of(" \t\r\n") == std::string::npos) {
      skip("no \"answer\" text");
      continue;
    }
    Point p;
    if (j.contains("id")) {
      auto id = PointId::FromJson(j["id"]);
      if (!id.ok()) {
        skip("bad \"id\": " + id.status().message());
        continue;
      }
      p.id = std::move(id).value();
      j.erase("id");
    } else {
      p.id = PointId("qa:" + options.source + ":" + std::to_string(number));
    }
    p.payload = std::move(j);
    p.payload["kind"] = kQaKind;
    p.payload["source"] = options.source;
    p.payload["line"] = number;
    batch.push_back(std::move(p));
    questions.push_back(question);
    if (batch.size() >= std::max<size_t>(options.batch, 1)) MOSAIC_RETURN_IF_ERROR(flush());
  }
  MOSAIC_RETURN_IF_ERROR(flush());
  return report;
}

Result<std::vector<Answer>> Ask(const Collection& collection, InputEncoder* encoder,
                                const AskRequest& r, const EngineOptions& options) {
  if (r.question.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("ask needs a question, got '" + r.question + "'");
  if (r.limit == 0) return Status::InvalidArgument("ask: limit must be at least 1");
  MOSAIC_ASSIGN_OR_RETURN(Filter qa, KindIs(kQaKind));
  MOSAIC_ASSIGN_OR_RETURN(uint64_t pairs, collection.Count(&qa));
  std::vector<Answer> out;

  if (pairs == 0) {
    // Documents: the best passages, one per document, as answers.
    PassageRequest pr;
    pr.query = r.question;
    pr.documents = r.limit;
    pr.per_document = 1;
    pr.filter = r.filter;
    auto docs = FindPassages(collection, encoder, pr, options);
    if (!docs.ok() && docs.status().code() == StatusCode::kNotFound)
      return Status::NotFound("collection '" + collection.name() +
                              "' has neither question-answer pairs (mosaic qa import) nor "
                              "document passages to answer from");
    MOSAIC_RETURN_IF_ERROR(docs.status());
    for (DocumentPassages& d : *docs) {
      Passage& p = d.passages[0];
      Answer a;
      a.id = p.id;
      a.score = p.score;
      a.source = "passage";
      a.answer = std::move(p.text);
      a.sentence = std::move(p.sentence);
      a.title = std::move(d.title);
      a.page = std::move(p.page);
      out.push_back(std::move(a));
    }
    return out;
  }

  // Pairs: BM25 on the question field, and the question vector when a text model shares its
  // space, fused by RRF.
  QueryRequest q;
  Prefetch words;
  words.query = TextQuery{r.question, {"question"}};
  words.name = "question words";
  q.prefetch.push_back(std::move(words));
  if (encoder != nullptr)
    for (const std::string& v : encoder->TextVectors()) {
      Prefetch dense;
      dense.query = NearestQuery{{Input::Text(r.question)}};
      dense.using_vector = v;
      dense.name = "question " + v;
      q.prefetch.push_back(std::move(dense));
    }
  q.query = FusionQuery{FusionMethod::kRrf, options.signals.rrf_k};
  MOSAIC_ASSIGN_OR_RETURN(q.filter, AndFilters(r.filter, qa));
  q.limit = r.limit;
  q.explain = true;
  q.snippet = false;
  QueryEngine engine(collection, encoder, options);
  MOSAIC_ASSIGN_OR_RETURN(QueryResponse resp, engine.Query(q));
  for (Hit& h : resp.hits) {
    Answer a;
    a.id = h.id;
    a.score = h.score;
    a.source = "qa";
    if (h.payload) {
      a.answer = h.payload->value("answer", "");
      a.question = h.payload->value("question", "");
    }
    a.signals = std::move(h.signals);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace mosaic::query
