// Save and Load of HnswIndex: the file layout is specified in docs/hnsw_format.md; keep the two
// in step (a layout change bumps kFormatVersion).
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "index/hnsw/hnsw_index.h"

namespace mosaic::index {

namespace {

constexpr char kMagic[8] = {'M', 'O', 'S', 'H', 'N', 'S', 'W', '\0'};
// Version 2 added the SQ8 section and the rerank factor; version-1 files (no SQ8) still load.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kOldestVersion = 1;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kFooterBytes = 4;
constexpr int kMaxLevel = 32;

// The header's fields at their byte offsets (all little-endian).
namespace off {
constexpr size_t kVersion = 8;
constexpr size_t kDim = 12;
constexpr size_t kMetric = 16;
constexpr size_t kFlags = 17;
constexpr size_t kRerankFactor = 18;
constexpr size_t kM = 20;
constexpr size_t kEfConstruction = 24;
constexpr size_t kEfSearch = 28;
constexpr size_t kSeed = 32;
constexpr size_t kCapacity = 40;
constexpr size_t kEntry = 44;
constexpr size_t kMaxLevelField = 48;
constexpr size_t kNumPresent = 52;
constexpr size_t kBodyBytes = 56;
}  // namespace off

constexpr uint8_t kFlagKeepPruned = 1;
constexpr uint8_t kFlagSq8 = 2;

size_t Pad4(size_t n) { return (n + 3) & ~size_t{3}; }

// Hands the bytes put to it to a sink in pieces of about kPiece, with their running CRC-32C.
class PieceWriter {
 public:
  explicit PieceWriter(const ByteSink& sink) : sink_(sink) { buf_.reserve(kPiece); }

  void Put(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0 && status_.ok()) {
      const size_t take = std::min(n, kPiece - buf_.size());
      buf_.append(c, take);
      c += take;
      n -= take;
      if (buf_.size() == kPiece) Flush();
    }
  }
  void Put32(uint32_t v) {
    char b[4];
    EncodeFixed32(b, v);
    Put(b, 4);
  }
  void Put64(uint64_t v) {
    char b[8];
    EncodeFixed64(b, v);
    Put(b, 8);
  }
  void Zeros(size_t n) {
    static constexpr char kZeros[8] = {};
    for (; n > 0; n -= std::min<size_t>(n, 8)) Put(kZeros, std::min<size_t>(n, 8));
  }
  // The footer (the masked CRC of everything before it), then the last piece.
  Status Finish() {
    Flush();
    Put32(crc32c::Mask(crc_));  // not part of the CRC: Flush is not called again
    if (status_.ok()) status_ = sink_(buf_);
    buf_.clear();
    return status_;
  }

 private:
  static constexpr size_t kPiece = 1 << 20;
  void Flush() {
    if (!status_.ok() || buf_.empty()) return;
    crc_ = crc32c::Extend(crc_, buf_.data(), buf_.size());
    status_ = sink_(buf_);
    buf_.clear();
  }
  const ByteSink& sink_;
  std::string buf_;
  uint32_t crc_ = 0;
  Status status_;
};

}  // namespace

Status HnswIndex::Save(Env* env, const std::string& path) const {
  return WriteFileAtomically(env, path, [&](const ByteSink& sink) { return SerializeTo(sink); })
      .WithContext("saving HNSW index " + path);
}

std::string HnswIndex::Serialize() const {
  std::string data;
  SerializeTo([&](std::string_view piece) {
    data.append(piece);
    return Status::OK();
  }).ok();  // this sink never fails
  return data;
}

