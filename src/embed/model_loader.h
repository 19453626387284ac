// Opens the encoder a registry manifest describes, by family and modality.
#pragma once

#include <memory>
#include <string>

#include "embed/encoder.h"
#include "embed/registry/manifest.h"
#include "embed/runtime/session.h"

namespace mosaic::embed {

/// Reads `<dir>/manifest.json`, the manifest of a model folder (installed or not).
Result<ModelManifest> ReadManifest(const std::string& dir);

/// Opens the encoder for `modality` of the model in folder `dir` described by `manifest`:
/// CLIP → the image or text tower; PaddleOCR → the OCR engine (images). InvalidArgument when
/// the model has no encoder for that modality or its family is unknown to this build.
Result<std::unique_ptr<Encoder>> OpenEncoder(const ModelManifest& manifest, const std::string& dir, Modality modality,
                                             const SessionOptions& options = {});

}  // namespace mosaic::embed
