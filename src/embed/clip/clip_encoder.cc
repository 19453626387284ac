#include "embed/clip/clip_encoder.h"

#include <algorithm>

#include "media/image_ops.h"

namespace mosaic::embed {

namespace {

std::string Names(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

// The output holding the embedding: `preferred` if the graph has it, else the only output, else
// the single rank-2 one.
Result<std::string> PickOutput(const Session& s, const char* preferred) {
  if (s.FindOutput(preferred) >= 0) return std::string(preferred);
  if (s.outputs().size() == 1) return s.outputs()[0].name;
  const TensorSpec* found = nullptr;
  int candidates = 0;
  for (const auto& o : s.outputs()) {
    if (o.shape.size() == 2 && o.type == TensorType::kFloat) {
      found = &o;
      ++candidates;
    }
  }
  if (candidates != 1) {
    return Status::InvalidArgument(s.path() + ": no unambiguous embedding output; expected '" + preferred +
                                   "' or a single [N,D] output, graph has: " + Names(s.outputs()));
  }
  return found->name;
}

// Checks the output's declared width against the expected dimension and fills it in if unset.
Status CheckDim(const Session& s, const std::string& output, EncoderInfo& info) {
  const TensorSpec& spec = s.outputs()[s.FindOutput(output)];
  if (spec.shape.size() != 2 && !spec.shape.empty()) {
    return Status::InvalidArgument(s.path() + ": output '" + output + "' has rank " +
                                   std::to_string(spec.shape.size()) + ", expected [N,D]");
  }
  const int64_t d = spec.shape.size() == 2 ? spec.shape[1] : -1;
  if (d > 0 && info.dim > 0 && d != info.dim) {
    return Status::InvalidArgument(s.path() + ": output '" + output + "' has " + std::to_string(d) +
                                   " dims, the model is declared with " + std::to_string(info.dim));
  }
  if (info.dim <= 0 && d > 0) info.dim = static_cast<int>(d);
  return Status::OK();
}

// Splits a [n, D] output into normalized rows, checking the shape.
Result<std::vector<std::vector<float>>> Rows(const Session& s, const Tensor& out, int n, EncoderInfo& info) {
  if (out.shape.size() != 2 || out.shape[0] != n || out.type != TensorType::kFloat) {
    return Status::InvalidArgument(s.path() + ": output has an unexpected shape for a batch of " + std::to_string(n));
  }
  const int d = static_cast<int>(out.shape[1]);
  if (info.dim > 0 && d != info.dim) {
    return Status::InvalidArgument(s.path() + ": output has " + std::to_string(d) + " dims, expected " +
                                   std::to_string(info.dim));
  }
  info.dim = d;
  std::vector<std::vector<float>> rows(n);
  for (int i = 0; i < n; ++i) {
    rows[i].assign(out.f32.begin() + static_cast<size_t>(i) * d, out.f32.begin() + static_cast<size_t>(i + 1) * d);
    L2Normalize(rows[i]);
  }
  return rows;
}

int MaxBatchFor(const TensorSpec& input, int fallback) { return input.shape.size() > 0 && input.shape[0] > 0 ? static_cast<int>(input.shape[0]) : fallback; }

Status CheckArray3(const nlohmann::json& j, const char* key, std::array<float, 3>& out) {
  if (!j.contains(key)) return Status::OK();
  const auto& v = j.at(key);
  if (!v.is_array() || v.size() != 3 || !std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); })) {
    return Status::InvalidArgument(std::string("preprocess.") + key + " must be 3 numbers, got " + v.dump());
  }
  for (int i = 0; i < 3; ++i) out[i] = v[i].get<float>();
  return Status::OK();
}

}  // namespace

Result<ClipConfig> ClipConfig::FromJson(const nlohmann::json& j) {
  ClipConfig c;
  if (j.is_null()) return c;
  if (!j.is_object()) return Status::InvalidArgument("preprocess must be an object, got " + j.dump());
  if (j.contains("image_size")) {
    if (!j["image_size"].is_number_integer() || j["image_size"].get<int>() < 1 || j["image_size"].get<int>() > 4096)
      return Status::InvalidArgument("preprocess.image_size must be an integer in [1, 4096], got " + j["image_size"].dump());
    c.image_size = j["image_size"].get<int>();
  }
  MOSAIC_RETURN_IF_ERROR(CheckArray3(j, "mean", c.mean));
  MOSAIC_RETURN_IF_ERROR(CheckArray3(j, "std", c.std));
  for (float s : c.std)
    if (!(s > 0)) return Status::InvalidArgument("preprocess.std must be positive, got " + j["std"].dump());
  if (j.contains("context_length")) {
    if (!j["context_length"].is_number_integer() || j["context_length"].get<int>() < 3)
      return Status::InvalidArgument("preprocess.context_length must be an integer >= 3, got " + j["context_length"].dump());
    c.context_length = j["context_length"].get<int>();
  }
  if (j.contains("resize") && j["resize"] != "bicubic")
    return Status::InvalidArgument("preprocess.resize " + j["resize"].dump() + " is not supported (bicubic)");
  if (j.contains("crop") && j["crop"] != "center")
    return Status::InvalidArgument("preprocess.crop " + j["crop"].dump() + " is not supported (center)");
  return c;
}

