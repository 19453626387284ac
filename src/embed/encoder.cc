#include "embed/encoder.h"

#include <cmath>

namespace mosaic::embed {

const char* ModalityName(Modality m) {
  switch (m) {
    case Modality::kImage: return "image";
    case Modality::kText: return "text";
    case Modality::kAudio: return "audio";
  }
  return "unknown";
}

Result<std::vector<float>> PackImages(std::span<const media::Image* const> images, size_t per_image,
                                      const std::function<void(const media::Image&, float*)>& fill,
                                      size_t first) {
  std::vector<float> pixels(per_image * images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const media::Image* img = images[i];
    if (img == nullptr || img->empty() || img->channels != 3)
      return Status::InvalidArgument("image " + std::to_string(first + i) + " of the batch is empty or not RGB");
    fill(*img, pixels.data() + per_image * i);
  }
  return pixels;
}

void L2Normalize(std::span<float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
}

}  // namespace mosaic::embed
