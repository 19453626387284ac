#include "storage/segment.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/id_coding.h"

namespace mosaic::storage {
namespace {

// Section kinds; presence/vectors of named vector v are kPresence + 2v and kVectors + 2v, its
// graph (version 2) kGraph + v.
constexpr uint32_t kMeta = 1;
constexpr uint32_t kIds = 2;
constexpr uint32_t kPayloadOffsets = 3;
constexpr uint32_t kPayloads = 4;
constexpr uint32_t kPresence = 16;
constexpr uint32_t kVectors = 17;
constexpr uint32_t kGraph = 0x10000;
constexpr uint32_t kGraphEnd = 0x20000;

bool IsGraph(uint32_t kind) { return kind >= kGraph && kind < kGraphEnd; }

constexpr size_t kHeaderSize = 64;
constexpr size_t kTableEntrySize = 32;
constexpr size_t kFooterSize = 32;
constexpr size_t kAlign = 64;

// Buffers appends and keeps the running CRC of the current section.
class SectionWriter {
 public:
  explicit SectionWriter(WritableFile* file) : file_(file) {}

  void Begin(uint32_t kind) {
    kind_ = kind;
    start_ = offset_;
    crc_ = 0;
  }
  Status Add(std::string_view data) {
    crc_ = crc32c::Extend(crc_, data.data(), data.size());
    return Raw(data);
  }
  // Ends the section and pads the file to the next aligned offset.
  Status End() {
    table_.push_back({kind_, start_, offset_ - start_, crc_});
    size_t pad = (kAlign - offset_ % kAlign) % kAlign;
    return Raw(std::string(pad, '\0'));
  }
  Status Raw(std::string_view data) {
    offset_ += data.size();
    if (data.size() >= kBufBytes) {  // a whole section: not copied through the buffer
      MOSAIC_RETURN_IF_ERROR(FlushBuf());
      return file_->Append(data);
    }
    buf_.append(data);
    if (buf_.size() >= kBufBytes) return FlushBuf();
    return Status::OK();
  }
  Status Section(uint32_t kind, std::string_view data) {
    Begin(kind);
    MOSAIC_RETURN_IF_ERROR(Add(data));
    return End();
  }
  Status FlushBuf() {
    Status s = file_->Append(buf_);
    buf_.clear();
    return s;
  }
  Status Header(uint32_t version) {
    std::string header(kSegmentMagic, 8);
    PutFixed32(&header, version);
    header.resize(kHeaderSize, '\0');
    return Raw(header);
  }
  Status Finish(uint32_t version) {
    uint64_t table_offset = offset_;
    std::string table;
    for (const auto& e : table_) {
      PutFixed32(&table, e.kind);
      PutFixed32(&table, 0);
      PutFixed64(&table, e.offset);
      PutFixed64(&table, e.length);
      PutFixed32(&table, crc32c::Mask(e.crc));
      PutFixed32(&table, 0);
    }
    MOSAIC_RETURN_IF_ERROR(Raw(table));
    std::string footer;
    PutFixed64(&footer, table_offset);
    PutFixed32(&footer, static_cast<uint32_t>(table_.size()));
    PutFixed32(&footer, crc32c::Mask(crc32c::Value(table)));
    PutFixed32(&footer, version);
    PutFixed32(&footer, 0);
    footer.append(kSegmentMagic, 8);
    MOSAIC_RETURN_IF_ERROR(Raw(footer));
    return FlushBuf();
  }

