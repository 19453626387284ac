#include "query/input/media_input_encoder.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "embed/text/fasttext_encoder.h"
#include "ingest/encoders.h"
#include "ingest/layout.h"
#include "ingest/tta.h"
#include "media/image_decode.h"
#include "media/video_decode.h"
#include "query/input/text_vectors.h"

namespace mosaic::query {

struct MediaInputEncoder::Models {
  std::vector<ingest::RoleModel> chosen;
  std::unique_ptr<embed::Encoder> clip_image, clip_text, visual, speech;
  // fastText text vectors (text_vectors.h): the model and its folder, opened with the others.
  embed::ModelManifest fasttext_manifest;
  std::string fasttext_dir;
  std::unique_ptr<embed::FastTextEncoder> fasttext;
  std::vector<ingest::TtaView> tta;  // the views ingest averaged into image vectors
  bool opened = false;
  Status open_status;

  const ingest::RoleModel* Find(const std::string& role) const {
    for (const auto& m : chosen)
      if (m.role == role) return &m;
    return nullptr;
  }
};

namespace {

// A file holding `bytes` for decoders that read paths (video, audio); removed on destruction.
class TempFile {
 public:
  static Result<TempFile> Write(const std::string& bytes) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/mosaic-query-XXXXXX";
    int fd = mkstemp(path.data());
    if (fd < 0)
      return Status::IOError("cannot create a temporary file for an uploaded clip in " + path);
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) {
        ::close(fd);
        ::unlink(path.c_str());
        return Status::IOError("cannot write the uploaded clip to " + path);
      }
      off += static_cast<size_t>(n);
    }
    ::close(fd);
    return TempFile(std::move(path));
  }
  TempFile(TempFile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace

MediaInputEncoder::~MediaInputEncoder() = default;

Result<std::unique_ptr<MediaInputEncoder>> MediaInputEncoder::Open(
    const Collection& collection, const MediaInputOptions& options) {
  std::unique_ptr<MediaInputEncoder> e(new MediaInputEncoder());
  e->collection_ = collection.name();
  e->options_ = options;
  e->m_ = std::make_unique<Models>();
  std::vector<PointId> record = {PointId(ingest::kIngestRecordId)};
  MOSAIC_ASSIGN_OR_RETURN(auto meta, collection.Get(record, true, false));
  if (meta.empty()) return e;  // not made by ingest: no models known
  const Json enc = meta[0].payload.value("encoders", Json::object());
  MOSAIC_ASSIGN_OR_RETURN(e->m_->tta, ingest::ParseTta(meta[0].payload.value("tta", "")));
  Json pinned = Json::object();
  std::vector<std::string> wanted = {"speech"};
  for (const auto& [role, vector] : ingest::VectorRoles()) {
    if (!enc.contains(role) || collection.schema().Find(vector) == nullptr) continue;
    if (role != "clip" && role != "visual")
      continue;  // faces: a person search is not a media query
    pinned[role] = enc[role];
    wanted.push_back(role);
  }
  MOSAIC_ASSIGN_OR_RETURN(e->m_->chosen, ingest::ChooseModels(options.models_dir, wanted, pinned));
  for (const auto& m : e->m_->chosen)
    e->models_[m.role] = m.model;
  if (enc.contains(kFastTextRole) && enc[kFastTextRole].is_string() &&
      collection.schema().Find(kFastTextRole) != nullptr) {
    const std::string model = enc[kFastTextRole].get<std::string>();
    MOSAIC_ASSIGN_OR_RETURN(
        auto reg,
        embed::ModelRegistry::Open(options.models_dir.empty() ? embed::ModelRegistry::DefaultDir()
                                                              : options.models_dir));
    auto manifest = reg.Get(model);
    if (!manifest.ok())
      return manifest.status().WithContext("collection '" + collection.name() +
                                           "' has fastText text vectors of model '" + model + "'");
    e->m_->fasttext_manifest = std::move(manifest).value();
    e->m_->fasttext_dir = reg.ModelDir(model);
    e->models_[kFastTextRole] = model;
  }
  return e;
}

std::vector<std::string> MediaInputEncoder::TextVectors() const {
  // CLIP's text tower replaces fastText: it shares the media's vector space.
  if (m_->Find("clip") != nullptr) return {"clip"};
  if (!m_->fasttext_dir.empty()) return {kFastTextRole};
  return {};
}

Result<EncodedInput> MediaInputEncoder::EncodeText(const std::string& text) {
  EncodedInput out;
  out.text = text;
  if (m_->clip_text == nullptr && m_->fasttext != nullptr) {
    if (auto v = m_->fasttext->EncodeText(text); !v.empty())
      out.vectors[kFastTextRole] = std::move(v);
    out.info["model"] = models_.value(kFastTextRole, "");
    return out;
  }
  if (m_->clip_text == nullptr) return out;
  embed::EncoderInput in;
  in.text = text;
  MOSAIC_ASSIGN_OR_RETURN(auto res,
                          m_->clip_text->Encode(std::span<const embed::EncoderInput>(&in, 1)));
  if (!res.empty() && !res[0].vectors.empty()) out.vectors["clip"] = std::move(res[0].vectors[0]);
  out.info["model"] = models_.value("clip", "");
  return out;
}

// Encodes images (a photo, or a clip's keyframes) into each image vector; keyframes pool into
// their shot (weight 1 each) and shots into the clip (by `shot_weights`), as ingest does.
Result<EncodedInput> MediaInputEncoder::EncodeImages(std::vector<media::Image> images,
                                                     const std::vector<double>& shot_weights,
                                                     const std::vector<size_t>& shot_of) {
  EncodedInput out;
  std::vector<const media::Image*> batch;
  for (const media::Image& image : images)
    batch.push_back(&image);
  for (auto [vector, encoder] :
       {std::pair{"clip", m_->clip_image.get()}, std::pair{"visual", m_->visual.get()}}) {
    if (encoder == nullptr) continue;
    // With the views ingest averaged in (test-time augmentation), as it did.
    MOSAIC_ASSIGN_OR_RETURN(auto res, ingest::EncodeImages(*encoder, batch, m_->tta));
    std::vector<std::vector<const std::vector<float>*>> per_shot(shot_weights.size());
    for (size_t i = 0; i < res.size(); ++i)
      if (!res[i].vectors.empty()) per_shot[shot_of[i]].push_back(&res[i].vectors[0]);
    std::vector<std::vector<float>> shots(shot_weights.size());
    std::vector<const std::vector<float>*> shot_ptrs;
    for (size_t s = 0; s < per_shot.size(); ++s) {
      shots[s] = ingest::PoolVectors(per_shot[s], std::vector<double>(per_shot[s].size(), 1.0));
      shot_ptrs.push_back(shots[s].empty() ? nullptr : &shots[s]);
    }
    std::vector<float> pooled = ingest::PoolVectors(shot_ptrs, shot_weights);
    if (!pooled.empty()) out.vectors[vector] = std::move(pooled);
  }
  out.info["images"] = images.size();
  return out;
}

Result<EncodedInput> MediaInputEncoder::EncodeAudio(const std::string& path) {
  if (m_->speech == nullptr)
    return Status::InvalidArgument(
        "an audio query needs a speech model (pocketsphinx), and none is installed");
  embed::EncoderInput in;
  in.path = path;
  MOSAIC_ASSIGN_OR_RETURN(auto res,
                          m_->speech->Encode(std::span<const embed::EncoderInput>(&in, 1)));
  const std::string transcript = res.empty() ? "" : res[0].data.value("text", std::string());
  if (transcript.empty())
    return Status::InvalidArgument("the audio clip " + path +
                                   " has no recognizable speech to search with");
  MOSAIC_ASSIGN_OR_RETURN(EncodedInput out, EncodeText(transcript));
  out.info["transcript"] = transcript;
  return out;
}

Result<EncodedInput> MediaInputEncoder::Encode(const Input& input) {
  if (!m_->opened) {
    m_->opened = true;
    auto open = [&](const char* role, embed::Modality modality,
                    std::unique_ptr<embed::Encoder>* out) -> Status {
      const ingest::RoleModel* m = m_->Find(role);
      if (m == nullptr) return Status::OK();
      auto e = embed::OpenEncoder(m->manifest, m->dir, modality, options_.session);
      if (!e.ok())
        return e.status().WithContext("query encoder '" + std::string(role) + "' (model " +
                                      m->model + ")");
      *out = std::move(e).value();
      return Status::OK();
    };
    for (Status s : {open("clip", embed::Modality::kImage, &m_->clip_image),
                     open("clip", embed::Modality::kText, &m_->clip_text),
                     open("visual", embed::Modality::kImage, &m_->visual),
                     open("speech", embed::Modality::kAudio, &m_->speech)})
      if (!s.ok() && m_->open_status.ok()) m_->open_status = s;
    if (!m_->fasttext_dir.empty() && m_->Find("clip") == nullptr) {
      auto ft = embed::FastTextEncoder::Open(m_->fasttext_manifest, m_->fasttext_dir);
      if (ft.ok())
        m_->fasttext = std::move(ft).value();
      else if (m_->open_status.ok())
        m_->open_status = ft.status().WithContext("query encoder 'fasttext'");
    }
  }
  MOSAIC_RETURN_IF_ERROR(m_->open_status);
  const std::string what = input.Describe();
  switch (input.kind) {
    case InputKind::kText:
      return EncodeText(input.text);
    case InputKind::kImage: {
      if (m_->clip_image == nullptr && m_->visual == nullptr)
        return Status::InvalidArgument(
            "collection '" + collection_ +
            "' has no image model (CLIP or visual descriptor) to search " + what + " with");
      std::vector<uint8_t> bytes;
      if (!input.path.empty()) {
        MOSAIC_ASSIGN_OR_RETURN(bytes, media::ReadFileBytes(input.path));
      } else {
        bytes.assign(input.bytes.begin(), input.bytes.end());
      }
      auto image = media::DecodeImage(bytes);
      if (!image.ok()) return image.status().WithContext("query image " + what);
      std::vector<media::Image> images;
      images.push_back(std::move(image).value());
      return EncodeImages(std::move(images), {1.0}, {0});
    }
    case InputKind::kVideo: {
      if (m_->clip_image == nullptr && m_->visual == nullptr)
        return Status::InvalidArgument("collection '" + collection_ +
                                       "' has no image model to search the video " + what +
                                       " with");
      std::optional<TempFile> temp;
      std::string path = input.path;
      if (path.empty()) {
        MOSAIC_ASSIGN_OR_RETURN(TempFile t, TempFile::Write(input.bytes));
        path = t.path();
        temp.emplace(std::move(t));
      }
      media::VideoScanOptions vo;
      vo.max_keyframe_interval_s = options_.keyframe_interval_s;
      vo.keyframe_max_side = options_.keyframe_max_side;
      auto scan = media::ScanVideo(path, vo);
      if (!scan.ok()) return scan.status().WithContext("query video " + what);
      std::vector<media::Image> images;
      std::vector<size_t> shot_of;
      std::vector<double> weights;
      for (size_t s = 0; s < scan->shots.size(); ++s) {
        auto& shot = scan->shots[s];
        weights.push_back(std::max(1e-3, shot.end_s - shot.start_s));
        for (auto& k : shot.keyframes) {
          images.push_back(std::move(k.image));
          shot_of.push_back(s);
        }
      }
      if (images.empty())
        return Status::InvalidArgument("the query video " + what +
                                       " has no frame that is not blank");
      MOSAIC_ASSIGN_OR_RETURN(EncodedInput out, EncodeImages(std::move(images), weights, shot_of));
      out.info["shots"] = scan->shots.size();
      return out;
    }
    case InputKind::kAudio: {
      if (!input.path.empty()) return EncodeAudio(input.path);
      MOSAIC_ASSIGN_OR_RETURN(TempFile t, TempFile::Write(input.bytes));
      return EncodeAudio(t.path());
    }
    default:
      return Status::InvalidArgument("input " + what + " needs no model");
  }
}

}  // namespace mosaic::query
