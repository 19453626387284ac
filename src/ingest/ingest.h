// Ingest: folders and lists of files (images, video, documents, audio) into a collection, with
// every installed encoder, incrementally and safely.
//
//   auto ing = ingest::Ingestor::Open(db.get(), "photos", options).value();
//   auto stats = ing->Run({"/data/photos"}).value();   // again later: only what changed
//
// A run scans the paths (recursively; include/exclude globs; dot-files skipped), recognizes each
// file's type by its bytes (the extension only breaks ties), and compares it with what the
// collection already holds for that path (size + mtime, then the content hash). New and changed
// files go through a pipeline of stages joined by bounded queues (back-pressure keeps memory
// flat): prepare (read, hash, decode, thumbnail, video shots, document chunks, speech), encode
// (one thread batching images and texts across files into the models), write (one atomic
// Collection::Replace per group of files). A file's points are replaced all at once, so an
// interrupted run leaves each file either fully old or fully new, and the next run resumes
// without duplicates. Bad files are reported (Stats::errors, and the JSON error log) and skipped.
// The points, ids and payload fields are documented in docs/ingest.md.
//
// Thread safety: one Run at a time per Ingestor; Cancel() may be called from any thread
// (e.g. a signal-watching one).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mosaic/db.h"
#include "mosaic/status.h"

namespace mosaic::ingest {

struct Options {
  std::vector<std::string> include;  // globs; empty: all supported files
  std::vector<std::string> exclude;  // globs; a pattern with '/' matches the path below the root, else the file name
  bool hidden = false;               // also descend into dot-directories and take dot-files
  bool sync = false;                 // delete the points of files under the given paths that are gone
  bool force = false;                // re-ingest files even when unchanged

  std::string models_dir;            // model registry (empty: the default)
  // Encoders to use among the installed ones: "clip", "visual", "objects", "faces", "ocr",
  // "speech" (empty: all installed).
  std::vector<std::string> encoders;

  int prepare_threads = 0;  // decode/extract workers (0: one per core)
  int model_threads = 0;    // ONNX Runtime intra-op threads (0: one per core)
  int batch = 16;           // images per model batch, across files

  uint64_t max_pixels = 178'956'970;  // larger images are refused (reported)
  // Decoded images wait in a queue for the models: larger ones are scaled down to this longer
  // side first (the detectors and OCR resize to under 1000 px anyway), so a queue of 24-MP photos
  // holds ~12 MB per image instead of ~72 MB.
  int max_model_side = 2048;
  uint64_t max_file_bytes = 4ull << 30;
  int thumbnail_size = 256;           // longer side, JPEG
  // How images are tagged with COCO objects (embed::objects::ParseTagRule): empty for the
  // default, NanoDet and CenterNet agreeing (a class both report, NanoDet >= 0.3 and CenterNet
  // >= 0.4; chosen on hand-labelled photos, docs/benchmarks.md#tag-quality); "nanodet[:T]",
  // "centernet[:T]", "both[:TN,TC]", "either[:TN,TC]"; or "legacy", the tagging of earlier
  // versions (NanoDet alone at 0.3), for comparisons.
  std::string object_tags;
  // Test-time augmentation of the image vectors (ingest/tta.h; docs/dedup.md): "flip",
  // "crop" or "flip,crop" also encode each image (and keyframe) mirrored and/or its central 80%,
  // in the same model batches, and store the mean of the views' vectors, re-normalized; "none".
  // Empty: what an existing collection was made with (recorded in it), for a new one none. An
  // existing collection refuses another choice: its vectors would not compare with the new ones.
  std::string tta;
  // Faces scored below this are not stored. BlazeFace gives 0.6-0.7 to some textures (a coffee
  // cup, a dog's head in the sample photos) and 0.85+ to clear frontal faces.
  double min_face_score = 0.75;
  double video_keyframe_interval_s = 10;
  double max_video_seconds = 4 * 3600.0;
  size_t chunk_tokens = 0;            // document chunk budget (0: fit the text encoder, else 256)
  size_t chunk_overlap = 0;           // (0: an eighth of the budget)

  std::string error_log;              // JSON-lines error log (empty: none)
};

struct FileError {
  std::string path;
  std::string stage;  // "scan", "read", "decode", "encode", "write"
  Status status;
};

struct Progress {
  uint64_t files_total = 0;   // files to process in this run (new + changed)
  uint64_t files_started = 0; // taken up by a prepare worker (done or in flight)
  uint64_t files_done = 0;    // processed (written, or failed)
  uint64_t bytes_total = 0;
  uint64_t bytes_done = 0;
  uint64_t points = 0;        // points written
  uint64_t errors = 0;
  double elapsed_s = 0;
};

struct Stats {
  uint64_t files_seen = 0;         // supported files found by the scan
  uint64_t files_unsupported = 0;  // skipped: not a type Mosaic ingests
  uint64_t files_new = 0;
  uint64_t files_changed = 0;
  uint64_t files_touched = 0;      // mtime changed, content (hash) did not: record updated only
  uint64_t files_unchanged = 0;
  uint64_t files_deleted = 0;      // --sync: gone from disk, points removed
  uint64_t files_failed = 0;
  uint64_t files_interrupted = 0;  // begun, then stopped by Cancel: nothing written, next run takes them
  uint64_t points_written = 0;
  uint64_t points_deleted = 0;
  uint64_t bytes_read = 0;
  bool cancelled = false;
  double seconds = 0;
  // Busy time per stage (summed over threads): where the run spent its effort.
  double prepare_s = 0;            // read, hash, decode, thumbnails, shots, chunks, speech
  double encode_s = 0;             // all model runs
  double write_s = 0;              // collection writes
  std::vector<std::pair<std::string, double>> encoder_s;  // per encoder
  uint64_t images_encoded = 0;     // images and keyframes through the image encoders
  std::vector<FileError> errors;
};

class Ingestor {
 public:
  virtual ~Ingestor() = default;

  // Opens `collection` in `db`, creating it with one named vector per installed vector encoder
  // ("clip", "visual", "face") when missing. An existing collection keeps the encoders it was made
  // with (recorded in it); a missing one is an error naming it.
  static Result<std::unique_ptr<Ingestor>> Open(Db* db, const std::string& collection,
                                                const Options& options);

  // Ingests `paths` (files or directories). Returns the statistics of the run; a Status error
  // only for failures that stop everything (the collection cannot be written, no encoders).
  virtual Result<Stats> Run(std::span<const std::string> paths,
                            const std::function<void(const Progress&)>& on_progress = {}) = 0;

  // Stops a running Run soon: no new files are started; files in flight are finished and written.
  // Called before Run, it makes the next Run return at once, cancelled (so a signal that arrives
  // while the caller is still setting up is not lost).
  virtual void Cancel() = 0;

  // The vector names of the collection and the model behind each, e.g. {"clip", "clip-vit-b32"}.
  virtual std::vector<std::pair<std::string, std::string>> vectors() const = 0;
};

}  // namespace mosaic::ingest
