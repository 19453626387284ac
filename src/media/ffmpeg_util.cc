#include "media/ffmpeg_util.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace mosaic::media {

std::string CreationTime(const AVFormatContext* format, const AVStream* stream) {
  for (const AVDictionary* d : {format->metadata, stream != nullptr ? stream->metadata : nullptr}) {
    const AVDictionaryEntry* e = av_dict_get(d, "creation_time", nullptr, 0);
    if (e != nullptr && e->value != nullptr && *e->value != '\0') return e->value;
  }
  return "";
}

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

void QuietFfmpegLogs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

Result<AvFormatPtr> OpenMediaFile(const std::string& path, std::string_view kind) {
  QuietFfmpegLogs();
  const std::string file = std::string(kind) + " file '" + path + "'";
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(file + " does not exist");
    return Status::IOError("cannot stat '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("'" + path + "' is not a regular file");
  if (st.st_size == 0) return Status::InvalidArgument(file + " is empty (0 bytes)");

  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, ("file:" + path).c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (err < 0) {
    if (err == AVERROR(ENOENT)) return Status::NotFound(file + " does not exist");
    if (err == AVERROR(EACCES))
      return Status::IOError("cannot open '" + path + "': " + AvError(err));
    return Status::InvalidArgument(
        "'" + path + "' is not an audio or video file FFmpeg can read: " + AvError(err));
  }
  AvFormatPtr format(raw);
  if (err = avformat_find_stream_info(raw, nullptr); err < 0) {
    return Status::Corruption("cannot read the streams of '" + path + "': " + AvError(err));
  }
  return format;
}

}  // namespace mosaic::media
