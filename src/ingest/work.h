// One file on its way through the pipeline, and the stage functions that fill it in:
// Prepare (prepare.cc: read, hash, decode, extract) → Encode (the encode thread, ingestor.cc)
// → BuildPoints (points.cc: ids and payloads).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "document/chunker.h"
#include "embed/encoder.h"
#include "ingest/encoders.h"
#include "ingest/ingest.h"
#include "ingest/scan.h"
#include "media/image.h"
#include "media/video_decode.h"
#include "mosaic/types.h"

namespace mosaic::ingest {

// What the collection holds for a file (read from its primary point).
struct Record {
  std::string key;  // the primary point id
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string hash;
  uint64_t children = 0;  // child points "<key>:0" .. "<key>:<children-1>"
};

// The outputs of the image encoders for one image.
struct ImageResult {
  std::map<std::string, std::vector<float>> vectors;  // "clip", "visual"
  Json objects;                                       // {"objects", "tags", "tag_terms"}
  Json ocr;                                           // {"lines", "text"}
  std::vector<std::vector<float>> face_vectors;
  Json faces;                                         // {"faces": [{box, score, landmarks}]}
};

struct TimedText {  // a transcript segment
  double start_s = 0, end_s = 0;
  std::string text;
  Json words = Json::array();  // [{"text", "start", "end", "confidence"}]
};

struct Work {
  FileEntry file;
  std::string key;
  std::optional<Record> old;
  std::string hash;
  bool touch_only = false;  // content unchanged: only the record's size/mtime need updating
  std::string failed_stage;
  Status status;            // not ok: the file is reported and skipped

  // Inputs for the encoders.
  std::vector<media::Image> images;  // the image; or a video's keyframes
  std::vector<std::string> texts;    // document chunks, then transcript segments

  // Per kind.
  Json base = Json::object();        // payload of the primary point, filled by Prepare
  double image_scale = 1;               // original pixels per model-input pixel (images scaled down)
  std::vector<std::string> thumbnails;  // JPEG base64 per image (images, keyframes)
  std::vector<std::pair<int, int>> thumb_sizes;
  media::VideoScan video;               // shots (keyframe images moved into `images`)
  std::vector<std::pair<size_t, size_t>> keyframe_ref;  // image i → (shot, keyframe)
  std::vector<document::Chunk> chunks;
  std::vector<TimedText> transcript;

  // Encoder outputs.
  std::vector<ImageResult> image_results;              // per image
  std::vector<std::vector<float>> text_vectors;        // per text (empty without a text encoder)
  uint64_t bytes = 0;
};

struct PrepareContext {
  const Options* options;
  const EncoderSet* encoders;
  embed::Encoder* speech = nullptr;  // this worker's recognizer (may be null)
  size_t chunk_tokens = 256, chunk_overlap = 32;
  std::function<size_t(std::string_view)> count_tokens;  // empty: words
  const std::atomic<bool>* cancel = nullptr;
};

// Reads and decodes `w.file`, filling the inputs and the base payload; on failure sets
// w.status and w.failed_stage. Hashes the bytes first and sets w.touch_only when the hash
// matches the old record (the rest is then skipped).
void Prepare(Work& w, const PrepareContext& ctx);

// The points of a prepared and encoded file: the primary point (id = key) and its children.
std::vector<Point> BuildPoints(Work& w, const EncoderSet& encoders, double min_face_score);

// "<16 hex digits of SHA-256(path)>".
std::string FileKey(const std::string& path);
std::string ChildId(const std::string& key, uint64_t n);

std::string IsoTime(int64_t unix_ns);  // "2024-05-01T12:00:00Z"

// A file's `date` payload from the time a decoder reports: "YYYY-MM-DDTHH:MM:SS" plus the zone
// it names, "Z" when it names none (EXIF and many PDF times are local; the datetime index reads
// them as UTC, as exif.date_taken always was). Reads ISO 8601 / RFC 3339 ("2024-05-01T12:00:00.5Z",
// "2024-05-01 12:00+02:00", "2024-05-01") and EXIF ("2024:05:01 12:00:00"); "" for anything
// else and for impossible times (cameras with an unset clock write "0000:00:00 00:00:00").
std::string IsoDate(std::string_view text);

// The words of a file's path for search by name: its folders' names and its stem, split at
// '/', '_', '-', '.', '+', spaces and camelCase boundaries:
// "/photos/Beach_2019/IMG_0042-dogRun.jpg" → "photos Beach 2019 IMG 0042 dog Run".
std::string NameWords(const std::string& path);

// The payload "file" of a primary point: {path, name, folder, size, mtime, mtime_ns, hash}.
Json FileRecord(const FileEntry& file, const std::string& hash);

}  // namespace mosaic::ingest
