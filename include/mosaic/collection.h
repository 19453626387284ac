// Collection: a named set of points sharing a schema of named vectors. Created and opened through
// Db (mosaic/db.h). All methods are thread-safe: reads run concurrently, writes are serialized,
// and a write is durable per DbOptions::sync before it returns. A failed write changes nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mosaic/filter.h"
#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic {

// Values are stored in collection.json: never renumber. kText is a full-text index (words,
// case-folded, stopwords dropped, Snowball-stemmed; see docs/text_search.md) for SearchText.
enum class PayloadIndexType : uint8_t { kKeyword = 0, kInteger = 1, kFloat = 2, kDatetime = 3, kText = 4 };
const char* PayloadIndexTypeName(PayloadIndexType t);
Result<PayloadIndexType> ParsePayloadIndexType(std::string_view s);

struct SearchRequest {
  std::string vector_name;  // empty: the schema's first vector
  std::vector<float> vector;
  size_t limit = 10;
  size_t offset = 0;  // skip this many best hits (pagination)
  std::optional<Filter> filter;
  bool with_payload = true;
  bool with_vectors = false;
  // Drop hits worse than this (distance above it for l2, similarity below it otherwise).
  std::optional<float> score_threshold;
  // For vectors with an HNSW index: the search beam width (0: the index's default), or exact
  // search over all points instead of the graph.
  size_t ef = 0;
  bool exact = false;
};

// Full-text search ranked by BM25 over payload fields that have a kText index. A point's score
// is the weighted sum of its per-field BM25 scores (each field has its own document frequencies
// and average length); points matching no query term are not returned.
struct TextSearchRequest {
  // Text-indexed payload fields (dotted paths), at least one; "title^0.3" weighs a field's
  // scores by 0.3 (default 1), e.g. so that a short title does not count as much as the body.
  std::vector<std::string> fields;
  std::string query;                // free text, tokenized like the indexed text
  size_t limit = 10;
  size_t offset = 0;
  std::optional<Filter> filter;
  bool with_payload = true;
  bool with_vectors = false;
  float k1 = 1.2f;  // BM25 term-frequency saturation
  float b = 0.75f;  // BM25 length normalization
};

// Order by a payload field's value instead of by id (Scroll) or by score (the query layer).
// The value a point sorts by is OrderValue(payload, order_by): numbers, then datetimes
// (strings that parse as one, compared as instants), then other strings (bytewise); of an array,
// its smallest value ascending and its largest descending. Points without such a value come
// last, whatever the direction. Ties, and the points without a value, are in id order.
struct OrderBy {
  std::string key;  // payload field (dotted path)
  bool descending = false;
};

// The value `payload` sorts by under `order_by`, or null when it has none.
Json OrderValue(const Json& payload, const OrderBy& order_by);
// <0, 0, >0 as `a` comes before, with, or after `b` ascending (values from OrderValue; null,
// and anything else OrderValue never returns, after everything).
int CompareOrderValues(const Json& a, const Json& b);

struct ScrollRequest {
  // The first id to return (the previous page's next_offset). With order_by, the cursor is the
  // pair (order_value, offset): the page starts at the first point not before that pair; an
  // order_value alone starts at the first point whose value is not before it, and an offset
  // without an order_value is InvalidArgument.
  std::optional<PointId> offset;
  size_t limit = 10;
  std::optional<Filter> filter;
  bool with_payload = true;
  bool with_vectors = false;
  std::optional<OrderBy> order_by;
  // With order_by: the previous page's next_order_value (a number, a string, or null for the
  // points without a value); InvalidArgument without order_by.
  std::optional<Json> order_value;
};

struct ScrollPage {
  std::vector<Point> points;           // in id order, or in order_by's order
  std::optional<PointId> next_offset;  // absent on the last page
  std::optional<Json> next_order_value;  // with order_by: next_offset's OrderValue (null: none)
};

// How Facet groups values. Datetime buckets apply to strings that parse as datetimes (in UTC):
// "2023", "2023-07", "2023-07-14"; other values are not counted then.
enum class FacetBucket : uint8_t { kValue, kYear, kMonth, kDay };

// Counts the points per distinct value of a payload field, over the points matching `filter`
// (Qdrant's facet). Strings, integers (integral numbers a JSON integer holds: 5.0 counts as 5)
// and booleans are counted (an array counts each distinct element once per point); the most
// frequent come first, ties by value ascending (integers, then strings, then false, true).
// InvalidArgument for a limit of 0 or a bad key, naming it.
struct FacetRequest {
  std::string key;  // payload field (dotted path)
  std::optional<Filter> filter;
  size_t limit = 10;  // at most this many values
  FacetBucket bucket = FacetBucket::kValue;
};

struct FacetCount {
  Json value;
  uint64_t count = 0;
};

