// Segment: an immutable on-disk file holding a collection's points (ids, payloads, and per named
// vector a presence bitmap and a dense f32 matrix). Written once, then read whole into memory or
// memory-mapped (Env::OpenFileView: the rows are then served from the page cache; pages that
// cannot be read later read as zeros and CheckReadable() reports it); every section is
// CRC32C-checked when opened, so a damaged file is reported, never silently loaded.
// Snapshots are segment files too, and carry each HNSW column's graph in an optional section
// (version 2). Format: docs/segment_format.md (bump kSegmentVersion on any change). A Segment is
// immutable after Open and safe to read from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::storage {

inline constexpr char kSegmentMagic[8] = {'M', 'O', 'S', 'S', 'E', 'G', 0, 0};
// Version 2 added the graph sections. A file without them is written as version 1 (its layout is
// unchanged), so collection segments stay readable by builds that read only version 1.
inline constexpr uint32_t kSegmentVersion = 2;
inline constexpr uint32_t kOldestSegmentVersion = 1;

// What to write, pulled point by point so that no copy of the whole collection is made.
struct SegmentContents {
  Json meta = Json::object();  // collection-level metadata (schema, payload indexes, ...)
  uint64_t last_lsn = 0;       // the last WAL record reflected in these points
  size_t num_points = 0;
  std::vector<uint32_t> dims;  // one per named vector, in schema order
  std::function<const PointId&(size_t i)> id;
  std::function<const Json&(size_t i)> payload;
  // Row of point i for vector v, or nullptr if the point has no such vector.
  std::function<const float*(size_t i, size_t v)> vector;
  // Snapshots: per named vector, its HNSW graph serialized as docs/hnsw_format.md, over the
  // points in the order written here; empty (or a shorter vector) for none.
  std::vector<std::string> graphs;
};

// Writes `contents` to `path` and syncs it. Not atomic: write to a temporary name and rename.
Status WriteSegment(Env* env, const std::string& path, const SegmentContents& contents);

class Segment {
 public:
  // Reads (or, if `map`, maps) and verifies the file. Corruption names the file and the damaged
  // section.
  static Result<std::unique_ptr<Segment>> Open(Env* env, const std::string& path,
                                               bool map = false);

  const Json& meta() const { return meta_; }
  uint64_t last_lsn() const { return last_lsn_; }
  size_t num_points() const { return num_points_; }
  size_t num_vectors() const { return dims_.size(); }
  uint32_t dim(size_t v) const { return dims_[v]; }
  uint64_t file_size() const { return file_->data().size(); }
  bool mapped() const { return file_->mapped(); }
  // OK, or IOError naming the file if part of a mapped file could not be read since Open (its
  // bytes read as zeros): rows read meanwhile must not be trusted.
  Status CheckReadable() const { return file_->CheckReadable(); }

  uint32_t version() const { return version_; }

  // The serialized HNSW graph of vector v (docs/hnsw_format.md), verbatim: empty when the file
  // has none; Corruption naming the file and the section when that section's checksum does not
  // match. A damaged graph does not fail Open: the points are checked on their own, and a graph
  // can be rebuilt from them.
  Result<std::string_view> graph(size_t v) const;
  // Writes this segment's points, without its graph sections, as a version-1 segment file at
  // `path` and syncs it (not atomic: write to a temporary name and rename).
  Status WritePoints(Env* env, const std::string& path) const;

  Result<std::vector<PointId>> DecodeIds() const;
  Result<Json> DecodePayload(size_t i) const;
  // Dense row-major matrix of num_points x dim(v); rows of absent points are zero.
  const float* vectors(size_t v) const { return vectors_[v]; }
  bool has_vector(size_t i, size_t v) const {
    return (presence_[v][i >> 6] >> (i & 63)) & 1;
  }

 private:
  Segment() = default;

  struct Graph {
    std::string_view data;
    Status damage;  // non-OK: the section failed its checksum
  };

  std::string path_;
  uint32_t version_ = 0;
  std::unique_ptr<FileView> file_;  // the whole file; the views below point into it
  std::string_view meta_section_;
  Json meta_;
  uint64_t last_lsn_ = 0;
  size_t num_points_ = 0;
  std::vector<uint32_t> dims_;
  std::string_view ids_;
  const uint64_t* payload_offsets_ = nullptr;
  std::string_view payloads_;
  std::vector<const uint64_t*> presence_;
  std::vector<const float*> vectors_;
  std::vector<Graph> graphs_;  // one per named vector
};

}  // namespace mosaic::storage
