// Writes small dataset files in every supported format into a temporary directory and reads
// them back; damaged files must fail with errors that name the file and the problem.
#include "io/vector_file.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace mosaic::io {
namespace {

namespace fs = std::filesystem;

class VectorFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mosaic_vector_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes bytes plainly, or gzip-compressed when the name ends in .gz.
  std::string Write(const std::string& name, const std::vector<unsigned char>& bytes) const {
    std::string path = Path(name);
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) {
      gzFile f = gzopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
                static_cast<int>(bytes.size()));
      gzclose(f);
    } else {
      FILE* f = std::fopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      if (!bytes.empty()) {
        EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
      }
      std::fclose(f);
    }
    return path;
  }

  fs::path dir_;
};

template <typename T>
void Append(std::vector<unsigned char>* out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->insert(out->end(), b, b + sizeof(T));
}

void AppendBigEndian32(std::vector<unsigned char>* out, uint32_t v) {
  out->push_back(static_cast<unsigned char>(v >> 24));
  out->push_back(static_cast<unsigned char>(v >> 16));
  out->push_back(static_cast<unsigned char>(v >> 8));
  out->push_back(static_cast<unsigned char>(v));
}

// rows x dim records of the TEXMEX layout with element type T; value(r, i) = r * 10 + i.
template <typename T>
std::vector<unsigned char> Vecs(size_t rows, size_t dim) {
  std::vector<unsigned char> out;
  for (size_t r = 0; r < rows; ++r) {
    Append<int32_t>(&out, static_cast<int32_t>(dim));
    for (size_t i = 0; i < dim; ++i)
      Append<T>(&out, static_cast<T>(r * 10 + i));
  }
  return out;
}

std::vector<unsigned char> IdxImages(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<unsigned char> out;
  AppendBigEndian32(&out, 0x00000803);
  AppendBigEndian32(&out, n);
  AppendBigEndian32(&out, h);
  AppendBigEndian32(&out, w);
  for (uint32_t i = 0; i < n * h * w; ++i)
    out.push_back(static_cast<unsigned char>(i % 256));
  return out;
}

void ExpectCounting(const Matrix& m, size_t rows, size_t dim) {
  ASSERT_EQ(m.rows, rows);
  ASSERT_EQ(m.dim, dim);
  ASSERT_EQ(m.data.size(), rows * dim);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < dim; ++i)
      EXPECT_EQ(m.row(r)[i], static_cast<float>(r * 10 + i));
  }
}

TEST_F(VectorFileTest, ReadsFvecsIvecsBvecsPlainAndGzipped) {
  for (std::string suffix : {"", ".gz"}) {
    auto f = ReadVectorFile(Write("a.fvecs" + suffix, Vecs<float>(5, 3)));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ExpectCounting(*f, 5, 3);
    auto i = ReadVectorFile(Write("a.ivecs" + suffix, Vecs<int32_t>(4, 7)));
    ASSERT_TRUE(i.ok()) << i.status().ToString();
    ExpectCounting(*i, 4, 7);
    auto b = ReadVectorFile(Write("a.bvecs" + suffix, Vecs<uint8_t>(6, 2)));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ExpectCounting(*b, 6, 2);
  }
}

TEST_F(VectorFileTest, MaxRowsStopsEarly) {
  auto f = ReadVectorFile(Write("a.fvecs", Vecs<float>(10, 4)), 3);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ExpectCounting(*f, 3, 4);
  auto idx = ReadVectorFile(Write("x-idx3-ubyte.gz", IdxImages(10, 2, 3)), 4);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(idx->rows, 4u);
  EXPECT_EQ(idx->dim, 6u);
}

TEST_F(VectorFileTest, ReadsIdxImagesAndLabels) {
  for (std::string name : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "img.idx"}) {
    auto m = ReadVectorFile(Write(name, IdxImages(3, 4, 5)));
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_EQ(m->rows, 3u);
    EXPECT_EQ(m->dim, 20u);
    for (size_t i = 0; i < 60; ++i)
      EXPECT_EQ(m->data[i], static_cast<float>(i));
  }
  std::vector<unsigned char> labels;
  AppendBigEndian32(&labels, 0x00000801);
  AppendBigEndian32(&labels, 4);
  for (unsigned char l : {9, 0, 3, 255})
    labels.push_back(l);
  auto l = ReadIdxLabels(Write("train-labels-idx1-ubyte.gz", labels));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(*l, (std::vector<int32_t>{9, 0, 3, 255}));
}