// --- image tower --------------------------------------------------------------------------------

Result<std::unique_ptr<ClipImageEncoder>> ClipImageEncoder::Open(const std::string& path, const ClipConfig& config,
                                                                 EncoderInfo info, const SessionOptions& options) {
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(path, options));
  std::unique_ptr<ClipImageEncoder> enc(new ClipImageEncoder());
  if (session->inputs().size() != 1) {
    return Status::InvalidArgument(path + ": a CLIP image tower takes one input (`input` or `pixel_values`), graph has " +
                                   std::to_string(session->inputs().size()) + ": " + Names(session->inputs()));
  }
  const TensorSpec& in = session->inputs()[0];
  const int s = config.image_size;
  if (in.type != TensorType::kFloat || in.shape.size() != 4) {
    return Status::InvalidArgument(path + ": input '" + in.name + "' is not a float [N,3,H,W] image tensor; is this an image tower?");
  }
  if ((in.shape[1] > 0 && in.shape[1] != 3) || (in.shape[2] > 0 && in.shape[2] != s) || (in.shape[3] > 0 && in.shape[3] != s)) {
    return Status::InvalidArgument(path + ": input '" + in.name + "' is [N," + std::to_string(in.shape[1]) + "," +
                                   std::to_string(in.shape[2]) + "," + std::to_string(in.shape[3]) +
                                   "], the model's preprocessing gives [N,3," + std::to_string(s) + "," + std::to_string(s) + "]");
  }
  enc->input_name_ = in.name;
  MOSAIC_ASSIGN_OR_RETURN(enc->output_name_, PickOutput(*session, "image_embeds"));
  MOSAIC_RETURN_IF_ERROR(CheckDim(*session, enc->output_name_, info));
  enc->max_batch_ = MaxBatchFor(in, 8);
  enc->config_ = config;
  enc->info_ = std::move(info);
  enc->info_.modality = Modality::kImage;
  enc->info_.normalized = true;
  enc->session_ = std::move(session);
  return enc;
}

void ClipImageEncoder::Preprocess(const media::Image& image, float* out) const {
  media::ClipTransform t;
  t.size = config_.image_size;
  t.mean = config_.mean;
  t.std = config_.std;
  media::ApplyClipTransform(image, t, out);
}

Result<std::vector<std::vector<float>>> ClipImageEncoder::EmbedPixels(std::vector<float> nchw, int n) {
  const int64_t s = config_.image_size;
  Tensor input = Tensor::Float({n, 3, s, s}, std::move(nchw));
  MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run({{input_name_, &input}}, {output_name_}));
  return Rows(*session_, outs[0], n, info_);
}

Result<std::vector<std::vector<float>>> ClipImageEncoder::EmbedImages(std::span<const media::Image* const> images) {
  std::vector<std::vector<float>> result;
  result.reserve(images.size());
  const size_t per = static_cast<size_t>(3) * config_.image_size * config_.image_size;
  for (size_t start = 0; start < images.size(); start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, images.size() - start));
    MOSAIC_ASSIGN_OR_RETURN(
        std::vector<float> pixels,
        PackImages(images.subspan(start, n), per, [this](const media::Image& img, float* dst) { Preprocess(img, dst); },
                   start));
    MOSAIC_ASSIGN_OR_RETURN(auto rows, EmbedPixels(std::move(pixels), n));
    for (auto& r : rows) result.push_back(std::move(r));
  }
  return result;
}

Result<std::vector<EncoderOutput>> ClipImageEncoder::Encode(std::span<const EncoderInput> batch) {
  std::vector<const media::Image*> images;
  images.reserve(batch.size());
  for (const auto& in : batch) images.push_back(in.image);
  MOSAIC_ASSIGN_OR_RETURN(auto rows, EmbedImages(images));
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i].vectors.push_back(std::move(rows[i]));
  return out;
}

// --- text tower ---------------------------------------------------------------------------------

