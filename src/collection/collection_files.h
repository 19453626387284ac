// The files of a collection directory: the segment, graph, delta and WAL names of a generation,
// CURRENT (the manifest: which segments, delta and WAL are live; switching it commits a flush or
// a compaction) and collection.json (name, schema, payload indexes). Pure functions over an Env;
// thread-safe. Formats: docs/segment_format.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "mosaic/collection.h"
#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::collection {

inline constexpr uint32_t kCollectionFormatVersion = 1;  // of collection.json
// CURRENT's format: 2 lists sealed segments and a delta file; 1 (still read) named one segment.
inline constexpr uint32_t kManifestVersion = 2;
inline constexpr char kConfigFile[] = "collection.json";
inline constexpr char kCurrentFile[] = "CURRENT";

std::string SegmentName(uint64_t gen);
std::string GraphName(uint64_t gen, size_t v);  // the HNSW graph of vector v
std::string IndexName(uint64_t gen);            // the payload and text indexes of its points
std::string WalName(uint64_t gen);
std::string DeltaName(uint64_t gen);  // tombstones and in-place payloads of the sealed segments

// Atomically replaces CURRENT with `manifest`. `renamed` as for WriteFileAtomically: on failure,
// whether CURRENT may hold `manifest` after all.
Status WriteCurrent(Env* env, const std::string& dir, const Json& manifest,
                    bool* renamed = nullptr);

// Copies `from` to `to` (created or truncated) and syncs the copy.
Status CopyFile(Env* env, const std::string& from, const std::string& to);

// The contents of collection.json (also stored as a segment's metadata).
Json ConfigJson(const std::string& name, const CollectionSchema& schema,
                const std::map<std::string, PayloadIndexType>& indexes);
// collection.json's (or a snapshot's) "payload_indexes"; null is none. Corruption naming the
// field and the value when malformed (never an exception).
Result<std::map<std::string, PayloadIndexType>> ParseIndexDefs(const Json& j);

}  // namespace mosaic::collection
