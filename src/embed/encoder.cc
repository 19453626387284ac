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

void L2Normalize(std::span<float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
}

}  // namespace mosaic::embed
