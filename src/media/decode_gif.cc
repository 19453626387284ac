// GIF through giflib: the first frame only, painted on the logical screen, with transparent
// pixels and the uncovered screen white.
#include <gif_lib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "media/image_codecs.h"

namespace mosaic::media::internal {

namespace {

struct GifSource {
  std::span<const uint8_t> data;
  size_t pos = 0;
};

int GifRead(GifFileType* gif, GifByteType* dst, int n) {
  auto* src = static_cast<GifSource*>(gif->UserData);
  size_t take = std::min(static_cast<size_t>(std::max(n, 0)), src->data.size() - src->pos);
  std::memcpy(dst, src->data.data() + src->pos, take);
  src->pos += take;
  return static_cast<int>(take);
}

Status GifError(int code) {
  if (code == D_GIF_ERR_READ_FAILED)
    return Status::Corruption("corrupt GIF: unexpected end of file (truncated?)");
  const char* text = GifErrorString(code);
  return Status::Corruption(std::string("corrupt GIF: ") +
                            (text != nullptr ? text : "unknown error"));
}

// Reads records up to the first image descriptor, remembering the transparent index of the
// graphic control extension that precedes it (-1 if none).
Status SeekFirstImage(GifFileType* gif, int* transparent) {
  *transparent = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return GifError(gif->Error);
    if (type == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(gif) == GIF_ERROR) return GifError(gif->Error);
      return Status::OK();
    }
    if (type == TERMINATE_RECORD_TYPE)
      return Status::Corruption("corrupt GIF: no image in the file");
    if (type != EXTENSION_RECORD_TYPE) continue;
    int ext_code = 0;
    GifByteType* ext = nullptr;
    if (DGifGetExtension(gif, &ext_code, &ext) == GIF_ERROR) return GifError(gif->Error);
    if (ext_code == GRAPHICS_EXT_FUNC_CODE && ext != nullptr && ext[0] >= 4)
      *transparent = (ext[1] & 1) != 0 ? ext[4] : -1;
    while (ext != nullptr)
      if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return GifError(gif->Error);
  }
}

Status DecodeFirstFrame(GifFileType* gif, const DecodeOptions& options, Image* out) {
  int transparent;
  MOSAIC_RETURN_IF_ERROR(SeekFirstImage(gif, &transparent));
  const GifImageDesc& d = gif->Image;
  if (d.Width <= 0 || d.Height <= 0) return Status::Corruption("corrupt GIF: empty first frame");
  MOSAIC_RETURN_IF_ERROR(CheckPixelLimit(d.Width, d.Height, options));
  int screen_w = gif->SWidth > 0 ? gif->SWidth : d.Left + d.Width;
  int screen_h = gif->SHeight > 0 ? gif->SHeight : d.Top + d.Height;
  MOSAIC_RETURN_IF_ERROR(CheckPixelLimit(screen_w, screen_h, options));

  std::vector<GifPixelType> indices(static_cast<size_t>(d.Width) * d.Height);
  auto read_row = [&](int y) {
    return DGifGetLine(gif, &indices[static_cast<size_t>(y) * d.Width], d.Width) != GIF_ERROR;
  };
  if (d.Interlace) {
    static constexpr int kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass)
      for (int y = kStart[pass]; y < d.Height; y += kStep[pass])
        if (!read_row(y)) return GifError(gif->Error);
  } else {
    for (int y = 0; y < d.Height; ++y)
      if (!read_row(y)) return GifError(gif->Error);
  }

  const ColorMapObject* map = d.ColorMap != nullptr ? d.ColorMap : gif->SColorMap;
  *out = Image(screen_w, screen_h);
  std::fill(out->pixels.begin(), out->pixels.end(), 255);
  for (int y = 0; y < d.Height; ++y) {
    int sy = d.Top + y;
    if (sy >= screen_h) break;
    for (int x = 0; x < d.Width && d.Left + x < screen_w; ++x) {
      int i = indices[static_cast<size_t>(y) * d.Width + x];
      if (i == transparent) continue;
      uint8_t* p = out->at(d.Left + x, sy);
      if (map == nullptr) {  // no palette at all: grey levels, as other decoders assume
        p[0] = p[1] = p[2] = static_cast<uint8_t>(i);
      } else if (i < map->ColorCount) {
        p[0] = map->Colors[i].Red;
        p[1] = map->Colors[i].Green;
        p[2] = map->Colors[i].Blue;
      } else {
        p[0] = p[1] = p[2] = 0;
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status ReadGif(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
               Image* out) {
  GifSource src{bytes};
  int error = 0;
  GifFileType* gif = DGifOpen(&src, GifRead, &error);
  if (gif == nullptr) return GifError(error);
  header->width = gif->SWidth;
  header->height = gif->SHeight;
  Status status = out != nullptr ? DecodeFirstFrame(gif, options, out) : Status::OK();
  DGifCloseFile(gif, &error);
  return status;
}

}  // namespace mosaic::media::internal
