// People: the face points of a collection (kind "face", vector "face", written by ingest) grouped
// into persons, named, merged and split (docs/people.md).
//
// Grouping is average-linkage agglomerative clustering: two groups of faces join while the mean
// cosine similarity over all their pairs is at least a threshold. Average linkage does not chain
// (connected components do: a few look-alike pairs join two people; docs/benchmarks.md measures
// both). It runs per connected component of the graph of faces whose similarity passes the
// threshold, found with the collection's nearest-neighbour search, since average-linkage groups
// never span two components. Clustering is incremental: a face with a `person_id` keeps it; new
// faces are grouped among themselves and each group joins the existing person it is closest to on
// average, if that passes the threshold, or becomes a new person.
//
// Written payloads: a face gets `person_id` ("p-<n>", never reused) and, once named, `person`;
// its parent point (the image or video) and, for a video face, the shot holding its time get
// `person_id` and `person` as arrays of the persons they show, so a text search for a name finds
// the photos (`person` has a BM25 text index, `person_id` a keyword index). The next id is kept in
// the point "mosaic:people".
//
// Thread-safety: the functions read, change and write back payloads; run one People operation or
// ingest at a time per collection (each single write is atomic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mosaic/collection.h"
#include "mosaic/status.h"

namespace mosaic::query {

// Chosen on the dev faces by bench/people_bench (docs/benchmarks.md, "People clustering").
inline constexpr float kDefaultPersonThreshold = 0.7f;

enum class Linkage : uint8_t {
  kAverage,  // mean similarity over all pairs (People's method)
  kSingle,   // connected components of the threshold graph (measured against, in the bench)
};

// Groups L2-normalized vectors: returns a group number per vector, numbered by first appearance.
// Exact (all pairs); for measurements and small sets.
std::vector<int> ClusterVectors(std::span<const std::vector<float>> vectors, float threshold,
                                Linkage linkage = Linkage::kAverage);

struct PersonSummary {
  std::string id;    // "p-3"
  std::string name;  // empty until named
  size_t faces = 0;
  std::string sample_file;  // the file of its best-scoring face
};

struct PersonFace {
  PointId id;
  PointId parent;
  std::string file;
  std::vector<float> box;      // x0, y0, x1, y1 in the image or frame
  std::optional<double> time;  // seconds, for faces in videos
  float score = 0;             // detector confidence
};

// (Not ClusterOptions: query/cluster.h, in the same namespace, has that name.)
struct PeopleClusterOptions {
  float threshold = kDefaultPersonThreshold;
  // Forget the assignments of unnamed persons first and group their faces again (named persons
  // keep theirs).
  bool reset = false;
};

struct ClusterReport {
  size_t faces = 0;        // face points in the collection
  size_t clustered = 0;    // faces without a person before this run
  size_t joined = 0;       // of those, faces that joined an existing person
  size_t new_persons = 0;  // persons started by this run
  size_t persons = 0;      // persons after it
};

class People {
 public:
  // InvalidArgument when the collection has no "face" vector.
  static Result<People> Open(Collection& collection);

  Result<ClusterReport> Cluster(const PeopleClusterOptions& options = {});
  // Persons, most faces first; `unassigned` (optional) gets the number of faces not yet grouped.
  Result<std::vector<PersonSummary>> List(size_t* unassigned = nullptr) const;
  // The person's faces, by file and time. NotFound for an unknown id.
  Result<std::vector<PersonFace>> Show(const std::string& person) const;
  // Names (or renames) a person. InvalidArgument for an empty name; AlreadyExists when another
  // person has that name (merge them instead).
  Status Name(const std::string& person, const std::string& name);
  // Moves `from`'s faces into `into`, which keeps its name (else takes `from`'s).
  Status Merge(const std::string& into, const std::string& from);
  // Splits a person: the given faces become one new person; without faces, the person's faces
  // are grouped again at `threshold` (default: the last clustering's threshold + kSplitStep) and
  // every group but the largest (which keeps the id and the name) becomes a new person. Returns
  // the new ids (none when the faces stay together).
  Result<std::vector<std::string>> Split(const std::string& person,
                                         std::optional<float> threshold = std::nullopt,
                                         std::span<const PointId> faces = {});
  static constexpr float kSplitStep = 0.05f;

 private:
  struct Face;
  explicit People(Collection& c) : c_(&c) {}

  Result<std::vector<Face>> LoadFaces(bool with_vectors) const;
  Status EnsureIndexes();
  Result<uint64_t> NextPersonNumber(const std::vector<Face>& faces) const;
  // The threshold of the last clustering (kDefaultPersonThreshold before any).
  Result<float> LastThreshold() const;
  Status SaveState(uint64_t next, std::optional<float> threshold);
  // Writes `person_id`/`person` of the faces at `changed` and re-derives their parents' and
  // shots' arrays from all `faces`.
  Status Write(const std::vector<Face>& faces, const std::vector<size_t>& changed);
  Status CheckPerson(const std::vector<Face>& faces, const std::string& person) const;

  Collection* c_;
};

}  // namespace mosaic::query
