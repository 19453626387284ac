// HnswIndex: a Hierarchical Navigable Small World graph (Malkov & Yashunin, 2016/2018) over the
// slots of one vector column. Node id == slot; the f32 vectors stay in the collection and are read
// through VectorRows, the index keeps only the graph (links, levels, tombstones).
//
// Layout. Layer 0 is one flat array with a fixed stride per slot ([count, 2M ids]), so a node's
// links are found by multiplication and read in two or three cache lines; the rare upper layers
// (a fraction 1/M of nodes reach layer 1) live in one small block per node. Distances follow the
// Neighbor convention: squared L2 for kL2, minus the dot product for kInnerProduct and kCosine
// (cosine vectors and queries arrive normalized). For L2 a distance computation stops at a chunk
// boundary once its partial sum exceeds what the caller could use (the beam's worst result, or the
// distance to the base point inside the neighbour-selection heuristic); the decision is exact.
// How much that saves depends on the data (see kAbandonChunk in the .cc).
//
// Thread-safety. Search and Remove may run concurrently with each other and with Add / AddBatch.
// Link lists are written under a per-node spinlock and read without one: every link word is
// accessed atomically (release stores, acquire loads; plain moves on x86), so a reader may see a
// list in the middle of being rewritten, but every id it reads names a node whose own lists are
// written on all its layers (an insert links the graph to a node only after that, so a search
// never descends into a node with empty lower lists), and a search only needs the graph to be
// navigable, not frozen. Growing the per-slot arrays takes an
// exclusive lock that waits for searches in flight. Vacuum may run alongside Search (searches
// are blocked only while the computed repairs are applied) but excludes Add. Save and Remap see a
// consistent snapshot (they wait for Adds in flight). On-disk format: docs/hnsw_format.md.
//
// SQ8 mode (HnswParams::sq8). The index also keeps an 8-bit scalar-quantized copy of every
// vector (Sq8Codec, dim bytes per slot instead of 4 * dim, or fewer when the codec codes the
// vectors' principal components: HnswParams::sq8_project) and walks the graph with code
// distances at every layer, reading a quarter of the bytes per hop or less; the best
// max(ef, k * rerank_factor) candidates are then re-scored with the f32 rows, so results carry
// exact distances. The codec is trained once, on the rows of the first Add or AddBatch call (so
// build with AddBatch: an index started by a single Add trains on one vector); later values
// outside the trained per-dimension ranges saturate to code 0 or 255, which costs recall that
// the re-scoring only partly recovers. By default (HnswParams::build_on_codes) the graph is
// built over the codes too: an insert prepares its f32 row as a query and runs its beam search
// against codes, and the neighbour-selection heuristic (at the insert and when a neighbour's
// full list re-selects) compares code with code (Sq8Codec::PairDistance), so a build reads a
// quarter of the bytes (the early abandoning described above stays f32-only: code distances
// are computed in full). The graph differs from the f32 one but searches as well (measured:
// see HnswParams); the codec caveat above weighs more, since saturated codes also choose the
// links. build_on_codes = false builds from the f32 rows, the same graph as without SQ8; Vacuum
// and Remap repair from the f32 rows either way. The file does not record how the graph was
// built. Concurrent inserts read only codes that are written before their node is published.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "common/bitset.h"
#include "common/huge_array.h"
#include "common/thread_pool.h"
#include "index/flat/flat_search.h"
#include "index/hnsw/visited_table.h"
#include "index/quant/sq8_codec.h"
#include "index/vector_index.h"
#include "mosaic/env.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::index {

