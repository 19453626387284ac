// Audio decoding with FFmpeg: any container and codec FFmpeg reads (WAV, MP3, FLAC, Ogg
// Vorbis/Opus, M4A) and the audio track of video files (MP4, MKV, AVI), downmixed to mono and
// resampled with libswresample to one rate, as float samples in [-1, 1].
//
// AudioReader decodes in chunks, so a long recording never has to be in memory whole: it holds
// the demuxer's and decoder's buffers plus at most one decoded frame's resampled samples.
// DecodeAudio() is the convenience that reads everything into one Audio. Raw PCM has no header
// FFmpeg could probe; DecodeRawPcm16() takes its rate from the caller.
//
// Errors: NotFound for a missing file or a file with no audio stream ("no audio stream in X"),
// InvalidArgument for an empty file or one FFmpeg does not recognize, Corruption for a stream
// that fails to decode or stops well short of the duration its header declares (a truncated
// file), ResourceExhausted beyond AudioDecodeOptions::max_seconds. Messages name the path and
// carry FFmpeg's own error text. Packets that fail to decode inside an otherwise good stream
// are skipped, as players do.
//
// Thread safety: the free functions are thread-safe; an AudioReader is used by one thread at a
// time (distinct readers may run in parallel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::media {

struct AudioInfo {
  std::string codec;      // FFmpeg codec name: "pcm_s16le", "mp3", "flac", "vorbis", "opus", "aac"
  std::string container;  // FFmpeg demuxer name: "wav", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"
  int sample_rate = 0;    // of the stream, before resampling
  int channels = 0;
  double duration_s = 0;  // declared by the container (0 when it declares none)
  std::string creation_time;  // the container's creation_time tag as given (ffmpeg_util.h); "" if none
};

/// Mono samples at one rate.
struct Audio {
  std::vector<float> samples;  // [-1, 1]
  int sample_rate = 0;
  double duration_s() const { return sample_rate > 0 ? double(samples.size()) / sample_rate : 0.0; }
};

struct AudioDecodeOptions {
  // Refuse longer audio (ResourceExhausted), judged from the header before decoding and again
  // from the samples produced. 4 hours of 16 kHz float is 920 MB.
  double max_seconds = 4 * 3600.0;
};

/// Reads the headers of the best audio stream (decodes nothing beyond what stream probing needs).
Result<AudioInfo> ProbeAudio(const std::string& path);

/// Decodes the best audio stream of `path` to mono at `target_rate` Hz.
Result<Audio> DecodeAudio(const std::string& path, int target_rate = 16000,
                          const AudioDecodeOptions& options = {});

/// Headerless signed 16-bit little-endian mono PCM at `sample_rate` Hz, resampled to
/// `target_rate`. InvalidArgument for an odd byte count or a rate outside 1..768000.
Result<Audio> DecodeRawPcm16(std::span<const uint8_t> bytes, int sample_rate,
                             int target_rate = 16000);

/// Float samples to 16-bit PCM, clipped to the int16 range.
std::vector<int16_t> ToPcm16(std::span<const float> samples);

/// Streaming decoder of one file's best audio stream.
class AudioReader {
 public:
  /// Opens `path` and its decoder; errors as for DecodeAudio().
  static Result<std::unique_ptr<AudioReader>> Open(const std::string& path, int target_rate = 16000,
                                                   const AudioDecodeOptions& options = {});
  ~AudioReader();
  AudioReader(const AudioReader&) = delete;
  AudioReader& operator=(const AudioReader&) = delete;

  const AudioInfo& info() const;
  int sample_rate() const;  // the target rate

  /// Appends up to `max_samples` samples to `out`; returns how many, 0 only at the end of the
  /// stream. At the end, checks the total against the declared duration (Corruption when the
  /// file is truncated).
  Result<size_t> Read(std::vector<float>& out, size_t max_samples);

 private:
  struct Impl;
  explicit AudioReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mosaic::media
