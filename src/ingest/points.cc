// Ids and payloads of the points made from one file (the layout is in docs/ingest.md).
#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "embed/registry/sha256.h"
#include "ingest/work.h"

namespace mosaic::ingest {

std::string FileKey(const std::string& path) {
  embed::Sha256 h;
  h.Update(path.data(), path.size());
  return h.HexDigest().substr(0, 16);
}

std::string ChildId(const std::string& key, uint64_t n) { return key + ":" + std::to_string(n); }

std::string Base64(const std::vector<uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string IsoTime(int64_t unix_ns) {
  time_t t = static_cast<time_t>(unix_ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// Vectors that can be stored: finite and not all zero (cosine needs a norm).
bool Usable(const std::vector<float>& v) {
  double n = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return false;
    n += double(x) * x;
  }
  return n > 0;
}

// Weighted mean of vectors, L2-normalized; empty when none is usable.
std::vector<float> Pool(const std::vector<const std::vector<float>*>& vs, const std::vector<double>& weights) {
  std::vector<double> acc;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (vs[i] == nullptr || !Usable(*vs[i])) continue;
    if (acc.empty()) acc.assign(vs[i]->size(), 0.0);
    if (vs[i]->size() != acc.size()) continue;
    for (size_t d = 0; d < acc.size(); ++d) acc[d] += weights[i] * (*vs[i])[d];
  }
  double n = 0;
  for (double x : acc) n += x * x;
  if (!(n > 0)) return {};
  n = std::sqrt(n);
  std::vector<float> out(acc.size());
  for (size_t d = 0; d < acc.size(); ++d) out[d] = static_cast<float>(acc[d] / n);
  return out;
}

void SetVector(Point& p, const std::string& name, std::vector<float> v) {
  if (Usable(v)) p.vectors[name] = std::move(v);
}

Json Thumbnail(const Work& w, size_t image) {
  if (image >= w.thumbnails.size() || w.thumbnails[image].empty()) return Json();
  return {{"mime", "image/jpeg"},
          {"width", w.thumb_sizes[image].first},
          {"height", w.thumb_sizes[image].second},
          {"data", w.thumbnails[image]}};
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string Stem(const std::string& path) {
  std::string b = Basename(path);
  size_t dot = b.rfind('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

// Merges the structured image results (tags, OCR text) of several images into one payload.
void MergeImageData(Json& payload, const std::vector<const ImageResult*>& results, bool with_boxes) {
  std::vector<std::string> tags, terms, texts;
  Json objects = Json::array();
  for (const ImageResult* r : results) {
    if (r->objects.is_object()) {
      for (const auto& t : r->objects.value("tags", Json::array()))
        if (std::find(tags.begin(), tags.end(), t.get<std::string>()) == tags.end()) tags.push_back(t);
      for (const auto& t : r->objects.value("tag_terms", Json::array()))
        if (std::find(terms.begin(), terms.end(), t.get<std::string>()) == terms.end()) terms.push_back(t);
      if (with_boxes) objects = r->objects.value("objects", Json::array());
    }
    if (r->ocr.is_object()) {
      std::string t = r->ocr.value("text", std::string());
      if (!t.empty() && std::find(texts.begin(), texts.end(), t) == texts.end()) texts.push_back(t);
    }
  }
  if (with_boxes && !objects.empty()) payload["objects"] = std::move(objects);
  if (!tags.empty()) payload["tags"] = tags;
  if (!terms.empty()) payload["tag_terms"] = terms;
  if (!texts.empty()) {
    std::string all;
    for (const auto& t : texts) all += (all.empty() ? "" : "\n") + t;
    payload["ocr_text"] = all;
  }
}

// Boxes ("box": [x0, y0, x1, y1] or [[x, y], ...]) of each item in `list`, times `scale`: detector
// coordinates on a scaled-down image back to the original's.
void ScaleBoxes(Json& list, double scale) {
  if (scale == 1 || !list.is_array()) return;
  auto scale_value = [&](Json& v) {
    if (v.is_number()) v = std::round(v.get<double>() * scale * 10) / 10;
  };
  for (auto& item : list) {
    if (!item.is_object() || !item.contains("box")) continue;
    for (auto& v : item["box"]) {
      if (v.is_array()) {
        for (auto& c : v) scale_value(c);
      } else {
        scale_value(v);
      }
    }
  }
}

}  // namespace

std::vector<Point> BuildPoints(Work& w, const EncoderSet& enc, double min_face_score) {
  const std::string& key = w.key;
  const std::string kind = FileKindName(w.file.kind);
  std::vector<Point> points;
  Point primary;
  primary.id = key;
  Json& pp = primary.payload;
  pp = w.base;
  pp["kind"] = kind;
  pp["file_id"] = key;
  if (!pp.contains("title")) pp["title"] = Stem(w.file.path);
  pp["file"] = {{"path", w.file.path},
                {"name", Basename(w.file.path)},
                {"size", w.file.size},
                {"mtime", IsoTime(w.file.mtime_ns)},
                {"mtime_ns", w.file.mtime_ns},
                {"hash", w.hash}};
  pp["mime"] = w.file.mime;
  pp["ingested_at"] = IsoTime(static_cast<int64_t>(std::time(nullptr)) * 1'000'000'000);

  auto child = [&](const char* child_kind) -> Point& {
    Point c;
    c.id = ChildId(key, points.size());
    c.payload = {{"kind", child_kind}, {"file_id", key}, {"parent", key},
                 {"file", {{"path", w.file.path}, {"name", Basename(w.file.path)}}},
                 {"title", pp["title"]}};
    points.push_back(std::move(c));
    return points.back();
  };
  auto faces_of = [&](size_t image, std::optional<double> time) {
    if (image >= w.image_results.size()) return;
    const ImageResult& r = w.image_results[image];
    const Json list = r.faces.is_object() ? r.faces.value("faces", Json::array()) : Json::array();
    for (size_t f = 0; f < r.face_vectors.size() && f < list.size(); ++f) {
      if (!Usable(r.face_vectors[f]) || list[f].value("score", 0.0) < min_face_score) continue;
      Point& c = child("face");
      c.payload["box"] = list[f]["box"];
      c.payload["score"] = list[f]["score"];
      if (time) c.payload["time"] = *time;
      c.vectors["face"] = r.face_vectors[f];
    }
  };
  auto text_vec = [&](size_t text) -> const std::vector<float>* {
    return text < w.text_vectors.size() && !w.text_vectors[text].empty() ? &w.text_vectors[text] : nullptr;
  };

  if (w.file.kind == FileKind::kImage && !w.image_results.empty()) {
    ImageResult& r = w.image_results[0];
    if (r.objects.is_object() && r.objects.contains("objects")) ScaleBoxes(r.objects["objects"], w.image_scale);
    if (r.faces.is_object() && r.faces.contains("faces")) ScaleBoxes(r.faces["faces"], w.image_scale);
    if (r.ocr.is_object() && r.ocr.contains("lines")) ScaleBoxes(r.ocr["lines"], w.image_scale);
    for (const auto& [name, v] : r.vectors) SetVector(primary, name, v);
    MergeImageData(pp, {&r}, /*with_boxes=*/true);
    if (r.ocr.is_object() && r.ocr.contains("lines")) pp["ocr_lines"] = r.ocr["lines"];
    if (Json t = Thumbnail(w, 0); !t.is_null()) pp["thumbnail"] = std::move(t);
    faces_of(0, std::nullopt);
    pp["faces"] = points.size();
  } else if (w.file.kind == FileKind::kVideo) {
    // One point per shot: its keyframes pooled; the video: its shots pooled by duration.
    std::map<std::string, std::vector<const std::vector<float>*>> shot_vecs;
    std::vector<double> shot_weights;
    size_t first_thumb = SIZE_MAX;
    for (size_t s = 0; s < w.video.shots.size(); ++s) {
      const auto& shot = w.video.shots[s];
      Point& c = child("shot");
      c.payload["index"] = s;
      c.payload["start"] = shot.start_s;
      c.payload["end"] = shot.end_s;
      std::vector<size_t> imgs;
      for (size_t i = 0; i < w.keyframe_ref.size(); ++i)
        if (w.keyframe_ref[i].first == s) imgs.push_back(i);
      if (imgs.empty()) c.payload["blank"] = true;
      Json times = Json::array();
      std::vector<const ImageResult*> results;
      for (size_t i : imgs) {
        times.push_back(shot.keyframes[w.keyframe_ref[i].second].time_s);
        if (i < w.image_results.size()) results.push_back(&w.image_results[i]);
      }
      c.payload["keyframes"] = times;
      if (!imgs.empty()) {
        if (Json t = Thumbnail(w, imgs[0]); !t.is_null()) c.payload["thumbnail"] = std::move(t);
        if (first_thumb == SIZE_MAX) first_thumb = imgs[0];
      }
      MergeImageData(c.payload, results, /*with_boxes=*/false);
      std::string said;
      for (const auto& seg : w.transcript)
        if (seg.end_s > shot.start_s && seg.start_s < shot.end_s) said += (said.empty() ? "" : " ") + seg.text;
      if (!said.empty()) c.payload["transcript"] = said;
      for (const char* name : {"clip", "visual"}) {
        std::vector<const std::vector<float>*> vs;
        for (const ImageResult* r : results) {
          auto it = r->vectors.find(name);
          vs.push_back(it == r->vectors.end() ? nullptr : &it->second);
        }
        std::vector<float> pooled = Pool(vs, std::vector<double>(vs.size(), 1.0));
        if (!pooled.empty()) {
          c.vectors[name] = pooled;
        }
      }
      shot_weights.push_back(std::max(1e-3, shot.end_s - shot.start_s));
      // After this, `c` may dangle (faces_of appends points).
      for (size_t i : imgs) faces_of(i, shot.keyframes[w.keyframe_ref[i].second].time_s);
    }
    // Pointers into `points` are taken once all children exist.
    for (const auto& p : points) {
      if (p.payload["kind"] != "shot") continue;
      for (const char* name : {"clip", "visual"}) {
        auto it = p.vectors.find(name);
        shot_vecs[name].push_back(it == p.vectors.end() ? nullptr : &it->second);
      }
    }
    for (auto& [name, vs] : shot_vecs) SetVector(primary, name, Pool(vs, shot_weights));
    if (first_thumb != SIZE_MAX)
      if (Json t = Thumbnail(w, first_thumb); !t.is_null()) pp["thumbnail"] = std::move(t);
    std::vector<const ImageResult*> all;
    for (const auto& r : w.image_results) all.push_back(&r);
    MergeImageData(pp, all, /*with_boxes=*/false);
  } else if (w.file.kind == FileKind::kDocument) {
    std::vector<const std::vector<float>*> vs;
    for (size_t i = 0; i < w.chunks.size(); ++i) {
      const auto& ch = w.chunks[i];
      Point& c = child("chunk");
      c.payload["index"] = i;
      c.payload["text"] = ch.text;
      if (!ch.headings.empty()) c.payload["headings"] = ch.headings;
      c.payload["offset"] = {ch.begin, ch.end};
      if (ch.page_first > 0) {
        c.payload["page"] = ch.page_first;
        c.payload["page_last"] = ch.page_last;
      }
      if (const auto* v = text_vec(i)) SetVector(c, "clip", *v);
      vs.push_back(text_vec(i));
    }
    pp["chunks"] = w.chunks.size();
    SetVector(primary, "clip", Pool(vs, std::vector<double>(vs.size(), 1.0)));
  }
  if (w.file.kind == FileKind::kVideo || w.file.kind == FileKind::kAudio) {
    const size_t first_text = w.texts.size() - w.transcript.size();
    std::vector<const std::vector<float>*> vs;
    for (size_t i = 0; i < w.transcript.size(); ++i) {
      const auto& seg = w.transcript[i];
      Point& c = child("speech");
      c.payload["start"] = seg.start_s;
      c.payload["end"] = seg.end_s;
      c.payload["text"] = seg.text;
      if (const auto* v = text_vec(first_text + i)) SetVector(c, "clip", *v);
      vs.push_back(text_vec(first_text + i));
    }
    if (w.file.kind == FileKind::kAudio) {
      SetVector(primary, "clip", Pool(vs, std::vector<double>(vs.size(), 1.0)));
      pp["segments"] = w.transcript.size();
    }
  }
  pp["children"] = points.size();
  points.insert(points.begin(), std::move(primary));
  return points;
}

}  // namespace mosaic::ingest
