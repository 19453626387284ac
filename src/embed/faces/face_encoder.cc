#include "embed/faces/face_encoder.h"

#include <algorithm>
#include <cmath>
#include <utility>


namespace mosaic::embed {

namespace {

// Rounded to 1/per_unit, as a double so that JSON shows 76.6, not 76.5999984741211.
double Round(float v, double per_unit) { return std::round(double(v) * per_unit) / per_unit; }

}  // namespace

Result<std::unique_ptr<FaceEncoder>> FaceEncoder::Open(const FaceModelPaths& paths, const FaceOptions& options,
                                                       const SessionOptions& session_options) {
  if (options.max_embed_batch < 1) {
    return Status::InvalidArgument("max_embed_batch must be >= 1, got " + std::to_string(options.max_embed_batch));
  }
  std::unique_ptr<FaceEncoder> enc(new FaceEncoder());
  enc->options_ = options;
  MOSAIC_ASSIGN_OR_RETURN(enc->detector_, faces::FaceDetector::Open(paths.detector, options.detector, session_options));
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(paths.embedder, session_options));
  enc->session_ = session;
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(paths.embedder + ": not a FaceRes or MobileFaceNet face embedder (" + why +
                                   "); graph has " + session->Signature());
  };
  if (session->inputs().size() != 1) return bad("expected one image input");
  const TensorSpec& in = session->inputs()[0];
  const auto& s = in.shape;
  if (in.type != TensorType::kFloat || s.size() != 4 || !(s[0] == -1 || s[0] == 1) || s[3] != 3 || s[1] <= 0 ||
      s[1] != s[2]) {
    return bad("expected a float [N,S,S,3] input");
  }
  enc->input_name_ = in.name;
  enc->embed_size_ = static_cast<int>(s[1]);
  enc->embed_batch_ = s[0] == -1 ? options.max_embed_batch : 1;

  // Every output is [N,D]. FaceRes has age [N,100] and gender [N,1] heads beside its descriptor.
  bool has_age = false, has_gender = false;
  int64_t widest = 0;
  for (const auto& out : session->outputs()) {
    if (out.type != TensorType::kFloat || out.shape.size() != 2 || out.shape[1] <= 0) {
      return bad("output " + out.name + " is not [N,D]");
    }
    has_age |= out.shape[1] == 100;
    has_gender |= out.shape[1] == 1;
    if (out.shape[1] > widest) {
      widest = out.shape[1];
      enc->output_name_ = out.name;
    }
  }
  if (has_age && has_gender && session->outputs().size() == 3 && widest > 100) {
    enc->embedder_ = Embedder::kFaceRes;
  } else if (session->outputs().size() == 1 && widest >= 64) {
    enc->embedder_ = Embedder::kMobileFaceNet;
  } else {
    return bad("expected a descriptor with age and gender heads, or one embedding output of >= 64 dims");
  }
  const std::string name = !options.model_name.empty()                 ? options.model_name
                           : enc->embedder_ == Embedder::kFaceRes ? "faceres"
                                                                       : "mobilefacenet";
  enc->info_.dim = static_cast<int>(widest);
  if (enc->embedder_ == Embedder::kMobileFaceNet) {
    // MobileFaceNet's embeddings share one dominant direction (any two faces score ~0.98);
    // its response to a featureless grey crop estimates that direction, which is removed.
    media::Image grey(enc->embed_size_, enc->embed_size_, 3);
    std::fill(grey.pixels.begin(), grey.pixels.end(), uint8_t{128});
    MOSAIC_ASSIGN_OR_RETURN(auto bias, enc->Embed({&grey, 1}));
    enc->bias_ = std::move(bias[0]);
  }
  enc->info_.model = name;
  enc->info_.family = "face";
  enc->info_.modality = Modality::kImage;
  enc->info_.normalized = true;
  enc->info_.space = name;
  return enc;
}

