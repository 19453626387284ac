#include "query_input.h"

#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "ingest/scan.h"
#include "wire/point_codec.h"

namespace mosaic::cli {

using query::Input;
using query::InputKind;

Result<std::unique_ptr<query::MediaInputEncoder>> OpenEncoder(const Args& args,
                                                              const Collection& collection) {
  query::MediaInputOptions mo;
  mo.models_dir = args.GetOr("models", "");
  return query::MediaInputEncoder::Open(collection, mo);
}

Result<QueryTarget> OpenQueryTarget(const Args& args, const std::string& name) {
  QueryTarget t;
  MOSAIC_ASSIGN_OR_RETURN(t.opened, OpenCollection(args, name));
  MOSAIC_ASSIGN_OR_RETURN(t.encoder, OpenEncoder(args, t.collection()));
  return t;
}

Result<Input> FileInput(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open query file '" + path + "'");
  std::string head(256, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::string mime;
  switch (ingest::DetectKind(path, head, &mime)) {
    case ingest::FileKind::kImage:
      return Input::File(InputKind::kImage, path);
    case ingest::FileKind::kVideo:
      return Input::File(InputKind::kVideo, path);
    case ingest::FileKind::kAudio:
      return Input::File(InputKind::kAudio, path);
    case ingest::FileKind::kDocument:
      return Status::InvalidArgument("'" + path +
                                     "' is a document; search with its words (--text) instead");
    default:
      return Status::InvalidArgument("'" + path + "' is not an image, video or audio file");
  }
}

Result<Input> ResolveInput(const std::string& word) {
  if (word.starts_with("id:") && word.size() > 3)
    return Input::Point(wire::PointIdFromText(word.substr(3)));
  struct stat st;
  if (::stat(word.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return FileInput(word);
  return Input::Text(word);
}

Result<Input> ExampleInput(const std::string& word) {
  if (word.starts_with("text:")) return Input::Text(word.substr(5));
  if (word.starts_with("id:") && word.size() > 3)
    return Input::Point(wire::PointIdFromText(word.substr(3)));
  struct stat st;
  if (::stat(word.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return FileInput(word);
  if (word.empty()) return Status::InvalidArgument("an empty example");
  return Input::Point(wire::PointIdFromText(word));
}

std::pair<float, std::string> SplitWeight(const std::string& value) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0) return {1.0f, value};
  const std::string w = value.substr(0, colon);
  char* end = nullptr;
  const float f = std::strtof(w.c_str(), &end);
  if (*end != '\0' || !std::isfinite(f)) return {1.0f, value};
  return {f, value.substr(colon + 1)};
}

Result<std::vector<Input>> ParseQueryExpression(const std::string& expr) {
  std::vector<Input> inputs;
  size_t i = 0;
  float sign = 1;
  bool expect_term = true;
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("--query: " + what + " at position " + std::to_string(i + 1) +
                                   " of '" + expr + "'");
  };
  while (true) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i])))
      ++i;
    if (i >= expr.size()) break;
    if (!expect_term) {
      if (expr[i] != '+' && expr[i] != '-') return error("expected + or -");
      sign = expr[i] == '-' ? -1.0f : 1.0f;
      ++i;
      expect_term = true;
      continue;
    }
    if (expr[i] == '-' && inputs.empty()) {  // a leading minus: an input to move away from
      sign = -1;
      ++i;
      continue;
    }
    // An optional weight: "0.3 *" or "0.3*".
    float weight = 1;
    {
      char* end = nullptr;
      const float w = std::strtof(expr.c_str() + i, &end);
      size_t j = static_cast<size_t>(end - expr.c_str());
      while (j < expr.size() && std::isspace(static_cast<unsigned char>(expr[j])))
        ++j;
      if (end != expr.c_str() + i && j < expr.size() && expr[j] == '*') {
        if (!std::isfinite(w) || w <= 0) return error("a weight must be a positive number");
        weight = w;
        i = j + 1;
        while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i])))
          ++i;
      }
    }
    if (i >= expr.size()) return error("missing a term");
    Input in;
    if (expr[i] == '"' || expr[i] == '\'') {
      const char quote = expr[i];
      const size_t close = expr.find(quote, i + 1);
      if (close == std::string::npos) return error("unclosed quote");
      in = Input::Text(expr.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      // Unquoted: words up to the next operator surrounded by spaces (or the end).
      size_t j = i;
      while (j < expr.size()) {
        if ((expr[j] == '+' || expr[j] == '-') && j > i &&
            std::isspace(static_cast<unsigned char>(expr[j - 1])))
          break;
        ++j;
      }
      std::string word = expr.substr(i, j - i);
      while (!word.empty() && std::isspace(static_cast<unsigned char>(word.back())))
        word.pop_back();
      MOSAIC_ASSIGN_OR_RETURN(in, ResolveInput(word));
      i = j;
    }
    in.weight = sign * weight;
    inputs.push_back(std::move(in));
    expect_term = false;
    sign = 1;
  }
  if (expect_term && !inputs.empty()) return error("missing a term after the operator");
  if (inputs.empty()) return Status::InvalidArgument("--query is empty");
  return inputs;
}

}  // namespace mosaic::cli
