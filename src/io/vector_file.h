// Readers for vector dataset files: .fvecs, .ivecs, .bvecs (the TEXMEX formats) and IDX
// (the MNIST / Fashion-MNIST format, plain or .gz). Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::io {

// Row-major float matrix.
struct Matrix {
  std::vector<float> data;
  size_t rows = 0;
  size_t dim = 0;
  const float* row(size_t i) const { return data.data() + i * dim; }
};

// Reads up to max_rows vectors; the format comes from the extension (.fvecs, .ivecs, .bvecs,
// .idx / -ubyte, optionally .gz). IDX images of any shape become rows of their flattened pixels.
// Errors name the file and what was wrong (truncated record, inconsistent dimension, bad magic).
Result<Matrix> ReadVectorFile(const std::string& path,
                              size_t max_rows = std::numeric_limits<size_t>::max());

// Reads a one-dimensional IDX label file (e.g. train-labels-idx1-ubyte.gz).
Result<std::vector<int32_t>> ReadIdxLabels(const std::string& path);

}  // namespace mosaic::io