 private:
  static constexpr size_t kBufBytes = size_t{1} << 20;
  struct Entry {
    uint32_t kind;
    uint64_t offset, length;
    uint32_t crc;
  };
  WritableFile* file_;
  std::string buf_;
  uint64_t offset_ = 0, start_ = 0;
  uint32_t kind_ = 0, crc_ = 0;
  std::vector<Entry> table_;
};

}  // namespace

Status WriteSegment(Env* env, const std::string& path, const SegmentContents& c) {
  const bool has_graphs =
      std::any_of(c.graphs.begin(), c.graphs.end(), [](const auto& g) { return !g.empty(); });
  if (c.graphs.size() > c.dims.size() || c.dims.size() > kGraphEnd - kGraph)
    return Status::InvalidArgument("segment " + path + ": " + std::to_string(c.graphs.size()) +
                                   " graphs for " + std::to_string(c.dims.size()) + " vectors");
  const uint32_t version = has_graphs ? kSegmentVersion : kOldestSegmentVersion;
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  SectionWriter w(file.get());
  MOSAIC_RETURN_IF_ERROR(w.Header(version));

  Json meta = c.meta;
  meta["num_points"] = c.num_points;
  meta["last_lsn"] = c.last_lsn;
  meta["dims"] = c.dims;
  w.Begin(kMeta);
  MOSAIC_RETURN_IF_ERROR(w.Add(meta.dump()));
  MOSAIC_RETURN_IF_ERROR(w.End());

  w.Begin(kIds);
  std::string chunk;
  for (size_t i = 0; i < c.num_points; ++i) {
    PutPointId(&chunk, c.id(i));
    if (chunk.size() >= (1u << 16)) {
      MOSAIC_RETURN_IF_ERROR(w.Add(chunk));
      chunk.clear();
    }
  }
  MOSAIC_RETURN_IF_ERROR(w.Add(chunk));
  MOSAIC_RETURN_IF_ERROR(w.End());

  // Payloads as MessagePack, with an offset table for random access.
  std::string blob;
  std::string offsets;
  PutFixed64(&offsets, 0);
  for (size_t i = 0; i < c.num_points; ++i) {
    Json::to_msgpack(c.payload(i), blob);
    PutFixed64(&offsets, blob.size());
  }
  w.Begin(kPayloadOffsets);
  MOSAIC_RETURN_IF_ERROR(w.Add(offsets));
  MOSAIC_RETURN_IF_ERROR(w.End());
  w.Begin(kPayloads);
  MOSAIC_RETURN_IF_ERROR(w.Add(blob));
  MOSAIC_RETURN_IF_ERROR(w.End());

  for (size_t v = 0; v < c.dims.size(); ++v) {
    std::vector<uint64_t> bits((c.num_points + 63) / 64, 0);
    for (size_t i = 0; i < c.num_points; ++i)
      if (c.vector(i, v) != nullptr) bits[i >> 6] |= uint64_t{1} << (i & 63);
    w.Begin(kPresence + 2 * static_cast<uint32_t>(v));
    MOSAIC_RETURN_IF_ERROR(
        w.Add({reinterpret_cast<const char*>(bits.data()), bits.size() * sizeof(uint64_t)}));
    MOSAIC_RETURN_IF_ERROR(w.End());

    w.Begin(kVectors + 2 * static_cast<uint32_t>(v));
    size_t row_bytes = size_t{c.dims[v]} * sizeof(float);
    const std::string zeros(row_bytes, '\0');
    for (size_t i = 0; i < c.num_points; ++i) {
      const float* row = c.vector(i, v);
      MOSAIC_RETURN_IF_ERROR(
          w.Add(row ? std::string_view(reinterpret_cast<const char*>(row), row_bytes) : zeros));
    }
    MOSAIC_RETURN_IF_ERROR(w.End());
  }
  // After the points, so that a reader of the points never has to skip over a graph.
  for (size_t v = 0; v < c.graphs.size(); ++v)
    if (!c.graphs[v].empty())
      MOSAIC_RETURN_IF_ERROR(w.Section(kGraph + static_cast<uint32_t>(v), c.graphs[v]));
  MOSAIC_RETURN_IF_ERROR(w.Finish(version));
  MOSAIC_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status Segment::WritePoints(Env* env, const std::string& path) const {
  MOSAIC_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  SectionWriter w(file.get());
  MOSAIC_RETURN_IF_ERROR(w.Header(kOldestSegmentVersion));
  MOSAIC_RETURN_IF_ERROR(w.Section(kMeta, meta_section_));
  MOSAIC_RETURN_IF_ERROR(w.Section(kIds, ids_));
  MOSAIC_RETURN_IF_ERROR(w.Section(
      kPayloadOffsets, {reinterpret_cast<const char*>(payload_offsets_), (num_points_ + 1) * 8}));
  MOSAIC_RETURN_IF_ERROR(w.Section(kPayloads, payloads_));
  for (size_t v = 0; v < dims_.size(); ++v) {
    const uint32_t k = 2 * static_cast<uint32_t>(v);
    MOSAIC_RETURN_IF_ERROR(w.Section(
        kPresence + k, {reinterpret_cast<const char*>(presence_[v]), (num_points_ + 63) / 64 * 8}));
    MOSAIC_RETURN_IF_ERROR(
        w.Section(kVectors + k, {reinterpret_cast<const char*>(vectors_[v]),
                                 num_points_ * dims_[v] * sizeof(float)}));
  }
  MOSAIC_RETURN_IF_ERROR(w.Finish(kOldestSegmentVersion));
  MOSAIC_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Result<std::string_view> Segment::graph(size_t v) const {
  if (!graphs_[v].damage.ok()) return graphs_[v].damage;
  return graphs_[v].data;
}

Result<std::unique_ptr<Segment>> Segment::Open(Env* env, const std::string& path, bool map) {
  std::unique_ptr<Segment> seg(new Segment());
  seg->path_ = path;
  MOSAIC_ASSIGN_OR_RETURN(seg->file_, env->OpenFileView(path, map));
  // The sections are read in place as u64 and f32 arrays: they sit at multiples of 64 bytes
  // from the start, and both a mapping and operator new align the buffer for both.
  const char* base = seg->file_->data().data();
  const uint64_t size = seg->file_->data().size();
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("segment " + path + ": " + what);
  };
  if (size < kHeaderSize + kFooterSize || std::memcmp(base, kSegmentMagic, 8) != 0)
    return corrupt("not a Mosaic segment (bad magic or " + std::to_string(size) + "-byte file)");
  const char* footer = base + size - kFooterSize;
  if (std::memcmp(footer + 24, kSegmentMagic, 8) != 0)
    return corrupt("footer magic missing (file truncated?)");
  const uint32_t version = DecodeFixed32(footer + 16);
  if (version < kOldestSegmentVersion || version > kSegmentVersion ||
      DecodeFixed32(base + 8) != version)
    return corrupt("unsupported version " + std::to_string(version) + " (this build reads " +
                   std::to_string(kOldestSegmentVersion) + " to " +
                   std::to_string(kSegmentVersion) + ")");
  seg->version_ = version;
  uint64_t table_offset = DecodeFixed64(footer);
  uint32_t num_sections = DecodeFixed32(footer + 8);
  if (table_offset > size - kFooterSize ||
      (size - kFooterSize - table_offset) != uint64_t{num_sections} * kTableEntrySize)
    return corrupt("section table out of bounds");
  std::string_view table(base + table_offset, uint64_t{num_sections} * kTableEntrySize);
  if (crc32c::Unmask(DecodeFixed32(footer + 12)) != crc32c::Value(table))
    return corrupt("section table checksum mismatch");

  std::map<uint32_t, std::string_view> sections;
  std::map<uint32_t, Status> damaged_graphs;
  for (uint32_t s = 0; s < num_sections; ++s) {
    const char* e = table.data() + s * kTableEntrySize;
    uint32_t kind = DecodeFixed32(e);
    uint64_t off = DecodeFixed64(e + 8), len = DecodeFixed64(e + 16);
    if (off < kHeaderSize || off > table_offset || len > table_offset - off)
      return corrupt("section " + std::to_string(kind) + " out of bounds");
    // The sections are read in place as u64 and f32 arrays.
    if (off % kAlign != 0)
      return corrupt("section " + std::to_string(kind) + " at offset " + std::to_string(off) +
                     " is not " + std::to_string(kAlign) + "-byte aligned");
    std::string_view data(base + off, len);
    if (IsGraph(kind) && version < 2)
      return corrupt("graph section " + std::to_string(kind) + " in a version-" +
                     std::to_string(version) + " file");
    if (crc32c::Unmask(DecodeFixed32(e + 24)) != crc32c::Value(data)) {
      Status damage = corrupt(
          "checksum mismatch in section " + std::to_string(kind) + " (" +
          (IsGraph(kind) ? "the graph of vector " + std::to_string(kind - kGraph) + ", " : "") +
          std::to_string(len) + " bytes at offset " + std::to_string(off) + ")");
      if (!IsGraph(kind)) return damage;
      damaged_graphs[kind] = damage;
    }
    sections[kind] = data;
  }
  for (uint32_t k : {kMeta, kIds, kPayloadOffsets, kPayloads})
    if (!sections.count(k)) return corrupt("missing section " + std::to_string(k));

  seg->meta_section_ = sections[kMeta];
  seg->meta_ = Json::parse(sections[kMeta], nullptr, /*allow_exceptions=*/false);
  const Json& m = seg->meta_;
  if (m.is_discarded() || !m.is_object() || !m.contains("num_points") ||
      !m["num_points"].is_number_unsigned() || !m.contains("dims") || !m["dims"].is_array() ||
      !m.contains("last_lsn") || !m["last_lsn"].is_number_unsigned())
    return corrupt("metadata is not valid");
  seg->num_points_ = m["num_points"].get<size_t>();
  seg->last_lsn_ = m["last_lsn"].get<uint64_t>();
  for (const auto& d : m["dims"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > UINT32_MAX)
      return corrupt("metadata has a bad dimension " + d.dump());
    seg->dims_.push_back(d.get<uint32_t>());
  }
  const size_t n = seg->num_points_;
  seg->ids_ = sections[kIds];
  // Sizes are compared by division: a huge num_points must not wrap (n + 1) * 8 around to the
  // size of a small section.
  const size_t offsets_size = sections[kPayloadOffsets].size();
  if (offsets_size < 8 || offsets_size % 8 != 0 || offsets_size / 8 - 1 != n)
    return corrupt("payload offset table has the wrong size");
  seg->payload_offsets_ = reinterpret_cast<const uint64_t*>(sections[kPayloadOffsets].data());
  seg->payloads_ = sections[kPayloads];
  if (seg->payload_offsets_[n] != seg->payloads_.size())
    return corrupt("payload offsets do not match the payload section");
  for (size_t v = 0; v < seg->dims_.size(); ++v) {
    auto p = sections.find(kPresence + 2 * static_cast<uint32_t>(v));
    auto x = sections.find(kVectors + 2 * static_cast<uint32_t>(v));
    if (p == sections.end() || x == sections.end())
      return corrupt("missing vector sections for vector " + std::to_string(v));
    const size_t row_bytes = size_t{seg->dims_[v]} * sizeof(float);
    if (p->second.size() != (n + 63) / 64 * 8 ||
        (row_bytes == 0 ? x->second.size() != 0
                        : x->second.size() % row_bytes != 0 || x->second.size() / row_bytes != n))
      return corrupt("vector sections for vector " + std::to_string(v) + " have the wrong size");
    seg->presence_.push_back(reinterpret_cast<const uint64_t*>(p->second.data()));
    seg->vectors_.push_back(reinterpret_cast<const float*>(x->second.data()));
  }
  seg->graphs_.resize(seg->dims_.size());
  for (auto it = sections.lower_bound(kGraph); it != sections.end() && IsGraph(it->first); ++it) {
    const uint32_t v = it->first - kGraph;
    if (v >= seg->dims_.size())
      return corrupt("graph section " + std::to_string(it->first) + " for vector " +
                     std::to_string(v) + ", but the segment has " +
                     std::to_string(seg->dims_.size()) + " vectors");
    seg->graphs_[v].data = it->second;
    if (auto d = damaged_graphs.find(it->first); d != damaged_graphs.end())
      seg->graphs_[v].damage = d->second;
  }
  MOSAIC_RETURN_IF_ERROR(seg->file_->CheckReadable());
  return seg;
}

Result<std::vector<PointId>> Segment::DecodeIds() const {
  std::vector<PointId> ids;
  ids.reserve(num_points_);
  Decoder d(ids_);
  for (size_t i = 0; i < num_points_; ++i) {
    PointId id;
    if (!GetPointId(&d, &id))
      return Status::Corruption("segment " + path_ + ": id " + std::to_string(i) + " is damaged");
    ids.push_back(std::move(id));
  }
  return ids;
}

Result<Json> Segment::DecodePayload(size_t i) const {
  uint64_t b = payload_offsets_[i], e = payload_offsets_[i + 1];
  if (b > e || e > payloads_.size())
    return Status::Corruption("segment " + path_ + ": payload " + std::to_string(i) +
                              " out of bounds");
  Json j = Json::from_msgpack(payloads_.substr(b, e - b), true, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Status::Corruption("segment " + path_ + ": payload " + std::to_string(i) +
                              " does not decode");
  return j;
}

}  // namespace mosaic::storage
