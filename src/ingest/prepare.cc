// The prepare stage: everything about a file that happens before the models run.
#include <cmath>

#include "common/base64.h"
#include "common/file_util.h"
#include "document/document.h"
#include "embed/registry/sha256.h"
#include "embed/speech/speech_recognizer.h"
#include "ingest/work.h"
#include "media/audio_decode.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_ops.h"

namespace mosaic::ingest {

namespace {

void Fail(Work& w, const char* stage, Status s) {
  w.failed_stage = stage;
  w.status = std::move(s);
}

// A thumbnail as base64 JPEG; records its size.
void AddThumbnail(Work& w, const media::Image& img, int size) {
  if (size <= 0) {
    w.thumbnails.emplace_back();
    w.thumb_sizes.emplace_back(0, 0);
    return;
  }
  media::Image t = media::Thumbnail(img, size);
  auto jpeg = media::EncodeJpeg(t, 80);
  w.thumbnails.push_back(jpeg.ok() ? Base64Encode(*jpeg) : std::string());
  w.thumb_sizes.emplace_back(t.width, t.height);
}

// True when the content hash equals the old record's: only size/mtime changed.
bool Unchanged(Work& w) {
  if (w.old && !w.old->hash.empty() && w.old->hash == w.hash) {
    w.touch_only = true;
    return true;
  }
  return false;
}

bool HashFile(Work& w) {
  embed::Sha256 h;
  Status s = embed::HashFileInto(w.file.path, h);
  if (!s.ok()) {
    Fail(w, "read", s);
    return false;
  }
  w.hash = "sha256:" + h.HexDigest();
  return true;
}

// The transcript of `w`'s file: through the recognizer directly when it is PocketSphinx, so a
// Cancel stops a long file within half a second of audio.
Result<Json> TranscriptOf(const Work& w, const PrepareContext& ctx) {
  if (auto* rec = dynamic_cast<embed::SpeechRecognizer*>(ctx.speech)) {
    const std::atomic<bool>* cancel = ctx.cancel;
    auto segments = rec->TranscribeFile(w.file.path, [cancel](double) { return cancel == nullptr || !cancel->load(); });
    if (!segments.ok()) return segments.status();
    return embed::SpeechRecognizer::SegmentsToJson(*segments);
  }
  embed::EncoderInput in;
  in.path = w.file.path;
  auto out = ctx.speech->Encode(std::span<const embed::EncoderInput>(&in, 1));
  if (!out.ok()) return out.status();
  return std::move((*out)[0].data);
}

void Transcribe(Work& w, const PrepareContext& ctx, bool required) {
  if (ctx.speech == nullptr) return;
  auto out = TranscriptOf(w, ctx);
  if (!out.ok()) {
    if (required || out.status().IsAborted()) {
      Fail(w, "decode", out.status());
    } else {
      w.base["transcript_error"] = out.status().ToString();
    }
    return;
  }
  const Json& data = *out;
  const auto round = [](double v, double unit) { return std::round(v / unit) * unit; };
  for (const auto& seg : data.value("segments", Json::array())) {
    TimedText t{seg.value("start", 0.0), seg.value("end", 0.0), seg.value("text", std::string())};
    if (t.text.empty()) continue;
    for (const auto& word : seg.value("words", Json::array())) {
      if (!word.is_object() || word.value("text", std::string()).empty()) continue;
      t.words.push_back({{"text", word["text"]},
                         {"start", round(word.value("start", 0.0), 0.001)},
                         {"end", round(word.value("end", 0.0), 0.001)},
                         {"confidence", round(word.value("confidence", 0.0), 0.001)}});
    }
    w.texts.push_back(t.text);
    w.transcript.push_back(std::move(t));
  }
  if (std::string text = data.value("text", std::string()); !text.empty()) w.base["transcript"] = text;
}

void PrepareImage(Work& w, const PrepareContext& ctx) {
  auto bytes = media::ReadFileBytes(w.file.path);
  if (!bytes.ok()) return Fail(w, "read", bytes.status());
  w.bytes = bytes->size();
  embed::Sha256 h;
  h.Update(bytes->data(), bytes->size());
  w.hash = "sha256:" + h.HexDigest();
  if (Unchanged(w)) return;
  media::DecodeOptions d;
  d.max_pixels = ctx.options->max_pixels;
  auto img = media::DecodeImage(*bytes, d);
  if (!img.ok()) return Fail(w, "decode", img.status().WithContext(w.file.path));
  w.base["width"] = img->width;
  w.base["height"] = img->height;
  auto exif = media::ReadExif(*bytes);
  if (exif.ok()) {
    Json e = Json::object();
    if (!exif->date_taken.empty()) {
      std::string d = exif->date_taken;  // "YYYY:MM:DD HH:MM:SS" → ISO 8601
      if (d.size() >= 19 && d[4] == ':' && d[7] == ':') {
        d[4] = '-';
        d[7] = '-';
        d[10] = 'T';
        d = d.substr(0, 19) + "Z";
      }
      e["date_taken"] = d;
      if (std::string date = IsoDate(d); !date.empty()) w.base["date"] = date;
    }
    if (!exif->make.empty()) e["camera_make"] = exif->make;
    if (!exif->model.empty()) e["camera_model"] = exif->model;
    if (exif->latitude && exif->longitude) e["gps"] = {{"lat", *exif->latitude}, {"lon", *exif->longitude}};
    if (exif->orientation != 1) e["orientation"] = exif->orientation;
    if (!e.empty()) w.base["exif"] = std::move(e);
  }
  AddThumbnail(w, *img, ctx.options->thumbnail_size);
  const int side = std::max(img->width, img->height);
  if (ctx.options->max_model_side > 0 && side > ctx.options->max_model_side) {
    const double f = double(ctx.options->max_model_side) / side;
    w.image_scale = 1 / f;
    *img = media::Resize(*img, std::max(1, int(std::lround(img->width * f))),
                         std::max(1, int(std::lround(img->height * f))), media::ResizeFilter::kBilinear);
  }
  w.images.push_back(std::move(*img));
}

void PrepareVideo(Work& w, const PrepareContext& ctx) {
  if (!HashFile(w) || Unchanged(w)) return;
  w.bytes = w.file.size;
  media::VideoScanOptions vo;
  vo.max_keyframe_interval_s = ctx.options->video_keyframe_interval_s;
  vo.keyframe_max_side = std::max(448, ctx.options->thumbnail_size);
  vo.max_pixels = ctx.options->max_pixels;
  vo.max_seconds = ctx.options->max_video_seconds;
  const std::atomic<bool>* cancel = ctx.cancel;
  vo.progress = [cancel](double) { return cancel == nullptr || !cancel->load(); };
  auto scan = media::ScanVideo(w.file.path, vo);
  if (!scan.ok()) return Fail(w, "decode", scan.status());
  w.video = std::move(*scan);
  const auto& info = w.video.info;
  w.base["width"] = info.width;
  w.base["height"] = info.height;
  w.base["fps"] = std::round(info.fps * 1000) / 1000;
  w.base["duration"] = info.duration_s > 0 ? info.duration_s : w.video.decoded_s;
  w.base["codec"] = info.codec;
  w.base["shots"] = w.video.shots.size();
  if (std::string date = IsoDate(info.creation_time); !date.empty()) w.base["date"] = date;
  for (size_t s = 0; s < w.video.shots.size(); ++s) {
    auto& shot = w.video.shots[s];
    for (size_t k = 0; k < shot.keyframes.size(); ++k) {
      AddThumbnail(w, shot.keyframes[k].image, ctx.options->thumbnail_size);
      w.images.push_back(std::move(shot.keyframes[k].image));
      shot.keyframes[k].image = media::Image();
      w.keyframe_ref.emplace_back(s, k);
    }
  }
  if (info.has_audio) Transcribe(w, ctx, /*required=*/false);
}

void PrepareDocument(Work& w, const PrepareContext& ctx) {
  if (!HashFile(w) || Unchanged(w)) return;
  w.bytes = w.file.size;
  std::string bytes;
  document::DocumentOptions dopt;
  dopt.max_bytes = ctx.options->max_file_bytes;
  if (Status s = ReadWholeFile(w.file.path, &bytes, dopt.max_bytes); !s.ok()) return Fail(w, "read", s);
  auto format = document::DetectDocFormat(w.file.path, std::string_view(bytes).substr(0, 1024));
  if (!format.ok()) return Fail(w, "decode", format.status());
  auto doc = document::ParseDocument(bytes, *format, dopt);
  if (!doc.ok()) return Fail(w, "decode", doc.status().WithContext(w.file.path));
  w.base["format"] = document::DocFormatName(doc->format);
  if (!doc->title.empty()) w.base["title"] = doc->title;
  if (doc->pages > 0) w.base["pages"] = doc->pages;
  if (!doc->metadata.empty()) w.base["meta"] = doc->metadata;
  if (const Json& created = doc->metadata.value("created", Json()); created.is_string())
    if (std::string date = IsoDate(created.get<std::string>()); !date.empty()) w.base["date"] = date;
  w.base["chars"] = doc->text.size();
  document::ChunkOptions co;
  co.max_tokens = ctx.chunk_tokens;
  co.overlap_tokens = ctx.chunk_overlap;
  co.count_tokens = ctx.count_tokens;
  w.chunks = document::ChunkDocument(*doc, co);
  for (const auto& c : w.chunks) w.texts.push_back(c.text);  // sized to what the encoder reads
}

void PrepareAudio(Work& w, const PrepareContext& ctx) {
  if (!HashFile(w) || Unchanged(w)) return;
  w.bytes = w.file.size;
  auto info = media::ProbeAudio(w.file.path);
  if (!info.ok()) return Fail(w, "decode", info.status());
  w.base["codec"] = info->codec;
  w.base["sample_rate"] = info->sample_rate;
  w.base["channels"] = info->channels;
  w.base["duration"] = info->duration_s;
  if (std::string date = IsoDate(info->creation_time); !date.empty()) w.base["date"] = date;
  if (ctx.speech != nullptr) {
    Transcribe(w, ctx, /*required=*/true);
  } else {
    // Without a recognizer, still prove the audio decodes before storing it.
    media::AudioDecodeOptions ao;
    auto audio = media::DecodeAudio(w.file.path, 16000, ao);
    if (!audio.ok()) return Fail(w, "decode", audio.status());
    if (info->duration_s <= 0) w.base["duration"] = audio->duration_s();
  }
}

}  // namespace

void Prepare(Work& w, const PrepareContext& ctx) {
  if (w.file.size > ctx.options->max_file_bytes)
    return Fail(w, "read", Status::ResourceExhausted(w.file.path + ": " + std::to_string(w.file.size) +
                                                     " bytes, over the limit of " +
                                                     std::to_string(ctx.options->max_file_bytes)));
  if (w.file.size == 0) return Fail(w, "read", Status::InvalidArgument(w.file.path + ": empty file"));
  switch (w.file.kind) {
    case FileKind::kImage: return PrepareImage(w, ctx);
    case FileKind::kVideo: return PrepareVideo(w, ctx);
    case FileKind::kDocument: return PrepareDocument(w, ctx);
    case FileKind::kAudio: return PrepareAudio(w, ctx);
    case FileKind::kUnsupported: break;
  }
  Fail(w, "scan", Status::InvalidArgument(w.file.path + ": unsupported file type"));
}

}  // namespace mosaic::ingest