struct HnswParams {
  // Links per node on the upper layers; layer 0 keeps 2 * M (the paper's Mmax0).
  uint32_t M = 16;
  // Beam width while inserting: larger builds a better graph, more slowly.
  uint32_t ef_construction = 200;
  // Default beam width of Search when IndexSearchParams::ef is 0 (raised to k when smaller).
  uint32_t ef_search = 64;
  // Seeds the level of each slot (a pure function of seed and slot, so levels do not depend on
  // insertion order or threads).
  uint64_t seed = 0x6d6f73616963;  // "mosaic"
  // After the heuristic, fill a node's free link places with the candidates it pruned (the
  // paper's keepPrunedConnections). Off by default, as in hnswlib and Faiss.
  bool keep_pruned_connections = false;
  // Walk the graph over SQ8 codes and re-score with f32 (see the class comment).
  bool sq8 = false;
  // SQ8 only: the beam is max(ef, k * rerank_factor) wide, and all of it is re-scored with f32.
  // 1 (the default) re-scores the ef candidates the beam holds anyway; a larger factor raises
  // recall at small ef. Measured on Fashion-MNIST (docs/benchmarks.md), a floor of 4k made the
  // beam at least 40 wide and cost more queries/s at recall 0.95 than it bought.
  uint32_t rerank_factor = 1;
  // SQ8 only: build the graph over the codes. The insert's beam search measures the new row
  // (as a query) against codes, and the selection heuristic measures code against code, so
  // each distance reads dim bytes instead of 4 * dim. Measured (docs/benchmarks.md, M 16,
  // ef_construction 200, 2 threads): 0.45x the CPU time of building from the f32 rows on
  // Fashion-MNIST L2 and 0.55x on 808-d visual descriptors (0.59x / 0.58x usearch-i8's), with
  // recall@10 at every ef within 0.002 of the f32-built graph's.
  bool build_on_codes = true;
  // SQ8 with build_on_codes only: re-score each layer's beam with the f32 rows and run the
  // heuristic (and the back-links' re-selection) over f32 rows, as without codes. Measured: the
  // same recall as codes alone at 1.2-1.6x its build time, hence off.
  bool build_rescore = false;
  // SQ8 only: let the codec code the vectors' leading principal components when a few of them
  // hold most of the variance (Sq8Codec::Train's `project`): fewer bytes per hop, and on
  // learned embeddings a walk closer to the f32 one. Measured: docs/benchmarks.md.
  bool sq8_project = true;
};

class HnswIndex final : public VectorIndex {
 public:
  // `rows` must outlive the index. M must be in [2, 255]; invalid parameters are clamped (Load
  // and the collection validate user-supplied values before getting here).
  HnswIndex(uint32_t dim, Metric metric, const HnswParams& params, const VectorRows* rows);
  ~HnswIndex() override;
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  // Inserts `slot`. AlreadyExists if the slot is in the graph, including removed slots not yet
  // vacuumed (their place is freed by Vacuum).
  Status Add(uint32_t slot) override;
  // Inserts `slots` using every thread of `pool` (null: the calling thread only). Stops at the
  // first error; slots inserted before it stay.
  Status AddBatch(std::span<const uint32_t> slots, ThreadPool* pool);
  // Appends to `out` nodes near `slot` that may be in the graph already (its neighbours in a
  // graph being merged into this one).
  using SeedFn = std::function<void(uint32_t slot, std::vector<uint32_t>* out)>;
  // AddBatch for nodes whose neighbourhoods are known (Lucene's graph merge): a node drawn on
  // layer 0 alone with a seed already in the graph is linked after a search of layer 0 from its
  // seeds with a beam of `ef` (instead of descending from the entry point with ef_construction);
  // the others are inserted as by AddBatch.
  Status AddBatchNear(std::span<const uint32_t> slots, const SeedFn& seeds, size_t ef,
                      ThreadPool* pool);
  // `slot`'s links on layer 0, into `out` (empty for a slot not in the graph).
  void LayerZeroLinks(uint32_t slot, std::vector<uint32_t>* out) const;
  // Tombstones `slot`: never returned from now on, still traversed. No-op for absent slots.
  void Remove(uint32_t slot) override;
  // Repairs the lists that point at removed nodes (each such list is rebuilt with the heuristic
  // from its surviving links plus the removed nodes' own links) and frees the removed nodes, so
  // their slots can be added again. Uses `pool` when non-null.
  Status Vacuum(ThreadPool* pool = nullptr);

