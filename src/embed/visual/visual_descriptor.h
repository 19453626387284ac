// VisualDescriptor: a global image descriptor for image → image "more like this" search, made
// without CLIP from the ImageNet-pretrained backbone of a converted TF.js network
// (scripts/models/make-offline-models, folder visual-descriptor: CenterNet's MobileNetV3 with
// feature maps exposed and average-pooled in the graph by tfjs2onnx.py --extra-output --pool).
//
// The graph must take one float image, NHWC [B,S,S,3] or NCHW [B,3,S,S] (B = 1 or dynamic), and
// give one or more pooled feature outputs [B,C]. The image is resized to S x S (bilinear,
// aspect ratio not kept, so a crop or a border changes the descriptor little) and mapped from
// 0..255 onto the options' range. The descriptor concatenates the outputs, each L2-normalized
// first so that every scale weighs the same, and is L2-normalized: compare with cosine.
// Encode() gives one vector per image and empty data.
// Thread-safety: Describe/Encode may be called from several threads at once (the ONNX Runtime
// session is thread-safe for Run and the descriptor holds no other mutable state).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/runtime/session.h"
#include "media/image.h"

namespace mosaic::embed {

struct VisualDescriptorOptions {
  std::string model_name = "visual-descriptor";  // EncoderInfo::model and ::space
  /// Pixel values 0..255 are mapped linearly onto [range_lo, range_hi] (the manifest's
  /// preprocess "range").
  float range_lo = 0.f;
  float range_hi = 255.f;
  /// Images per model run when the graph's batch dimension is dynamic.
  int max_batch = 8;
};

class VisualDescriptor final : public Encoder {
 public:
  /// Opens the graph at `model_path`. NotFound when the file is missing; InvalidArgument naming
  /// the file when its inputs/outputs are not an image in and pooled features out.
  static Result<std::unique_ptr<VisualDescriptor>> Open(const std::string& model_path,
                                                        const VisualDescriptorOptions& options = {},
                                                        const SessionOptions& session_options = {});

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return max_batch_; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  /// One L2-normalized descriptor of info().dim floats per image, in order.
  Result<std::vector<std::vector<float>>> Describe(std::span<const media::Image* const> images);

  int input_size() const { return size_; }

 private:
  VisualDescriptor() = default;

  // Writes `image` resized and rescaled into `out` (3 * size_ * size_ floats, the graph's layout).
  void Preprocess(const media::Image& image, float* out) const;

  VisualDescriptorOptions options_;
  EncoderInfo info_;
  std::shared_ptr<Session> session_;
  std::string input_name_;
  std::vector<std::string> output_names_;
  std::vector<int> output_dims_;
  bool nchw_ = false;
  int size_ = 0;
  int max_batch_ = 1;
};

}  // namespace mosaic::embed
