// libjpeg error handling shared by the JPEG decoder and encoder: errors longjmp back to the
// caller with libjpeg's message instead of calling exit(). Internal to src/media.
#pragma once

#include <cstdio>
#include <jpeglib.h>

#include <csetjmp>

namespace mosaic::media::internal {

struct JpegErrorManager {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] inline void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  cinfo->err->format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

}  // namespace mosaic::media::internal
