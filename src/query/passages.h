// Literature search: the best passages (document chunks, docs/ingest.md) for a question or claim,
// grouped per document, each with its title, page, heading path and the sentence that matched
// the query's words highlighted. Runs the query engine's multimodal text query (BM25 over the
// chunk text, titles and names; CLIP's text vectors when installed) restricted to chunks and
// grouped by their document (docs/applications.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "query/engine.h"
#include "query/input.h"

namespace mosaic::query {

struct PassageRequest {
  std::string query;
  size_t documents = 5;     // documents returned
  size_t per_document = 2;  // passages per document
  std::optional<Filter> filter;
  std::string kind_field = "kind";  // passages are the points whose kind_field is "chunk"
  std::string parent_field = "parent";
};

struct Passage {
  PointId id;
  float score = 0;
  std::string text;      // the whole chunk
  Json sentence;         // {"text", "highlights": [[b, e], ...]} or null when no word matched
  Json page;             // PDF page (null otherwise)
  std::string headings;  // "Intro > Methods"
};

struct DocumentPassages {
  Json document;  // the document point's id
  std::string title;
  std::string path;
  std::vector<Passage> passages;  // best first
};

// NotFound when the collection has no passages (no chunk points); InvalidArgument for an empty
// query.
Result<std::vector<DocumentPassages>> FindPassages(const Collection& collection,
                                                   InputEncoder* encoder,
                                                   const PassageRequest& request,
                                                   const EngineOptions& options = {});

}  // namespace mosaic::query
