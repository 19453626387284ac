#include "embed/ocr/ocr_engine.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "embed/ocr/db_postprocess.h"
#include "embed/ocr/geometry.h"
#include "embed/ocr/image_sampling.h"
#include "embed/ocr/word_spacing.h"
#include "media/image_ops.h"

namespace mosaic::embed {

namespace {

// PaddleOCR's detector normalization (ImageNet statistics, applied in BGR order as its
// OpenCV-based pipeline does) and the recogniser/classifier's symmetric one.
const ocr::Normalization kDetNorm{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
const ocr::Normalization kRecNorm{{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};

// The recogniser's padded width is at least this multiple of its height (PaddleOCR's default
// rec_image_shape 3,48,320).
constexpr float kRecMinWidthRatio = 320.0f / 48.0f;
// Crops at least this much taller than wide are vertical text, turned a quarter to read.
constexpr float kVerticalRatio = 1.5f;

bool DimIs(int64_t dim, int64_t want) {
  return dim == want || dim < 0;
}

// A single float NCHW image input with three channels.
bool IsImageInput(const Session& s) {
  if (s.inputs().size() != 1 || s.outputs().empty()) return false;
  const TensorSpec& in = s.inputs()[0];
  return in.type == TensorType::kFloat && in.shape.size() == 4 && DimIs(in.shape[1], 3);
}

Status WrongModel(const std::string& role, const Session& s, const std::string& expected) {
  return Status::InvalidArgument(role + " model '" + s.path() + "' is not " + expected +
                                 "; it has " + s.Signature());
}

Status CheckDetector(const Session& s) {
  const std::string expected =
      "a DB text detector (input [N,3,H,W] float with dynamic H and W, output [N,1,H,W])";
  if (!IsImageInput(s)) return WrongModel("detection", s, expected);
  const auto& in = s.inputs()[0].shape;
  const auto& out = s.outputs()[0].shape;
  if (in[2] >= 0 || in[3] >= 0 || out.size() != 4 || !DimIs(out[1], 1)) {
    return WrongModel("detection", s, expected);
  }
  return Status::OK();
}

Status CheckRecognizer(const Session& s, int height) {
  const std::string expected = "a CTC text recogniser (input [N,3," + std::to_string(height) +
                               ",W] float with dynamic W, output [N,T,classes])";
  if (!IsImageInput(s)) return WrongModel("recognition", s, expected);
  const auto& in = s.inputs()[0].shape;
  const auto& out = s.outputs()[0].shape;
  if (!DimIs(in[2], height) || in[3] >= 0 || out.size() != 3) {
    return WrongModel("recognition", s, expected);
  }
  return Status::OK();
}

Status CheckClassifier(const Session& s) {
  const std::string expected = "a text direction classifier (input [N,3,H,W] float, output [N,2])";
  if (!IsImageInput(s)) return WrongModel("direction classifier", s, expected);
  const auto& out = s.outputs()[0].shape;
  if (out.size() != 2 || !DimIs(out[1], 2)) return WrongModel("direction classifier", s, expected);
  return Status::OK();
}

// PaddleOCR's recogniser/classifier resize: the crop keeps its aspect at `height`, capped at
// `max_width`; the rest of the row stays zero (mid-gray after normalization).
int ResizedWidth(const media::Image& crop, int height, int max_width) {
  const double ratio = static_cast<double>(crop.width) / crop.height;
  return std::clamp(static_cast<int>(std::ceil(height * ratio)), 1, max_width);
}

// Indices of `crops` ordered by aspect ratio, so that a batch pads little.
template <typename C>
std::vector<size_t> ByAspect(const std::vector<C>& crops) {
  std::vector<size_t> order(crops.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& ia = crops[a].image;
    const auto& ib = crops[b].image;
    return static_cast<int64_t>(ia.width) * ib.height < static_cast<int64_t>(ib.width) * ia.height;
  });
  return order;
}

}  // namespace

struct OcrEngine::Crop {
  ocr::TextBox box;
  media::Image image;
  ocr::DecodedText text;
};

Result<std::unique_ptr<OcrEngine>> OcrEngine::Open(const OcrModelPaths& paths,
                                                   const OcrOptions& options,
                                                   const SessionOptions& session_options) {
  if (options.det_limit_side_len < 32 || options.rec_batch < 1 || options.cls_batch < 1 ||
      options.cls_max_windows < 1 || options.rec_image_height < 8) {
    return Status::InvalidArgument(
        "OCR options out of range: det_limit_side_len " +
        std::to_string(options.det_limit_side_len) + " (min 32), rec_batch " +
        std::to_string(options.rec_batch) + ", cls_batch " + std::to_string(options.cls_batch) +
        " (min 1), rec_image_height " + std::to_string(options.rec_image_height) + " (min 8)");
  }
  std::unique_ptr<OcrEngine> engine(new OcrEngine());
  engine->options_ = options;
  engine->info_.model = options.model_name;
  engine->info_.family = "paddleocr";
  engine->info_.modality = Modality::kImage;

  MOSAIC_ASSIGN_OR_RETURN(engine->decoder_, ocr::CtcDecoder::Load(paths.dict));
  SessionCache& cache = SessionCache::Default();
  MOSAIC_ASSIGN_OR_RETURN(engine->det_, cache.Get(paths.det, session_options));
  MOSAIC_RETURN_IF_ERROR(CheckDetector(*engine->det_));
  MOSAIC_ASSIGN_OR_RETURN(engine->rec_, cache.Get(paths.rec, session_options));
  MOSAIC_RETURN_IF_ERROR(CheckRecognizer(*engine->rec_, options.rec_image_height));
  if (!paths.cls.empty() && options.use_angle_cls) {
    MOSAIC_ASSIGN_OR_RETURN(engine->cls_, cache.Get(paths.cls, session_options));
    MOSAIC_RETURN_IF_ERROR(CheckClassifier(*engine->cls_));
    const auto& in = engine->cls_->inputs()[0].shape;
    if (in[2] > 0) engine->cls_height_ = static_cast<int>(in[2]);
    if (in[3] > 0) engine->cls_width_ = static_cast<int>(in[3]);
  }

  int64_t classes = engine->rec_->outputs()[0].shape[2];
  if (classes < 0) {
    // The graph leaves the class axis symbolic: learn it from one run on a blank line.
    const int h = options.rec_image_height;
    const int w = static_cast<int>(h * kRecMinWidthRatio);
    Tensor probe = Tensor::Float({1, 3, h, w}, std::vector<float>(static_cast<size_t>(3) * h * w));
    MOSAIC_ASSIGN_OR_RETURN(auto out, engine->rec_->Run({{engine->rec_->inputs()[0].name, &probe}},
                                                        {engine->rec_->outputs()[0].name}));
    if (out.empty() || out[0].shape.size() != 3) {
      return WrongModel("recognition", *engine->rec_,
                        "a CTC text recogniser (output [N,T,classes])");
    }
    classes = out[0].shape[2];
  }
  MOSAIC_RETURN_IF_ERROR(engine->decoder_.SetClassCount(classes, paths.rec));
  return engine;
}

Result<std::vector<OcrEngine::Crop>> OcrEngine::Detect(const media::Image& rgb) const {
  // Scale down so the longer side fits the limit, then round each side to a multiple of 32
  // (the detector's total stride).
  const int longer = std::max(rgb.width, rgb.height);
  const double ratio =
      longer > options_.det_limit_side_len ? double(options_.det_limit_side_len) / longer : 1.0;
  auto round32 = [](double v) { return std::max(32, static_cast<int>(std::lround(v / 32)) * 32); };
  const int rw = round32(static_cast<int>(rgb.width * ratio));
  const int rh = round32(static_cast<int>(rgb.height * ratio));

  Tensor input =
      Tensor::Float({1, 3, rh, rw}, std::vector<float>(static_cast<size_t>(3) * rw * rh));
  ocr::ResizeNormalizeInto(rgb, rw, rh, kDetNorm, input.f32.data(), rw, rh);
  MOSAIC_ASSIGN_OR_RETURN(auto outputs,
                          det_->Run({{det_->inputs()[0].name, &input}}, {det_->outputs()[0].name}));
  const Tensor& map = outputs.at(0);
  if (map.shape.size() != 4 || map.shape[2] <= 0 || map.shape[3] <= 0 ||
      map.f32.size() < static_cast<size_t>(map.shape[2] * map.shape[3])) {
    return Status::Internal("detection model '" + det_->path() + "' returned a map of shape " +
                            ShapeString(map.shape) + " for input " + ShapeString(input.shape));
  }
  const int map_h = static_cast<int>(map.shape[2]), map_w = static_cast<int>(map.shape[3]);
  ocr::DbParams params;
  params.thresh = options_.det_db_thresh;
  params.box_thresh = options_.det_db_box_thresh;
  params.unclip_ratio = options_.det_db_unclip_ratio;
  params.max_candidates = options_.max_candidates;
  params.score_mode = options_.det_db_score_mode;
  std::vector<ocr::TextBox> boxes =
      ocr::DbBoxes(std::span<const float>(map.f32.data(), static_cast<size_t>(map_w) * map_h),
                   map_w, map_h, rgb.width, rgb.height, params);
  ocr::SortReadingOrder(boxes);

  std::vector<Crop> crops;
  crops.reserve(boxes.size());
  for (const ocr::TextBox& box : boxes) {
    const ocr::Quad& q = box.quad;
    auto dist = [](const ocr::Point& a, const ocr::Point& b) {
      return std::hypot(a.x - b.x, a.y - b.y);
    };
    const int w = static_cast<int>(std::max(dist(q[0], q[1]), dist(q[2], q[3])));
    const int h = static_cast<int>(std::max(dist(q[0], q[3]), dist(q[1], q[2])));
    media::Image image = ocr::WarpQuad(rgb, q, w, h);
    if (image.empty()) continue;
    if (static_cast<float>(image.height) / image.width >= kVerticalRatio) {
      image = media::Rotate270(image);
    }
    crops.push_back({box, std::move(image), {}});
  }
  return crops;
}

Status OcrEngine::Classify(std::vector<Crop>& crops) const {
  const int h = cls_height_, w = cls_width_;
  // Cut long lines into windows of the classifier's aspect, evenly spread along the line.
  struct Window {
    size_t crop;
    media::Image image;
  };
  std::vector<Window> windows;
  for (size_t i = 0; i < crops.size(); ++i) {
    const media::Image& img = crops[i].image;
    const int win_w = std::max(1, img.height * w / h);
    const int n = std::min(options_.cls_max_windows, (img.width + win_w - 1) / win_w);
    if (n <= 1) {
      windows.push_back({i, img});
      continue;
    }
    for (int k = 0; k < n; ++k) {
      const int x = static_cast<int>(static_cast<int64_t>(img.width - win_w) * k / (n - 1));
      windows.push_back({i, media::Crop(img, x, 0, win_w, img.height)});
    }
  }
  std::vector<double> p180_sum(crops.size(), 0.0);
  std::vector<int> count(crops.size(), 0);
  const std::vector<size_t> order = ByAspect(windows);
  const size_t plane = static_cast<size_t>(h) * w;
  for (size_t begin = 0; begin < order.size(); begin += options_.cls_batch) {
    const size_t n = std::min(order.size() - begin, static_cast<size_t>(options_.cls_batch));
    Tensor input =
        Tensor::Float({static_cast<int64_t>(n), 3, h, w}, std::vector<float>(n * 3 * plane));
    for (size_t i = 0; i < n; ++i) {
      const media::Image& img = windows[order[begin + i]].image;
      ocr::ResizeNormalizeInto(img, ResizedWidth(img, h, w), h, kRecNorm,
                               input.f32.data() + i * 3 * plane, w, h);
    }
    MOSAIC_ASSIGN_OR_RETURN(
        auto outputs, cls_->Run({{cls_->inputs()[0].name, &input}}, {cls_->outputs()[0].name}));
    const Tensor& probs = outputs.at(0);
    if (probs.shape.size() != 2 || probs.shape[0] != static_cast<int64_t>(n) ||
        probs.shape[1] != 2) {
      return Status::Internal("direction classifier '" + cls_->path() + "' returned shape " +
                              ShapeString(probs.shape) + " for " + std::to_string(n) + " crops");
    }
    for (size_t i = 0; i < n; ++i) {
      const size_t crop = windows[order[begin + i]].crop;
      p180_sum[crop] += probs.f32[2 * i + 1];
      ++count[crop];
    }
  }
  for (size_t i = 0; i < crops.size(); ++i) {
    const double p180 = p180_sum[i] / count[i];
    if (p180 > 0.5 && p180 > options_.cls_thresh) crops[i].image = media::Rotate180(crops[i].image);
  }
  return Status::OK();
}

Status OcrEngine::Recognize(std::vector<Crop>& crops) const {
  const std::vector<size_t> order = ByAspect(crops);
  const int h = options_.rec_image_height;
  const int64_t classes = decoder_.class_count();
  for (size_t begin = 0; begin < order.size(); begin += options_.rec_batch) {
    const size_t n = std::min(order.size() - begin, static_cast<size_t>(options_.rec_batch));
    // The batch is padded to its widest crop (at the model's height), and at least 320 wide.
    float max_ratio = kRecMinWidthRatio;
    for (size_t i = 0; i < n; ++i) {
      const media::Image& img = crops[order[begin + i]].image;
      max_ratio = std::max(max_ratio, static_cast<float>(img.width) / img.height);
    }
    const int w = static_cast<int>(h * max_ratio);
    const size_t plane = static_cast<size_t>(h) * w;
    Tensor input =
        Tensor::Float({static_cast<int64_t>(n), 3, h, w}, std::vector<float>(n * 3 * plane));
    for (size_t i = 0; i < n; ++i) {
      const media::Image& img = crops[order[begin + i]].image;
      ocr::ResizeNormalizeInto(img, ResizedWidth(img, h, w), h, kRecNorm,
                               input.f32.data() + i * 3 * plane, w, h);
    }
    MOSAIC_ASSIGN_OR_RETURN(
        auto outputs, rec_->Run({{rec_->inputs()[0].name, &input}}, {rec_->outputs()[0].name}));
    const Tensor& probs = outputs.at(0);
    if (probs.shape.size() != 3 || probs.shape[0] != static_cast<int64_t>(n) ||
        probs.shape[2] != classes) {
      return Status::Internal("recognition model '" + rec_->path() + "' returned shape " +
                              ShapeString(probs.shape) + " for " + std::to_string(n) +
                              " crops, expected [" + std::to_string(n) + ",T," +
                              std::to_string(classes) + "]");
    }
    const int64_t steps = probs.shape[1];
    for (size_t i = 0; i < n; ++i) {
      ocr::DecodedText& text = crops[order[begin + i]].text;
      text = decoder_.Decode(probs.f32.data() + i * static_cast<size_t>(steps * classes), steps);
      if (options_.infer_spaces) text.text = ocr::JoinWithInferredSpaces(text.chars);
    }
  }
  return Status::OK();
}

Result<std::vector<OcrLine>> OcrEngine::Read(const media::Image& image) const {
  if (image.empty()) {
    return Status::InvalidArgument("OCR input image is empty (" + std::to_string(image.width) +
                                   "x" + std::to_string(image.height) + ")");
  }
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return Status::InvalidArgument("OCR input image has " + std::to_string(image.channels) +
                                   " channels, expected 1, 3 or 4");
  }
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) {
    return Status::InvalidArgument("OCR input image has " + std::to_string(image.pixels.size()) +
                                   " bytes, expected " + std::to_string(image.width) + "x" +
                                   std::to_string(image.height) + "x" +
                                   std::to_string(image.channels));
  }
  media::Image converted;
  if (image.channels != 3) converted = ocr::ToRgb(image);
  const media::Image& rgb = image.channels == 3 ? image : converted;

