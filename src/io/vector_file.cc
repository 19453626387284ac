#include "io/vector_file.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace mosaic::io {

namespace {

// Guards against a corrupt header asking for absurd allocations.
constexpr uint64_t kMaxDim = uint64_t{1} << 24;

enum class Format { kFvecs, kIvecs, kBvecs, kIdx };

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<Format> FormatOf(const std::string& path) {
  std::string_view name = path;
  if (EndsWith(name, ".gz")) name.remove_suffix(3);
  if (EndsWith(name, ".fvecs")) return Format::kFvecs;
  if (EndsWith(name, ".ivecs")) return Format::kIvecs;
  if (EndsWith(name, ".bvecs")) return Format::kBvecs;
  if (EndsWith(name, ".idx") || EndsWith(name, "-ubyte") ||
      name.find("-idx") != std::string_view::npos) {
    return Format::kIdx;
  }
  return Status::InvalidArgument("'" + path +
                                 "': unknown vector file format (expected .fvecs, .ivecs, "
                                 ".bvecs or IDX, optionally .gz)");
}

// gzread reads plain files as-is, so one reader serves both plain and gzip-compressed input.
class GzReader {
 public:
  GzReader() = default;
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() {
    if (file_ != nullptr) gzclose(file_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      int err = errno;
      std::string msg =
          "cannot open '" + path + "': " + (err != 0 ? std::strerror(err) : "out of memory");
      return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
    }
    gzbuffer(file_, 256 << 10);
    return Status::OK();
  }

