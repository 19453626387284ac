// The built-in catalog: manifests of the models `mosaic models pull` knows how to fetch, with
// download URLs and, where known, each file's SHA-256 (format: docs/model_registry.md).
// A file whose hash the catalog does not know is recorded on first install ("trust on first
// use"). The catalog is immutable after its first use; all functions are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "embed/registry/manifest.h"

namespace mosaic::embed {

/// Every catalog model, sorted by name.
const std::vector<ModelManifest>& Catalog();

/// The catalog model `name`, or nullptr.
const ModelManifest* FindInCatalog(std::string_view name);

/// "a, b, c": the catalog's model names, for messages.
std::string CatalogNames();

/// Environment variable naming a mirror for catalog downloads (docs/model_registry.md).
inline constexpr char kModelMirrorEnv[] = "MOSAIC_MODEL_MIRROR";

/// `url` with its scheme and host replaced by `mirror` (e.g. "http://10.0.0.5:8080/models"):
/// https://huggingface.co/x/y -> http://10.0.0.5:8080/models/x/y. An empty mirror returns url.
std::string ApplyMirror(const std::string& url, const std::string& mirror);

/// The value of $MOSAIC_MODEL_MIRROR, or "".
std::string MirrorFromEnv();

}  // namespace mosaic::embed