  MOSAIC_ASSIGN_OR_RETURN(std::vector<Crop> crops, Detect(rgb));
  if (crops.empty()) return std::vector<OcrLine>{};
  if (cls_ != nullptr) MOSAIC_RETURN_IF_ERROR(Classify(crops));
  MOSAIC_RETURN_IF_ERROR(Recognize(crops));

  std::vector<OcrLine> lines;
  for (Crop& crop : crops) {
    if (crop.text.text.empty() || crop.text.confidence < options_.drop_score) continue;
    OcrLine line;
    line.text = std::move(crop.text.text);
    line.confidence = crop.text.confidence;
    for (int i = 0; i < 4; ++i)
      line.box[i] = {crop.box.quad[i].x, crop.box.quad[i].y};
    lines.push_back(std::move(line));
  }
  return lines;
}

nlohmann::json OcrEngine::LinesToJson(const std::vector<OcrLine>& lines) {
  nlohmann::json out = {{"lines", nlohmann::json::array()}, {"text", ""}};
  std::string text;
  for (const OcrLine& line : lines) {
    nlohmann::json box = nlohmann::json::array();
    for (const auto& p : line.box)
      box.push_back({p[0], p[1]});
    out["lines"].push_back({{"text", line.text}, {"confidence", line.confidence}, {"box", box}});
    if (!text.empty()) text += "\n";
    text += line.text;
  }
  out["text"] = text;
  return out;
}

Result<std::vector<EncoderOutput>> OcrEngine::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> outputs;
  outputs.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string where = "OCR input " + std::to_string(i);
    if (batch[i].image == nullptr) return Status::InvalidArgument(where + " has no image");
    auto lines = Read(*batch[i].image);
    if (!lines.ok()) return lines.status().WithContext(where);
    EncoderOutput out;
    out.data = LinesToJson(*lines);
    outputs.push_back(std::move(out));
  }
  return outputs;
}

}  // namespace mosaic::embed
