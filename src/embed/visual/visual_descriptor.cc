#include "embed/visual/visual_descriptor.h"

#include <algorithm>
#include <utility>

#include "media/image_ops.h"

namespace mosaic::embed {

namespace {

bool BatchOk(int64_t d) {
  return d == 1 || d == -1;
}

}  // namespace

Result<std::unique_ptr<VisualDescriptor>> VisualDescriptor::Open(
    const std::string& model_path, const VisualDescriptorOptions& options,
    const SessionOptions& session_options) {
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(model_path, session_options));
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(model_path + ": not a visual descriptor graph (" + why +
                                   "); graph has " + session->Signature());
  };
  if (session->inputs().size() != 1) return bad("expected one image input");
  const TensorSpec& in = session->inputs()[0];
  const auto& s = in.shape;
  if (in.type != TensorType::kFloat || s.size() != 4 || !BatchOk(s[0]))
    return bad("expected a float [B,H,W,C] input");
  std::unique_ptr<VisualDescriptor> d(new VisualDescriptor());
  if (s[3] == 3 && s[1] > 0 && s[1] == s[2]) {
    d->size_ = static_cast<int>(s[1]);
  } else if (s[1] == 3 && s[2] > 0 && s[2] == s[3]) {
    d->nchw_ = true;
    d->size_ = static_cast<int>(s[2]);
  } else {
    return bad("input is neither [B,S,S,3] nor [B,3,S,S]");
  }
  if (session->outputs().empty()) return bad("no outputs");
  int dim = 0;
  for (const auto& out : session->outputs()) {
    if (out.type != TensorType::kFloat || out.shape.size() != 2 || !BatchOk(out.shape[0]) ||
        out.shape[1] <= 0) {
      return bad("output " + out.name + " is not pooled features [B,C]");
    }
    if (out.shape[0] != s[0])
      return bad("output " + out.name + " has another batch size than the input");
    d->output_names_.push_back(out.name);
    d->output_dims_.push_back(static_cast<int>(out.shape[1]));
    dim += static_cast<int>(out.shape[1]);
  }
  if (!(options.range_lo < options.range_hi)) {
    return Status::InvalidArgument("visual descriptor input range [" +
                                   std::to_string(options.range_lo) + ", " +
                                   std::to_string(options.range_hi) + "] is empty");
  }
  d->options_ = options;
  d->session_ = std::move(session);
  d->input_name_ = in.name;
  d->max_batch_ = s[0] == -1 ? std::max(1, options.max_batch) : 1;
  d->info_.model = options.model_name;
  d->info_.family = "visual-descriptor";
  d->info_.modality = Modality::kImage;
  d->info_.dim = dim;
  d->info_.normalized = true;
  d->info_.space = options.model_name;
  return d;
}

void VisualDescriptor::Preprocess(const media::Image& image, float* out) const {
  const media::Image resized = media::Resize(image, size_, size_, media::ResizeFilter::kBilinear);
  const float scale = (options_.range_hi - options_.range_lo) / 255.f;
  const float lo = options_.range_lo;
  const size_t plane = static_cast<size_t>(size_) * size_;
  const uint8_t* px = resized.pixels.data();
  if (nchw_) {
    for (size_t i = 0; i < plane; ++i) {
      for (size_t c = 0; c < 3; ++c)
        out[c * plane + i] = px[3 * i + c] * scale + lo;
    }
  } else {
    for (size_t i = 0; i < 3 * plane; ++i)
      out[i] = px[i] * scale + lo;
  }
}

Result<std::vector<std::vector<float>>> VisualDescriptor::Describe(
    std::span<const media::Image* const> images) {
  std::vector<std::vector<float>> result;
  result.reserve(images.size());
  const size_t per = static_cast<size_t>(3) * size_ * size_;
  for (size_t start = 0; start < images.size(); start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, images.size() - start));
    MOSAIC_ASSIGN_OR_RETURN(
        std::vector<float> pixels,
        PackImages(images.subspan(start, n), per, [this](const media::Image& img, float* dst) { Preprocess(img, dst); },
                   start));
    const std::vector<int64_t> shape =
        nchw_ ? std::vector<int64_t>{n, 3, size_, size_} : std::vector<int64_t>{n, size_, size_, 3};
    const Tensor x = Tensor::Float(shape, std::move(pixels));
    MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &x}}, output_names_));
    for (size_t k = 0; k < outs.size(); ++k) {
      if (outs[k].elements() != static_cast<int64_t>(n) * output_dims_[k]) {
        return Status::Internal(session_->path() + ": output " + output_names_[k] + " has " +
                                std::to_string(outs[k].elements()) + " values for " +
                                std::to_string(n) + " images of " +
                                std::to_string(output_dims_[k]));
      }
    }
    for (int i = 0; i < n; ++i) {
      std::vector<float> v;
      v.reserve(info_.dim);
      for (size_t k = 0; k < outs.size(); ++k) {
        const float* row = outs[k].f32.data() + static_cast<size_t>(i) * output_dims_[k];
        const size_t at = v.size();
        v.insert(v.end(), row, row + output_dims_[k]);
        L2Normalize(std::span<float>(v).subspan(at));
      }
      L2Normalize(v);
      result.push_back(std::move(v));
    }
  }
  return result;
}

Result<std::vector<EncoderOutput>> VisualDescriptor::Encode(std::span<const EncoderInput> batch) {
  std::vector<const media::Image*> images;
  images.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].image == nullptr)
      return Status::InvalidArgument("input " + std::to_string(i) + " has no image");
    images.push_back(batch[i].image);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto rows, Describe(images));
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    out[i].vectors.push_back(std::move(rows[i]));
    out[i].data = nlohmann::json::object();
  }
  return out;
}

}  // namespace mosaic::embed
