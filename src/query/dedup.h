// Near-duplicate detection over one named vector of a collection (`mosaic dedup`,
// docs/dedup.md): points whose vectors are at least `threshold` similar (cosine) are grouped, and
// each group lists the best copy first (most pixels, then the largest file), so that the others
// are the ones to review or delete.
//
// Neighbours come from the collection's own search (SearchBatch: exact for up to
// kDedupExactPoints points, else the HNSW graph with a wide beam), at most `max_neighbours` per
// point above the threshold. Groups are then formed by complete linkage (default): two groups
// merge, best pair first, only if every pair across them is above the threshold, so that a chain
// of look-alikes (a photo, its crop, a similar photo of the same scene) does not join distinct
// photos; single linkage (connected components) is there for comparison. Pieces of one file
// (points sharing `file_id`: a video and its shots) are never duplicates of each other.
// Thread-safety: FindDuplicates only reads the collection; call it from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/filter.h"
#include "mosaic/status.h"

namespace mosaic::query {

// Chosen on the dev photos' generated copies with the visual descriptor (bench/dedup_bench,
// docs/benchmarks.md#near-duplicates); other vectors (CLIP) need their own threshold.
inline constexpr float kDefaultDedupThreshold = 0.9f;
// Up to this many points the neighbours are found by exact search; beyond, by the HNSW graph.
inline constexpr size_t kDedupExactPoints = 4000;

enum class DedupLinkage { kComplete, kSingle };

struct DedupOptions {
  std::string vector = "visual";             // a cosine vector of the collection
  float threshold = kDefaultDedupThreshold;  // cosine similarity, in (0, 1]
  std::optional<Filter> filter;              // only points matching it (both copies)
  DedupLinkage linkage = DedupLinkage::kComplete;
  size_t max_neighbours = 32;  // per point, searched above the threshold
  bool exact = false;          // exact search whatever the number of points
};

struct DuplicateCopy {
  PointId id;
  std::string path;   // payload file.path (empty for points that have none)
  int64_t width = 0;  // payload width, height (0: none)
  int64_t height = 0;
  uint64_t bytes = 0;       // payload file.size (0: none)
  float similarity = 1.0f;  // to the group's best copy (1 for the best copy itself)
};

struct DuplicateGroup {
  std::vector<DuplicateCopy> copies;  // best first, at least two
  float min_similarity = 1.0f;        // the least similar pair in the group
};

struct DedupResult {
  std::vector<DuplicateGroup> groups;  // the largest first, then by the best copy's path and id
  size_t points = 0;                   // points compared (matching the filter, with the vector)
  size_t pairs = 0;                    // neighbour pairs found above the threshold
};

// InvalidArgument for a threshold outside (0, 1], a vector that is not cosine, or
// max_neighbours 0; NotFound for a vector the collection does not have (naming those it has).
Result<DedupResult> FindDuplicates(const Collection& collection, const DedupOptions& options);

const char* DedupLinkageName(DedupLinkage linkage);  // "complete", "single"
Result<DedupLinkage> ParseDedupLinkage(const std::string& name);

}  // namespace mosaic::query
