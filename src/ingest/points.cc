// Ids and payloads of the points made from one file (the layout is in docs/ingest.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "embed/registry/sha256.h"
#include "ingest/layout.h"
#include "ingest/work.h"

namespace mosaic::ingest {

std::string FileKey(const std::string& path) {
  embed::Sha256 h;
  h.Update(path.data(), path.size());
  return h.HexDigest().substr(0, 16);
}

std::string ChildId(const std::string& key, uint64_t n) { return key + ":" + std::to_string(n); }

std::string IsoTime(int64_t unix_ns) {
  time_t t = static_cast<time_t>(unix_ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

std::string IsoDate(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\0')) s.remove_suffix(1);
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (s.size() < 10 || !Digits(s, 0, 4, &year) || !Digits(s, 5, 2, &month) || !Digits(s, 8, 2, &day)) return "";
  if (!((s[4] == '-' && s[7] == '-') || (s[4] == ':' && s[7] == ':'))) return "";
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DaysIn(year, month)) return "";
  std::string zone = "Z";
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return "";
    if (!Digits(s, 11, 2, &hour) || s.size() < 16 || s[13] != ':' || !Digits(s, 14, 2, &minute)) return "";
    size_t pos = 16;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &second)) return "";
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        const size_t digits = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == digits) return "";
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return "";
    const std::string_view rest = s.substr(pos);
    int zh, zm;
    if (rest.empty() || rest == "Z" || rest == "z") {
      zone = "Z";
    } else if ((rest[0] == '+' || rest[0] == '-') && Digits(rest, 1, 2, &zh) && zh <= 23 &&
               ((rest.size() == 6 && rest[3] == ':' && Digits(rest, 4, 2, &zm)) ||
                (rest.size() == 5 && Digits(rest, 3, 2, &zm))) &&
               zm <= 59) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%c%02d:%02d", rest[0], zh, zm);
      zone = buf;
    } else {
      return "";
    }
  }
  char out[80];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second);
  return out + zone;
}

std::string NameWords(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string stem = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (const size_t dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
  const std::string src = (slash == std::string::npos ? std::string() : path.substr(0, slash)) + "/" + stem;
  std::string out;
  const auto gap = [&] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  for (size_t i = 0; i < src.size(); ++i) {
    const char c = src[i];
    if (c == '/' || c == '_' || c == '-' || c == '.' || c == '+' || c == ' ' || c == '\t') {
      gap();
      continue;
    }
    // "dogRun" → "dog Run"; "HTTPServer" → "HTTP Server".
    if (i > 0 && IsUpper(c) &&
        (IsLower(src[i - 1]) || (IsUpper(src[i - 1]) && i + 1 < src.size() && IsLower(src[i + 1]))))
      gap();
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string Folder(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : slash == 0 ? std::string("/") : path.substr(0, slash);
}

}  // namespace

Json FileRecord(const FileEntry& file, const std::string& hash) {
  return {{"path", file.path},
          {"name", Basename(file.path)},
          {"folder", Folder(file.path)},
          {"size", file.size},
          {"mtime", IsoTime(file.mtime_ns)},
          {"mtime_ns", file.mtime_ns},
          {"hash", hash}};
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

std::string Stem(const std::string& path) {
  std::string b = Basename(path);
  size_t dot = b.rfind('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

// Merges the structured image results (tags, OCR text) of several images into one payload; a
// tag's or term's score is its best over the images.
void MergeImageData(Json& payload, const std::vector<const ImageResult*>& results, bool with_boxes) {
  std::vector<std::string> tags, terms, texts;
  Json objects = Json::array();
  Json scores = Json::object();
  for (const ImageResult* r : results) {
    if (r->objects.is_object()) {
      const Json image_scores = r->objects.value("tag_scores", Json::object());
      for (const auto& [tag, score] : image_scores.items())
        if (score.is_number()) scores[tag] = std::max(scores.value(tag, 0.0), score.get<double>());
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
  if (!scores.empty()) payload["tag_scores"] = std::move(scores);
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
  pp["file"] = FileRecord(w.file, w.hash);
  pp["names"] = NameWords(w.file.path);
  pp["mime"] = w.file.mime;
  pp["ingested_at"] = IsoTime(static_cast<int64_t>(std::time(nullptr)) * 1'000'000'000);

  auto child = [&](const char* child_kind) -> Point& {
    Point c;
    c.id = ChildId(key, points.size());
    c.payload = {{"kind", child_kind}, {"file_id", key}, {"parent", key},
                 {"file", {{"path", w.file.path}, {"name", Basename(w.file.path)}, {"folder", Folder(w.file.path)}}},
                 {"title", pp["title"]}, {"names", pp["names"]}};
    if (pp.contains("date")) c.payload["date"] = pp["date"];
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
        std::vector<float> pooled = PoolVectors(vs, std::vector<double>(vs.size(), 1.0));
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
    for (auto& [name, vs] : shot_vecs) SetVector(primary, name, PoolVectors(vs, shot_weights));
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
    SetVector(primary, "clip", PoolVectors(vs, std::vector<double>(vs.size(), 1.0)));
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
      if (!seg.words.empty()) c.payload["words"] = seg.words;
      if (const auto* v = text_vec(first_text + i)) SetVector(c, "clip", *v);
      vs.push_back(text_vec(first_text + i));
    }
    if (w.file.kind == FileKind::kAudio) {
      SetVector(primary, "clip", PoolVectors(vs, std::vector<double>(vs.size(), 1.0)));
      pp["segments"] = w.transcript.size();
    }
  }
  pp["children"] = points.size();
  points.insert(points.begin(), std::move(primary));
  return points;
}

}  // namespace mosaic::ingest
