// A model in the registry: a folder <models_dir>/<name>/ holding the model's files and
// manifest.json, which describes them (format: docs/model_registry.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "embed/encoder.h"
#include "mosaic/status.h"

namespace mosaic::embed {

inline constexpr int kManifestFormat = 1;

/// One file of a model. `role` says what the encoder uses it for: "visual" / "textual" (CLIP
/// towers), "vocab" (BPE merges), "detector" / "recognizer" / "classifier" / "dict" (OCR), ...
struct ModelFile {
  std::string role;
  std::string path;     // relative to the model folder
  std::string sha256;   // lowercase hex; verified by `models add/pull` and `models verify`
  uint64_t bytes = 0;
  std::string url;      // where `pull` downloads it from (empty for local-only models)
};

struct ModelManifest {
  int format = kManifestFormat;
  std::string name;         // registry key: [a-z0-9][a-z0-9._-]*
  std::string family;       // "clip", "paddleocr", ...
  std::vector<Modality> modalities;  // inputs it accepts (CLIP: image and text)
  std::string task;         // "embedding", "ocr", "detection", ...
  int dim = 0;              // vector dimension (0: no vectors)
  std::string license;      // SPDX id or short licence line
  std::string source;       // where the files came from (URL or npm/Debian package)
  std::string description;
  std::vector<ModelFile> files;
  /// Family-specific preprocessing, e.g. for CLIP {"image_size":224,"mean":[..],"std":[..],
  /// "resize":"bicubic","crop":"center","context_length":77}.
  nlohmann::json preprocess = nlohmann::json::object();

  /// The file with `role`, or nullptr.
  const ModelFile* FindFile(std::string_view role) const;

  nlohmann::json ToJson() const;
  /// Parses and validates (format version, name syntax, required fields, relative paths that
  /// stay inside the folder). Errors name the field and value.
  static Result<ModelManifest> FromJson(const nlohmann::json& j);
};

/// True when `name` is a valid registry key: 1 to 64 characters [a-z0-9._-], starting with a
/// letter or digit.
bool IsValidModelName(std::string_view name);

/// Parses "image" / "text" / "audio"; InvalidArgument names the value.
Result<Modality> ParseModality(std::string_view name);

}  // namespace mosaic::embed
