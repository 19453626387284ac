#include "embed/speech/utterance_splitter.h"

#include <algorithm>
#include <cmath>

namespace mosaic::embed::speech {
namespace {

constexpr int kFramesPerSecond = 100;
constexpr size_t kQuietWindowFrames = 20;  // 200 ms
constexpr double kFloorPercentile = 0.1;

float FrameEnergyDb(const int16_t* x, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += double(x[i]) * x[i];
  const double mean = n > 0 ? sum / (double(n) * 32768.0 * 32768.0) : 0.0;
  return float(10.0 * std::log10(mean + 1e-10));
}

}  // namespace

UtteranceSplitter::UtteranceSplitter(const SplitterOptions& options)
    : options_(options), frame_len_(size_t(std::max(options.sample_rate / kFramesPerSecond, 1))) {}

std::vector<Utterance> UtteranceSplitter::Push(std::span<const int16_t> samples) {
  buffer_.insert(buffer_.end(), samples.begin(), samples.end());
  while ((energy_db_.size() + 1) * frame_len_ <= buffer_.size()) {
    energy_db_.push_back(
        FrameEnergyDb(buffer_.data() + energy_db_.size() * frame_len_, frame_len_));
  }
  std::vector<Utterance> done;
  for (size_t cut = FindCut(); cut > 0; cut = FindCut())
    done.push_back(Cut(cut));
  return done;
}

std::vector<Utterance> UtteranceSplitter::Finish() {
  std::vector<Utterance> done;
  if (buffer_.empty()) return done;
  const size_t tail = buffer_.size() - energy_db_.size() * frame_len_;
  if (tail > 0) energy_db_.push_back(FrameEnergyDb(buffer_.data() + buffer_.size() - tail, tail));
  Utterance u = Cut(energy_db_.size());
  // Cut() takes whole frames; the partial last frame belongs to this utterance too.
  u.samples.insert(u.samples.end(), buffer_.begin(), buffer_.end());
  buffer_start_ += int64_t(buffer_.size());
  buffer_.clear();
  done.push_back(std::move(u));
  return done;
}

Utterance UtteranceSplitter::Cut(size_t frames) {
  const size_t n = std::min(frames * frame_len_, buffer_.size());
  Utterance u;
  u.start_sample = buffer_start_;
  u.samples.assign(buffer_.begin(), buffer_.begin() + ptrdiff_t(n));
  const float loudest =
      frames > 0 ? *std::max_element(energy_db_.begin(), energy_db_.begin() + ptrdiff_t(frames))
                 : -100.0f;
  u.silent = loudest < options_.silence_dbfs;
  buffer_.erase(buffer_.begin(), buffer_.begin() + ptrdiff_t(n));
  energy_db_.erase(energy_db_.begin(), energy_db_.begin() + ptrdiff_t(frames));
  buffer_start_ += int64_t(n);
  return u;
}

size_t UtteranceSplitter::FindCut() const {
  const size_t n = energy_db_.size();
  const auto min_frames = size_t(options_.min_utterance_s * kFramesPerSecond);
  const auto max_frames = std::max(size_t(options_.max_utterance_s * kFramesPerSecond), size_t(1));
  const auto pause_frames = std::max(size_t(options_.min_pause_s * kFramesPerSecond), size_t(1));
  if (n < std::min(min_frames + pause_frames, max_frames)) return 0;

  std::vector<float> sorted(energy_db_);
  auto nth = sorted.begin() + ptrdiff_t(double(n - 1) * kFloorPercentile);
  std::nth_element(sorted.begin(), nth, sorted.end());
  const float threshold = *nth + options_.pause_db;

  // The first long enough pause whose cut point falls after min_utterance_s.
  size_t run_start = 0;
  for (size_t i = 0; i <= n; ++i) {
    const bool pause = i < n && energy_db_[i] < threshold;
    if (pause) continue;
    const size_t len = i - run_start;
    if (len >= pause_frames) {
      const bool closed = i < n;
      // An open run (still silent at the end of the buffer) is cut once it is long enough to
      // leave min_pause_s of silence on each side.
      const size_t cut =
          closed ? run_start + len / 2 : (len >= 2 * pause_frames ? run_start + pause_frames : 0);
      if (cut >= min_frames && cut < n) return cut;
    }
    run_start = i + 1;
  }

  if (n < max_frames) return 0;
  // No pause: cut at the quietest 200 ms of the second half.
  size_t best = n / 2;
  double best_sum = INFINITY;
  double sum = 0;
  for (size_t i = n / 2; i < n; ++i) {
    sum += energy_db_[i];
    if (i >= n / 2 + kQuietWindowFrames) sum -= energy_db_[i - kQuietWindowFrames];
    if (i + 1 >= n / 2 + kQuietWindowFrames && sum < best_sum) {
      best_sum = sum;
      best = i + 1 - kQuietWindowFrames / 2;
    }
  }
  return std::clamp(best, size_t(1), n);
}

}  // namespace mosaic::embed::speech