TEST_F(VectorFileTest, MissingFileIsNotFoundAndNamesIt) {
  auto m = ReadVectorFile(Path("nope.fvecs"));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsNotFound()) << m.status().ToString();
  EXPECT_NE(m.status().message().find("nope.fvecs"), std::string::npos);
  EXPECT_TRUE(ReadIdxLabels(Path("nope-labels-idx1-ubyte.gz")).status().IsNotFound());
}

TEST_F(VectorFileTest, UnknownExtensionIsInvalidArgument) {
  auto m = ReadVectorFile(Write("data.csv", {1, 2, 3}));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsInvalidArgument()) << m.status().ToString();
}

TEST_F(VectorFileTest, TruncatedFilesAreCorruption) {
  std::vector<unsigned char> fvecs = Vecs<float>(3, 4);
  fvecs.resize(fvecs.size() - 2);  // cuts into the last record's data
  for (std::string name : {"t.fvecs", "t.fvecs.gz"}) {
    auto m = ReadVectorFile(Write(name, fvecs));
    ASSERT_FALSE(m.ok()) << name;
    EXPECT_TRUE(m.status().IsCorruption()) << m.status().ToString();
    EXPECT_NE(m.status().message().find(name), std::string::npos) << m.status().ToString();
    EXPECT_NE(m.status().message().find("truncated record 2"), std::string::npos)
        << m.status().ToString();
  }
  std::vector<unsigned char> header_cut = Vecs<float>(2, 4);
  header_cut.resize(header_cut.size() - 4 * 4 - 2);  // leaves half of record 1's header
  auto h = ReadVectorFile(Write("h.fvecs", header_cut));
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(h.status().IsCorruption()) << h.status().ToString();

  std::vector<unsigned char> idx = IdxImages(4, 3, 3);
  idx.resize(idx.size() - 5);
  auto i = ReadVectorFile(Write("t-idx3-ubyte.gz", idx));
  ASSERT_FALSE(i.ok());
  EXPECT_TRUE(i.status().IsCorruption()) << i.status().ToString();
  EXPECT_NE(i.status().message().find("truncated"), std::string::npos) << i.status().ToString();

  std::vector<unsigned char> header_only = {0, 0, 8, 3, 0, 0};
  EXPECT_TRUE(ReadVectorFile(Write("h-idx3-ubyte", header_only)).status().IsCorruption());
}

TEST_F(VectorFileTest, InconsistentDimensionIsCorruption) {
  std::vector<unsigned char> bytes = Vecs<float>(2, 4);
  std::vector<unsigned char> other = Vecs<float>(1, 5);
  bytes.insert(bytes.end(), other.begin(), other.end());
  auto m = ReadVectorFile(Write("mixed.fvecs", bytes));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsCorruption()) << m.status().ToString();
  EXPECT_NE(m.status().message().find("record 2 has dimension 5"), std::string::npos)
      << m.status().ToString();

  std::vector<unsigned char> negative;
  Append<int32_t>(&negative, -4);
  EXPECT_TRUE(ReadVectorFile(Write("neg.fvecs", negative)).status().IsCorruption());
}

TEST_F(VectorFileTest, BadMagicIsCorruption) {
  std::vector<unsigned char> images = IdxImages(2, 2, 2);
  images[2] = 0x0d;  // float elements: not supported
  auto m = ReadVectorFile(Write("bad-idx3-ubyte.gz", images));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsCorruption()) << m.status().ToString();
  EXPECT_NE(m.status().message().find("bad IDX magic 0x00000d03"), std::string::npos)
      << m.status().ToString();
  EXPECT_NE(m.status().message().find("bad-idx3-ubyte.gz"), std::string::npos);

  // An image file is not a label file.
  auto l = ReadIdxLabels(Write("images-idx3-ubyte", IdxImages(2, 2, 2)));
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(l.status().IsCorruption()) << l.status().ToString();
}

TEST_F(VectorFileTest, EmptyVecsFileHasNoRows) {
  auto m = ReadVectorFile(Write("empty.fvecs", {}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->rows, 0u);
}

}  // namespace
}  // namespace mosaic::io