struct CollectionInfo {
  std::string name;
  CollectionSchema schema;
  uint64_t points = 0;             // live points
  uint64_t deleted_pending = 0;    // deleted points whose space is not yet reclaimed
  uint64_t segments = 0;           // sealed segments on disk (a flush adds one; compaction: 1)
  uint64_t segment_bytes = 0;      // on-disk size of the sealed segments
  // Of those loaded, the bytes memory-mapped (served from the page cache) rather than read into
  // memory (DbOptions::segment_memory_budget_bytes).
  uint64_t segment_mapped_bytes = 0;
  uint64_t wal_bytes = 0;          // write-ahead log size
  uint64_t disk_bytes = 0;         // every file of the collection (segments, graphs, delta, log)
  uint64_t merges_pending = 0;     // merges running or due (1 while one runs, else 0 or 1)
  uint64_t merges_done = 0;        // merges switched in since the collection was opened
  // Writes slowed down while merges lagged (DbOptions::slowdown_segments) since the open, and
  // the milliseconds they waited in all.
  uint64_t writes_slowed = 0;
  uint64_t write_slowdown_ms = 0;
  bool flushing = false;           // a flush writes its segment in the background
  uint64_t process_rss_bytes = 0;  // resident memory of the whole process (all collections)
  // Empty, or why the last flush or compaction a write triggered failed (the writes themselves
  // are durable; after a few failures in a row writes are refused until one succeeds).
  std::string background_error;
  std::map<std::string, PayloadIndexType> payload_indexes;
  // Per named vector, bytes of its vectors held in memory (mapped segments' rows not counted).
  std::map<std::string, uint64_t> vector_bytes;
  std::map<std::string, uint64_t> index_bytes;   // per named vector, bytes of its graph index
  // Heap held by the payload and text indexes (text posting lists read in place from sealed
  // segments' index files are page cache, not counted).
  uint64_t payload_index_bytes = 0;
  // Named vectors whose graph was built from the vectors when the segment was loaded (at open,
  // restore, flush or compaction) because no usable saved graph came with it; empty when every
  // graph was loaded as saved.
  std::vector<std::string> graphs_rebuilt;
  // Payload index fields built from the payloads when a sealed segment was loaded (at open or
  // restore) because its saved index file did not hold them (or was unusable); empty when every
  // segment's index file was loaded as saved.
  std::vector<std::string> payload_indexes_rebuilt;
  Json ToJson() const;
};

class Collection {
 public:
  virtual ~Collection() = default;

  virtual const std::string& name() const = 0;
  virtual const CollectionSchema& schema() const = 0;

  // Inserts or replaces points (all or none). Each point carries any subset of the schema's
  // vectors; a search on vector V only sees points that have V.
  virtual Status Upsert(std::span<const Point> points) = 0;
  // Deletes `remove` and upserts `points` in one atomic write (all or none, one log record):
  // replaces a group of points, e.g. all points made from one file, without a moment in which
  // readers or a crash see both or neither. Ids in both lists are simply upserted.
  virtual Status Replace(std::span<const PointId> remove, std::span<const Point> points) = 0;
  // Points that exist, in the order asked; missing ids are skipped.
  virtual Result<std::vector<Point>> Get(std::span<const PointId> ids, bool with_payload = true,
                                         bool with_vectors = true) const = 0;
  // Returns how many of the ids existed.
  virtual Result<uint64_t> Delete(std::span<const PointId> ids) = 0;
  virtual Result<uint64_t> DeleteByFilter(const Filter& filter) = 0;
  // Merges `patch`'s top-level keys into each point's payload.
  virtual Status SetPayload(std::span<const PointId> ids, const Json& patch) = 0;
  // Replaces each point's payload.
  virtual Status OverwritePayload(std::span<const PointId> ids, const Json& payload) = 0;
  virtual Status DeletePayloadKeys(std::span<const PointId> ids,
                                   std::span<const std::string> keys) = 0;

  virtual Result<uint64_t> Count(const Filter* filter = nullptr) const = 0;
  virtual Result<ScrollPage> Scroll(const ScrollRequest& request) const = 0;
  // Counts per value of a payload field (see FacetRequest); uses the field's keyword or integer
  // index (a datetime index for datetime buckets) when it has one, else reads the payloads.
  virtual Result<std::vector<FacetCount>> Facet(const FacetRequest& request) const = 0;

  virtual Result<std::vector<ScoredPoint>> Search(const SearchRequest& request) const = 0;
  // Runs the requests in parallel (DbOptions::search_threads).
  virtual Result<std::vector<std::vector<ScoredPoint>>> SearchBatch(
      std::span<const SearchRequest> requests) const = 0;

  // BM25 full-text search (see TextSearchRequest). InvalidArgument naming the field when it has
  // no kText index.
  virtual Result<std::vector<ScoredPoint>> SearchText(const TextSearchRequest& request) const = 0;

  // An index on a payload field (dotted path) that makes selective filters on it fast.
  virtual Status CreatePayloadIndex(const std::string& field, PayloadIndexType type) = 0;
  virtual Status DropPayloadIndex(const std::string& field) = 0;
  // The payload indexes by field; cheap (does not wait for a write in progress, unlike Info()).
  virtual std::map<std::string, PayloadIndexType> PayloadIndexes() const = 0;

  // Writes everything in the write-ahead log into a new segment.
  virtual Status Flush() = 0;
  // Rewrites the segment without deleted points.
  virtual Status Compact() = 0;

  virtual CollectionInfo Info() const = 0;
};

}  // namespace mosaic