  // Top-k allowed, live slots (see VectorIndex). Under `allow` the beam expands through
  // disallowed (and tombstoned) nodes and stops only once it holds ef allowed results, so recall
  // holds up at any selectivity but the cost grows about as 1 / selectivity: measured on
  // Fashion-MNIST, the graph beats an exact scan of the allowed slots above roughly 10%, and the
  // collection's planner should scan exactly below that (see EffectiveEf, docs/benchmarks.md).
  std::vector<Neighbor> Search(const float* query, size_t k, const IndexSearchParams& p,
                               const Bitset* allow) const override;

  size_t size() const override;  // live nodes
  size_t MemoryBytes() const override;

  // The same graph over renumbered slots: node o becomes old_to_new[o]; nodes mapped to -1 (or
  // past the end of the map) and removed nodes are dropped, and lists that lose links are repaired
  // as in Vacuum. Vectors are read from `new_rows` (by new slot). Used after the collection
  // compacts its storage; no rebuild. Without `drop_removed` only the map decides which nodes go:
  // a caller that read the tombstones into the map once may remap a graph that Remove goes on
  // tombstoning meanwhile (a merge reads a sealed segment's graph so, without a copy of it).
  std::unique_ptr<HnswIndex> Remap(const std::vector<int64_t>& old_to_new,
                                   const VectorRows* new_rows, ThreadPool* pool = nullptr,
                                   bool drop_removed = true) const;

  // An exact copy of the graph (links, levels, tombstones, SQ8 codes) over the same rows. Waits
  // for Adds in flight, like Save; it is a copy of the arrays, so it holds them up only briefly
  // (a consistent view to Remap or Serialize at leisure; used by snapshots).
  std::unique_ptr<HnswIndex> Clone() const;

  // The graph in the format of docs/hnsw_format.md.
  std::string Serialize() const;
  // The same bytes handed to `sink` in pieces of about 1 MiB (a large graph is not held twice).
  Status SerializeTo(const ByteSink& sink) const;
  // Writes SerializeTo() atomically (temp file + rename).
  Status Save(Env* env, const std::string& path) const;
  // Reads a saved graph. Corruption for a damaged or truncated file, InvalidArgument for one of
  // an unknown version; the message names the file and what was wrong. The second form also
  // requires the file's dim, metric, M, ef_construction and SQ8 flag to equal the given ones
  // (InvalidArgument otherwise), and takes ef_search and rerank_factor from `params`; either way
  // the caller rebuilds when loading fails.
  static Result<std::unique_ptr<HnswIndex>> Load(Env* env, const std::string& path,
                                                 const VectorRows* rows);
  // With `any_sq8` the file's SQ8 flag is taken as it is (the graphs of a collection's segments
  // may differ in it).
  static Result<std::unique_ptr<HnswIndex>> Load(Env* env, const std::string& path, uint32_t dim,
                                                 Metric metric, const HnswParams& params,
                                                 const VectorRows* rows, bool any_sq8 = false);

  uint32_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  const HnswParams& params() const { return params_; }
  bool Contains(uint32_t slot) const;  // in the graph and not removed
  size_t num_removed() const { return num_removed_.load(std::memory_order_relaxed); }
  int max_level() const;
  // The beam width Search uses for k results under an allow-set of `allowed` of `live` nodes:
  // max(ef, k), and at least 2k when filtered (why not more: see the definition).
  size_t EffectiveEf(size_t k, size_t ef, size_t allowed, size_t live) const;