Status HnswIndex::SerializeTo(const ByteSink& sink) const {
  PieceWriter out(sink);
  // Exclusive on update_mu_ waits for Adds in flight, so no list is half-written.
  std::unique_lock<std::shared_mutex> update(update_mu_);
  std::shared_lock<std::shared_mutex> lock(structure_mu_);
  // Trailing never-used slots are not written: capacity in the file is the highest slot + 1.
  uint32_t capacity = 0;
  for (size_t slot = capacity_; slot > 0; --slot) {
    if (Level(static_cast<uint32_t>(slot - 1)) >= 0) {
      capacity = static_cast<uint32_t>(slot);
      break;
    }
  }
  const size_t removed_words = (capacity + 63) / 64;
  size_t upper_words = 0;
  uint32_t present = 0;
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    int level = Level(slot);
    if (level >= 0) ++present;
    if (level > 0) upper_words += static_cast<size_t>(level) * stride_up_;
  }
  const std::string codec =
      sq8_trained_.load(std::memory_order_acquire) ? codec_.Serialize() : std::string();
  const size_t code_bytes = codec.empty() ? 0 : Pad4(static_cast<size_t>(capacity) * code_size_);
  const size_t graph = Pad4(capacity) + removed_words * 8 +
                       (static_cast<size_t>(capacity) * stride0_ + upper_words) * 4;
  const size_t body = graph + (params_.sq8 ? 4 + Pad4(codec.size()) + code_bytes : 0);
  char h[kHeaderBytes] = {};
  std::memcpy(h, kMagic, sizeof(kMagic));
  EncodeFixed32(h + off::kVersion, kFormatVersion);
  EncodeFixed32(h + off::kDim, dim_);
  h[off::kMetric] = static_cast<char>(metric_);
  h[off::kFlags] = static_cast<char>((params_.keep_pruned_connections ? kFlagKeepPruned : 0) |
                                     (params_.sq8 ? kFlagSq8 : 0));
  const uint32_t rerank = std::min<uint32_t>(params_.rerank_factor, 65535);
  h[off::kRerankFactor] = static_cast<char>(rerank & 0xff);
  h[off::kRerankFactor + 1] = static_cast<char>(rerank >> 8);
  EncodeFixed32(h + off::kM, params_.M);
  EncodeFixed32(h + off::kEfConstruction, params_.ef_construction);
  EncodeFixed32(h + off::kEfSearch, params_.ef_search);
  EncodeFixed64(h + off::kSeed, params_.seed);
  EncodeFixed32(h + off::kCapacity, capacity);
  uint64_t e = entry_.load(std::memory_order_acquire);
  EncodeFixed32(h + off::kEntry, e == 0 ? kNoEntry : static_cast<uint32_t>(e));
  EncodeFixed32(h + off::kMaxLevelField, static_cast<uint32_t>(static_cast<int>(e >> 32) - 1));
  EncodeFixed32(h + off::kNumPresent, present);
  EncodeFixed64(h + off::kBodyBytes, body);
  out.Put(h, kHeaderBytes);

  for (uint32_t slot = 0; slot < capacity; ++slot) {
    const char level = static_cast<char>(Level(slot));
    out.Put(&level, 1);
  }
  out.Zeros(Pad4(capacity) - capacity);
  for (size_t w = 0; w < removed_words; ++w) {
    uint64_t bits = std::atomic_ref<uint64_t>(removed_[w]).load(std::memory_order_relaxed);
    if (w + 1 == removed_words && capacity % 64 != 0) bits &= (uint64_t{1} << (capacity % 64)) - 1;
    out.Put64(bits);
  }
  std::vector<char> words(size_t{std::max(stride0_, stride_up_)} * 4);
  auto put_list = [&](const uint32_t* list, uint32_t stride) {
    for (uint32_t i = 0; i < stride; ++i)
      EncodeFixed32(words.data() + size_t{i} * 4,
                    std::atomic_ref<uint32_t>(const_cast<uint32_t&>(list[i]))
                        .load(std::memory_order_acquire));
    out.Put(words.data(), size_t{stride} * 4);
  };
  for (uint32_t slot = 0; slot < capacity; ++slot) put_list(Links(slot, 0), stride0_);
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    for (int layer = 1; layer <= Level(slot); ++layer) put_list(Links(slot, layer), stride_up_);
  }
  if (params_.sq8) {
    out.Put32(static_cast<uint32_t>(codec.size()));
    out.Put(codec.data(), codec.size());
    out.Zeros(Pad4(codec.size()) - codec.size());
    if (!codec.empty()) {
      out.Put(codes_, static_cast<size_t>(capacity) * code_size_);
      out.Zeros(code_bytes - static_cast<size_t>(capacity) * code_size_);
    }
  }
  return out.Finish();
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(Env* env, const std::string& path,
                                                   const VectorRows* rows) {
  // Mapped, and kept: the lists and codes are read where they lie (HnswIndex::file_).
  MOSAIC_ASSIGN_OR_RETURN(std::shared_ptr<const FileView> file, env->OpenFileView(path, true));
  const char* data = file->data().data();
  const uint64_t size = file->data().size();
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("HNSW index " + path + ": " + what);
  };
  if (size < kHeaderBytes + kFooterBytes) {
    return corrupt("file is " + std::to_string(size) + " bytes, shorter than its " +
                   std::to_string(kHeaderBytes + kFooterBytes) + "-byte header and footer");
  }
  if (std::memcmp(data, kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic (not an HNSW index)");
  const uint32_t version = DecodeFixed32(data + off::kVersion);
  if (version < kOldestVersion || version > kFormatVersion) {
    return Status::InvalidArgument("HNSW index " + path + " has format version " +
                                   std::to_string(version) + ", this build reads versions " +
                                   std::to_string(kOldestVersion) + " to " +
                                   std::to_string(kFormatVersion));
  }
  const uint64_t body = DecodeFixed64(data + off::kBodyBytes);
  if (body != size - kHeaderBytes - kFooterBytes) {
    return corrupt("header says " + std::to_string(body) + " body bytes, file holds " +
                   std::to_string(size - kHeaderBytes - kFooterBytes) + " (truncated?)");
  }
  const size_t crc_end = size - kFooterBytes;
  const uint32_t stored = crc32c::Unmask(DecodeFixed32(data + crc_end));
  const uint32_t actual = crc32c::Value(data, crc_end);
  if (stored != actual) return corrupt("checksum mismatch");

  // The checksum passed, so what follows guards against a writer bug or a hand-made file: every
  // count and id is checked before the graph is navigated.
  const uint32_t dim = DecodeFixed32(data + off::kDim);
  const uint8_t metric_byte = static_cast<uint8_t>(data[off::kMetric]);
  HnswParams params;
  params.M = DecodeFixed32(data + off::kM);
  params.ef_construction = DecodeFixed32(data + off::kEfConstruction);
  params.ef_search = DecodeFixed32(data + off::kEfSearch);
  params.seed = DecodeFixed64(data + off::kSeed);
  params.keep_pruned_connections = (data[off::kFlags] & kFlagKeepPruned) != 0;
  params.sq8 = (data[off::kFlags] & kFlagSq8) != 0;
  if (version >= 2) {
    const auto* r = reinterpret_cast<const uint8_t*>(data + off::kRerankFactor);
    params.rerank_factor = std::max<uint32_t>(r[0] | uint32_t{r[1]} << 8, 1);
  }
  if (params.sq8 && version < 2) return corrupt("SQ8 flag in a version-1 file");
  if (dim == 0) return corrupt("dim is 0");
  if (metric_byte > static_cast<uint8_t>(Metric::kInnerProduct)) {
    return corrupt("unknown metric " + std::to_string(metric_byte));
  }
  if (params.M < 2 || params.M > 255) return corrupt("M is " + std::to_string(params.M));
  const uint32_t capacity = DecodeFixed32(data + off::kCapacity);
  const uint32_t entry = DecodeFixed32(data + off::kEntry);
  const int max_level = static_cast<int>(DecodeFixed32(data + off::kMaxLevelField));
  const uint32_t num_present = DecodeFixed32(data + off::kNumPresent);

  auto index = std::make_unique<HnswIndex>(dim, static_cast<Metric>(metric_byte), params, rows);
  const uint32_t stride0 = index->stride0_, stride_up = index->stride_up_;
  const size_t removed_words = (static_cast<size_t>(capacity) + 63) / 64;
  const size_t fixed = Pad4(capacity) + removed_words * 8 + static_cast<size_t>(capacity) * stride0 * 4;
  if (body < fixed) return corrupt("body too short for " + std::to_string(capacity) + " slots");

  const char* p = data + kHeaderBytes;
  const int8_t* levels = reinterpret_cast<const int8_t*>(p);
  size_t upper_words = 0;
  uint32_t present = 0;
  int top = -1;
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    int level = levels[slot];
    if (level < -1 || level > kMaxLevel) {
      return corrupt("slot " + std::to_string(slot) + " has level " + std::to_string(level));
    }
    if (level >= 0) ++present;
    if (level > 0) upper_words += static_cast<size_t>(level) * stride_up;
    top = std::max(top, level);
  }
  const size_t graph = fixed + upper_words * 4;
  if (params.sq8 ? body < graph + 4 : body != graph) {
    return corrupt("body is " + std::to_string(body) + " bytes, levels imply " +
                   std::to_string(graph) + (params.sq8 ? " plus the SQ8 section" : ""));
  }
  // SQ8 section: codec length, codec, then one code per slot when the codec is trained.
  const uint8_t* codes = nullptr;
  if (params.sq8) {
    const char* q = data + kHeaderBytes + graph;
    const uint32_t codec_size = DecodeFixed32(q);
    // The codes' size comes from the codec (dim bytes each, fewer when it projects).
    size_t code_size = dim;
    if (codec_size != 0) {
      if (body - graph - 4 < Pad4(codec_size)) {
        return corrupt("SQ8 section of " + std::to_string(body - graph) +
                       " bytes does not hold a " + std::to_string(codec_size) + "-byte codec");
      }
      Result<Sq8Codec> codec = Sq8Codec::Deserialize(std::string_view(q + 4, codec_size));
      if (!codec.ok()) return corrupt(codec.status().message());
      if (codec->dim() != dim) {
        return corrupt("SQ8 codec has dim " + std::to_string(codec->dim()) + ", index " +
                       std::to_string(dim));
      }
      code_size = codec->code_size();
      index->SetCodec(*codec);
    }
    const size_t code_bytes =
        codec_size == 0 ? 0 : Pad4(static_cast<size_t>(capacity) * code_size);
    if (body != graph + 4 + Pad4(codec_size) + code_bytes) {
      return corrupt("SQ8 section of " + std::to_string(body - graph) + " bytes does not hold a " +
                     std::to_string(codec_size) + "-byte codec and " +
                     std::to_string(capacity) + " codes");
    }
    if (codec_size == 0) {
      if (capacity != 0) return corrupt("SQ8 graph without a trained codec");
    } else {
      codes = reinterpret_cast<const uint8_t*>(q + 4 + Pad4(codec_size));
    }
  }
  if (present != num_present) {
    return corrupt("header counts " + std::to_string(num_present) + " nodes, levels hold " +
                   std::to_string(present));
  }
  if (present == 0 ? entry != kNoEntry
                   : (entry >= capacity || levels[entry] != max_level || max_level != top)) {
    return corrupt("bad entry point " + std::to_string(entry) + " at level " +
                   std::to_string(max_level));
  }
  if (capacity == 0) return index;

  // The small per-slot arrays are the heap's; the lists and the codes stay in the file.
  index->capacity_ = capacity;
  index->levels_ = std::make_unique_for_overwrite<int8_t[]>(capacity);
  std::memcpy(index->levels_.get(), levels, capacity);
  index->upper_ = std::make_unique<uint32_t*[]>(capacity);
  index->locks_ = std::make_unique<std::atomic<uint8_t>[]>(capacity);
  index->removed_ = std::make_unique<uint64_t[]>(removed_words);
  index->in_links_ = std::make_unique<uint32_t[]>(capacity);
  index->file_ = file;
  p += Pad4(capacity);
  size_t removed = 0;
  for (size_t w = 0; w < removed_words; ++w, p += 8) {
    uint64_t bits = DecodeFixed64(p);
    for (uint64_t b = bits; b != 0; b &= b - 1) {
      uint32_t slot = static_cast<uint32_t>(w * 64 + std::countr_zero(b));
      if (slot >= capacity || levels[slot] < 0) {
        return corrupt("tombstone on absent slot " + std::to_string(slot));
      }
      ++removed;
    }
    index->removed_[w] = bits;
  }
  // Lists are read as u32 arrays in place: 4-byte aligned by the layout (the file itself starts
  // on a page, or a heap buffer).
  if (reinterpret_cast<uintptr_t>(p) % alignof(uint32_t) != 0) return corrupt("lists misaligned");
  index->links0_ = const_cast<uint32_t*>(reinterpret_cast<const uint32_t*>(p));
  // Checks one list in place: its count, and that each link names a node on that layer.
  auto check_list = [&](uint32_t stride, int layer, uint32_t slot) -> Status {
    const uint32_t* list = reinterpret_cast<const uint32_t*>(p);
    p += static_cast<size_t>(stride) * 4;
    if (list[0] > stride - 1) {
      return corrupt("slot " + std::to_string(slot) + " has " + std::to_string(list[0]) +
                     " links on layer " + std::to_string(layer));
    }
    for (uint32_t i = 1; i <= list[0]; ++i) {
      if (list[i] >= capacity || levels[list[i]] < layer) {
        return corrupt("slot " + std::to_string(slot) + " links to " + std::to_string(list[i]) +
                       ", not a node on layer " + std::to_string(layer));
      }
    }
    return Status::OK();
  };
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    const uint32_t count = reinterpret_cast<const uint32_t*>(p)[0];
    MOSAIC_RETURN_IF_ERROR(check_list(stride0, 0, slot));
    if (levels[slot] < 0 && count != 0) {
      return corrupt("absent slot " + std::to_string(slot) + " has links");
    }
  }
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    if (levels[slot] <= 0) continue;
    const size_t words = static_cast<size_t>(levels[slot]) * stride_up;
    index->upper_[slot] = const_cast<uint32_t*>(reinterpret_cast<const uint32_t*>(p));
    index->upper_words_ += words;
    for (int layer = 1; layer <= levels[slot]; ++layer) {
      MOSAIC_RETURN_IF_ERROR(check_list(stride_up, layer, slot));
    }
  }
  if (codes != nullptr) {
    index->codes_ = const_cast<uint8_t*>(codes);
    if (index->CodeNormsNeeded()) {
      index->code_norms_ = std::make_unique_for_overwrite<float[]>(capacity);
      for (uint32_t slot = 0; slot < capacity; ++slot)
        index->code_norms_[slot] = index->codec_.CodeNorm(index->Code(slot));
    }
  }
  if (present > 0) {
    index->entry_.store((static_cast<uint64_t>(max_level) + 1) << 32 | entry);
  }
  index->num_present_.store(present);
  index->num_removed_.store(removed);
  index->CountInLinks();
  MOSAIC_RETURN_IF_ERROR(file->CheckReadable());
  return index;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(Env* env, const std::string& path,
                                                   uint32_t dim, Metric metric,
                                                   const HnswParams& params,
                                                   const VectorRows* rows, bool any_sq8) {
  MOSAIC_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> index, Load(env, path, rows));
  // The parameters are compared as the constructor stores them (clamped).
  HnswParams want = HnswIndex(dim, metric, params, rows).params();
  const HnswParams& got = index->params_;
  if (any_sq8) want.sq8 = got.sq8;
  if (index->dim_ != dim || index->metric_ != metric || got.M != want.M ||
      got.ef_construction != want.ef_construction || got.sq8 != want.sq8) {
    auto describe = [](uint32_t d, Metric m, const HnswParams& p) {
      return "dim " + std::to_string(d) + ", metric " + MetricName(m) + ", M " +
             std::to_string(p.M) + ", ef_construction " + std::to_string(p.ef_construction) +
             (p.sq8 ? ", SQ8" : "");
    };
    return Status::InvalidArgument("HNSW index " + path + " was built for " +
                                   describe(index->dim_, index->metric_, got) + "; expected " +
                                   describe(dim, metric, want));
  }
  index->params_.ef_search = std::max<uint32_t>(params.ef_search, 1);
  index->params_.rerank_factor = std::max<uint32_t>(params.rerank_factor, 1);
  // How later Adds build is not in the file (the graph reads the same either way).
  index->params_.build_on_codes = params.build_on_codes;
  index->params_.build_rescore = params.build_rescore;
  return index;
}

}  // namespace mosaic::index
