#include "embed/model_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "embed/clip/clip_encoder.h"
#include "embed/faces/face_encoder.h"
#include "embed/objects/object_detector.h"
#include "embed/ocr/ocr_engine.h"
#include "embed/speech/speech_recognizer.h"
#include "embed/visual/visual_descriptor.h"

namespace mosaic::embed {

namespace {

Result<std::string> FilePath(const ModelManifest& m, const std::string& dir, std::string_view role) {
  const ModelFile* f = m.FindFile(role);
  if (f == nullptr) return Status::InvalidArgument("model '" + m.name + "' has no file with role '" + std::string(role) + "'");
  return dir + "/" + f->path;
}

EncoderInfo InfoOf(const ModelManifest& m, Modality modality) {
  EncoderInfo info;
  info.model = m.name;
  info.family = m.family;
  info.modality = modality;
  info.dim = m.dim;
  info.space = m.name;  // towers of one model share a space
  return info;
}

}  // namespace

Result<ModelManifest> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  std::ifstream in(path);
  if (!in) return Status::NotFound("no model manifest at " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(path + " is not valid JSON");
  auto m = ModelManifest::FromJson(j);
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

Result<std::unique_ptr<Encoder>> OpenEncoder(const ModelManifest& m, const std::string& dir, Modality modality,
                                             const SessionOptions& options) {
  if (std::find(m.modalities.begin(), m.modalities.end(), modality) == m.modalities.end()) {
    return Status::InvalidArgument("model '" + m.name + "' does not take " + ModalityName(modality) + " input");
  }
  if (m.family == "clip") {
    MOSAIC_ASSIGN_OR_RETURN(auto config, ClipConfig::FromJson(m.preprocess));
    if (modality == Modality::kImage) {
      MOSAIC_ASSIGN_OR_RETURN(auto path, FilePath(m, dir, "visual"));
      MOSAIC_ASSIGN_OR_RETURN(auto enc, ClipImageEncoder::Open(path, config, InfoOf(m, modality), options));
      return std::unique_ptr<Encoder>(std::move(enc));
    }
    if (modality == Modality::kText) {
      MOSAIC_ASSIGN_OR_RETURN(auto path, FilePath(m, dir, "textual"));
      MOSAIC_ASSIGN_OR_RETURN(auto vocab, FilePath(m, dir, "vocab"));
      MOSAIC_ASSIGN_OR_RETURN(auto enc, ClipTextEncoder::Open(path, vocab, config, InfoOf(m, modality), options));
      return std::unique_ptr<Encoder>(std::move(enc));
    }
  }
  if (m.family == "paddleocr" && modality == Modality::kImage) {
    OcrModelPaths paths;
    MOSAIC_ASSIGN_OR_RETURN(paths.det, FilePath(m, dir, "detector"));
    MOSAIC_ASSIGN_OR_RETURN(paths.rec, FilePath(m, dir, "recognizer"));
    MOSAIC_ASSIGN_OR_RETURN(paths.dict, FilePath(m, dir, "dict"));
    if (m.FindFile("classifier") != nullptr) {
      MOSAIC_ASSIGN_OR_RETURN(paths.cls, FilePath(m, dir, "classifier"));
    }
    OcrOptions ocr;
    ocr.model_name = m.name;
    MOSAIC_ASSIGN_OR_RETURN(auto enc, OcrEngine::Open(paths, ocr, options));
    return std::unique_ptr<Encoder>(std::move(enc));
  }
  if ((m.family == "nanodet" || m.family == "centernet") && modality == Modality::kImage) {
    MOSAIC_ASSIGN_OR_RETURN(auto path, FilePath(m, dir, "model"));
    MOSAIC_ASSIGN_OR_RETURN(auto enc, ObjectDetector::Open(path, {.model_name = m.name}, options));
    return std::unique_ptr<Encoder>(std::move(enc));
  }
  if (m.family == "face" && modality == Modality::kImage) {
    FaceModelPaths paths;
    MOSAIC_ASSIGN_OR_RETURN(paths.detector, FilePath(m, dir, "detector"));
    MOSAIC_ASSIGN_OR_RETURN(paths.embedder, FilePath(m, dir, "embedder"));
    MOSAIC_ASSIGN_OR_RETURN(auto enc, FaceEncoder::Open(paths, {.model_name = m.name}, options));
    return std::unique_ptr<Encoder>(std::move(enc));
  }
  if (m.family == "visual-descriptor" && modality == Modality::kImage) {
    MOSAIC_ASSIGN_OR_RETURN(auto path, FilePath(m, dir, "model"));
    const auto range = m.preprocess.value("range", nlohmann::json::array({0, 255}));
    if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number()) {
      return Status::InvalidArgument("model '" + m.name + "': preprocess.range must be [lo, hi], got " + range.dump());
    }
    VisualDescriptorOptions vd{.model_name = m.name, .range_lo = range[0].get<float>(), .range_hi = range[1].get<float>()};
    MOSAIC_ASSIGN_OR_RETURN(auto enc, VisualDescriptor::Open(path, vd, options));
    return std::unique_ptr<Encoder>(std::move(enc));
  }
  if (m.family == "pocketsphinx" && modality == Modality::kAudio) {
    SpeechModelPaths paths;
    MOSAIC_ASSIGN_OR_RETURN(auto mdef, FilePath(m, dir, "hmm-mdef"));
    paths.hmm_dir = mdef.substr(0, mdef.rfind('/'));  // the acoustic model is a folder
    MOSAIC_ASSIGN_OR_RETURN(paths.lm, FilePath(m, dir, "lm"));
    MOSAIC_ASSIGN_OR_RETURN(paths.dict, FilePath(m, dir, "dict"));
    SpeechOptions speech;
    speech.model_name = m.name;
    MOSAIC_ASSIGN_OR_RETURN(auto enc, SpeechRecognizer::Open(paths, speech));
    return std::unique_ptr<Encoder>(std::move(enc));
  }
  return Status::InvalidArgument("model '" + m.name + "' has family '" + m.family + "' with no " +
                                 ModalityName(modality) + " encoder in this build");
}

}  // namespace mosaic::embed
