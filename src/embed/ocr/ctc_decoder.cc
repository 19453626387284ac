#include "embed/ocr/ctc_decoder.h"

#include <filesystem>
#include <fstream>

namespace mosaic::embed::ocr {

Result<CtcDecoder> CtcDecoder::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("OCR dictionary '" + path + "' does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open OCR dictionary '" + path + "'");
  CtcDecoder d;
  d.path_ = path;
  d.labels_.emplace_back();  // blank
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    d.labels_.push_back(line);
  }
  if (in.bad()) return Status::IOError("error reading OCR dictionary '" + path + "'");
  d.dictionary_size_ = d.labels_.size() - 1;
  if (d.dictionary_size_ == 0) {
    return Status::InvalidArgument("OCR dictionary '" + path + "' is empty");
  }
  return d;
}

Status CtcDecoder::SetClassCount(int64_t classes, const std::string& model_path) {
  const auto n = static_cast<int64_t>(dictionary_size_);
  labels_.resize(dictionary_size_ + 1);
  if (classes == n + 2) {
    labels_.emplace_back(" ");
  } else if (classes != n + 1) {
    return Status::InvalidArgument("recognition model '" + model_path + "' has " +
                                   std::to_string(classes) + " output classes, dictionary '" +
                                   path_ + "' has " + std::to_string(n) + " entries (expected " +
                                   std::to_string(n + 1) + " or " + std::to_string(n + 2) +
                                   " classes: blank + dictionary [+ space])");
  }
  return Status::OK();
}

DecodedText CtcDecoder::Decode(const float* probs, int64_t steps) const {
  DecodedText out;
  const int64_t classes = class_count();
  double conf_sum = 0;
  int kept = 0;
  int64_t prev = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const float* row = probs + t * classes;
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (row[c] > row[best]) best = c;
    }
    if (best != 0 && best == prev) {
      out.chars.back().last_step = static_cast<int>(t);
    } else if (best != 0) {
      const std::string& label = labels_[static_cast<size_t>(best)];
      out.text += label;
      out.chars.push_back({label, static_cast<int>(t), static_cast<int>(t)});
      conf_sum += row[best];
      ++kept;
    }
    prev = best;
  }
  out.confidence = kept == 0 ? 0.0f : static_cast<float>(conf_sum / kept);
  return out;
}

}  // namespace mosaic::embed::ocr
