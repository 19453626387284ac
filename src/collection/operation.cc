#include "collection/operation.h"

#include "common/coding.h"
#include "common/id_coding.h"

namespace mosaic::collection {

namespace {

void PutJson(std::string* dst, const Json& j) {
  std::vector<uint8_t> bytes = Json::to_msgpack(j);
  PutLengthPrefixed(dst, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

bool GetJson(Decoder* d, Json* j) {
  std::string_view s;
  if (!d->GetLengthPrefixed(&s)) return false;
  *j = Json::from_msgpack(s, true, /*allow_exceptions=*/false);
  return !j->is_discarded();
}

}  // namespace

std::string EncodeOperation(const Operation& op) {
  std::string out;
  PutFixed64(&out, op.lsn);
  switch (op.type) {
    case OpType::kReplace:
      PutVarint64(&out, op.ids.size());
      for (const auto& id : op.ids) PutPointId(&out, id);
      [[fallthrough]];
    case OpType::kUpsert:
      PutVarint64(&out, op.points.size());
      for (const auto& p : op.points) {
        PutPointId(&out, p.id);
        PutVarint64(&out, p.vectors.size());
        for (const auto& [pos, values] : p.vectors) {
          PutVarint64(&out, pos);
          PutVarint64(&out, values.size());
          out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
        }
        PutJson(&out, p.payload);
      }
      break;
    case OpType::kDelete:
    case OpType::kSetPayload:
    case OpType::kOverwritePayload:
    case OpType::kDeletePayloadKeys:
      PutVarint64(&out, op.ids.size());
      for (const auto& id : op.ids) PutPointId(&out, id);
      if (op.type == OpType::kSetPayload || op.type == OpType::kOverwritePayload)
        PutJson(&out, op.payload);
      if (op.type == OpType::kDeletePayloadKeys) {
        PutVarint64(&out, op.keys.size());
        for (const auto& k : op.keys) PutLengthPrefixed(&out, k);
      }
      break;
  }
  return out;
}

void SetEncodedLsn(std::string* data, uint64_t lsn) { EncodeFixed64(data->data(), lsn); }

Result<Operation> DecodeOperation(uint8_t type, std::string_view data,
                                  const std::vector<uint32_t>& dims) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption("WAL record of type " + std::to_string(type) + ": " + what);
  };
  if (type < 1 || type > 6) return bad("unknown record type");
  Operation op;
  op.type = static_cast<OpType>(type);
  Decoder d(data);
  if (!d.GetFixed64(&op.lsn)) return bad("truncated");
  uint64_t n;
  if (!d.GetVarint64(&n) || n > data.size()) return bad("bad count");
  if (op.type == OpType::kReplace) {
    op.ids.resize(n);
    for (auto& id : op.ids)
      if (!GetPointId(&d, &id)) return bad("bad id");
    if (!d.GetVarint64(&n) || n > data.size()) return bad("bad count");
  }
  if (op.type == OpType::kUpsert || op.type == OpType::kReplace) {
    op.points.resize(n);
    for (auto& p : op.points) {
      uint64_t nv;
      if (!GetPointId(&d, &p.id) || !d.GetVarint64(&nv) || nv > dims.size())
        return bad("bad point");
      for (uint64_t v = 0; v < nv; ++v) {
        uint64_t pos, dim;
        std::string_view raw;
        if (!d.GetVarint64(&pos) || pos >= dims.size() || !d.GetVarint64(&dim) ||
            dim != dims[pos] || !d.GetBytes(dim * sizeof(float), &raw))
          return bad("vector does not match the schema");
        std::vector<float> values(dim);
        std::memcpy(values.data(), raw.data(), raw.size());
        p.vectors.emplace_back(static_cast<uint32_t>(pos), std::move(values));
      }
      if (!GetJson(&d, &p.payload)) return bad("bad payload");
    }
  } else {
    op.ids.resize(n);
    for (auto& id : op.ids)
      if (!GetPointId(&d, &id)) return bad("bad id");
    if ((op.type == OpType::kSetPayload || op.type == OpType::kOverwritePayload) &&
        !GetJson(&d, &op.payload))
      return bad("bad payload");
    if (op.type == OpType::kDeletePayloadKeys) {
      uint64_t nk;
      if (!d.GetVarint64(&nk) || nk > data.size()) return bad("bad key count");
      for (uint64_t k = 0; k < nk; ++k) {
        std::string_view key;
        if (!d.GetLengthPrefixed(&key)) return bad("bad key");
        op.keys.emplace_back(key);
      }
    }
  }
  if (!d.empty()) return bad(std::to_string(d.remaining()) + " trailing bytes");
  return op;
}

}  // namespace mosaic::collection