  // Average number of layer-0 links per node (for tests and benchmarks).
  double AverageDegree() const;
  // SQ8 only: bytes held by the codes (dim per slot of capacity, plus a float norm per slot for
  // l2); 0 without SQ8.
  size_t CodeBytes() const;
  // SQ8 only: bytes per code (dim, or fewer when the codec projects; Sq8Codec).
  size_t code_size() const;
  // SQ8 only: bytes of the trained codec's parameters, always in the heap (MemoryBytes counts
  // them; a projecting codec holds its components: 600 KB for Fashion-MNIST).
  size_t CodecBytes() const;
  // SQ8 only: whether the codec has been trained (by the first Add / AddBatch).
  bool sq8_trained() const { return sq8_trained_.load(std::memory_order_acquire); }
  // SQ8 only, before the first Add: uses the trained codec of `from` (the same dim and metric)
  // instead of training one, so that the graphs of one collection share their codes' ranges.
  void AdoptCodec(const HnswIndex& from);
  // Whether every node, removed or not, is a slot set in `rows` (so each has a row to read).
  bool NodesWithin(const Bitset& rows) const;

 private:
  struct Scratch;
  struct Repair;
  struct FloatSpace;
  struct CodeSpace;
  // Node-to-node distances for the selection heuristic: f32 rows read through `row`, or codes.
  template <typename RowFn>
  struct RowPairs;
  struct CodePairs;

  static constexpr uint32_t kNoEntry = UINT32_MAX;

  // ---- storage ----
  uint32_t* Links(uint32_t slot, int layer) const;
  int Level(uint32_t slot) const;
  bool IsRemoved(uint32_t slot) const;
  uint32_t max_links(int layer) const { return layer == 0 ? 2 * params_.M : params_.M; }
  // Also moves lists and codes read in place from a file into the heap.
  void GrowLocked(size_t capacity);
  Status EnsureCapacity(size_t capacity);
  // SQ8: trains the codec from `slots`' rows unless already trained.
  void EnsureTrained(std::span<const uint32_t> slots);
  const uint8_t* Code(uint32_t slot) const { return codes_ + size_t{slot} * code_size_; }
  // Installs a trained codec (under train_mu_, or on an index no other thread sees yet). Codes
  // already allocated for another code size are allocated again: none is written before the
  // codec is.
  void SetCodec(const Sq8Codec& codec);
  // Whether the codes need their norms (code distances in squared L2).
  bool CodeNormsNeeded() const;
  // Encodes slot's row into its code (and norm).
  void EncodeSlot(uint32_t slot);
  int RandomLevel(uint32_t slot) const;
  // Layer-0 in-degree: a node without an in-link there is found by no search, so Connect keeps
  // a node's last one (see there). Load, Remap and Vacuum recount.
  uint32_t InLinks(uint32_t slot) const;
  void AddInLink(uint32_t slot);
  // Counts one in-link of `slot` away, unless it is the last; reports whether it did.
  bool TryDropInLink(uint32_t slot);
  // Recounts every node's in-links (callers exclude all writers).
  void CountInLinks();
  void LockNode(uint32_t slot) const;
  void UnlockNode(uint32_t slot) const;

  // ---- distances ----
  float Distance(const float* a, const float* b, float bound) const;

  // ---- graph algorithms ----
  // `seeds` (may be null): see AddBatchNear, whose beam is `near_ef`.
  Status Insert(uint32_t slot, Scratch* s, const SeedFn* seeds = nullptr, size_t near_ef = 0);
  // `Space` is FloatSpace (f32 rows) or CodeSpace (SQ8 codes): where a node's vector is, how
  // to prefetch it, and its distance to the query.
  template <bool kFiltered, typename Space>
  void SearchLayer(const Space& space, std::span<const Neighbor> entries, size_t ef, int layer,
                   const Bitset* allow, Scratch* s) const;
  template <typename Space>
  Neighbor GreedyDescent(const Space& space, Neighbor cur, int from_layer, int to_layer) const;

