// JPEG through libjpeg(-turbo). libjpeg reports fatal errors through error_exit, which would
// exit() the process by default; ours longjmps back into ReadJpeg. Everything the jumped-over
// code allocates is owned by cinfo or by the caller's objects, so nothing leaks.

// jpeglib.h needs FILE and size_t declared first.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <cstring>
#include <string>

#include "media/image_codecs.h"
#include "media/jpeg_error.h"

namespace mosaic::media::internal {

namespace {

// libjpeg only warns when the data ends early (file end, or a marker in the middle of a scan)
// and fills the rest of the image with grey; we refuse the file instead. Other warnings (stray
// bytes between markers) are damage it recovers from, as every viewer does.
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  int code = cinfo->err->msg_code;
  if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)) JpegErrorExit(cinfo);
}

bool IsExifApp1(const jpeg_saved_marker_ptr m) {
  return m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
         std::memcmp(m->data, "Exif\0\0", 6) == 0;
}

// Adobe writes CMYK inverted (0 = full ink); others write it plain.
void CmykToRgb(const uint8_t* cmyk, int n, bool inverted, uint8_t* rgb) {
  for (int i = 0; i < n; ++i, cmyk += 4, rgb += 3) {
    int k = inverted ? cmyk[3] : 255 - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      int v = inverted ? cmyk[c] : 255 - cmyk[c];
      rgb[c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}

}  // namespace

Status ReadJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out) {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegErrorExit;
  err.mgr.emit_message = JpegEmitMessage;
  std::vector<uint8_t> cmyk_row;
  Status status;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Status::Corruption(std::string("corrupt JPEG: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  header->width = static_cast<int>(cinfo.image_width);
  header->height = static_cast<int>(cinfo.image_height);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (IsExifApp1(m)) {
      header->exif.assign(m->data, m->data + m->data_length);
      break;
    }
  }
  if (out != nullptr) status = CheckPixelLimit(cinfo.image_width, cinfo.image_height, options);
  if (out == nullptr || !status.ok()) {
    jpeg_destroy_decompress(&cinfo);
    return status;
  }

  bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg-turbo expands grayscale itself
  jpeg_start_decompress(&cinfo);
  *out = Image(static_cast<int>(cinfo.output_width), static_cast<int>(cinfo.output_height));
  if (cmyk) cmyk_row.resize(static_cast<size_t>(cinfo.output_width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* dst = out->row(static_cast<int>(cinfo.output_scanline));
    JSAMPROW row = cmyk ? cmyk_row.data() : dst;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) CmykToRgb(cmyk_row.data(), out->width, cinfo.saw_Adobe_marker, dst);
  }
  // All rows are in; whatever follows the last scan (EOI, trailing bytes) does not matter.
  jpeg_destroy_decompress(&cinfo);
  return Status::OK();
}

}  // namespace mosaic::media::internal