Result<std::unique_ptr<ClipTextEncoder>> ClipTextEncoder::Open(const std::string& path, const std::string& vocab_path,
                                                               const ClipConfig& config, EncoderInfo info,
                                                               const SessionOptions& options) {
  MOSAIC_ASSIGN_OR_RETURN(auto session, SessionCache::Default().Get(path, options));
  std::unique_ptr<ClipTextEncoder> enc(new ClipTextEncoder());
  const TensorSpec* ids = nullptr;
  const TensorSpec* mask = nullptr;
  for (const auto& in : session->inputs()) {
    if (in.name == "attention_mask") {
      mask = &in;
    } else if (ids == nullptr && (in.name == "input_ids" || in.name == "input" || session->inputs().size() == 1 ||
                                  (session->inputs().size() == 2 && session->FindInput("attention_mask") >= 0))) {
      ids = &in;
    } else {
      return Status::InvalidArgument(path + ": unexpected input '" + in.name +
                                     "' for a CLIP text tower (expected `input`, or `input_ids` + `attention_mask`)");
    }
  }
  if (ids == nullptr) return Status::InvalidArgument(path + ": no token-id input; graph has: " + Names(session->inputs()));
  if ((ids->type != TensorType::kInt64 && ids->type != TensorType::kInt32) || ids->shape.size() != 2) {
    return Status::InvalidArgument(path + ": input '" + ids->name + "' is not an integer [N,L] token tensor; is this a text tower?");
  }
  if (ids->shape[1] > 0 && ids->shape[1] != config.context_length) {
    return Status::InvalidArgument(path + ": input '" + ids->name + "' takes " + std::to_string(ids->shape[1]) +
                                   " tokens, the manifest's context_length is " + std::to_string(config.context_length));
  }
  if (mask != nullptr && mask->type != ids->type) {
    return Status::InvalidArgument(path + ": attention_mask and " + ids->name + " have different types");
  }
  enc->ids_name_ = ids->name;
  enc->ids_type_ = ids->type;
  enc->mask_name_ = mask ? mask->name : "";
  MOSAIC_ASSIGN_OR_RETURN(enc->output_name_, PickOutput(*session, "text_embeds"));
  MOSAIC_RETURN_IF_ERROR(CheckDim(*session, enc->output_name_, info));
  {
    MOSAIC_ASSIGN_OR_RETURN(auto tok, text::ClipTokenizer::Load(vocab_path));
    enc->tokenizer_ = std::make_unique<text::ClipTokenizer>(std::move(tok));
  }
  enc->max_batch_ = MaxBatchFor(*ids, 32);
  enc->config_ = config;
  enc->info_ = std::move(info);
  enc->info_.modality = Modality::kText;
  enc->info_.normalized = true;
  enc->session_ = std::move(session);
  return enc;
}

Result<std::vector<std::vector<float>>> ClipTextEncoder::EmbedTexts(std::span<const std::string_view> texts) {
  std::vector<std::vector<float>> result;
  result.reserve(texts.size());
  const int64_t len = config_.context_length;
  for (size_t start = 0; start < texts.size(); start += max_batch_) {
    const int n = static_cast<int>(std::min<size_t>(max_batch_, texts.size() - start));
    std::vector<int64_t> ids;
    ids.reserve(static_cast<size_t>(n) * len);
    for (int i = 0; i < n; ++i) {
      auto row = tokenizer_->Tokenize(texts[start + i], static_cast<int>(len), /*truncate=*/true);
      if (!row.ok()) {
        return Status::InvalidArgument("text " + std::to_string(start + i) + " of the batch: " + row.status().message());
      }
      ids.insert(ids.end(), row->begin(), row->end());
    }
    MOSAIC_ASSIGN_OR_RETURN(auto rows, EmbedTokenIds(std::move(ids), n));
    for (auto& r : rows) result.push_back(std::move(r));
  }
  return result;
}

Result<std::vector<std::vector<float>>> ClipTextEncoder::EmbedTokenIds(std::vector<int64_t> ids, int n) {
  const int64_t len = config_.context_length;
  if (n < 0 || ids.size() != static_cast<size_t>(n) * len) {
    return Status::InvalidArgument("token ids: " + std::to_string(ids.size()) + " values for " + std::to_string(n) +
                                   " rows of " + std::to_string(len));
  }
  // The mask covers <|startoftext|> .. <|endoftext|>; padding ids are 0.
  std::vector<int64_t> mask(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) mask[i] = (i % len == 0 || ids[i] != 0) ? 1 : 0;
  Tensor ids_t = Tensor::Int64({n, len}, std::move(ids));
  Tensor mask_t = Tensor::Int64({n, len}, std::move(mask));
  if (ids_type_ == TensorType::kInt32) {
    for (Tensor* t : {&ids_t, &mask_t}) {
      t->type = TensorType::kInt32;
      t->i32.assign(t->i64.begin(), t->i64.end());
      t->i64.clear();
    }
  }
  std::vector<std::pair<std::string, const Tensor*>> inputs{{ids_name_, &ids_t}};
  if (!mask_name_.empty()) inputs.emplace_back(mask_name_, &mask_t);
  MOSAIC_ASSIGN_OR_RETURN(auto outs, session_->Run(inputs, {output_name_}));
  return Rows(*session_, outs[0], n, info_);
}

size_t ClipTextEncoder::CountTokens(std::string_view text) const {
  auto ids = tokenizer_->Encode(text);
  return ids.ok() ? ids->size() : text.size();  // invalid text: count bytes, an upper bound
}

Result<std::vector<EncoderOutput>> ClipTextEncoder::Encode(std::span<const EncoderInput> batch) {
  std::vector<std::string_view> texts;
  texts.reserve(batch.size());
  for (const auto& in : batch) texts.push_back(in.text);
  MOSAIC_ASSIGN_OR_RETURN(auto rows, EmbedTexts(texts));
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i].vectors.push_back(std::move(rows[i]));
  return out;
}

}  // namespace mosaic::embed