  // The new node's links on layers min(level, top)..0, into s->selected, found from `entry`
  // (the graph's top layer is `top`); `space` measures the new node against the others. With
  // `near` (nodes in the graph; level 0 only) layer 0 alone is searched, from them, with a beam
  // of `near_ef`.
  template <typename Space>
  void ChooseLinks(const Space& space, uint32_t slot, uint32_t entry, int top, int level,
                   std::span<const uint32_t> near, size_t near_ef, Scratch* s);
  template <typename Pairs>
  void SelectNeighbors(std::vector<Neighbor>* candidates, size_t max, const Pairs& pairs,
                       std::vector<Neighbor>* out) const;
  template <typename Pairs>
  void Connect(const Pairs& pairs, uint32_t node, uint32_t added, float distance, int layer,
               Scratch* s);
  // Puts `added` into `node`'s layer-0 list if it is not there: appended, or in place of the
  // farthest link whose target has another way in (not if every link is a last one).
  template <typename Pairs>
  void KeepWayIn(const Pairs& pairs, uint32_t node, uint32_t added);
  template <typename GoneFn, typename RowFn>
  std::vector<Repair> PlanRepairs(const GoneFn& gone, const RowFn& row, ThreadPool* pool) const;

  std::unique_ptr<Scratch> AcquireScratch() const;
  void ReleaseScratch(std::unique_ptr<Scratch> s) const;

  const uint32_t dim_;
  const Metric metric_;
  HnswParams params_;
  const VectorRows* rows_;
  const uint32_t stride0_;   // uint32 words per layer-0 list: count + 2M ids
  const uint32_t stride_up_;  // per upper-layer list: count + M ids
  const double level_mult_;

  // Excludes Vacuum (exclusive) from Add (shared).
  mutable std::shared_mutex update_mu_;
  // Guards the addresses of the per-slot arrays: shared by every operation that reads them,
  // exclusive to grow them or to free nodes.
  mutable std::shared_mutex structure_mu_;
  // Held by an Add whose node rises above the current top layer, for the whole insert (rare).
  std::mutex entry_mu_;
  // (top level + 1) << 32 | entry slot; 0 when empty. One word so readers see a matching pair.
  std::atomic<uint64_t> entry_{0};

  size_t capacity_ = 0;
  // capacity_ * stride0_ words: links0_owned_'s, or the loaded graph file's (file_).
  uint32_t* links0_ = nullptr;
  HugeArray<uint32_t> links0_owned_;
  std::unique_ptr<int8_t[]> levels_;             // -1: slot not in the graph
  std::unique_ptr<uint32_t*[]> upper_;           // level * stride_up_ words, or null
  std::unique_ptr<std::atomic<uint8_t>[]> locks_;  // per-node writer spinlocks
  std::unique_ptr<uint64_t[]> removed_;          // tombstone bits, accessed atomically
  std::unique_ptr<uint32_t[]> in_links_;         // layer-0 in-degree, accessed atomically
  std::atomic<size_t> num_present_{0};
  std::atomic<size_t> num_removed_{0};
  std::atomic<size_t> upper_words_{0};

  // SQ8: the codec (written once, before sq8_trained_ is set) and capacity_ * dim_ codes.
  std::mutex train_mu_;
  std::atomic<bool> sq8_trained_{false};
  Sq8Codec codec_;
  uint8_t* codes_ = nullptr;  // codes_owned_'s, or the loaded graph file's (file_)
  size_t code_size_;          // bytes per code: dim_, or the trained codec's code_size()
  HugeArray<uint8_t> codes_owned_;
  // Set while the layer-0 lists, the upper lists and the codes are read in place from the graph
  // file Load read (which stays mapped): a loaded sealed graph changes only its tombstones, kept
  // in the heap. Whatever would write a list or a code first copies them all into the heap
  // (GrowLocked, from EnsureCapacity and Vacuum) and lets the file go.
  std::shared_ptr<const FileView> file_;
  // Code distances in l2 only: |decode(code)|^2 per slot, written with the code (Sq8Codec::FastDistance). Not
  // stored in the file: Load recomputes it from the codes.
  std::unique_ptr<float[]> code_norms_;

  mutable std::mutex scratch_mu_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_pool_;
};

}  // namespace mosaic::index
