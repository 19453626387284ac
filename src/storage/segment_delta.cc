#include "storage/segment_delta.h"

#include <cstdint>
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"

namespace mosaic::storage {
namespace {

// Magic, version, reserved; then the body; the last 4 bytes are the masked CRC32C of the rest.
constexpr size_t kHeaderSize = 16;

}  // namespace

Status WriteDelta(Env* env, const std::string& path, const SegmentDelta& delta) {
  std::string out(kDeltaMagic, 8);
  PutFixed32(&out, kDeltaVersion);
  PutFixed32(&out, 0);
  PutLengthPrefixed(&out, delta.manifest.dump());
  PutFixed64(&out, delta.dead.size());
  for (size_t w = 0; w < delta.dead.num_words(); ++w) PutFixed64(&out, delta.dead.words()[w]);
  PutFixed64(&out, delta.payloads.size());
  std::vector<uint8_t> blob;
  for (const auto& [slot, payload] : delta.payloads) {
    blob.clear();
    Json::to_msgpack(payload, blob);
    PutFixed32(&out, slot);
    PutFixed32(&out, static_cast<uint32_t>(blob.size()));
    out.append(reinterpret_cast<const char*>(blob.data()), blob.size());
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  MOSAIC_RETURN_IF_ERROR(file->Append(out));
  MOSAIC_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Result<SegmentDelta> DecodeDelta(std::string_view data, const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("delta file " + path + ": " + what);
  };
  if (data.size() < kHeaderSize + 4 || std::memcmp(data.data(), kDeltaMagic, 8) != 0)
    return corrupt("not a delta file (bad magic or " + std::to_string(data.size()) + " bytes)");
  const uint32_t stored = DecodeFixed32(data.data() + data.size() - 4);
  if (crc32c::Unmask(stored) != crc32c::Value(data.data(), data.size() - 4))
    return corrupt("checksum mismatch");
  const uint32_t version = DecodeFixed32(data.data() + 8);
  if (version != kDeltaVersion)
    return Status::InvalidArgument("delta file " + path + " has version " +
                                   std::to_string(version) + ", this build reads " +
                                   std::to_string(kDeltaVersion));
  Decoder in(data.substr(kHeaderSize, data.size() - kHeaderSize - 4));
  SegmentDelta d;
  std::string_view manifest;
  if (!in.GetLengthPrefixed(&manifest)) return corrupt("truncated manifest");
  d.manifest = Json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (d.manifest.is_discarded() || !d.manifest.is_object())
    return corrupt("manifest is not a JSON object");
  uint64_t slots = 0;
  if (!in.GetFixed64(&slots)) return corrupt("truncated slot count");
  // Slots are 32-bit; the bound also keeps (slots + 63) from wrapping.
  if (slots > UINT32_MAX || (slots + 63) / 64 > in.remaining() / 8)
    return corrupt(std::to_string(slots) + " slots overrun the file");
  d.dead.Resize(slots);
  for (uint64_t w = 0; w < (slots + 63) / 64; ++w) {
    uint64_t bits = 0;
    in.GetFixed64(&bits);
    for (int b = 0; b < 64; ++b)
      if ((bits >> b) & 1) {
        if (w * 64 + b >= slots) return corrupt("tombstone past the last slot");
        d.dead.Set(w * 64 + b);
      }
  }
  uint64_t n = 0;
  if (!in.GetFixed64(&n)) return corrupt("truncated payload count");
  if (n > in.remaining() / 8) return corrupt(std::to_string(n) + " payloads overrun the file");
  d.payloads.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t slot = 0, size = 0;
    std::string_view blob;
    if (!in.GetFixed32(&slot) || !in.GetFixed32(&size) || !in.GetBytes(size, &blob))
      return corrupt("payload " + std::to_string(i) + " overruns the file");
    if (slot >= slots || (i > 0 && slot <= d.payloads.back().first))
      return corrupt("payload slot " + std::to_string(slot) + " out of order or past the end");
    Json p = Json::from_msgpack(blob, true, /*allow_exceptions=*/false);
    if (p.is_discarded() || !p.is_object())
      return corrupt("payload of slot " + std::to_string(slot) + " is not an object");
    d.payloads.emplace_back(slot, std::move(p));
  }
  if (!in.empty()) return corrupt(std::to_string(in.remaining()) + " bytes after the last payload");
  return d;
}

Result<SegmentDelta> ReadDelta(Env* env, const std::string& path) {
  MOSAIC_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  return DecodeDelta(data, path);
}

}  // namespace mosaic::storage
