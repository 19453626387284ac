// Video probing and scanning: synthetic videos written with FFmpeg's encoders (known cut times,
// util/av_writer.h), OpenCV's and imageio's sample clips (scripts/fetch-data), and damaged or
// non-video files.
#include "media/video_decode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "util/av_writer.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::media {
namespace {

using testing::Black;
using testing::SceneA;
using testing::SceneB;
using testing::SceneC;
using Segment = testing::VideoSegment;

// Writes the segments back to back as yuv420p video at `fps` (mpeg4 unless `encoder` says).
void WriteVideo(const std::string& path, const char* container, int w, int h, int fps,
                const std::vector<Segment>& segments, const char* encoder = "mpeg4",
                const char* muxer_flags = nullptr) {
  testing::VideoSpec spec;
  spec.container = container;
  spec.width = w;
  spec.height = h;
  spec.fps = fps;
  spec.encoder = encoder;
  if (muxer_flags != nullptr) spec.movflags = muxer_flags;
  spec.segments = segments;
  const Status s = testing::WriteVideo(path, spec);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// 2 s black, then scenes A (3 s), B (3 s), C (2 s): cuts at 2, 5 and 8 s.
const std::vector<Segment>& FourScenes() {
  static const std::vector<Segment> segments = {
      {2.0, Black}, {3.0, SceneA}, {3.0, SceneB}, {2.0, SceneC}};
  return segments;
}

std::string VideoData(const std::string& name) { return testing::DataDir() + "/video/" + name; }

// The checks every scan must pass: shots contiguous and ordered, keyframes inside their shot,
// in time order, of the size asked for.
void CheckScanShape(const VideoScan& scan, const VideoScanOptions& options) {
  ASSERT_FALSE(scan.shots.empty());
  for (size_t i = 0; i < scan.shots.size(); ++i) {
    const VideoShot& shot = scan.shots[i];
    SCOPED_TRACE("shot " + std::to_string(i));
    EXPECT_LT(shot.start_s, shot.end_s);
    if (i > 0) {
      EXPECT_DOUBLE_EQ(shot.start_s, scan.shots[i - 1].end_s);
    }
    EXPECT_LE(shot.keyframes.size(),
              size_t(1 + std::floor((shot.end_s - shot.start_s) / options.max_keyframe_interval_s)));
    double prev = -1;
    for (const Keyframe& k : shot.keyframes) {
      EXPECT_GE(k.time_s, shot.start_s);
      EXPECT_LT(k.time_s, shot.end_s);
      EXPECT_GT(k.time_s, prev);
      prev = k.time_s;
      EXPECT_FALSE(k.image.empty());
      EXPECT_EQ(k.image.channels, 3);
      EXPECT_EQ(k.image.pixels.size(), size_t(k.image.width) * k.image.height * 3);
      EXPECT_LE(std::max(k.image.width, k.image.height), options.keyframe_max_side);
    }
  }
}

TEST(VideoDecodeTest, SyntheticCutsAndKeyframes) {
  testing::TempDir dir;
  const std::string path = dir / "scenes.avi";
  WriteVideo(path, "avi", 320, 180, 25, FourScenes());
  if (HasFatalFailure()) return;

  auto info = ProbeVideo(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->codec, "mpeg4");
  EXPECT_EQ(info->container, "avi");
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 180);
  EXPECT_NEAR(info->fps, 25.0, 1e-9);
  EXPECT_NEAR(info->duration_s, 10.0, 0.05);
  EXPECT_FALSE(info->has_audio);

  VideoScanOptions options;
  options.keyframe_max_side = 160;
  auto scan = ScanVideo(path, options);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  CheckScanShape(*scan, options);
  EXPECT_EQ(scan->frames_decoded, 250u);
  EXPECT_NEAR(scan->decoded_s, 9.96, 1e-6);

  const double tolerance = 1.0 / options.analysis_fps + 1.0 / 25;
  const double cuts[] = {0.0, 2.0, 5.0, 8.0};
  ASSERT_EQ(scan->shots.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(scan->shots[i].start_s, cuts[i], tolerance) << "shot " << i;
  }
  EXPECT_NEAR(scan->shots.back().end_s, 10.0, 1e-6);
  // The black opening gets no keyframe; every scene gets exactly one (all shorter than 10 s).
  EXPECT_TRUE(scan->shots[0].keyframes.empty());
  for (size_t i = 1; i < 4; ++i) {
    ASSERT_EQ(scan->shots[i].keyframes.size(), 1u) << "shot " << i;
    const Keyframe& k = scan->shots[i].keyframes[0];
    EXPECT_GE(k.time_s, 2.0);
    EXPECT_EQ(k.image.width, 160);
    EXPECT_EQ(k.image.height, 90);
    EXPECT_GT(k.luma_stddev, 10);
  }
  // The keyframes show their scene: A is red-dominant, B green-dominant, C has strong yellow.
  auto mean_rgb = [](const Image& im) {
    double s[3] = {0, 0, 0};
    for (size_t i = 0; i < im.pixels.size(); ++i) s[i % 3] += im.pixels[i];
    const double n = double(im.width) * im.height;
    return std::array<double, 3>{s[0] / n, s[1] / n, s[2] / n};
  };
  const auto a = mean_rgb(scan->shots[1].keyframes[0].image);
  const auto b = mean_rgb(scan->shots[2].keyframes[0].image);
  EXPECT_GT(a[0], a[1] + 60);
  EXPECT_GT(b[1], b[0] + 40);
}

TEST(VideoDecodeTest, LongShotGetsOneKeyframePerInterval) {
  testing::TempDir dir;
  const std::string path = dir / "long.avi";
  WriteVideo(path, "avi", 160, 90, 10, {{37.0, SceneA}});
  if (HasFatalFailure()) return;
  for (double interval : {10.0, 5.0, 40.0}) {
    SCOPED_TRACE("interval " + std::to_string(interval));
    VideoScanOptions options;
    options.max_keyframe_interval_s = interval;
    auto scan = ScanVideo(path, options);
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    CheckScanShape(*scan, options);
    ASSERT_EQ(scan->shots.size(), 1u);
    const VideoShot& shot = scan->shots[0];
    // One keyframe per interval-long window from the shot's start: ceil(37 / interval).
    ASSERT_EQ(shot.keyframes.size(), size_t(std::ceil(37.0 / interval)));
    for (size_t i = 0; i < shot.keyframes.size(); ++i) {
      EXPECT_EQ(int(std::floor((shot.keyframes[i].time_s - shot.start_s) / interval)), int(i));
      // Never upscaled past the source.
      EXPECT_EQ(shot.keyframes[i].image.width, 160);
      EXPECT_EQ(shot.keyframes[i].image.height, 90);
    }
  }
}

TEST(VideoDecodeTest, AllBlackVideoHasNoKeyframes) {
  testing::TempDir dir;
  const std::string path = dir / "black.avi";
  WriteVideo(path, "avi", 160, 90, 25, {{3.0, Black}});
  if (HasFatalFailure()) return;
  auto scan = ScanVideo(path);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->shots.size(), 1u);
  EXPECT_TRUE(scan->shots[0].keyframes.empty());
}

