#include "ingest/tta.h"

#include <algorithm>
#include <cmath>

#include "ingest/layout.h"
#include "media/image_ops.h"

namespace mosaic::ingest {

Result<std::vector<TtaView>> ParseTta(std::string_view spec) {
  std::vector<TtaView> views;
  if (spec.empty() || spec == "none") return views;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view item = spec.substr(start, comma - start);
    TtaView v;
    if (item == "flip") {
      v = TtaView::kFlip;
    } else if (item == "crop") {
      v = TtaView::kCrop;
    } else {
      return Status::InvalidArgument("unknown test-time augmentation '" + std::string(item) +
                                     "' in '" + std::string(spec) +
                                     "' (expected none, or flip and/or crop: \"flip,crop\")");
    }
    if (std::find(views.begin(), views.end(), v) != views.end())
      return Status::InvalidArgument("test-time augmentation '" + std::string(item) +
                                     "' given twice in '" + std::string(spec) + "'");
    views.push_back(v);
    start = comma + 1;
  }
  std::sort(views.begin(), views.end());
  return views;
}

std::string TtaName(const std::vector<TtaView>& views) {
  std::string out;
  for (TtaView v : views)
    out += std::string(out.empty() ? "" : ",") + (v == TtaView::kFlip ? "flip" : "crop");
  return out.empty() ? "none" : out;
}

std::vector<media::Image> TtaViews(const media::Image& image, const std::vector<TtaView>& views) {
  std::vector<media::Image> out;
  out.reserve(views.size());
  for (TtaView v : views) {
    if (v == TtaView::kFlip) {
      out.push_back(media::FlipHorizontal(image));
    } else {
      const int w = std::max(1, static_cast<int>(std::lround(image.width * kTtaCropShare)));
      const int h = std::max(1, static_cast<int>(std::lround(image.height * kTtaCropShare)));
      out.push_back(media::CenterCrop(image, w, h));
    }
  }
  return out;
}

namespace {

Result<std::vector<embed::EncoderOutput>> RunBatches(embed::Encoder& enc,
                                                     const std::vector<const media::Image*>& images) {
  std::vector<embed::EncoderOutput> out;
  out.reserve(images.size());
  const size_t step = std::max(1, enc.max_batch());
  for (size_t b = 0; b < images.size(); b += step) {
    std::vector<embed::EncoderInput> in(std::min(step, images.size() - b));
    for (size_t i = 0; i < in.size(); ++i)
      in[i].image = images[b + i];
    MOSAIC_ASSIGN_OR_RETURN(auto part, enc.Encode(in));
    for (auto& o : part)
      out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Result<std::vector<embed::EncoderOutput>> EncodeImages(embed::Encoder& enc,
                                                       const std::vector<const media::Image*>& images,
                                                       const std::vector<TtaView>& views) {
  if (views.empty()) return RunBatches(enc, images);
  const size_t per = 1 + views.size();
  const size_t step = std::max<size_t>(1, static_cast<size_t>(std::max(1, enc.max_batch())) / per);
  std::vector<embed::EncoderOutput> out;
  out.reserve(images.size());
  for (size_t b = 0; b < images.size(); b += step) {
    const size_t n = std::min(step, images.size() - b);
    std::vector<std::vector<media::Image>> made(n);
    std::vector<const media::Image*> batch;
    for (size_t i = 0; i < n; ++i) {
      made[i] = TtaViews(*images[b + i], views);
      batch.push_back(images[b + i]);
      for (const auto& v : made[i])
        batch.push_back(&v);
    }
    MOSAIC_ASSIGN_OR_RETURN(auto outs, RunBatches(enc, batch));
    for (size_t i = 0; i < n; ++i) {
      std::vector<const std::vector<float>*> vs;
      for (size_t k = 0; k < per; ++k) {
        const embed::EncoderOutput& o = outs[i * per + k];
        vs.push_back(o.vectors.empty() ? nullptr : &o.vectors[0]);
      }
      embed::EncoderOutput o;
      std::vector<float> mean = PoolVectors(vs, std::vector<double>(per, 1.0));
      if (!mean.empty()) o.vectors.push_back(std::move(mean));
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace mosaic::ingest
