// CLIP-family encoders: an image tower and a text tower that map into one shared space.
// Both accept the two common ONNX layouts, found by inspecting the graph:
//   OpenAI style      image: `input` [N,3,S,S] -> one output [N,D]
//                     text:  `input` int64/int32 [N,77] -> one output [N,D]
//   Hugging Face      image: `pixel_values` -> `image_embeds` (or the only [N,D] output)
//                     text:  `input_ids` (+ `attention_mask`) -> `text_embeds`
// Outputs are L2-normalized, so cosine and inner product agree.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "embed/encoder.h"
#include "embed/registry/manifest.h"
#include "embed/runtime/session.h"
#include "text/clip_tokenizer.h"

namespace mosaic::embed {

/// Preprocessing parameters, from a manifest's "preprocess" object (defaults: OpenAI CLIP).
struct ClipConfig {
  int image_size = 224;
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
  int context_length = 77;

  static Result<ClipConfig> FromJson(const nlohmann::json& preprocess);
};

class ClipImageEncoder final : public Encoder {
 public:
  /// Opens the visual tower at `path`. `info.dim` (if > 0) must match the graph's output.
  static Result<std::unique_ptr<ClipImageEncoder>> Open(const std::string& path, const ClipConfig& config,
                                                        EncoderInfo info, const SessionOptions& options = {});

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return max_batch_; }
  void set_max_batch(int n) { max_batch_ = n < 1 ? 1 : n; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  /// One L2-normalized vector per image.
  Result<std::vector<std::vector<float>>> EmbedImages(std::span<const media::Image* const> images);
  /// Runs the model on already preprocessed NCHW input (n images): the part after decoding
  /// and transforms, used by benchmarks to split the time.
  Result<std::vector<std::vector<float>>> EmbedPixels(std::vector<float> nchw, int n);
  /// Writes the model input for `image` (3*S*S floats).
  void Preprocess(const media::Image& image, float* out) const;

  const ClipConfig& config() const { return config_; }
  Session& session() { return *session_; }

 private:
  ClipImageEncoder() = default;

  ClipConfig config_;
  EncoderInfo info_;
  std::shared_ptr<Session> session_;
  std::string input_name_;
  std::string output_name_;
  int max_batch_ = 8;
};

class ClipTextEncoder final : public Encoder {
 public:
  /// Opens the text tower at `path` with the BPE merges at `vocab_path`.
  static Result<std::unique_ptr<ClipTextEncoder>> Open(const std::string& path, const std::string& vocab_path,
                                                       const ClipConfig& config, EncoderInfo info,
                                                       const SessionOptions& options = {});

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return max_batch_; }
  void set_max_batch(int n) { max_batch_ = n < 1 ? 1 : n; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  /// One L2-normalized vector per text. Texts longer than the context are truncated.
  Result<std::vector<std::vector<float>>> EmbedTexts(std::span<const std::string_view> texts);
  /// Runs the model on token ids already made ([n, context_length] row-major, 0-padded): the
  /// part after tokenization. The attention mask (for graphs that take one) is derived here.
  Result<std::vector<std::vector<float>>> EmbedTokenIds(std::vector<int64_t> ids, int n);

  const text::ClipTokenizer& tokenizer() const { return *tokenizer_; }
  /// The context less the start and end tokens.
  size_t max_tokens() const override { return config_.context_length > 2 ? config_.context_length - 2 : 0; }
  size_t CountTokens(std::string_view text) const override;

 private:
  ClipTextEncoder() = default;

  ClipConfig config_;
  EncoderInfo info_;
  std::shared_ptr<Session> session_;
  std::unique_ptr<text::ClipTokenizer> tokenizer_;
  std::string ids_name_;
  std::string mask_name_;  // empty when the graph takes no attention mask
  TensorType ids_type_ = TensorType::kInt64;
  std::string output_name_;
  int max_batch_ = 8;
};

}  // namespace mosaic::embed
