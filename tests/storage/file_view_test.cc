// File views: mapped or read, and a mapped file truncated underneath reads as zeros and says so
// instead of killing the process with SIGBUS.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "mosaic/env.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

using testing::TempDir;

std::string WriteFile(const std::string& path, size_t size, char fill) {
  std::string data(size, fill);
  for (size_t i = 0; i < size; i += 4096) data[i] = static_cast<char>(i / 4096 + 1);
  auto f = Env::Default()->NewWritableFile(path);
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append(data).ok());
  EXPECT_TRUE((*f)->Close().ok());
  return data;
}

TEST(FileView, MappedOrReadHoldTheFile) {
  TempDir dir;
  const std::string data = WriteFile(dir / "f", 5 * 4096 + 100, 'x');
  for (bool map : {false, true}) {
    auto view = Env::Default()->OpenFileView(dir / "f", map);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ((*view)->mapped(), map);
    EXPECT_EQ((*view)->data(), data);
    EXPECT_TRUE((*view)->CheckReadable().ok());
  }
  WriteFile(dir / "empty", 0, 'x');
  auto empty = Env::Default()->OpenFileView(dir / "empty", true);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE((*empty)->data().empty());
  auto missing = Env::Default()->OpenFileView(dir / "missing", true);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

// A file written whole in pieces (WriteFileAtomically's streaming form) holds them in order,
// past several of the writer's 8 MiB write-behind steps; an error from the writer fails the
// write and leaves the old content.
TEST(FileView, AFileWrittenInPiecesHoldsThemAll) {
  TempDir dir;
  const std::string path = dir / "big";
  std::string want;
  Status s = WriteFileAtomically(Env::Default(), path, [&](const ByteSink& sink) {
    for (int i = 0; i < 30; ++i) {
      const std::string piece((1 << 20) + 7 * i, static_cast<char>('a' + i % 26));
      want += piece;
      MOSAIC_RETURN_IF_ERROR(sink(piece));
    }
    return Status::OK();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto got = Env::Default()->ReadFile(path);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), want.size());
  EXPECT_TRUE(*got == want);
  s = WriteFileAtomically(Env::Default(), path, [&](const ByteSink& sink) {
    MOSAIC_RETURN_IF_ERROR(sink("partial"));
    return Status::IOError("the writer gave up");
  });
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  got = Env::Default()->ReadFile(path);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == want);
}

TEST(FileView, AMappingTruncatedUnderneathReadsZerosAndSaysSo) {
  TempDir dir;
  const std::string data = WriteFile(dir / "f", 8 * 4096, 'y');
  WriteFile(dir / "other", 3 * 4096, 'z');
  auto view = Env::Default()->OpenFileView(dir / "f", true);
  auto other = Env::Default()->OpenFileView(dir / "other", true);
  ASSERT_TRUE(view.ok() && other.ok());
  ASSERT_TRUE((*view)->mapped());
  const std::string_view v = (*view)->data();
  EXPECT_EQ(v[5 * 4096 + 7], 'y');  // resident now
  ASSERT_EQ(::truncate((dir / "f").c_str(), 2 * 4096), 0);
  // Readers in two threads at once, each over the lost pages; the process survives.
  std::vector<size_t> sums(2);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < 2; ++t)
    readers.emplace_back([&, t] {
      for (size_t i = 0; i < v.size(); ++i) sums[t] += static_cast<unsigned char>(v[i]);
    });
  for (auto& r : readers) r.join();
  EXPECT_EQ(sums[0], sums[1]);
  EXPECT_EQ(v[4096 + 1], 'y');       // still in the file
  EXPECT_EQ(v[5 * 4096 + 7], '\0');  // gone: zeros
  const Status readable = (*view)->CheckReadable();
  EXPECT_TRUE(readable.IsIOError()) << readable.ToString();
  EXPECT_NE(readable.message().find(dir / "f"), std::string::npos) << readable.ToString();
  EXPECT_TRUE((*other)->CheckReadable().ok());
  EXPECT_EQ((*other)->data()[4096 + 5], 'z');
  // A new view of the shortened file is its new content.
  auto again = Env::Default()->OpenFileView(dir / "f", true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->data(), data.substr(0, 2 * 4096));
  EXPECT_TRUE((*again)->CheckReadable().ok());
}

// The guard takes only faults in its own mappings: any other SIGBUS still ends the process.
TEST(FileView, AnotherSigbusStillEndsTheProcess) {
  TempDir dir;
  WriteFile(dir / "f", 4096, 'x');
  auto view = Env::Default()->OpenFileView(dir / "f", true);
  ASSERT_TRUE(view.ok());
  EXPECT_EXIT(::raise(SIGBUS),
              [](int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }, "");
}

}  // namespace
}  // namespace mosaic
