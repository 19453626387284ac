// The encoders an ingest run uses, chosen from the model registry by role.
//
// Roles and the collection vectors they fill:
//   clip    CLIP image + text towers  → vector "clip" (images, keyframes, chunks, transcripts)
//   visual  visual descriptor         → vector "visual" (images, keyframes)
//   objects nanodet and centernet     → payload objects / tags / tag_terms / tag_scores, under a
//           (or one of them)            tag rule (embed/objects/tag_fusion.h; Options::object_tags)
//   faces   face detector + embedder  → one "face" point per face, vector "face"
//   ocr     PaddleOCR                 → payload ocr_text
//   speech  pocketsphinx              → transcript points (audio, video soundtracks)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/objects/tag_fusion.h"
#include "embed/registry/manifest.h"
#include "embed/runtime/session.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::ingest {

struct RoleModel {
  std::string role;   // "clip", "visual", ...
  std::string model;  // registry name
  std::string dir;    // model folder
  embed::ModelManifest manifest;
  // Role "objects" only: the rule its detectors tag by. A rule with two detectors gives two
  // "objects" entries (NanoDet's first), both with the rule.
  embed::objects::TagRule tag_rule;
};

struct EncoderSet {
  std::vector<RoleModel> models;  // the chosen model per role, in role order
  std::unique_ptr<embed::Encoder> clip_image, clip_text, visual, objects, faces, ocr;
  const RoleModel* speech = nullptr;  // opened per prepare worker (pocketsphinx is single-threaded)

  const RoleModel* Find(const std::string& role) const;
  // Json {"role": "model", ...}; two models of one role are joined: "nanodet+centernet".
  Json ToJson() const;
};

// All roles known to ingest, in order.
const std::vector<std::string>& AllRoles();

// Picks the installed model per role from the registry in `models_dir` (empty: default).
// `wanted` limits the roles (empty: all); `pinned` maps role → model name (from an existing
// collection) and must be honoured: a missing pinned model is NotFound naming it.
// `object_tags` is the tag rule (embed::objects::ParseTagRule; empty: the default, NanoDet and
// CenterNet agreeing, or the one of them that is installed with its own default threshold). A
// rule given explicitly whose detector is not installed is NotFound naming it.
Result<std::vector<RoleModel>> ChooseModels(const std::string& models_dir,
                                            const std::vector<std::string>& wanted,
                                            const Json& pinned, const std::string& object_tags = "");

// Opens the encoders of `models` (all but speech).
Result<EncoderSet> OpenEncoders(std::vector<RoleModel> models, const embed::SessionOptions& session);

}  // namespace mosaic::ingest
