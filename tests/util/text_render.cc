#include "util/text_render.h"

#include <ft2build.h>

#include <algorithm>
#include <filesystem>
#include FT_FREETYPE_H

namespace mosaic::testing {

namespace {

// Decodes the next UTF-8 code point of `s` at `i` (advancing i); invalid bytes decode as
// U+FFFD so a bad test string still renders something visible.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  char32_t cp = c & (0x3F >> extra);
  for (; extra > 0; --extra) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

}  // namespace

struct TextRenderer::Impl {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  std::string path;

  ~Impl() {
    if (face != nullptr) FT_Done_Face(face);
    if (library != nullptr) FT_Done_FreeType(library);
  }

  Status SetSize(int pixel_size) {
    if (pixel_size <= 0) return Status::InvalidArgument("pixel size " + std::to_string(pixel_size));
    if (FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(pixel_size)) != 0) {
      return Status::InvalidArgument(path + ": cannot set pixel size " +
                                     std::to_string(pixel_size));
    }
    return Status::OK();
  }

  // Calls fn(glyph slot, pen_x) for each glyph after loading it (rendered when `render`).
  template <typename Fn>
  Status ForEachGlyph(std::string_view text, bool render, Fn&& fn) {
    const bool kerning = FT_HAS_KERNING(face);
    FT_UInt prev = 0;
    long pen = 0;  // 26.6 fixed point
    for (size_t i = 0; i < text.size();) {
      const FT_UInt glyph = FT_Get_Char_Index(face, NextCodePoint(text, i));
      if (kerning && prev != 0 && glyph != 0) {
        FT_Vector delta;
        FT_Get_Kerning(face, prev, glyph, FT_KERNING_DEFAULT, &delta);
        pen += delta.x;
      }
      const FT_Int32 flags = render ? FT_LOAD_RENDER : FT_LOAD_DEFAULT;
      if (FT_Load_Glyph(face, glyph, flags) != 0) {
        return Status::InvalidArgument(path + ": cannot load glyph " + std::to_string(glyph));
      }
      fn(face->glyph, static_cast<int>(pen >> 6));
      pen += face->glyph->advance.x;
      prev = glyph;
    }
    return Status::OK();
  }
};

TextRenderer::~TextRenderer() = default;

Result<std::unique_ptr<TextRenderer>> TextRenderer::Open(const std::string& font_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(font_path, ec)) {
    return Status::NotFound("font file '" + font_path + "' does not exist");
  }
  std::unique_ptr<TextRenderer> r(new TextRenderer());
  r->impl_ = std::make_unique<Impl>();
  r->impl_->path = font_path;
  if (FT_Init_FreeType(&r->impl_->library) != 0) {
    return Status::Internal("FreeType initialisation failed");
  }
  if (FT_New_Face(r->impl_->library, font_path.c_str(), 0, &r->impl_->face) != 0) {
    return Status::InvalidArgument("'" + font_path + "' is not a font FreeType can load");
  }
  return r;
}

Result<TextRenderer::Metrics> TextRenderer::Measure(std::string_view text, int pixel_size) {
  MOSAIC_RETURN_IF_ERROR(impl_->SetSize(pixel_size));
  Metrics m;
  int end = 0;
  MOSAIC_RETURN_IF_ERROR(impl_->ForEachGlyph(text, false, [&](FT_GlyphSlot g, int pen_x) {
    end = pen_x + static_cast<int>(g->advance.x >> 6);
  }));
  m.advance = end;
  m.ascender = static_cast<int>(impl_->face->size->metrics.ascender >> 6);
  m.descender = static_cast<int>(impl_->face->size->metrics.descender >> 6);
  return m;
}

Result<PixelBox> TextRenderer::Draw(media::Image& image, std::string_view text, int pixel_size,
                                    int x, int baseline_y, Rgb color) {
  MOSAIC_RETURN_IF_ERROR(impl_->SetSize(pixel_size));
  PixelBox box{image.width, image.height, 0, 0};
  const uint8_t rgb[3] = {color.r, color.g, color.b};
  const auto luma = static_cast<uint8_t>((299 * color.r + 587 * color.g + 114 * color.b) / 1000);
  MOSAIC_RETURN_IF_ERROR(impl_->ForEachGlyph(text, true, [&](FT_GlyphSlot g, int pen_x) {
    const FT_Bitmap& bm = g->bitmap;
    const int ox = x + pen_x + g->bitmap_left;
    const int oy = baseline_y - g->bitmap_top;
    for (unsigned row = 0; row < bm.rows; ++row) {
      const int py = oy + static_cast<int>(row);
      if (py < 0 || py >= image.height) continue;
      for (unsigned col = 0; col < bm.width; ++col) {
        const int px = ox + static_cast<int>(col);
        if (px < 0 || px >= image.width) continue;
        const int a = bm.buffer[row * bm.pitch + col];
        if (a == 0) continue;
        uint8_t* d = image.at(px, py);
        for (int c = 0; c < image.channels && c < 3; ++c) {
          const int fg = image.channels == 1 ? luma : rgb[c];
          d[c] = static_cast<uint8_t>((fg * a + d[c] * (255 - a) + 127) / 255);
        }
        box.left = std::min(box.left, px);
        box.top = std::min(box.top, py);
        box.right = std::max(box.right, px + 1);
        box.bottom = std::max(box.bottom, py + 1);
      }
    }
  }));
  if (box.empty()) box = {};
  return box;
}

Result<RenderedText> RenderLines(const std::string& font_path,
                                 const std::vector<std::string>& lines, int pixel_size, Rgb fg,
                                 Rgb bg, int margin) {
  MOSAIC_ASSIGN_OR_RETURN(auto renderer, TextRenderer::Open(font_path));
  int width = 0;
  TextRenderer::Metrics m;
  for (const std::string& line : lines) {
    MOSAIC_ASSIGN_OR_RETURN(m, renderer->Measure(line, pixel_size));
    width = std::max(width, m.advance);
  }
  const int pitch = pixel_size * 3 / 2;
  const int n = static_cast<int>(lines.size());
  RenderedText out;
  out.image = media::Image(width + 2 * margin, std::max(1, n) * pitch + 2 * margin, 3);
  for (size_t i = 0; i < out.image.pixels.size(); i += 3) {
    out.image.pixels[i] = bg.r, out.image.pixels[i + 1] = bg.g, out.image.pixels[i + 2] = bg.b;
  }
  for (int i = 0; i < n; ++i) {
    // Centre the line's ascender..descender band in its pitch.
    const int band = m.ascender - m.descender;
    const int baseline = margin + i * pitch + (pitch - band) / 2 + m.ascender;
    MOSAIC_ASSIGN_OR_RETURN(PixelBox box, renderer->Draw(out.image, lines[static_cast<size_t>(i)],
                                                         pixel_size, margin, baseline, fg));
    out.line_boxes.push_back(box);
  }
  return out;
}

}  // namespace mosaic::testing
