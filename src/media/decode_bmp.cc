// BMP, read directly: uncompressed (BI_RGB) 1/4/8-bit palette and 16/24/32-bit images, and
// BI_BITFIELDS 16/32-bit, bottom-up or top-down. Run-length and embedded JPEG/PNG variants are
// rare enough in photo collections to be refused.
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <string>

#include "media/image_codecs.h"

namespace mosaic::media::internal {

namespace {

uint32_t Le16(const uint8_t* p) {
  return p[0] | (p[1] << 8);
}
uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

constexpr uint32_t kBiRgb = 0, kBiBitfields = 3;

// A channel of a packed 16/32-bit pixel: its mask, shifted down and rescaled to 0..255.
struct MaskedChannel {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;

  explicit MaskedChannel(uint32_t m) : mask(m) {
    if (m == 0) return;
    shift = std::countr_zero(m);
    max = m >> shift;
  }
  uint8_t Get(uint32_t v) const {
    return max == 0 ? 0 : static_cast<uint8_t>((((v & mask) >> shift) * 255 + max / 2) / max);
  }
};

}  // namespace

Status ReadBmp(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out) {
  const uint8_t* b = bytes.data();
  size_t size = bytes.size();
  if (size < 26)
    return Status::Corruption("corrupt BMP: header is truncated (" + std::to_string(size) +
                              " bytes)");
  uint32_t data_offset = Le32(b + 10), dib_size = Le32(b + 14);
  int64_t width, height;
  uint32_t bpp, compression = kBiRgb, colors_used = 0;
  size_t palette_entry = 4;
  if (dib_size == 12) {  // OS/2 BITMAPCOREHEADER
    width = Le16(b + 18);
    height = Le16(b + 20);
    bpp = Le16(b + 24);
    palette_entry = 3;
  } else if (dib_size >= 40 && 14 + static_cast<uint64_t>(dib_size) <= size) {
    width = static_cast<int32_t>(Le32(b + 18));
    height = static_cast<int32_t>(Le32(b + 22));
    bpp = Le16(b + 28);
    compression = Le32(b + 30);
    colors_used = Le32(b + 46);
  } else {
    return Status::Corruption("corrupt BMP: unsupported or truncated header of " +
                              std::to_string(dib_size) + " bytes");
  }
  bool top_down = height < 0;
  height = std::llabs(height);
  if (width <= 0 || height <= 0 || width > (1 << 30) || height > (1 << 30))
    return Status::Corruption("corrupt BMP: invalid size " + std::to_string(width) + "x" +
                              std::to_string(height));
  header->width = static_cast<int>(width);
  header->height = static_cast<int>(height);
  if (out == nullptr) return Status::OK();
  MOSAIC_RETURN_IF_ERROR(CheckPixelLimit(width, height, options));

  bool palette = bpp == 1 || bpp == 4 || bpp == 8;
  bool packed = bpp == 16 || bpp == 32;
  if (!(compression == kBiRgb && (palette || packed || bpp == 24)) &&
      !(compression == kBiBitfields && packed))
    return Status::InvalidArgument("unsupported BMP variant: " + std::to_string(bpp) +
                                   " bits per pixel, compression " + std::to_string(compression));
  uint64_t stride = (static_cast<uint64_t>(width) * bpp + 31) / 32 * 4;
  if (data_offset > size || stride * height > size - data_offset)
    return Status::Corruption("corrupt BMP: pixel data is truncated (" +
                              std::to_string(stride * height) + " bytes needed at offset " +
                              std::to_string(data_offset) + ", file has " + std::to_string(size) +
                              ")");

  // Palette: after the header, at most 256 entries, never past the pixel data.
  std::vector<uint8_t> colors;  // RGB triples
  if (palette) {
    size_t first = 14 + dib_size;
    size_t n = colors_used != 0 && colors_used < (1u << bpp) ? colors_used : (1u << bpp);
    if (first < data_offset)
      n = std::min(n, (data_offset - first) / palette_entry);
    else
      n = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* e = b + first + i * palette_entry;  // B, G, R[, reserved]
      colors.insert(colors.end(), {e[2], e[1], e[0]});
    }
  }
  MaskedChannel red(bpp == 16 ? 0x7C00 : 0xFF0000), green(bpp == 16 ? 0x03E0 : 0xFF00),
      blue(bpp == 16 ? 0x001F : 0xFF);
  if (compression == kBiBitfields) {
    if (size < 66) return Status::Corruption("corrupt BMP: bit field masks are missing");
    red = MaskedChannel(Le32(b + 54));
    green = MaskedChannel(Le32(b + 58));
    blue = MaskedChannel(Le32(b + 62));
  }

  *out = Image(static_cast<int>(width), static_cast<int>(height));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* src = b + data_offset + stride * (top_down ? y : height - 1 - y);
    uint8_t* dst = out->row(static_cast<int>(y));
    for (int64_t x = 0; x < width; ++x, dst += 3) {
      if (palette) {
        uint64_t bit = static_cast<uint64_t>(x) * bpp;
        uint32_t i = (src[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
        if (3 * i + 2 < colors.size()) std::copy_n(&colors[3 * i], 3, dst);  // else stays black
      } else if (bpp == 24) {
        const uint8_t* p = src + 3 * x;
        dst[0] = p[2], dst[1] = p[1], dst[2] = p[0];
      } else {
        uint32_t v = bpp == 16 ? Le16(src + 2 * x) : Le32(src + 4 * x);
        dst[0] = red.Get(v), dst[1] = green.Get(v), dst[2] = blue.Get(v);
      }
    }
  }
  return Status::OK();
}

}  // namespace mosaic::media::internal
