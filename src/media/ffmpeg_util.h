// Shared plumbing for the FFmpeg-based decoders (audio_decode.cc, video_decode.cc): owning
// pointers for libavformat/libavcodec objects, error text, and opening a local media file with
// the checks and messages both decoders give. Internal to src/media.
//
// Thread safety: everything here may be called from several threads at once; each returned
// object belongs to its caller.
#pragma once

#include <memory>
#include <string>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "mosaic/status.h"

namespace mosaic::media {

struct AvFormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct AvCodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct AvPacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct AvFrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using AvFormatPtr = std::unique_ptr<AVFormatContext, AvFormatCloser>;
using AvCodecPtr = std::unique_ptr<AVCodecContext, AvCodecFreer>;
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketFreer>;
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameFreer>;

/// FFmpeg's text for an AVERROR code.
std::string AvError(int err);

/// FFmpeg logs every oddity of a damaged file to stderr; its errors reach callers as Status
/// values instead. Sets the (process-wide) log level once.
void QuietFfmpegLogs();

/// The container's "creation_time" tag, else the stream's, as FFmpeg reports it (MP4/MOV/M4A
/// and Matroska: ISO 8601 such as "2024-05-01T12:00:00.000000Z"; AVI: whatever its IDIT chunk
/// says); "" when neither has one.
std::string CreationTime(const AVFormatContext* format, const AVStream* stream);

/// Opens the regular file `path` (local files only: a playlist or crafted path never reaches the
/// network) and reads its stream info. `kind` ("audio", "video") names the file in messages:
/// NotFound when missing, InvalidArgument when empty, not a regular file or not a format FFmpeg
/// reads, IOError when unreadable, Corruption when its streams cannot be read.
Result<AvFormatPtr> OpenMediaFile(const std::string& path, std::string_view kind);

}  // namespace mosaic::media
