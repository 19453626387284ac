// Fuzzes the write-ahead log reader (src/storage/log_reader.h, docs/wal_format.md) and the
// decoding of record bodies (collection/operation.h), as Replay uses them. Each input is read
// twice: as it is, and with every record's checksum recomputed, so that mutated bodies reach
// DecodeOperation instead of stopping at the CRC.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collection/operation.h"
#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"

namespace {

using mosaic::storage::LogReader;

// Recomputes the CRCs of every record whose length fits in the file (docs/wal_format.md), in the
// framing the file header names. Version 2: masked header crc u32 | length u32 | type u8 | masked
// payload crc u32 | payload, the header CRC over the 9 bytes after it. Version 1: masked crc u32 |
// length u32 | type u8 | payload, the CRC over the type and the payload.
std::string WithValidChecksums(std::string_view in) {
  namespace st = mosaic::storage;
  std::string s(in);
  if (s.size() < st::kLogFileHeaderSize) return s;
  const bool v1 = mosaic::DecodeFixed32(s.data() + 8) == st::kLogVersion1;
  const size_t header = v1 ? st::kLogRecordHeaderSizeV1 : st::kLogRecordHeaderSize;
  size_t pos = st::kLogFileHeaderSize;
  while (pos + header <= s.size()) {
    char* rec = s.data() + pos;
    const uint32_t length = mosaic::DecodeFixed32(rec + 4);
    if (length > s.size() - pos - header) break;
    if (v1) {
      mosaic::EncodeFixed32(
          rec, mosaic::crc32c::Mask(mosaic::crc32c::Value(rec + 8, size_t{length} + 1)));
    } else {
      mosaic::EncodeFixed32(rec + 9,
                            mosaic::crc32c::Mask(mosaic::crc32c::Value(rec + header, length)));
      mosaic::EncodeFixed32(rec, mosaic::crc32c::Mask(mosaic::crc32c::Value(rec + 4, 9)));
    }
    pos += header + length;
  }
  return s;
}

void Read(std::string_view data) {
  // Two named vectors, as a schema would give them.
  static const std::vector<uint32_t> dims = {4, 2};
  LogReader reader(data, "fuzz.log");
  if (!reader.ReadHeader().ok()) return;
  uint64_t last_end = reader.valid_end();
  for (;;) {
    uint8_t type = 0;
    std::string_view payload;
    mosaic::Result<LogReader::Outcome> outcome = reader.Next(&type, &payload);
    if (!outcome.ok() || *outcome != LogReader::Outcome::kRecord) break;
    if (reader.valid_end() <= last_end || reader.valid_end() > data.size()) {
      std::fprintf(stderr, "LogReader moved from %llu to %llu in a %zu-byte log\n",
                   static_cast<unsigned long long>(last_end),
                   static_cast<unsigned long long>(reader.valid_end()), data.size());
      std::abort();
    }
    last_end = reader.valid_end();
    mosaic::Result<mosaic::collection::Operation> op =
        mosaic::collection::DecodeOperation(type, payload, dims);
    if (!op.ok()) continue;
    // What the writer makes of a decoded record, replay reads back to the same operation (the
    // input itself need not be canonical: varints and MessagePack have longer forms).
    const std::string encoded = mosaic::collection::EncodeOperation(*op);
    auto again = mosaic::collection::DecodeOperation(type, encoded, dims);
    if (!again.ok() || mosaic::collection::EncodeOperation(*again) != encoded) {
      std::fprintf(stderr, "record of type %u decodes, is encoded again, then %s\n", type,
                   again.ok() ? "decodes to another operation" : again.status().ToString().c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Read(in);
  const std::string fixed = WithValidChecksums(in);
  if (fixed != in) Read(fixed);
  return 0;
}