  // Reads up to n bytes; returns how many were read (fewer only at end of file).
  Result<size_t> Read(void* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      int got = gzread(file_, static_cast<char*>(dst) + done, chunk);
      if (got < 0) {
        int errnum = 0;
        const char* msg = gzerror(file_, &errnum);
        return Status::IOError(
            "'" + path_ + "': read failed: " + (errnum == Z_ERRNO ? std::strerror(errno) : msg));
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  // Reads exactly n bytes, or fails naming `what` and how much was missing.
  Status ReadExact(void* dst, size_t n, const std::string& what) {
    MOSAIC_ASSIGN_OR_RETURN(size_t got, Read(dst, n));
    if (got != n) {
      return Status::Corruption("'" + path_ + "': truncated " + what + " (expected " +
                                std::to_string(n) + " bytes, got " + std::to_string(got) + ")");
    }
    return Status::OK();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// TEXMEX layout: each record is a little-endian int32 dimension followed by that many
// components of `elem_size` bytes (float32, int32 or uint8).
Result<Matrix> ReadVecs(GzReader* in, Format format, size_t max_rows) {
  const size_t elem_size = format == Format::kBvecs ? 1 : 4;
  Matrix m;
  std::vector<unsigned char> record;
  while (m.rows < max_rows) {
    int32_t dim = 0;
    MOSAIC_ASSIGN_OR_RETURN(size_t got, in->Read(&dim, sizeof(dim)));
    if (got == 0) break;
    if (got != sizeof(dim)) {
      return Status::Corruption("'" + in->path() + "': truncated header of record " +
                                std::to_string(m.rows) + " (" + std::to_string(got) +
                                " of 4 bytes)");
    }
    if (dim <= 0 || static_cast<uint64_t>(dim) > kMaxDim) {
      return Status::Corruption("'" + in->path() + "': record " + std::to_string(m.rows) +
                                " has invalid dimension " + std::to_string(dim));
    }
    if (m.rows == 0) {
      m.dim = static_cast<size_t>(dim);
      record.resize(m.dim * elem_size);
    } else if (static_cast<size_t>(dim) != m.dim) {
      return Status::Corruption("'" + in->path() + "': record " + std::to_string(m.rows) +
                                " has dimension " + std::to_string(dim) +
                                ", earlier records have " + std::to_string(m.dim));
    }
    MOSAIC_ASSIGN_OR_RETURN(got, in->Read(record.data(), record.size()));
    if (got != record.size()) {
      return Status::Corruption("'" + in->path() + "': truncated record " + std::to_string(m.rows) +
                                " (expected " + std::to_string(record.size()) + " bytes, got " +
                                std::to_string(got) + ")");
    }
    size_t offset = m.data.size();
    m.data.resize(offset + m.dim);
    float* dst = m.data.data() + offset;
    if (format == Format::kFvecs) {
      std::memcpy(dst, record.data(), record.size());
    } else if (format == Format::kIvecs) {
      for (size_t i = 0; i < m.dim; ++i) {
        int32_t v;
        std::memcpy(&v, record.data() + i * 4, 4);
        dst[i] = static_cast<float>(v);
      }
    } else {
      for (size_t i = 0; i < m.dim; ++i)
        dst[i] = static_cast<float>(record[i]);
    }
    ++m.rows;
  }
  return m;
}

struct IdxHeader {
  std::vector<uint32_t> shape;
};

// IDX: big-endian magic 0x0000TTNN (TT element type, NN number of dimensions), then NN
// big-endian uint32 sizes, then the elements. Only unsigned bytes (TT = 0x08) are used by the
// MNIST family, so only they are accepted.
Result<IdxHeader> ReadIdxHeader(GzReader* in, uint32_t expected_magic) {
  unsigned char magic_bytes[4];
  MOSAIC_RETURN_IF_ERROR(in->ReadExact(magic_bytes, 4, "IDX header"));
  uint32_t magic = BigEndian32(magic_bytes);
  bool ok = expected_magic != 0 ? magic == expected_magic
                                : (magic & 0xffffff00u) == 0x00000800u && (magic & 0xffu) != 0;
  if (!ok) {
    std::string expected =
        expected_magic != 0 ? Hex32(expected_magic) : std::string("0x000008NN (unsigned bytes)");
    return Status::Corruption("'" + in->path() + "': bad IDX magic " + Hex32(magic) +
                              " (expected " + expected + ")");
  }
  IdxHeader h;
  h.shape.resize(magic & 0xffu);
  for (uint32_t& size : h.shape) {
    unsigned char b[4];
    MOSAIC_RETURN_IF_ERROR(in->ReadExact(b, 4, "IDX header"));
    size = BigEndian32(b);
  }
  return h;
}

// Reads `items` items of `item_size` bytes in bounded chunks, so a corrupt header promising
// billions of items fails on the truncated data instead of on one huge allocation.
Result<std::vector<unsigned char>> ReadIdxItems(GzReader* in, size_t items, size_t item_size,
                                                uint32_t promised) {
  const size_t chunk_items = std::max<size_t>(1, (size_t{16} << 20) / item_size);
  std::vector<unsigned char> bytes;
  for (size_t done = 0; done < items;) {
    size_t n = std::min(chunk_items, items - done);
    size_t offset = bytes.size();
    bytes.resize(offset + n * item_size);
    MOSAIC_RETURN_IF_ERROR(in->ReadExact(bytes.data() + offset, n * item_size,
                                         "IDX data at item " + std::to_string(done) +
                                             " (header promises " + std::to_string(promised) +
                                             " items of " + std::to_string(item_size) + " bytes)"));
    done += n;
  }
  return bytes;
}

Result<Matrix> ReadIdx(GzReader* in, size_t max_rows) {
  MOSAIC_ASSIGN_OR_RETURN(IdxHeader h, ReadIdxHeader(in, 0));
  uint64_t dim = 1;
  for (size_t i = 1; i < h.shape.size(); ++i) {
    dim *= h.shape[i];
    if (dim > kMaxDim) {
      return Status::Corruption("'" + in->path() + "': IDX item size exceeds " +
                                std::to_string(kMaxDim) + " elements");
    }
  }
  if (dim == 0) return Status::Corruption("'" + in->path() + "': IDX items have size 0");
  Matrix m;
  m.dim = static_cast<size_t>(dim);
  m.rows = std::min<size_t>(h.shape[0], max_rows);
  MOSAIC_ASSIGN_OR_RETURN(std::vector<unsigned char> bytes,
                          ReadIdxItems(in, m.rows, m.dim, h.shape[0]));
  m.data.assign(bytes.begin(), bytes.end());
  return m;
}

}  // namespace

Result<Matrix> ReadVectorFile(const std::string& path, size_t max_rows) {
  MOSAIC_ASSIGN_OR_RETURN(Format format, FormatOf(path));
  GzReader in;
  MOSAIC_RETURN_IF_ERROR(in.Open(path));
  if (format == Format::kIdx) return ReadIdx(&in, max_rows);
  return ReadVecs(&in, format, max_rows);
}

Result<std::vector<int32_t>> ReadIdxLabels(const std::string& path) {
  GzReader in;
  MOSAIC_RETURN_IF_ERROR(in.Open(path));
  MOSAIC_ASSIGN_OR_RETURN(IdxHeader h, ReadIdxHeader(&in, 0x00000801u));
  MOSAIC_ASSIGN_OR_RETURN(std::vector<unsigned char> bytes,
                          ReadIdxItems(&in, h.shape[0], 1, h.shape[0]));
  return std::vector<int32_t>(bytes.begin(), bytes.end());
}

}  // namespace mosaic::io
