// make_vectors: the learned-embedding dataset of bench/ann_bench. Encodes the 70,000
// Fashion-MNIST images with the visual descriptor (808-d, compared by cosine) and writes
// OUT/train.fvecs (60,000 rows) and OUT/test.fvecs (10,000 rows). These vectors behave like the
// ones users store, unlike raw pixels. Takes ~15 minutes on 2 cores; a file already complete is
// kept.
//
//   make_vectors [--data DIR] [--out DIR] [--models DIR]
//
// DIR defaults: .cache/data/fashion-mnist, .cache/data/fashion-visual, the model registry's.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "embed/registry/registry.h"
#include "fashion_visual.h"

namespace {

constexpr const char* kBench = "make_vectors";

// Writes rows as .fvecs (int32 dim, then dim floats, per row) to path via a temporary file.
void WriteFvecs(const std::string& path, const std::vector<std::vector<float>>& rows) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) mosaic::bench::Die(kBench, "cannot write " + tmp);
  for (const auto& r : rows) {
    const int32_t dim = static_cast<int32_t>(r.size());
    if (std::fwrite(&dim, sizeof(dim), 1, f) != 1 ||
        std::fwrite(r.data(), sizeof(float), r.size(), f) != r.size()) {
      mosaic::bench::Die(kBench, "short write to " + tmp);
    }
  }
  if (std::fclose(f) != 0) mosaic::bench::Die(kBench, "cannot close " + tmp);
  std::filesystem::rename(tmp, path);
}

bool Complete(const std::string& path, size_t rows) {
  auto m = mosaic::io::ReadVectorFile(path);
  return m.ok() && m->rows == rows;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cache = std::string(MOSAIC_SOURCE_DIR) + "/.cache/data/";
  std::string data = cache + "fashion-mnist", out = cache + "fashion-visual";
  std::string models = mosaic::embed::ModelRegistry::DefaultDir();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--data") {
      data = argv[i + 1];
    } else if (arg == "--out") {
      out = argv[i + 1];
    } else if (arg == "--models") {
      models = argv[i + 1];
    } else {
      mosaic::bench::Die(kBench, "unknown flag " + arg);
    }
  }
  if (argc % 2 == 0) mosaic::bench::Die(kBench, "usage: make_vectors [--data DIR] [--out DIR] [--models DIR]");
  std::filesystem::create_directories(out);
  auto reg = mosaic::embed::ModelRegistry::Open(models);
  if (!reg.ok()) mosaic::bench::Die(kBench, reg.status().ToString());
  auto manifest = reg->Get("visual-descriptor");
  if (!manifest.ok()) mosaic::bench::Die(kBench, manifest.status().ToString());
  auto enc = mosaic::embed::OpenEncoder(*manifest, reg->ModelDir("visual-descriptor"),
                                        mosaic::embed::Modality::kImage);
  if (!enc.ok()) mosaic::bench::Die(kBench, enc.status().ToString());
  for (auto [in, name, rows] : {std::tuple{"/train-images-idx3-ubyte.gz", "/train.fvecs", 60000},
                                std::tuple{"/t10k-images-idx3-ubyte.gz", "/test.fvecs", 10000}}) {
    const std::string path = out + name;
    if (Complete(path, rows)) {
      std::printf("%s: complete, kept\n", path.c_str());
      continue;
    }
    auto images = mosaic::io::ReadVectorFile(data + in);
    if (!images.ok()) mosaic::bench::Die(kBench, images.status().ToString());
    std::fprintf(stderr, "%s:\n", path.c_str());
    WriteFvecs(path, mosaic::bench::FashionVisual(**enc, *images, rows));
    std::printf("%s: %d rows written\n", path.c_str(), rows);
  }
  return 0;
}