Result<std::vector<std::vector<float>>> FaceEncoder::Embed(std::span<const media::Image> crops) const {
  std::vector<std::vector<float>> vectors;
  vectors.reserve(crops.size());
  const size_t plane = static_cast<size_t>(embed_size_) * embed_size_ * 3;
  for (size_t start = 0; start < crops.size(); start += static_cast<size_t>(embed_batch_)) {
    const size_t n = std::min(crops.size() - start, static_cast<size_t>(embed_batch_));
    std::vector<float> pixels(n * plane);
    for (size_t i = 0; i < n; ++i) {
      const media::Image& crop = crops[start + i];
      if (crop.width != embed_size_ || crop.height != embed_size_ || crop.channels != 3) {
        return Status::InvalidArgument("face crop " + std::to_string(start + i) + " is " + std::to_string(crop.width) +
                                       "x" + std::to_string(crop.height) + "x" + std::to_string(crop.channels) +
                                       ", the embedder takes " + std::to_string(embed_size_) + "x" +
                                       std::to_string(embed_size_) + "x3");
      }
      float* dst = pixels.data() + i * plane;
      for (size_t k = 0; k < plane; ++k) dst[k] = static_cast<float>(crop.pixels[k]);  // both models take 0..255
    }
    const Tensor x = Tensor::Float({static_cast<int64_t>(n), embed_size_, embed_size_, 3}, std::move(pixels));
    MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &x}}, {output_name_}));
    const Tensor& y = outs[0];
    const size_t dim = static_cast<size_t>(info_.dim);
    if (y.f32.size() != n * dim) {
      return Status::Internal(session_->path() + ": embedder returned " + std::to_string(y.f32.size()) +
                              " values for " + std::to_string(n) + " faces of " + std::to_string(dim) + " dims");
    }
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> v(y.f32.begin() + static_cast<std::ptrdiff_t>(i * dim),
                           y.f32.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
      if (!bias_.empty()) {
        for (size_t k = 0; k < dim; ++k) v[k] -= bias_[k];
      }
      L2Normalize(v);
      vectors.push_back(std::move(v));
    }
  }
  return vectors;
}

Result<std::vector<FaceEncoder::Face>> FaceEncoder::Analyze(const media::Image& image) const {
  MOSAIC_ASSIGN_OR_RETURN(auto detections, detector_->Detect(image));
  std::vector<media::Image> crops;
  crops.reserve(detections.size());
  for (const auto& d : detections) crops.push_back(faces::AlignFace(image, d, embed_size_, options_.alignment));
  MOSAIC_ASSIGN_OR_RETURN(auto vectors, Embed(crops));
  std::vector<Face> out(detections.size());
  for (size_t i = 0; i < detections.size(); ++i) {
    out[i].detection = detections[i];
    out[i].embedding = std::move(vectors[i]);
  }
  return out;
}

nlohmann::json FaceEncoder::ToJson(const std::vector<Face>& faces) {
  nlohmann::json list = nlohmann::json::array();
  for (const Face& f : faces) {
    const faces::FaceDetection& d = f.detection;
    nlohmann::json landmarks = nlohmann::json::array();
    for (const faces::Point& p : d.landmarks) landmarks.push_back({Round(p.x, 10), Round(p.y, 10)});
    list.push_back({{"box", {Round(d.x0, 10), Round(d.y0, 10), Round(d.x1, 10), Round(d.y1, 10)}},
                    {"score", Round(d.score, 1000)},
                    {"landmarks", std::move(landmarks)}});
  }
  return {{"faces", std::move(list)}};
}

Result<std::vector<EncoderOutput>> FaceEncoder::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].image == nullptr) return Status::InvalidArgument("input " + std::to_string(i) + " has no image");
    auto found = Analyze(*batch[i].image);
    if (!found.ok()) return found.status().WithContext("input " + std::to_string(i));
    out[i].data = ToJson(*found);
    for (Face& f : *found) out[i].vectors.push_back(std::move(f.embedding));
  }
  return out;
}

}  // namespace mosaic::embed
