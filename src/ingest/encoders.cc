#include "ingest/encoders.h"

#include <algorithm>

#include "embed/model_loader.h"
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
  if (role == "objects") return {"nanodet", "centernet"};
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
  for (const auto& m : models) j[m.role] = m.model;
  return j;
}

Result<std::vector<RoleModel>> ChooseModels(const std::string& models_dir,
                                            const std::vector<std::string>& wanted,
                                            const Json& pinned) {
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
    } else if (m.role == "objects") {
      MOSAIC_ASSIGN_OR_RETURN(set.objects, open(embed::Modality::kImage));
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
