// Clustering a collection (docs/clustering.md): k-means (kmeans.h) over one named vector of the
// points that match a filter, with k given or chosen by a sweep; each point's cluster id written
// back into a payload field on request, and the centroids stored as the points of a companion
// collection `<name>-clusters` (same vector name, dimension and metric) so that they can be
// searched like any collection.
//
// Thread-safety: ClusterCollection may run concurrently with reads of the collection; two runs
// on the same collection race on its companion collection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mosaic/db.h"
#include "mosaic/filter.h"
#include "query/kmeans.h"

namespace mosaic::query {

struct ClusterOptions {
  std::string using_vector;      // the named vector; empty: the schema's first
  std::optional<Filter> filter;  // cluster only the points that match
  KMeansOptions kmeans;          // k, iterations, seed, threads
  // A sweep over k in [sweep_from, sweep_to] picks k (kmeans.k is then ignored); 0: no sweep.
  size_t sweep_from = 0;
  size_t sweep_to = 0;
  SweepCriterion sweep_by = SweepCriterion::kSilhouette;
  // Non-empty: the payload field that receives each clustered point's cluster id (one write per
  // cluster, so the log gets k records, not one per point).
  std::string write_field;
  // Replace `<name>-clusters` with the centroids.
  bool write_centroids = true;
  size_t page_size = 1024;  // points per Scroll page while reading the vectors
};

struct ClusterResult {
  std::string collection;
  std::string using_vector;
  std::string centroids_collection;  // empty when not written
  std::vector<PointId> ids;          // the clustered points; ids[i] has kmeans.labels[i]
  KMeansResult kmeans;
  std::optional<KMeansSweep> sweep;  // with a sweep: its curve and choice (best moved to kmeans)
  uint64_t without_vector = 0;       // matching points skipped for lacking the vector
};

// "<name>-clusters".
std::string CentroidsCollectionName(const std::string& collection);

// Errors: NotFound for an unknown collection (listing the collections) or vector (listing the
// collection's vectors) and when no point matches the filter; InvalidArgument for k < 1 or k
// larger than the number of points (naming both) and for a bad sweep range; AlreadyExists when
// `<name>-clusters` exists but holds something other than this collection's centroids.
Result<ClusterResult> ClusterCollection(Db& db, const std::string& collection,
                                        const ClusterOptions& options);

}  // namespace mosaic::query
