// Question answering: question-answer pairs imported from JSON lines into a collection (the
// question's text vector and BM25 on the question and answer; the answer in the payload), and
// `Ask`, which returns the best answers with the question they answer, or, over a collection of
// documents, the best passages with the answering sentence highlighted (docs/applications.md).
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "query/engine.h"
#include "query/input.h"

namespace mosaic::query {

// Payload of an imported pair: {"kind": "qa", "question", "answer", "source": file, "line": n,
// plus any other fields of the line}.
inline constexpr char kQaKind[] = "qa";

// A text's vector in the collection's question vector (e.g. the CLIP text tower).
using TextEmbedder =
    std::function<Result<std::vector<std::vector<float>>>(const std::vector<std::string>& texts)>;

struct QaImportOptions {
  std::string vector;  // the question vector's name ("": none, BM25 only)
  std::string source;  // file name recorded in each payload
  size_t batch = 64;   // pairs per write (and per embedder call)
};

struct QaImportReport {
  size_t imported = 0;
  size_t skipped = 0;
  std::vector<std::string> problems;  // "line 7: ...", one per skipped line
};

// The payload indexes a QA collection needs: text on question and answer, keyword on kind.
Status PrepareQaCollection(Collection& collection);

// Reads JSON lines {"question": "...", "answer": "...", "id"?: ..., other fields kept}; a broken
// line (not JSON, no question or answer, a bad id) is reported with its line number and skipped.
// Points get the line's "id", else "qa:<source>:<line>". `progress` (may be empty) is called
// after each batch with the lines read.
Result<QaImportReport> ImportQa(Collection& collection, std::istream& in, const TextEmbedder& embed,
                                const QaImportOptions& options,
                                const std::function<void(size_t)>& progress = {});

struct AskRequest {
  std::string question;
  size_t limit = 5;
  std::optional<Filter> filter;
};

struct Answer {
  PointId id;
  float score = 0;       // fused
  std::string source;    // "qa" (an imported pair) or "passage" (a document chunk)
  std::string answer;    // the pair's answer, or the passage's text
  std::string question;  // qa: the question it answers
  Json sentence;         // passage: {"text", "highlights"}, the answering sentence (or null)
  std::string title;     // passage: its document's title
  Json page;             // passage: PDF page
  std::vector<SignalMatch> signals;  // what matched (question text, answer text, vector)
};

// The best answers to `request.question`: over imported pairs (points of kind "qa") when the
// collection has any, else over document passages. NotFound when it has neither.
Result<std::vector<Answer>> Ask(const Collection& collection, InputEncoder* encoder,
                                const AskRequest& request, const EngineOptions& options = {});

}  // namespace mosaic::query
