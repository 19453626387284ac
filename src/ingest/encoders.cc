#include "ingest/encoders.h"

#include <algorithm>

#include "embed/model_loader.h"
#include "embed/objects/object_tagger.h"
#include "embed/registry/registry.h"

namespace mosaic::ingest {

const std::vector<std::string>& AllRoles() {
  static const std::vector<std::string> roles = {"clip", "visual", "objects", "faces", "ocr", "speech"};
  return roles;
}

namespace {

// Model families that can fill a role, best first.
std::vector<std::string> FamiliesFor(const std::string& role) {
  if (role == "clip") return {"clip"};
  if (role == "visual") return {"visual-descriptor"};
  if (role == "faces") return {"face"};
  if (role == "ocr") return {"paddleocr"};
  if (role == "speech") return {"pocketsphinx"};
  return {};
}

}  // namespace

const RoleModel* EncoderSet::Find(const std::string& role) const {
  for (const auto& m : models)
    if (m.role == role) return &m;
  return nullptr;
}

Json EncoderSet::ToJson() const {
  Json j = Json::object();
  for (const auto& m : models)
    j[m.role] = j.contains(m.role) ? j[m.role].get<std::string>() + "+" + m.model : m.model;
  return j;
}

namespace {

// The object detectors for the tag rule `object_tags` among the installed models.
Status ChooseObjectModels(const embed::ModelRegistry& reg, const std::vector<embed::ModelManifest>& installed,
                          const std::string& object_tags, std::vector<RoleModel>* out) {
  using embed::objects::TagMode;
  const embed::ModelManifest* nanodet = nullptr;
  const embed::ModelManifest* centernet = nullptr;
  for (const auto& m : installed) {
    if (m.family == "nanodet" && nanodet == nullptr) nanodet = &m;
    if (m.family == "centernet" && centernet == nullptr) centernet = &m;
  }
  embed::objects::TagRule rule = embed::objects::DefaultTagRule();
  if (!object_tags.empty()) {
    MOSAIC_ASSIGN_OR_RETURN(rule, embed::objects::ParseTagRule(object_tags));
    const auto missing = [&](const char* family) {
      return Status::NotFound("object tag rule '" + object_tags + "' needs a " + family +
                              " model, and none is installed in " + reg.dir() + " (`mosaic models list`)");
    };
    if (rule.uses_nanodet() && nanodet == nullptr) return missing("nanodet");
    if (rule.uses_centernet() && centernet == nullptr) return missing("centernet");
  } else if (nanodet == nullptr && centernet == nullptr) {
    return Status::OK();  // no object detector: no tags
  } else if (nanodet == nullptr || centernet == nullptr) {
    // The default needs both; one alone tags with its own measured default.
    rule = embed::objects::DefaultTagRule(nanodet != nullptr ? TagMode::kNanoDet : TagMode::kCenterNet);
  }
  if (rule.uses_nanodet()) out->push_back({"objects", nanodet->name, reg.ModelDir(nanodet->name), *nanodet, rule});
  if (rule.uses_centernet())
    out->push_back({"objects", centernet->name, reg.ModelDir(centernet->name), *centernet, rule});
  return Status::OK();
}

// Opens the detectors of the "objects" entries (one or two) as one tagger.
Result<std::unique_ptr<embed::Encoder>> OpenObjectTagger(const std::vector<const RoleModel*>& entries,
                                                         const embed::SessionOptions& session) {
  const embed::objects::TagRule& rule = entries.front()->tag_rule;
  std::unique_ptr<embed::ObjectDetector> nanodet, centernet;
  for (const RoleModel* m : entries) {
    const embed::ModelFile* f = m->manifest.FindFile("model");
    if (f == nullptr) return Status::InvalidArgument("model '" + m->model + "' has no file with role 'model'");
    const bool is_nanodet = m->manifest.family == "nanodet";
    embed::ObjectDetectorOptions o;
    o.score_threshold = is_nanodet ? rule.nanodet_threshold : rule.centernet_threshold;
    o.nanodet_unit_rgb_input = rule.legacy_nanodet_input;
    o.model_name = m->model;
    if (m != entries.front()) o.wordnet_dir.clear();  // the tagger takes the terms from one detector
    auto det = embed::ObjectDetector::Open(m->dir + "/" + f->path, o, session);
    if (!det.ok()) return det.status().WithContext("encoder 'objects' (model " + m->model + ")");
    (is_nanodet ? nanodet : centernet) = std::move(*det);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto tagger, embed::ObjectTagger::Create(rule, std::move(nanodet), std::move(centernet)));
  return std::unique_ptr<embed::Encoder>(std::move(tagger));
}

}  // namespace

Result<std::vector<RoleModel>> ChooseModels(const std::string& models_dir,
                                            const std::vector<std::string>& wanted,
                                            const Json& pinned, const std::string& object_tags) {
  for (const auto& w : wanted)
    if (std::find(AllRoles().begin(), AllRoles().end(), w) == AllRoles().end())
      return Status::InvalidArgument("unknown encoder '" + w +
                                     "'; known: clip, visual, objects, faces, ocr, speech");
  MOSAIC_ASSIGN_OR_RETURN(auto reg, embed::ModelRegistry::Open(
                                        models_dir.empty() ? embed::ModelRegistry::DefaultDir() : models_dir));
  std::vector<embed::ModelManifest> installed = reg.List();
  std::vector<RoleModel> out;
  for (const auto& role : AllRoles()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), role) == wanted.end()) continue;
    if (role == "objects") {
      MOSAIC_RETURN_IF_ERROR(ChooseObjectModels(reg, installed, object_tags, &out));
      continue;
    }
    if (pinned.is_object() && pinned.contains(role)) {
      const std::string name = pinned[role].get<std::string>();
      auto m = reg.Get(name);
      if (!m.ok())
        return Status::NotFound("the collection's '" + role + "' vectors were made with model '" + name +
                                "', which is not installed in " + reg.dir() + " (`mosaic models add/pull " +
                                name + "`)");
      out.push_back({role, name, reg.ModelDir(name), std::move(*m)});
      continue;
    }
    if (pinned.is_object() && !pinned.empty() && (role == "clip" || role == "visual" || role == "faces"))
      continue;  // an existing collection has no vector for a newly installed vector model
    bool found = false;
    for (const auto& family : FamiliesFor(role)) {
      for (const auto& m : installed)
        if (m.family == family) {
          out.push_back({role, m.name, reg.ModelDir(m.name), m});
          found = true;
          break;
        }
      if (found) break;
    }
  }
  return out;
}

