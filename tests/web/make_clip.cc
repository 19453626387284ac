// Writes the video the web UI test plays: three scenes of 4 s each joined by hard cuts (so its
// shots start at 0, 4 and 8 s), VP8 in WebM, which Chromium plays and seeks. The sample videos
// will not do: Chromium cannot play AVI, and cockatoo.mp4 fails to decode after a seek into its
// second shot. Built and run by tests/web/run.sh with the test utilities' video writer.
//
//   make_clip OUT.webm
#include <cstdio>

#include "util/av_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_clip OUT.webm\n");
    return 2;
  }
  mosaic::testing::VideoSpec spec;
  spec.container = "webm";
  spec.encoder = "libvpx";
  spec.segments = {{4.0, mosaic::testing::SceneA},
                   {4.0, mosaic::testing::SceneB},
                   {4.0, mosaic::testing::SceneC}};
  mosaic::Status s = mosaic::testing::WriteVideo(argv[1], spec);
  if (!s.ok()) {
    std::fprintf(stderr, "make_clip: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
