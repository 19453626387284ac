// Text rendering for tests, with FreeType: draws UTF-8 strings in a given TrueType font and
// pixel size onto a media::Image and reports where the ink landed, so OCR tests can make
// images whose transcription and text boxes are known exactly. A TextRenderer owns one
// FreeType face and is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::testing {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

/// Pixel bounds, left/top inclusive, right/bottom exclusive. Empty when right <= left.
struct PixelBox {
  int left = 0, top = 0, right = 0, bottom = 0;
  bool empty() const { return right <= left || bottom <= top; }
  int width() const { return right - left; }
  int height() const { return bottom - top; }
};

class TextRenderer {
 public:
  /// Loads a font file. NotFound / InvalidArgument naming the file.
  static Result<std::unique_ptr<TextRenderer>> Open(const std::string& font_path);
  ~TextRenderer();
  TextRenderer(const TextRenderer&) = delete;
  TextRenderer& operator=(const TextRenderer&) = delete;

  /// Horizontal advance of `text` at `pixel_size`, and the font's ascender/descender (pixels,
  /// descender negative) at that size.
  struct Metrics {
    int advance = 0;
    int ascender = 0;
    int descender = 0;
  };
  Result<Metrics> Measure(std::string_view text, int pixel_size);

  /// Draws `text` with its pen starting at (x, baseline_y), alpha-blending `color` over the
  /// image (any channel count: gray uses the colour's luma). Returns the bounds of the pixels
  /// touched by ink (clipped to the image).
  Result<PixelBox> Draw(media::Image& image, std::string_view text, int pixel_size, int x,
                        int baseline_y, Rgb color);

 private:
  TextRenderer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A rendered block of text lines and each line's ink bounds.
struct RenderedText {
  media::Image image;
  std::vector<PixelBox> line_boxes;
};

/// Renders `lines` one below the other (line pitch 1.5x the pixel size) on a canvas just large
/// enough plus `margin` pixels all round, `fg` on `bg`. Fails for a font that cannot be loaded.
Result<RenderedText> RenderLines(const std::string& font_path,
                                 const std::vector<std::string>& lines, int pixel_size,
                                 Rgb fg = {0, 0, 0}, Rgb bg = {255, 255, 255}, int margin = 20);

}  // namespace mosaic::testing