TEST(VideoDecodeTest, ParallelScansMatchSequential) {
  testing::TempDir dir;
  const std::string a = dir / "a.avi", b = dir / "b.mp4";
  WriteVideo(a, "avi", 320, 180, 25, FourScenes());
  WriteVideo(b, "mp4", 320, 180, 25, {{2.0, SceneC}, {2.0, SceneB}}, "mpeg4");
  if (HasFatalFailure()) return;
  auto starts = [](const Result<VideoScan>& r) {
    std::vector<double> s;
    if (r.ok())
      for (const auto& shot : r->shots) s.push_back(shot.start_s);
    return s;
  };
  const auto seq_a = starts(ScanVideo(a)), seq_b = starts(ScanVideo(b));
  EXPECT_EQ(seq_a.size(), 4u);
  EXPECT_EQ(seq_b.size(), 2u);
  std::vector<std::vector<double>> par(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < par.size(); ++i) {
    threads.emplace_back([&, i] { par[i] = starts(ScanVideo(i % 2 == 0 ? a : b)); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < par.size(); ++i) EXPECT_EQ(par[i], i % 2 == 0 ? seq_a : seq_b);
}

// --- The sample clips from scripts/fetch-data ---

TEST(VideoDecodeTest, ProbeSampleVideos) {
  struct Case {
    const char* file;
    const char* codec;
    int width, height;
    double fps, duration_s;
  } cases[] = {
      {"vtest.avi", "msmpeg4v3", 768, 576, 10.0, 79.5},
      {"Megamind.avi", "mpeg4", 720, 528, 23.976, 11.26},
      {"cockatoo.mp4", "h264", 1280, 720, 20.0, 14.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    auto info = ProbeVideo(VideoData(c.file));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    std::printf("%-14s %-10s %-26s %dx%d %.3f fps %.3f s audio=%d\n", c.file, info->codec.c_str(),
                info->container.c_str(), info->width, info->height, info->fps, info->duration_s,
                int(info->has_audio));
    EXPECT_EQ(info->codec, c.codec);
    EXPECT_EQ(info->width, c.width);
    EXPECT_EQ(info->height, c.height);
    EXPECT_NEAR(info->fps, c.fps, 0.01);
    EXPECT_NEAR(info->duration_s, c.duration_s, 0.1);
  }
}

TEST(VideoDecodeTest, MegamindTrailerHasCuts) {
  const std::string path = VideoData("Megamind.avi");
  VideoScanOptions options;
  std::vector<double> progress;
  options.progress = [&](double t) {
    progress.push_back(t);
    return true;
  };
  auto scan = ScanVideo(path, options);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  CheckScanShape(*scan, options);
  std::printf("Megamind.avi: %zu shots over %.2f s, %llu frames:", scan->shots.size(),
              scan->shots.back().end_s, static_cast<unsigned long long>(scan->frames_decoded));
  for (const auto& shot : scan->shots) std::printf(" %.2f(%zu)", shot.start_s, shot.keyframes.size());
  std::printf("\n");
  // Four shots (checked by eye on a contact sheet of all samples): the cuts fall between the
  // samples at 4.05 and 4.30 s, 6.30 and 6.55 s, 8.30 and 8.55 s. The black first frame is
  // shorter than min_shot_s and stays in the first shot.
  ASSERT_EQ(scan->shots.size(), 4u);
  const double cuts[] = {4.30, 6.55, 8.55};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(scan->shots[i + 1].start_s, cuts[i], 0.01) << "cut " << i;
  }
  EXPECT_NEAR(scan->shots.front().start_s, 0.0, 0.1);
  EXPECT_NEAR(scan->shots.back().end_s, scan->info.duration_s, 0.5);
  for (const auto& shot : scan->shots) {
    const bool blank = std::all_of(shot.keyframes.begin(), shot.keyframes.end(),
                                   [](const Keyframe& k) { return k.luma_stddev < 6; });
    // Every shot longer than a sample either has a keyframe or is entirely blank.
    if (shot.end_s - shot.start_s > 0.5) {
      EXPECT_TRUE(!shot.keyframes.empty() || blank);
    }
  }
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_LE(progress.back(), scan->decoded_s + 1e-9);
}

TEST(VideoDecodeTest, StaticCameraHasFewShots) {
  VideoScanOptions options;
  auto scan = ScanVideo(VideoData("vtest.avi"), options);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  CheckScanShape(*scan, options);
  std::printf("vtest.avi: %zu shots\n", scan->shots.size());
  EXPECT_LE(scan->shots.size(), 2u);
  size_t keyframes = 0;
  for (const auto& shot : scan->shots) keyframes += shot.keyframes.size();
  EXPECT_GE(keyframes, 8u);  // ~80 s at one keyframe per 10 s
}

TEST(VideoDecodeTest, CockatooIsOneShot) {
  VideoScanOptions options;
  auto scan = ScanVideo(VideoData("cockatoo.mp4"), options);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  CheckScanShape(*scan, options);
  std::printf("cockatoo.mp4: %zu shots\n", scan->shots.size());
  EXPECT_LE(scan->shots.size(), 2u);
  const Keyframe& k = scan->shots[0].keyframes.at(0);
  EXPECT_EQ(k.image.width, 640);
  EXPECT_EQ(k.image.height, 360);
}

// --- Errors ---

void ExpectError(const Status& st, StatusCode code, const std::string& path,
                 const std::string& text = "") {
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  if (!text.empty()) {
    EXPECT_NE(st.message().find(text), std::string::npos) << st.ToString();
  }
}

TEST(VideoDecodeTest, MissingEmptyAndNonVideoFiles) {
  testing::TempDir dir;
  const std::string missing = dir / "nope.mp4";
  ExpectError(ProbeVideo(missing).status(), StatusCode::kNotFound, missing);
  ExpectError(ScanVideo(missing).status(), StatusCode::kNotFound, missing);

  const std::string empty = dir / "empty.mp4";
  std::ofstream(empty).close();
  ExpectError(ScanVideo(empty).status(), StatusCode::kInvalidArgument, empty, "empty");

  const std::string text = dir / "notes.avi";
  std::ofstream(text) << "These are notes, not a video.\nLine two.\n";
  ExpectError(ScanVideo(text).status(), StatusCode::kInvalidArgument, text);

  const std::string jpeg = testing::DataDir() + "/darknet/dog.jpg";
  ExpectError(ProbeVideo(jpeg).status(), StatusCode::kInvalidArgument, jpeg, "still image");
  ExpectError(ScanVideo(jpeg).status(), StatusCode::kInvalidArgument, jpeg, "still image");

  const std::string wav = testing::DataDir() + "/speech/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
  ExpectError(ScanVideo(wav).status(), StatusCode::kNotFound, wav, "no video stream in");

  ExpectError(ScanVideo(dir.path()).status(), StatusCode::kInvalidArgument, dir.path());
}

TEST(VideoDecodeTest, TruncatedFilesAreCorruption) {
  testing::TempDir dir;
  // MP4 with its index up front (faststart) and AVI: both still open when cut in half, and
  // both declare the full duration.
  struct Case {
    const char* file;
    const char* container;
    const char* flags;
  } cases[] = {{"t.mp4", "mp4", "+faststart"}, {"t.avi", "avi", nullptr}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir / c.file;
    // No black lead-in, which takes almost no bytes: half the bytes is about half the time.
    WriteVideo(path, c.container, 160, 90, 25, {{3.0, SceneA}, {3.0, SceneB}, {4.0, SceneC}},
               "mpeg4", c.flags);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ScanVideo(path).ok());
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    ExpectError(ScanVideo(path).status(), StatusCode::kCorruption, path, "truncated");
  }
  // An MP4 with its index at the end (cockatoo.mp4) loses the index: not readable at all.
  const std::string cut = dir / "cockatoo.mp4";
  std::filesystem::copy_file(VideoData("cockatoo.mp4"), cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  ExpectError(ScanVideo(cut).status(), StatusCode::kInvalidArgument, cut);
}

TEST(VideoDecodeTest, LimitsAndCancellation) {
  testing::TempDir dir;
  const std::string path = dir / "scenes.avi";
  WriteVideo(path, "avi", 320, 180, 25, FourScenes());
  if (HasFatalFailure()) return;

  VideoScanOptions options;
  options.max_pixels = 320 * 180 - 1;
  ExpectError(ScanVideo(path, options).status(), StatusCode::kResourceExhausted, path, "320x180");

  options = {};
  options.max_seconds = 5;
  ExpectError(ScanVideo(path, options).status(), StatusCode::kResourceExhausted, path);

  options = {};
  int calls = 0;
  options.progress = [&](double t) { return ++calls < 3 && t < 100; };
  ExpectError(ScanVideo(path, options).status(), StatusCode::kAborted, path, "stopped");
  EXPECT_EQ(calls, 3);

  options = {};
  options.analysis_fps = 0;
  EXPECT_TRUE(ScanVideo(path, options).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mosaic::media
