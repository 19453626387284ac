#include "query/passages.h"

#include "query/filters.h"

namespace mosaic::query {

Result<std::vector<DocumentPassages>> FindPassages(const Collection& collection,
                                                   InputEncoder* encoder, const PassageRequest& r,
                                                   const EngineOptions& options) {
  if (r.query.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("a literature search needs a question or claim, got '" +
                                   r.query + "'");
  if (r.documents == 0 || r.per_document == 0)
    return Status::InvalidArgument("documents and passages per document must be at least 1");
  MOSAIC_ASSIGN_OR_RETURN(
      Filter chunks,
      Filter::FromJson(
          {{"must", Json::array({{{"key", r.kind_field}, {"match", {{"value", "chunk"}}}}})}}));
  MOSAIC_ASSIGN_OR_RETURN(uint64_t n, collection.Count(&chunks));
  if (n == 0)
    return Status::NotFound("collection '" + collection.name() +
                            "' has no document passages (points of kind 'chunk'); ingest "
                            "documents (txt, md, html, pdf) first");

  QueryRequest q;
  q.query = AutoQuery{{Input::Text(r.query)}};
  MOSAIC_ASSIGN_OR_RETURN(q.filter, AndFilters(r.filter, chunks));
  q.group_by = GroupBy{"file_id", r.per_document};
  q.limit = r.documents;
  q.explain = true;      // the evidence holds the matching sentence
  q.understand = false;  // a claim's "in 2019" or "video" are its words, not filters
  QueryEngine engine(collection, encoder, options);
  MOSAIC_ASSIGN_OR_RETURN(QueryResponse resp, engine.Query(q));

  std::vector<DocumentPassages> out;
  for (HitGroup& g : resp.groups) {
    DocumentPassages d;
    d.document = g.key;
    for (Hit& h : g.hits) {
      const Json& p = h.payload ? *h.payload : Json::object();
      if (d.title.empty()) d.title = p.value("title", "");
      if (d.path.empty())
        d.path = PayloadValue(p, "file.path").is_string()
                     ? PayloadValue(p, "file.path").get<std::string>()
                     : "";
      Passage ps;
      ps.id = h.id;
      ps.score = h.score;
      ps.text = p.value("text", "");
      ps.sentence = h.evidence.is_object() && h.evidence.contains("sentence")
                        ? h.evidence["sentence"]
                        : Json();
      ps.page = p.value("page", Json());
      ps.headings = p.value("headings", "");
      d.passages.push_back(std::move(ps));
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace mosaic::query
