// Little-endian fixed-width and varint encoding for on-disk formats. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mosaic {

inline void PutFixed32(std::string* dst, uint32_t v) { dst->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutFixed64(std::string* dst, uint64_t v) { dst->append(reinterpret_cast<const char*>(&v), 8); }
inline uint32_t DecodeFixed32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t DecodeFixed64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline void EncodeFixed32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void EncodeFixed64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }

inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}
inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

// A cursor over encoded bytes; every Get* returns false (and stops) on truncated input.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool GetFixed32(uint32_t* v) { return GetRaw(v, 4); }
  bool GetFixed64(uint64_t* v) { return GetRaw(v, 8); }
  bool GetByte(uint8_t* v) { return GetRaw(v, 1); }
  bool GetVarint64(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift <= 63 && !in_.empty(); shift += 7) {
      uint8_t b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      r |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool GetBytes(size_t n, std::string_view* out) {
    if (in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool GetLengthPrefixed(std::string_view* out) {
    uint64_t n;
    return GetVarint64(&n) && GetBytes(n, out);
  }
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  bool GetRaw(void* v, size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(v, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

}  // namespace mosaic
