// The files of a collection directory: the segment, graph and WAL names of a generation,
// CURRENT (which generation is live; switching it commits a flush) and collection.json (name,
// schema, payload indexes). Pure functions over an Env; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "mosaic/collection.h"
#include "mosaic/env.h"
#include "mosaic/json.h"
#include "mosaic/status.h"

namespace mosaic::collection {

inline constexpr uint32_t kCollectionFormatVersion = 1;
inline constexpr char kConfigFile[] = "collection.json";
inline constexpr char kCurrentFile[] = "CURRENT";

std::string SegmentName(uint64_t gen);
std::string GraphName(uint64_t gen, size_t v);  // the HNSW graph of vector v
std::string WalName(uint64_t gen);

// Atomically points CURRENT at generation `gen` (its WAL, and its segment when it has one).
// `renamed` as for WriteFileAtomically: on failure, whether CURRENT may name `gen` after all.
Status WriteCurrent(Env* env, const std::string& dir, uint64_t gen, bool has_segment,
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
