// Operation: one logged write (upsert, delete, payload change), encoded as the payload of a WAL
// record (docs/wal_format.md lists the encodings). Validation happens before encoding, so a
// decoded operation always applies. Plain values; stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mosaic/json.h"
#include "mosaic/status.h"
#include "mosaic/types.h"

namespace mosaic::collection {

// WAL record types. Stored on disk: never renumber.
enum class OpType : uint8_t {
  kUpsert = 1,
  kDelete = 2,
  kSetPayload = 3,
  kOverwritePayload = 4,
  kDeletePayloadKeys = 5,
  kReplace = 6,  // delete `ids`, then upsert `points`, as one record
};

// A point as logged: vectors by schema position, already validated (and normalized for cosine).
struct LoggedPoint {
  PointId id;
  std::vector<std::pair<uint32_t, std::vector<float>>> vectors;
  Json payload;
};

struct Operation {
  OpType type = OpType::kUpsert;
  uint64_t lsn = 0;
  std::vector<LoggedPoint> points;  // kUpsert, kReplace
  std::vector<PointId> ids;         // the others
  Json payload;                     // kSetPayload, kOverwritePayload
  std::vector<std::string> keys;    // kDeletePayloadKeys
};

std::string EncodeOperation(const Operation& op);
// Sets the LSN of an encoded operation, so that it can be encoded before its LSN is known.
void SetEncodedLsn(std::string* data, uint64_t lsn);
// `dims` are the schema's dimensions by position, to check the record against the schema.
Result<Operation> DecodeOperation(uint8_t type, std::string_view data,
                                  const std::vector<uint32_t>& dims);

}  // namespace mosaic::collection