Result<EncoderSet> OpenEncoders(std::vector<RoleModel> models, const embed::SessionOptions& session) {
  EncoderSet set;
  set.models = std::move(models);
  std::vector<const RoleModel*> object_models;
  for (const auto& m : set.models)
    if (m.role == "objects") object_models.push_back(&m);
  if (!object_models.empty()) {
    MOSAIC_ASSIGN_OR_RETURN(set.objects, OpenObjectTagger(object_models, session));
  }
  for (const auto& m : set.models) {
    auto open = [&](embed::Modality modality) -> Result<std::unique_ptr<embed::Encoder>> {
      auto e = embed::OpenEncoder(m.manifest, m.dir, modality, session);
      if (!e.ok()) return e.status().WithContext("encoder '" + m.role + "' (model " + m.model + ")");
      return e;
    };
    if (m.role == "clip") {
      MOSAIC_ASSIGN_OR_RETURN(set.clip_image, open(embed::Modality::kImage));
      MOSAIC_ASSIGN_OR_RETURN(set.clip_text, open(embed::Modality::kText));
    } else if (m.role == "visual") {
      MOSAIC_ASSIGN_OR_RETURN(set.visual, open(embed::Modality::kImage));
    } else if (m.role == "faces") {
      MOSAIC_ASSIGN_OR_RETURN(set.faces, open(embed::Modality::kImage));
    } else if (m.role == "ocr") {
      MOSAIC_ASSIGN_OR_RETURN(set.ocr, open(embed::Modality::kImage));
    }
  }
  for (const auto& m : set.models)
    if (m.role == "speech") set.speech = &m;
  return set;
}

}  // namespace mosaic::ingest
