// The visual descriptor's vectors of Fashion-MNIST images (28x28 grey, given to it as RGB), with
// a progress line on stderr. Shared by apps_bench and make_vectors.
#pragma once

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench_util.h"
#include "embed/model_loader.h"
#include "io/vector_file.h"
#include "media/image.h"

namespace mosaic::bench {

// Vectors of the first n rows of m (pixels 0..255), encoded in batches of 32.
inline std::vector<std::vector<float>> FashionVisual(embed::Encoder& enc, const io::Matrix& m,
                                                     size_t n) {
  std::vector<std::vector<float>> out;
  n = std::min(n, m.rows);
  const auto t0 = Clock::now();
  for (size_t b = 0; b < n; b += 32) {
    std::vector<media::Image> images;
    for (size_t i = b; i < std::min(n, b + 32); ++i) {
      media::Image img(28, 28, 3);
      for (size_t p = 0; p < 784; ++p)
        for (int ch = 0; ch < 3; ++ch)
          img.pixels[p * 3 + ch] = static_cast<uint8_t>(std::clamp(m.row(i)[p], 0.0f, 255.0f));
      images.push_back(std::move(img));
    }
    std::vector<embed::EncoderInput> in(images.size());
    for (size_t i = 0; i < images.size(); ++i) in[i].image = &images[i];
    auto res = enc.Encode(in);
    if (!res.ok()) Die("visual descriptor", res.status().ToString());
    for (auto& r : *res) out.push_back(std::move(r.vectors.at(0)));
    std::fprintf(stderr, "\r  visual descriptor %zu/%zu images (%.0f/s)", out.size(), n,
                 out.size() / Seconds(t0, Clock::now()));
  }
  std::fprintf(stderr, "\n");
  return out;
}

}  // namespace mosaic::bench
